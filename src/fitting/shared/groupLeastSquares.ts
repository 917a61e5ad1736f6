import type { KernelContext } from '../context.js';
import type { WasmHeap } from '../kernels/heap.js';
import { ColumnCache } from './columnCache.js';
import type { ColumnStats } from './columnStats.js';
import { solveByPasses, type CoordinateSolver } from './convergence.js';
import type { Design } from './design.js';
import { extrapolated } from './penalty.js';

/**
 * Weighted least squares with K responses that share row weights, by block coordinate descent over features, each
 * feature's K coefficients moved together (glmnet's mgaussian, and the inner problem of the grouped multinomial).
 * Minimizes (1/2W) Σ_i v_i ‖z_i − η_i‖² + λ Σ_j [(1−r)/2 ‖β_j‖² + r ‖β_j‖₂] with β_j the K coefficients of feature j:
 * the block's curvature is the same scalar for every response, so each block update is exact (a group
 * soft-threshold). Residuals r_ik = v_i (z_ik − η_ik) are kept per response in kernel memory.
 */
export class GroupWls implements CoordinateSolver {
  /** K × p, response after response: β of response k, feature j at k·p + j (the path driver's layout). */
  readonly beta: Float64Array;
  readonly intercepts: Float64Array;
  readonly rows: Int32Array;
  readonly w: Float64Array;
  /** Row weights of the quadratic problem, shared by the responses. */
  readonly v: Float64Array;
  /** Residual of response k: residuals[k]. */
  readonly residuals: Float64Array[];
  /** Scratch for η of one response on the training rows. */
  readonly eta: Float64Array;
  vSum = 0;
  readonly active: Int32Array;
  activeCount = 0;
  private readonly isActive: Uint8Array;
  private readonly curvature: Float64Array;
  private readonly curvatureStamp: Int32Array;
  private stamp = 1;
  private readonly heap: WasmHeap;
  private readonly columns: ColumnCache;
  private readonly block: number;
  /** g + c·β of the block being updated. */
  private readonly z: Float64Array;

  constructor(
    context: KernelContext,
    readonly design: Design,
    readonly stats: ColumnStats,
    weights: Float64Array,
    readonly K: number,
  ) {
    this.heap = context.heap;
    const { n, p } = design;
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (weights[i] !== 0) rows.push(i);
    this.rows = Int32Array.from(rows);
    const m = rows.length;
    this.w = Float64Array.from(this.rows, (i) => weights[i]);
    const stride = m + (m & 1);
    this.block = this.heap.alloc(stride * (K + 2) + 2);
    this.columns = new ColumnCache(context, design, stats.mean, this.rows);
    const F = this.heap.f64;
    this.v = F.subarray(this.block, this.block + m);
    this.eta = F.subarray(this.block + stride, this.block + stride + m);
    this.residuals = Array.from({ length: K }, (_, k) => F.subarray(this.block + (k + 2) * stride, this.block + (k + 2) * stride + m));
    this.beta = new Float64Array(K * p);
    this.intercepts = new Float64Array(K);
    this.active = new Int32Array(p);
    this.isActive = new Uint8Array(p);
    this.curvature = new Float64Array(p);
    this.curvatureStamp = new Int32Array(p);
    this.z = new Float64Array(K);
  }

  dispose(): void {
    this.columns.dispose();
    this.heap.release(this.block);
  }

  /** Call after changing v: curvatures are recomputed lazily. */
  newQuadratic(): void {
    this.stamp++;
    let s = 0;
    for (let i = 0; i < this.v.length; i++) s += this.v[i];
    this.vSum = s;
  }

  curvatureOf(j: number): number {
    if (this.curvatureStamp[j] === this.stamp) return this.curvature[j];
    const s = this.stats.scale[j];
    const x = this.columns.offset(j);
    const c = this.heap.kernels.dot(x, x, this.v.byteOffset, this.rows.length) / (this.stats.weightSum * s * s);
    this.curvature[j] = c;
    this.curvatureStamp[j] = this.stamp;
    return c;
  }

  /** (1/W) Σ_i r_ik x̃_ij. */
  gradient(j: number, k: number): number {
    return this.heap.kernels.dot(this.residuals[k].byteOffset, this.columns.offset(j), 0, this.rows.length) / (this.stats.weightSum * this.stats.scale[j]);
  }

  /** ‖(g_j1 … g_jK)‖₂, the block's gradient norm (0 for constant features). */
  gradientNorm(j: number): number {
    if (this.stats.constant[j]) return 0;
    let s = 0;
    for (let k = 0; k < this.K; k++) s += this.gradient(j, k) ** 2;
    return Math.sqrt(s);
  }

  /** One block update (exact); returns curvature · ‖change‖² (the convergence measure). */
  update(j: number, l1: number, l2: number): number {
    const c = this.curvatureOf(j);
    if (c === 0) return 0;
    const { K, beta, z } = this;
    const p = this.design.p;
    let norm = 0;
    for (let k = 0; k < K; k++) {
      z[k] = this.gradient(j, k) + c * beta[k * p + j];
      norm += z[k] * z[k];
    }
    norm = Math.sqrt(norm);
    const shrink = norm > l1 ? (1 - l1 / norm) / (c + l2) : 0;
    let moved = 0;
    for (let k = 0; k < K; k++) {
      const d = shrink * z[k] - beta[k * p + j];
      if (d === 0) continue;
      beta[k * p + j] += d;
      moved += d * d;
      this.heap.kernels.axpy(this.residuals[k].byteOffset, this.columns.offset(j), d / this.stats.scale[j], this.v.byteOffset, this.rows.length);
    }
    if (moved > 0 && !this.isActive[j]) {
      this.isActive[j] = 1;
      this.active[this.activeCount++] = j;
    }
    return c * moved;
  }

  /** Sets β_kj, keeping response k's residual consistent. */
  setCoefficient(k: number, j: number, value: number): void {
    const p = this.design.p;
    const d = value - this.beta[k * p + j];
    if (d === 0) return;
    this.beta[k * p + j] = value;
    this.heap.kernels.axpy(this.residuals[k].byteOffset, this.columns.offset(j), d / this.stats.scale[j], this.v.byteOffset, this.rows.length);
  }

  setIntercept(k: number, value: number): void {
    const d = value - this.intercepts[k];
    this.intercepts[k] = value;
    const r = this.residuals[k];
    for (let i = 0; i < r.length; i++) r[i] -= this.v[i] * d;
  }

  /** Unpenalized intercepts: each response's weighted mean working residual. */
  updateIntercept(): number {
    if (this.vSum === 0) return 0;
    let moved = 0;
    for (let k = 0; k < this.K; k++) {
      const r = this.residuals[k];
      let rsum = 0;
      for (let i = 0; i < r.length; i++) rsum += r[i];
      const d = rsum / this.vSum;
      if (d === 0) continue;
      this.intercepts[k] += d;
      for (let i = 0; i < r.length; i++) r[i] -= this.v[i] * d;
      moved = Math.max(moved, (this.vSum / this.stats.weightSum) * d * d);
    }
    return moved;
  }

  /** As WlsSolver.solve, with block updates. */
  solve(candidates: Int32Array, candidateCount: number, l1: number, l2: number, thresholdSq: number, maxPasses: number): { passes: number; converged: boolean } {
    return solveByPasses(this, candidates, candidateCount, l1, l2, thresholdSq, maxPasses);
  }

  /** Every feature's gradient norm across the responses (what the group strong rules and KKT check compare). */
  gradients(out: Float64Array): void {
    for (let j = 0; j < this.design.p; j++) out[j] = this.gradientNorm(j);
  }

  /** η of response k on the training rows (without offsets), in `eta`. */
  predictTraining(k: number): Float64Array {
    const p = this.design.p;
    this.eta.fill(this.intercepts[k]);
    for (let j = 0; j < p; j++) {
      const b = this.beta[k * p + j];
      if (b !== 0) this.heap.kernels.axpy(this.eta.byteOffset, this.columns.offset(j), -b / this.stats.scale[j], 0, this.rows.length);
    }
    return this.eta;
  }
}

/** As `extrapolate` for the single-response solver: every block and intercept moved `ratio` steps on from the last. */
export function extrapolateGroups(solver: GroupWls, previous: { beta: Float64Array; intercepts: Float64Array }, ratio: number): void {
  const { beta, K } = solver;
  const p = solver.design.p;
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < p; j++) {
      const b = beta[k * p + j];
      const before = previous.beta[k * p + j];
      previous.beta[k * p + j] = b;
      if (b === 0 || ratio === 0) continue;
      solver.setCoefficient(k, j, extrapolated(b, before, ratio));
    }
    const b0 = solver.intercepts[k];
    if (ratio !== 0) solver.setIntercept(k, b0 + ratio * (b0 - previous.intercepts[k]));
    previous.intercepts[k] = b0;
  }
}
