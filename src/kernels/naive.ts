import { centerTarget, columnStats, type ColumnStats } from './columnStats.js';
import { DistanceEstimate } from './gaussian.js';
import { ColumnCache } from './columnCache.js';
import { wasmHeap } from './wasm/heap.js';
import { extrapolated, FitStatus, penaltyWeights, softThreshold, stepRatio, type Design, type PathProblem, type PathSolution } from './types.js';

/**
 * Weighted least squares by coordinate descent with "naive" updates (glmnet's mode for p ≥ n and for the
 * logistic family): a residual vector is kept and each coordinate update costs O(n). The training rows are
 * copied, centered, into kernel memory (ColumnCache), where SIMD dot products and axpys do the O(n) work (rows
 * outside the training part cost nothing). The linear predictor is η = b0 + Σ_j β_j (x_j − m_j)/s_j.
 *
 * Minimizes (1/2W) Σ v_i (z_i − η_i)² + λ(α‖β‖₁ + (1−α)/2‖β‖²), with the residual stored as r_i = v_i (z_i − η_i).
 * Every per-row vector is indexed by position in `rows`.
 */
class NaiveSolver {
  readonly beta: Float64Array;
  intercept = 0;
  /** The training rows (nonzero weight), in order. */
  readonly rows: Int32Array;
  /** Their observation weights. */
  readonly w: Float64Array;
  /** r_i = v_i (z_i − η_i). */
  readonly residual: Float64Array;
  /** Row weights of the current quadratic problem (observation weight × IRLS weight). */
  readonly v: Float64Array;
  /** Scratch for η on the training rows. */
  readonly eta: Float64Array;
  vSum = 0;
  /** (1/W) Σ v_i x̃_ij², computed when feature j is first touched in a quadratic problem. */
  private readonly curvature: Float64Array;
  private readonly curvatureStamp: Int32Array;
  private stamp = 1;
  readonly active: Int32Array;
  activeCount = 0;
  private readonly isActive: Uint8Array;
  private readonly heap = wasmHeap();
  /** Centered training columns, and the start of residual, v and η (m each) in kernel memory. */
  private readonly columns: ColumnCache;
  private readonly vectors: number;

  constructor(
    readonly design: Design,
    readonly stats: ColumnStats,
    weights: Float64Array,
  ) {
    const { n, p } = design;
    this.beta = new Float64Array(p);
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (weights[i] !== 0) rows.push(i);
    this.rows = Int32Array.from(rows);
    const m = rows.length;
    this.w = Float64Array.from(this.rows, (i) => weights[i]);
    this.vectors = this.heap.alloc(3 * m + 6);
    this.columns = new ColumnCache(design, stats.mean, this.rows);
    // Views only after the last allocation: growing the memory would detach them.
    const F = this.heap.f64;
    // Each vector starts 16-byte aligned (m rounded up to even).
    const stride = m + (m & 1);
    this.residual = F.subarray(this.vectors, this.vectors + m);
    this.v = F.subarray(this.vectors + stride, this.vectors + stride + m);
    this.eta = F.subarray(this.vectors + 2 * stride, this.vectors + 2 * stride + m);
    this.curvature = new Float64Array(p);
    this.curvatureStamp = new Int32Array(p);
    this.active = new Int32Array(p);
    this.isActive = new Uint8Array(p);
  }

  /** Gives the kernel memory back; the solver must not be used afterwards. */
  dispose(): void {
    this.columns.dispose();
    this.heap.release(this.vectors);
  }

  private column(j: number): number {
    return this.columns.offset(j);
  }

  /** Call after changing v (a new quadratic approximation): curvatures are recomputed lazily. */
  newQuadratic(): void {
    this.stamp++;
    let s = 0;
    for (let i = 0; i < this.v.length; i++) s += this.v[i];
    this.vSum = s;
  }

  curvatureOf(j: number): number {
    if (this.curvatureStamp[j] === this.stamp) return this.curvature[j];
    const s = this.stats.scale[j];
    const x = this.column(j);
    const c = this.heap.kernels.dot(x, x, this.v.byteOffset, this.rows.length) / (this.stats.weightSum * s * s);
    this.curvature[j] = c;
    this.curvatureStamp[j] = this.stamp;
    return c;
  }

  /** (1/W) Σ r_i x̃_ij. */
  gradient(j: number): number {
    return this.heap.kernels.dot(this.residual.byteOffset, this.column(j), 0, this.rows.length) / (this.stats.weightSum * this.stats.scale[j]);
  }

  /** Every feature's gradient (0 for constant ones). */
  gradients(out: Float64Array): Float64Array {
    for (let j = 0; j < out.length; j++) out[j] = this.stats.constant[j] ? 0 : this.gradient(j);
    return out;
  }

  /** One coordinate update; returns curvature · change² (glmnet's convergence measure). */
  update(j: number, l1: number, l2: number): number {
    const c = this.curvatureOf(j);
    if (c === 0) return 0;
    const bj = this.beta[j];
    const bNew = softThreshold(this.gradient(j) + c * bj, l1) / (c + l2);
    if (bNew === bj) return 0;
    const d = bNew - bj;
    this.beta[j] = bNew;
    // r −= v ∘ (d/s_j) x̃_j
    this.heap.kernels.axpy(this.residual.byteOffset, this.column(j), d / this.stats.scale[j], this.v.byteOffset, this.rows.length);
    if (!this.isActive[j]) {
      this.isActive[j] = 1;
      this.active[this.activeCount++] = j;
    }
    return c * d * d;
  }

  /** Sets β_j, keeping the residual consistent (r −= v ∘ (d/s_j) x̃_j). */
  setCoefficient(j: number, value: number): void {
    const d = value - this.beta[j];
    if (d === 0) return;
    this.beta[j] = value;
    this.heap.kernels.axpy(this.residual.byteOffset, this.column(j), d / this.stats.scale[j], this.v.byteOffset, this.rows.length);
  }

  /** Sets the intercept, keeping the residual consistent (r −= v · d). */
  setIntercept(value: number): void {
    const d = value - this.intercept;
    this.intercept = value;
    for (let i = 0; i < this.residual.length; i++) this.residual[i] -= this.v[i] * d;
  }

  /** Unpenalized intercept: the weighted mean of the working residual. */
  updateIntercept(): number {
    if (this.vSum === 0) return 0;
    let rsum = 0;
    for (let i = 0; i < this.residual.length; i++) rsum += this.residual[i];
    const d = rsum / this.vSum;
    if (d === 0) return 0;
    this.intercept += d;
    for (let i = 0; i < this.residual.length; i++) this.residual[i] -= this.v[i] * d;
    return (this.vSum / this.stats.weightSum) * d * d;
  }

  /**
   * Solves the current quadratic problem over the candidate features: full passes over the candidates, then the
   * active set cycled until the estimated distance to its solution is below threshold². Returns passes used.
   */
  solve(candidates: Int32Array, candidateCount: number, l1: number, l2: number, thresholdSq: number, maxPasses: number): { passes: number; converged: boolean } {
    let passes = 0;
    while (passes < maxPasses) {
      let change = this.updateIntercept();
      for (let k = 0; k < candidateCount; k++) change = Math.max(change, this.update(candidates[k], l1, l2));
      passes++;
      if (!Number.isFinite(change)) return { passes, converged: false };
      if (change <= thresholdSq) return { passes, converged: true };
      const estimate = new DistanceEstimate();
      const threshold = Math.sqrt(thresholdSq);
      while (passes < maxPasses) {
        change = this.updateIntercept();
        for (let a = 0; a < this.activeCount; a++) change = Math.max(change, this.update(this.active[a], l1, l2));
        passes++;
        if (!Number.isFinite(change)) return { passes, converged: false };
        if (estimate.next(Math.sqrt(change)) <= threshold) break;
      }
    }
    return { passes, converged: false };
  }

  /** η on the training rows from the current coefficients (O(n · nnz)), in `eta`. */
  predictTraining(): Float64Array {
    this.eta.fill(this.intercept);
    for (let j = 0; j < this.beta.length; j++) {
      const b = this.beta[j];
      // η −= (−b/s_j) x̃_j
      if (b !== 0) this.heap.kernels.axpy(this.eta.byteOffset, this.column(j), -b / this.stats.scale[j], 0, this.rows.length);
    }
    return this.eta;
  }

  /** Writes coefficients on the original scale into row l of the solution. */
  store(solution: PathSolution, l: number): void {
    const p = this.beta.length;
    let b0 = this.intercept;
    for (let j = 0; j < p; j++) {
      const b = this.beta[j] / this.stats.scale[j];
      solution.coefs[l * p + j] = b;
      b0 -= b * this.stats.mean[j];
    }
    solution.intercepts[l] = b0;
  }
}

function newSolution(nLambda: number, p: number): PathSolution {
  return {
    intercepts: new Float64Array(nLambda),
    coefs: new Float64Array(nLambda * p),
    iterations: new Int32Array(nLambda),
    status: new Uint8Array(nLambda),
    seconds: new Float64Array(nLambda),
  };
}

/**
 * Sequential strong rule (Tibshirani et al. 2012, as glmnet): at λ_k only features with |g_j| ≥ α(2λ_k − λ_{k−1})
 * at the previous solution, plus those already nonzero, are cycled; after convergence every other feature's KKT
 * condition |g_j| ≤ λα is checked and violators are added before solving again.
 */
class StrongSet {
  readonly members: Int32Array;
  count = 0;
  private readonly inSet: Uint8Array;
  /** Gradient of every feature at the last solution. */
  readonly gradient: Float64Array;

  constructor(private readonly p: number, private readonly constant: Uint8Array) {
    this.members = new Int32Array(p);
    this.inSet = new Uint8Array(p);
    this.gradient = new Float64Array(p);
  }

  add(j: number): void {
    if (this.inSet[j] || this.constant[j]) return;
    this.inSet[j] = 1;
    this.members[this.count++] = j;
  }

  screen(alpha: number, lambda: number, previousLambda: number, solver: NaiveSolver): void {
    const cut = alpha * (2 * lambda - previousLambda);
    for (let a = 0; a < solver.activeCount; a++) this.add(solver.active[a]);
    for (let j = 0; j < this.p; j++) if (!this.inSet[j] && Math.abs(this.gradient[j]) >= cut) this.add(j);
  }

  /** Every feature's gradient at the solver's current point. */
  refresh(solver: NaiveSolver): void {
    solver.gradients(this.gradient);
  }

  /** Refreshes every feature's gradient; returns how many outside the set violate KKT (and adds them). */
  checkKkt(alpha: number, lambda: number, solver: NaiveSolver): number {
    this.refresh(solver);
    let violations = 0;
    const bound = alpha * lambda * (1 + 1e-9);
    for (let j = 0; j < this.p; j++) {
      if (this.constant[j]) continue;
      if (!this.inSet[j] && Math.abs(this.gradient[j]) > bound) {
        this.add(j);
        violations++;
      }
    }
    return violations;
  }
}

/** Gaussian elastic-net path with naive updates and strong rules: the mode for p ≥ n (no p × p Gram matrix). */
export function gaussianNaivePath(problem: PathProblem): PathSolution {
  const { design, y, weights, standardize, alpha, lambdas, tol, maxIter } = problem;
  const stats = columnStats(design, weights, standardize);
  const solver = new NaiveSolver(design, stats, weights);
  try {
    const { rows, w } = solver;
    const target = centerTarget(y, weights, stats.weightSum);
    for (let r = 0; r < rows.length; r++) {
      solver.v[r] = w[r];
      solver.residual[r] = target.centered[rows[r]];
    }
    const yVar = target.variance;
    solver.intercept = target.mean;
    solver.newQuadratic();
    const thresholdSq = tol * tol * yVar;
    const strong = new StrongSet(design.p, stats.constant);
    strong.refresh(solver);
    const solution = newSolution(lambdas.length, design.p);
    const previous = { beta: new Float64Array(design.p), intercept: solver.intercept };
    for (let l = 0; l < lambdas.length; l++) {
      const started = performance.now();
      const { l1, l2 } = penaltyWeights(lambdas[l], alpha);
      strong.screen(alpha, lambdas[l], l === 0 ? lambdas[l] : lambdas[l - 1], solver);
      extrapolate(solver, previous, stepRatio(lambdas, l));
      let passes = 0;
      let status: number = FitStatus.converged;
      for (;;) {
        const r = solver.solve(strong.members, strong.count, l1, l2, thresholdSq, maxIter - passes);
        passes += r.passes;
        if (!r.converged) {
          status = Number.isFinite(solver.residual[0]) ? FitStatus.maxIter : FitStatus.diverged;
          break;
        }
        if (strong.checkKkt(alpha, lambdas[l], solver) === 0) break;
      }
      solver.store(solution, l);
      solution.iterations[l] = passes;
      solution.status[l] = status;
      solution.seconds[l] = (performance.now() - started) / 1000;
    }
    return solution;
  } finally {
    solver.dispose();
  }
}

/**
 * Moves the solver's β and intercept from the last solution by `ratio` times its step from the one before (held in
 * `previous`, which then becomes the last); a coefficient that would change sign stops at 0. Ratio 0 only records.
 */
function extrapolate(solver: NaiveSolver, previous: { beta: Float64Array; intercept: number }, ratio: number): void {
  const { beta } = solver;
  for (let j = 0; j < beta.length; j++) {
    const b = beta[j];
    const before = previous.beta[j];
    previous.beta[j] = b;
    if (b === 0 || ratio === 0) continue;
    solver.setCoefficient(j, extrapolated(b, before, ratio));
  }
  const b0 = solver.intercept;
  if (ratio !== 0) solver.setIntercept(b0 + ratio * (b0 - previous.intercept));
  previous.intercept = b0;
}

/** glmnet keeps fitted probabilities this far from 0 and 1 so that IRLS weights never vanish. */
const PROBABILITY_FLOOR = 1e-5;
const MAX_NEWTON_STEPS = 100;

/**
 * Binomial elastic-net path, glmnet's way: at each λ a quadratic approximation of the log-likelihood (IRLS
 * weights p(1−p), working response) is minimized by coordinate descent, warm-started, until the coefficients stop
 * moving; strong rules and a KKT check on the true gradient as above. Labels are 0/1. On separable data the
 * coefficients grow without bound as λ → 0: the Newton steps are capped and the trial marked max_iter (or
 * diverged if a value stops being finite) instead of looping.
 */
export function logisticPath(problem: PathProblem): PathSolution {
  const { design, y, weights, standardize, alpha, lambdas, tol, maxIter } = problem;
  const { p } = design;
  const stats = columnStats(design, weights, standardize);
  const solver = new NaiveSolver(design, stats, weights);
  try {
    const { rows, w } = solver;
    const yMean = centerTarget(y, weights, stats.weightSum).mean;
    solver.intercept = Math.log(yMean / (1 - yMean));
    const start = new Float64Array(p);
    const thresholdSq = tol * tol;

    // Working residual r = w (y − p), IRLS weights v = w p (1 − p), at the current coefficients.
    const linearize = () => {
      const eta = solver.predictTraining();
      for (let r = 0; r < rows.length; r++) {
        const prob = 1 / (1 + Math.exp(-eta[r]));
        // The floor applies to the curvature only; the residual keeps the true probability so the fixed point is exact.
        const floored = Math.min(Math.max(prob, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
        solver.v[r] = w[r] * floored * (1 - floored);
        solver.residual[r] = w[r] * (y[rows[r]] - prob);
      }
      solver.newQuadratic();
    };

    const strong = new StrongSet(p, stats.constant);
    linearize();
    strong.refresh(solver);
    const solution = newSolution(lambdas.length, p);
    const previous = { beta: new Float64Array(p), intercept: solver.intercept };
    for (let l = 0; l < lambdas.length; l++) {
      const started = performance.now();
      const lambda = lambdas[l];
      const { l1, l2 } = penaltyWeights(lambda, alpha);
      strong.screen(alpha, lambda, l === 0 ? lambda : lambdas[l - 1], solver);
      // Start from the last two solutions extrapolated to this λ (the path is smooth between changes of the active
      // set), as the covariance mode does.
      extrapolate(solver, previous, stepRatio(lambdas, l));
      let passes = 0;
      let status: number = FitStatus.maxIter;
      kkt: for (;;) {
        let newtonConverged = false;
        // Inexact Newton: early steps are solved only as far as the step is still moving things.
        let lastMove = 1e-4;
        for (let step = 0; step < MAX_NEWTON_STEPS && passes < maxIter; step++) {
          linearize();
          start.set(solver.beta);
          const startIntercept = solver.intercept;
          const innerSq = Math.max(thresholdSq, Math.min(1e-6, 1e-4 * lastMove));
          const r = solver.solve(strong.members, strong.count, l1, l2, innerSq, maxIter - passes);
          passes += r.passes;
          if (!Number.isFinite(solver.intercept) || !r.converged) break;
          // Converged when a whole Newton step moved no coefficient by more than tol (weighted by its curvature).
          let moved = ((solver.vSum / stats.weightSum) * (solver.intercept - startIntercept) ** 2) as number;
          for (let k = 0; k < strong.count; k++) {
            const j = strong.members[k];
            const d = solver.beta[j] - start[j];
            if (d !== 0) moved = Math.max(moved, solver.curvatureOf(j) * d * d);
          }
          if (moved <= thresholdSq && innerSq === thresholdSq) {
            newtonConverged = true;
            break;
          }
          lastMove = moved;
        }
        if (!Number.isFinite(solver.intercept) || solver.beta.some((b) => !Number.isFinite(b))) {
          status = FitStatus.diverged;
          break;
        }
        if (!newtonConverged) break;
        linearize();
        if (strong.checkKkt(alpha, lambda, solver) === 0) {
          status = FitStatus.converged;
          break kkt;
        }
      }
      solver.store(solution, l);
      solution.iterations[l] = passes;
      solution.status[l] = status;
      solution.seconds[l] = (performance.now() - started) / 1000;
      if (status === FitStatus.diverged) {
        // Nothing sensible to warm-start from: the rest of the path is marked diverged too.
        for (let k = l + 1; k < lambdas.length; k++) solution.status[k] = FitStatus.diverged;
        break;
      }
    }
    return solution;
  } finally {
    solver.dispose();
  }
}
