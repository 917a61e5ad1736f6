import { FitStatus, type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { runCdPass, type CdPassLayout, type WasmHeap } from '../kernels/heap.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { columnStats } from '../shared/columnStats.js';
import { DistanceEstimate } from '../shared/convergence.js';
import { LazyGram } from '../shared/lazyGram.js';
import { extrapolated, softThreshold } from '../shared/penalty.js';

/**
 * Elastic-net path for (1/2W)Σ w_i (y_i − b0 − x_i·b)² + λ(r‖b‖₁ + (1−r)/2‖b‖²) (r the l1 ratio) by coordinate descent
 * with covariance updates (glmnet's "covariance" mode): the gradient of every feature is kept up to date,
 * so a pass over inactive features and the KKT check cost O(p), and a Gram column ⟨x_j, x_k⟩ is computed
 * only when feature j first becomes nonzero (see LazyGram for how the training rows are read). Features are scaled
 * when standardizing through their column statistics, not by rewriting the data. `gram`: columns already computed
 * for the same design, weights and standardization (another l1 ratio on the same fold), reused and extended in
 * place; made here when not given.
 */
export function gaussianCovariancePath(context: KernelContext, problem: PathProblem, gram?: LazyGram): PathSolution {
  const { design, y, weights, standardize, lambdas, l1Ratio, tol, maxIter } = problem;
  const ownGram = gram === undefined;
  const columns = gram ?? new LazyGram(context, design, weights, columnStats(design, weights, standardize));
  try {
    return solvePath({ lambdas, l1Ratio, maxIter, stop: problem.stop }, new CovarianceDescent(columns, y, tol, context.limits.compactBytes), { trainLoss: true });
  } finally {
    if (ownGram) columns.dispose();
  }
}

/**
 * The state of one covariance-mode path and the steps of a λ. A class, not closures made per path, so its methods are
 * compiled once per thread (docs/performance.md, "JIT"). The state lives in kernel memory beside the Gram columns,
 * where the kernels work on it; its layout is in docs/architecture.md ("Memory layout"). No kernel memory is allocated
 * while the path runs, so the views stay valid.
 */
class CovarianceDescent implements LambdaSolver {
  readonly grad: Float64Array;
  readonly beta: Float64Array;
  readonly activeList: Int32Array;
  activeCount = 0;
  private readonly p: number;
  private readonly heap: WasmHeap;
  private readonly state: number;
  private readonly variance: Float64Array;
  /** 1 for a feature that has never been active (and is not constant), else 0: the KKT check's candidates. */
  private readonly inactive: Float64Array;
  private readonly pending: Float64Array;
  private readonly colOf: Int32Array;
  private readonly identity: Int32Array;
  private readonly compactColOf: Int32Array;
  /** Offsets (in doubles) of the arrays above in kernel memory and of the compact copy's. */
  private readonly at: { grad: number; keep: number; beta: number; variance: number; pending: number; gradA: number; betaA: number; varianceA: number; beforeA: number; savedA: number; compact: number };
  /** cdPass over the active list with every gradient moved (or, activeOnly, the active ones and pending changes). */
  private readonly fullPass: CdPassLayout;
  /** cdPass over the compact copy of the active set. */
  private readonly compactPass: CdPassLayout;
  private readonly cap: number;
  private compactFilled = 0;
  private readonly previousBeta: Float64Array;
  private readonly previousGrad: Float64Array;
  private readonly sortKeys: Float64Array;
  /** The training target: weighted mean and variance on the training rows. */
  private readonly target: { mean: number; variance: number };
  /** X̃ᵀ(w ∘ (y − ȳ))/W: the gradient at β = 0. */
  private readonly initialGrad: Float64Array;
  /** Convergence threshold on the weighted coefficient change (tol · sd(y)). */
  private readonly threshold: number;
  /** The current λ's penalty weights. */
  private l1 = 0;
  private l2 = 0;
  /** The likeliest features to enter next are those with the largest gradients: their columns come in the same block. */
  private readonly likelyNext = () => this.byGradient();

  constructor(
    private readonly gram: LazyGram,
    y: Float64Array,
    tol: number,
    compactBytes: number,
  ) {
    const target = gram.target(y);
    this.target = target;
    // g_j = (1/W) Σ w_i x̃_ij r_i with r the current residual; at b = 0, r = y − ȳ.
    this.initialGrad = gram.initialGradient(y);
    this.threshold = tol * Math.sqrt(target.variance);
    const p = gram.design.p;
    this.p = p;
    const heap = (this.heap = gram.heap);
    const stride = p + (p & 1); // keeps each array 16-byte aligned for the SIMD loads
    const cap = (this.cap = Math.min(stride, Math.floor(Math.sqrt(compactBytes / 8)) & ~1));
    const state = (this.state = heap.alloc(12 * stride + cap * cap));
    const [grad, keep, beta, variance, pending, index, gradA, betaA, varianceA, beforeA, compactIndex, savedA, compact] = Array.from({ length: 13 }, (_, k) => state + k * stride);
    this.at = { grad, keep, beta, variance, pending, gradA, betaA, varianceA, beforeA, savedA, compact };
    const C = heap.f64;
    const { constant } = gram.stats;
    this.grad = C.subarray(grad, grad + p);
    this.grad.set(this.initialGrad);
    this.inactive = C.subarray(keep, keep + p);
    for (let j = 0; j < p; j++) this.inactive[j] = constant[j] ? 0 : 1;
    this.beta = C.subarray(beta, beta + p).fill(0);
    this.variance = C.subarray(variance, variance + p);
    this.variance.set(gram.stats.variance);
    this.pending = C.subarray(pending, pending + p).fill(0);
    // Two i32 arrays in p doubles each.
    this.activeList = new Int32Array(C.buffer, index * 8, p);
    this.colOf = new Int32Array(C.buffer, index * 8 + p * 4, p);
    // For the compact cycle: the identity list 0..cap−1 and the byte offset of each compact column.
    this.identity = new Int32Array(C.buffer, compactIndex * 8, p);
    this.compactColOf = new Int32Array(C.buffer, compactIndex * 8 + p * 4, p);
    for (let q = 0; q < cap; q++) {
      this.identity[q] = q;
      this.compactColOf[q] = (compact + q * cap) * 8;
    }
    this.fullPass = { list: this.activeList.byteOffset, count: 0, beta: beta * 8, grad: grad * 8, variance: variance * 8, colOf: this.colOf.byteOffset, l1: 0, l2: 0, p, activeOnly: 0, pending: pending * 8 };
    this.compactPass = { list: this.identity.byteOffset, count: 0, beta: betaA * 8, grad: gradA * 8, variance: varianceA * 8, colOf: this.compactColOf.byteOffset, l1: 0, l2: 0, p: 0, activeOnly: 0, pending: 0 };
    this.previousBeta = new Float64Array(p);
    this.previousGrad = new Float64Array(p);
    this.sortKeys = new Float64Array(p);
  }

  get stats() {
    return this.gram.stats;
  }

  release(): void {
    this.heap.release(this.state);
  }

  /** With centered features the intercept is the target's mean. */
  intercepts(): number[] {
    return [this.target.mean];
  }

  trainLoss(): number {
    return trainMse(this.target.variance, this.initialGrad, this.grad, this.beta, this.activeList, this.activeCount);
  }

  /** `ratio` > 0 extrapolates the start from the last two solutions (see extrapolateStart). */
  warmStart(ratio: number): void {
    if (ratio > 0) this.extrapolateStart(ratio);
    else this.rememberSolution();
  }

  /**
   * One λ from the current start: KKT check over the features never active (their gradients are current; one that
   * violates it enters) → active-set cycle to convergence → KKT check, until none enters.
   */
  solve({ l1, l2 }: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    this.l1 = l1;
    this.l2 = l2;
    let passes = 0;
    let status: FitStatusCode = FitStatus.maxIter;
    // Whether the active set has been cycled to convergence since the last feature entered.
    let activeConverged = false;
    while (passes < maxIter) {
      let entered = 0;
      // The active set is complete once it holds every feature that is not constant.
      if (this.activeCount < this.gram.candidates) {
        entered = this.kktCheck();
        passes++;
      }
      if (Math.sqrt(entered) <= this.threshold && activeConverged) {
        status = FitStatus.converged;
        break;
      }
      const cycle = this.cycle(maxIter - passes);
      passes += cycle.passes;
      activeConverged = cycle.converged;
      if (cycle.diverged) {
        status = FitStatus.diverged;
        break;
      }
    }
    return { passes, status };
  }

  /**
   * The KKT check: every feature never active whose gradient exceeds the L1 weight (β_j = 0, so exactly those whose
   * update is nonzero) enters, in index order; returns the largest change. The scan over p runs in the kernel.
   */
  private kktCheck(): number {
    const { p, l1 } = this;
    const { grad, keep } = this.at;
    const { nextViolator } = this.heap.kernels;
    let entered = 0;
    for (let j = nextViolator(grad * 8, keep * 8, 0, p, l1); j < p; j = nextViolator(grad * 8, keep * 8, j + 1, p, l1)) {
      entered = Math.max(entered, this.update(j));
    }
    return entered;
  }

  /**
   * Cycles the active set until the estimated distance to its solution is below the threshold (at most `passes`
   * passes), then brings the other gradients up to date.
   */
  private cycle(passes: number): { passes: number; converged: boolean; diverged: boolean } {
    const { activeCount, p, l1, l2 } = this;
    const { kernels } = this.heap;
    const estimate = new DistanceEstimate();
    // The compact copy pays while the active set leaves a good part of p out; near p, the Gram columns do.
    const compact = activeCount <= this.cap && activeCount * 10 < p * 9;
    // Past the compact copy's size, gathering |A| gradients still beats the sweep over p while |A| < p/3.
    const activeOnly = !compact && activeCount * 3 < p ? 1 : 0;
    const pass = compact ? this.compactPass : this.fullPass;
    pass.count = activeCount;
    pass.l1 = l1;
    pass.l2 = l2;
    if (compact) {
      pass.p = activeCount;
      this.fillCompact();
      this.gatherCompact();
    } else pass.activeOnly = activeOnly;
    let done = 0;
    let converged = false;
    let diverged = false;
    while (!converged && done < passes) {
      const change = runCdPass(kernels, pass);
      done++;
      this.gram.lookAhead(this.likelyNext);
      if (!Number.isFinite(change)) {
        diverged = true;
        break;
      }
      converged = estimate.next(Math.sqrt(change)) <= this.threshold;
    }
    // The gradients of the features never active, before the KKT check reads them.
    if (compact) this.scatterCompact();
    this.syncInactive();
    return { passes: done, converged, diverged };
  }

  /**
   * One coordinate update with every gradient kept current (the KKT check over the features never active); returns
   * the weighted squared change (glmnet's convergence measure). A feature that becomes nonzero joins the active
   * list, its Gram column computed here if it is new. The active-set cycle makes the same updates in the kernel
   * (cdPass), on the compact copy of the active block or, with pending changes, on the active gradients alone.
   */
  private update(j: number): number {
    const { beta, variance, grad } = this;
    const bj = beta[j];
    const vj = variance[j];
    const bNew = softThreshold(grad[j] + vj * bj, this.l1) / (vj + this.l2);
    if (bNew === bj) return 0;
    const col = this.gram.column(j, this.likelyNext);
    const d = bNew - bj;
    beta[j] = bNew;
    if (this.inactive[j]) {
      this.inactive[j] = 0;
      this.colOf[j] = col * 8;
      this.activeList[this.activeCount++] = j;
    }
    this.heap.kernels.axpy(this.at.grad * 8, col * 8, d, 0, this.p);
    return vj * d * d;
  }

  /** Features by decreasing |gradient| (the sort keys computed once, not in every comparison). */
  private byGradient(): Int32Array {
    const { grad, p } = this;
    const keys = this.sortKeys;
    for (let k = 0; k < p; k++) keys[k] = -Math.abs(grad[k]);
    const order = new Int32Array(p);
    for (let k = 0; k < p; k++) order[k] = k;
    return order.sort((a, b) => keys[a] - keys[b]);
  }

  /**
   * Brings the gradients of the features never active up to date with the pending changes of the active ones: each
   * changed active feature's Gram column moves every gradient (plain axpys, cheaper than a masked one), and the
   * active gradients, current already, are put back.
   */
  private syncInactive(): void {
    const { activeList, activeCount, pending, grad, colOf, p } = this;
    const C = this.heap.f64;
    const { axpy } = this.heap.kernels;
    const { savedA } = this.at;
    let changed = 0;
    for (let a = 0; a < activeCount; a++) if (pending[activeList[a]] !== 0) changed++;
    if (changed === 0) return;
    for (let a = 0; a < activeCount; a++) C[savedA + a] = grad[activeList[a]];
    for (let a = 0; a < activeCount; a++) {
      const j = activeList[a];
      const d = pending[j];
      if (d === 0) continue;
      pending[j] = 0;
      axpy(this.at.grad * 8, colOf[j], d, 0, p);
    }
    for (let a = 0; a < activeCount; a++) grad[activeList[a]] = C[savedA + a];
  }

  /**
   * The active-set cycle can run on a compact copy of the active set's Gram block (entry (q, r) = C between the
   * q-th and r-th active features, in active-list order) with their gradients, β and variances gathered beside it:
   * each update then reads |A| contiguous entries instead of a Gram column of p (or |A| scattered ones), which is
   * most of a cycle's memory traffic once the active set is a sizeable part of p; the other gradients are brought
   * up to date once, after the cycle. The active list only grows, so the block is extended, never rebuilt.
   */
  private fillCompact(): void {
    const { activeList, activeCount, colOf, cap, compactFilled } = this;
    const { gather } = this.heap.kernels;
    const start = this.at.compact;
    const list = activeList.byteOffset;
    // New columns whole, then the new rows of the old columns (read from the symmetric Gram entries).
    for (let q = compactFilled; q < activeCount; q++) gather((start + q * cap) * 8, colOf[activeList[q]], list, activeCount);
    const added = activeCount - compactFilled;
    for (let r = 0; r < compactFilled; r++) gather((start + r * cap + compactFilled) * 8, colOf[activeList[r]], list + compactFilled * 4, added);
    this.compactFilled = activeCount;
  }

  /** The active features' gradients, β (also kept as β before the cycle) and variances, in active-list order. */
  private gatherCompact(): void {
    const { gather } = this.heap.kernels;
    const { at, activeCount } = this;
    const list = this.activeList.byteOffset;
    gather(at.gradA * 8, at.grad * 8, list, activeCount);
    gather(at.betaA * 8, at.beta * 8, list, activeCount);
    gather(at.varianceA * 8, at.variance * 8, list, activeCount);
    this.heap.f64.copyWithin(at.beforeA, at.betaA, at.betaA + activeCount);
  }

  /** Back from the compact copy: β and the active gradients; each feature's total change left pending for syncInactive. */
  private scatterCompact(): void {
    const C = this.heap.f64;
    const { activeList, grad, beta, pending } = this;
    const { gradA, betaA, beforeA } = this.at;
    for (let q = 0; q < this.activeCount; q++) {
      const j = activeList[q];
      const d = C[betaA + q] - C[beforeA + q];
      grad[j] = C[gradA + q];
      if (d === 0) continue;
      beta[j] = C[betaA + q];
      pending[j] += d;
    }
  }

  /** The last solution and its gradients become the one before. */
  private rememberSolution(): void {
    this.previousBeta.set(this.beta);
    this.previousGrad.set(this.grad);
  }

  /**
   * A better warm start than the last solution: on an unchanged active set and signs the lasso path is linear in
   * λ (and the elastic net's nearly so), so the last two solutions extrapolated to the next λ land close to it
   * and coordinate descent starts orders of magnitude nearer. A coefficient that would change sign stops at 0.
   * `previousBeta` and `previousGrad` hold the solution before the last and become the last. The gradient is linear
   * in β, so moving every β_j by ratio·(β_j − before_j) moves the gradients by ratio·(g − g_before): O(p), where a
   * Gram column per active feature costs O(|A|·p). Only the coefficients that stop at 0 instead (see extrapolated)
   * take their Gram column, for the part of the move they do not make.
   */
  private extrapolateStart(ratio: number): void {
    const { grad, beta, previousBeta, previousGrad, activeList } = this;
    for (let k = 0; k < this.p; k++) {
      const g = grad[k];
      grad[k] = g + ratio * (g - previousGrad[k]);
      previousGrad[k] = g;
    }
    for (let a = 0; a < this.activeCount; a++) {
      const j = activeList[a];
      const b = beta[j];
      const before = previousBeta[j];
      previousBeta[j] = b;
      const onLine = b + ratio * (b - before);
      const target = extrapolated(b, before, ratio);
      beta[j] = target;
      if (target !== onLine) this.heap.kernels.axpy(this.at.grad * 8, this.colOf[j], target - onLine, 0, this.p);
    }
  }
}

/**
 * (1/W) Σ w_i r_i² without the residuals: with c = X̃ᵀỹ/W (the gradient at β = 0), g = c − Gβ the current gradient
 * and G the Gram matrix, ‖r‖²/W = var(y) − 2βᵀc + βᵀGβ = var(y) − βᵀ(c + g), an O(|A|) sum. NaN below
 * 1e-10·var(y), where the subtraction would leave fewer than six correct digits.
 */
function trainMse(varianceY: number, initialGrad: Float64Array, grad: Float64Array, beta: Float64Array, active: Int32Array, count: number): number {
  let explained = 0;
  for (let a = 0; a < count; a++) {
    const j = active[a];
    explained += beta[j] * (initialGrad[j] + grad[j]);
  }
  const mse = varianceY - explained;
  return mse > 1e-10 * varianceY ? mse : Number.NaN;
}
