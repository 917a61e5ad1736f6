import { FitStatus, type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { columnStats, type ColumnStats } from '../shared/columnStats.js';
import { DistanceEstimate } from '../shared/convergence.js';
import { multinomialLogLoss } from '../shared/metrics.js';
import { extrapolateGroups, GroupWls } from '../shared/groupLeastSquares.js';
import { extrapolated } from '../shared/penalty.js';
import { StrongSet } from '../shared/strongRules.js';
import { WlsSolver } from '../shared/weightedLeastSquares.js';
import { PROBABILITY_FLOOR } from './glm.js';

/**
 * Multinomial elastic-net path with glmnet's objective −(1/n) Σ_i log p_{y_i}(x_i) + λ Σ_k [(1−r)/2 ‖β_k‖² + r ‖β_k‖₁]
 * (`grouped`: r Σ_j ‖β_j‖₂, one group per feature across the classes, glmnet's type.multinomial = "grouped").
 * `problem.y` holds each row's class, 0 … K−1. Intercepts are unpenalized and reported centered (on the original
 * scale they sum to 0).
 */
export function multinomialPath(context: KernelContext, problem: PathProblem, classes: number, grouped: boolean): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  const solver = grouped ? new MultinomialGrouped(context, problem, classes) : new MultinomialUngrouped(context, problem, classes);
  const solution = solvePath({ lambdas, l1Ratio, maxIter, stop }, solver, { stopAfterDivergence: true });
  // The likelihood fixes the intercepts up to a constant: they are reported summing to 0 on the original scale.
  for (let l = 0; l < lambdas.length; l++) center(solution.intercepts.subarray(l * classes, (l + 1) * classes));
  return solution;
}

/** The class of each training row and the null model's centered intercepts log π_k − mean log π. */
function nullModel(y: Float64Array, rows: Int32Array, w: Float64Array, K: number) {
  const code = Int32Array.from(rows, (i) => y[i]);
  const share = new Float64Array(K);
  let total = 0;
  for (let r = 0; r < rows.length; r++) {
    share[code[r]] += w[r];
    total += w[r];
  }
  // A class absent from a fold's training rows starts far below the others; the fit drives it further.
  const a = Float64Array.from(share, (s) => Math.log(Math.max(s / total, 1e-10)));
  center(a);
  return { code, intercepts: a };
}

function center(values: Float64Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  for (let k = 0; k < values.length; k++) values[k] -= mean;
  return mean;
}

/** Intercepts are determined up to a common constant: kept centered, and every η shifted with them. */
function centerIntercepts(intercepts: Float64Array, eta: Float64Array): void {
  const shift = center(intercepts);
  for (let i = 0; i < eta.length; i++) eta[i] -= shift;
}

/** p_k of row r from the class-major η (K × m): a softmax shifted by the row's largest η. */
function softmaxRow(eta: Float64Array, m: number, K: number, r: number, out: Float64Array): void {
  let top = -Infinity;
  for (let k = 0; k < K; k++) top = Math.max(top, eta[k * m + r]);
  let sum = 0;
  for (let k = 0; k < K; k++) sum += out[k] = Math.exp(eta[k * m + r] - top);
  for (let k = 0; k < K; k++) out[k] /= sum;
}

/**
 * glmnet's ungrouped multinomial: the classes in turn, each a partial Newton step (IRLS weights p_k(1 − p_k) with the
 * other classes held) solved by coordinate descent on the shared training columns, until a sweep over the classes
 * moves nothing; strong rules and a KKT check per class.
 */
class MultinomialUngrouped implements LambdaSolver {
  readonly stats: ColumnStats;
  readonly outputs: number;
  readonly beta: Float64Array;
  private readonly a: Float64Array;
  private readonly solver: WlsSolver;
  private readonly strong: StrongSet[];
  /** η of every class on the training rows, class after class (without the solver's pending changes). */
  private readonly eta: Float64Array;
  private readonly code: Int32Array;
  private readonly thresholdSq: number;
  private readonly previous: { beta: Float64Array; intercepts: Float64Array };
  private readonly start: Float64Array;
  private readonly prob: Float64Array;

  constructor(context: KernelContext, problem: PathProblem, private readonly K: number) {
    const { design, y, weights, standardize, tol } = problem;
    const { p } = design;
    this.outputs = K;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const solver = (this.solver = new WlsSolver(context, design, stats, weights));
    const m = solver.rows.length;
    const { code, intercepts } = nullModel(y, solver.rows, solver.w, K);
    this.code = code;
    this.a = intercepts;
    this.beta = new Float64Array(K * p);
    this.eta = new Float64Array(K * m);
    for (let k = 0; k < K; k++) this.eta.fill(intercepts[k], k * m, (k + 1) * m);
    this.thresholdSq = tol * tol;
    this.start = new Float64Array(p);
    this.prob = new Float64Array(K);
    this.strong = Array.from({ length: K }, () => new StrongSet(p, stats.constant));
    for (let k = 0; k < K; k++) {
      this.load(k);
      this.strong[k].refresh(solver);
    }
    this.previous = { beta: new Float64Array(K * p), intercepts: Float64Array.from(intercepts) };
  }

  intercepts(): Float64Array {
    return this.a;
  }

  release(): void {
    this.solver.dispose();
  }

  /** The mean negative log-probability of each training row's class, from η as the solve left it (stopping rules). */
  fittedLoss(): number {
    return multinomialLogLoss(this.code, this.eta, this.solver.rows.length, this.K, this.solver.w, 0);
  }

  /** Puts class k's coefficients into the solver and linearizes around the current probabilities. */
  private load(k: number): void {
    const { solver, K, code, prob } = this;
    const p = this.stats.mean.length;
    const { rows, w } = solver;
    const m = rows.length;
    solver.beta.set(this.beta.subarray(k * p, (k + 1) * p));
    solver.intercept = this.a[k];
    const { v, residual } = solver.rewrite();
    for (let r = 0; r < m; r++) {
      softmaxRow(this.eta, m, K, r, prob);
      const pk = prob[k];
      const floored = Math.min(Math.max(pk, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
      v[r] = w[r] * floored * (1 - floored);
      residual[r] = w[r] * ((code[r] === k ? 1 : 0) - pk);
    }
    solver.newQuadratic();
  }

  /** Takes class k's coefficients back from the solver and refreshes its η. */
  private store(k: number): void {
    const p = this.stats.mean.length;
    const m = this.solver.rows.length;
    this.beta.set(this.solver.beta, k * p);
    this.a[k] = this.solver.intercept;
    this.eta.set(this.solver.predictTraining(), k * m);
  }

  private refreshEta(): void {
    const p = this.stats.mean.length;
    const m = this.solver.rows.length;
    for (let k = 0; k < this.K; k++) {
      this.solver.beta.set(this.beta.subarray(k * p, (k + 1) * p));
      this.solver.intercept = this.a[k];
      this.eta.set(this.solver.predictTraining(), k * m);
    }
  }

  warmStart(ratio: number): void {
    const { beta, previous, a } = this;
    for (let i = 0; i < beta.length; i++) {
      const b = beta[i];
      const before = previous.beta[i];
      previous.beta[i] = b;
      if (b !== 0 && ratio !== 0) beta[i] = extrapolated(b, before, ratio);
    }
    for (let k = 0; k < this.K; k++) {
      const b0 = a[k];
      if (ratio !== 0) a[k] = b0 + ratio * (b0 - previous.intercepts[k]);
      previous.intercepts[k] = b0;
    }
    if (ratio !== 0) this.refreshEta();
  }

  solve({ lambda, previousLambda, l1Ratio, l1, l2 }: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver, strong, start, thresholdSq, K } = this;
    for (const s of strong) s.screen(l1Ratio, lambda, previousLambda, solver);
    let passes = 0;
    for (;;) {
      let converged = false;
      let stopped = false;
      let lastMove = 1e-4;
      // The classes are solved in turn (block Gauss–Seidel): the moves shrink linearly, so the stop is on the
      // estimated distance still to go, as in the coordinate-descent loops.
      const estimate = new DistanceEstimate();
      while (passes < maxIter && !stopped) {
        const innerSq = Math.max(thresholdSq, Math.min(1e-6, 1e-4 * lastMove));
        let moved = 0;
        for (let k = 0; k < K; k++) {
          this.load(k);
          start.set(solver.beta);
          const startIntercept = solver.intercept;
          const r = solver.solve(strong[k].members, strong[k].count, l1, l2, innerSq, maxIter - passes);
          passes += r.passes;
          moved = Math.max(moved, solver.stepMove(start, startIntercept, strong[k].members, strong[k].count));
          this.store(k);
          // Out of passes, or a value stopped being finite: the status below says which.
          if (!r.converged) {
            stopped = true;
            break;
          }
        }
        if (stopped) break;
        if (innerSq === thresholdSq && estimate.next(Math.sqrt(moved)) <= Math.sqrt(thresholdSq)) {
          converged = true;
          break;
        }
        lastMove = moved;
      }
      if (!this.a.every(Number.isFinite) || !this.beta.every(Number.isFinite)) return { passes, status: FitStatus.diverged };
      if (!converged) return { passes, status: FitStatus.maxIter };
      let violations = 0;
      for (let k = 0; k < K; k++) {
        this.load(k);
        violations += strong[k].checkKkt(l1Ratio, lambda, solver);
      }
      if (violations === 0) {
        centerIntercepts(this.a, this.eta);
        return { passes, status: FitStatus.converged };
      }
    }
  }
}

/**
 * The grouped multinomial by majorization: the log-likelihood's Hessian is bounded by I/2 (Böhning), so each step
 * minimizes a K-response least-squares problem with row weights w/2 and working responses η + 2(y − p) with the group
 * penalty — exact block updates (GroupWls) — and never increases the objective. Steps repeat until the estimated
 * distance to the optimum is below tol; then the KKT check on the true gradient.
 */
class MultinomialGrouped implements LambdaSolver {
  readonly stats: ColumnStats;
  readonly outputs: number;
  private readonly solver: GroupWls;
  private readonly strong: StrongSet;
  private readonly eta: Float64Array;
  private readonly code: Int32Array;
  private readonly thresholdSq: number;
  private readonly previous: { beta: Float64Array; intercepts: Float64Array };
  private readonly start: Float64Array;
  private readonly prob: Float64Array;

  constructor(context: KernelContext, problem: PathProblem, private readonly K: number) {
    const { design, y, weights, standardize, tol } = problem;
    const { p } = design;
    this.outputs = K;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const solver = (this.solver = new GroupWls(context, design, stats, weights, K));
    const m = solver.rows.length;
    const { code, intercepts } = nullModel(y, solver.rows, solver.w, K);
    this.code = code;
    solver.intercepts.set(intercepts);
    this.eta = new Float64Array(K * m);
    for (let k = 0; k < K; k++) this.eta.fill(intercepts[k], k * m, (k + 1) * m);
    for (let r = 0; r < m; r++) solver.v[r] = solver.w[r] / 2;
    solver.newQuadratic();
    this.thresholdSq = tol * tol;
    this.start = new Float64Array(K * p);
    this.prob = new Float64Array(K);
    this.linearize();
    this.strong = new StrongSet(p, stats.constant);
    this.strong.refresh(solver);
    this.previous = { beta: new Float64Array(K * p), intercepts: Float64Array.from(intercepts) };
  }

  get beta(): Float64Array {
    return this.solver.beta;
  }

  intercepts(): Float64Array {
    return this.solver.intercepts;
  }

  release(): void {
    this.solver.dispose();
  }

  /** Residuals w (y_k − p_k) at the current η: the surrogate's working residuals at its centre. */
  private linearize(): void {
    const { solver, K, code, prob } = this;
    const m = solver.rows.length;
    for (let r = 0; r < m; r++) {
      softmaxRow(this.eta, m, K, r, prob);
      for (let k = 0; k < K; k++) solver.residuals[k][r] = solver.w[r] * ((code[r] === k ? 1 : 0) - prob[k]);
    }
  }

  private refreshEta(): void {
    const m = this.solver.rows.length;
    for (let k = 0; k < this.K; k++) this.eta.set(this.solver.predictTraining(k), k * m);
  }

  warmStart(ratio: number): void {
    extrapolateGroups(this.solver, this.previous, ratio);
    if (ratio !== 0) this.refreshEta();
  }

  solve({ lambda, previousLambda, l1Ratio, l1, l2 }: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver, strong, start, thresholdSq, K } = this;
    const p = this.stats.mean.length;
    const weightSum = this.stats.weightSum;
    this.linearize();
    strong.screen(l1Ratio, lambda, previousLambda, solver);
    let passes = 0;
    for (;;) {
      let converged = false;
      let lastMove = 1e-4;
      const estimate = new DistanceEstimate();
      while (passes < maxIter) {
        this.linearize();
        start.set(solver.beta);
        const startIntercepts = Float64Array.from(solver.intercepts);
        const innerSq = Math.max(thresholdSq, Math.min(1e-6, 1e-4 * lastMove));
        const r = solver.solve(strong.members, strong.count, l1, l2, innerSq, maxIter - passes);
        passes += r.passes;
        if (!solver.intercepts.every(Number.isFinite)) break;
        let moved = 0;
        for (let k = 0; k < K; k++) moved = Math.max(moved, (solver.vSum / weightSum) * (solver.intercepts[k] - startIntercepts[k]) ** 2);
        for (let c = 0; c < strong.count; c++) {
          const j = strong.members[c];
          let d2 = 0;
          for (let k = 0; k < K; k++) d2 += (solver.beta[k * p + j] - start[k * p + j]) ** 2;
          if (d2 > 0) moved = Math.max(moved, solver.curvatureOf(j) * d2);
        }
        this.refreshEta();
        if (!r.converged) break;
        if (innerSq === thresholdSq && estimate.next(Math.sqrt(moved)) <= Math.sqrt(thresholdSq)) {
          converged = true;
          break;
        }
        lastMove = moved;
      }
      if (!solver.intercepts.every(Number.isFinite) || !solver.beta.every(Number.isFinite)) return { passes, status: FitStatus.diverged };
      if (!converged) return { passes, status: FitStatus.maxIter };
      this.linearize();
      if (strong.checkKkt(l1Ratio, lambda, solver) === 0) {
        centerIntercepts(solver.intercepts, this.eta);
        return { passes, status: FitStatus.converged };
      }
    }
  }
}
