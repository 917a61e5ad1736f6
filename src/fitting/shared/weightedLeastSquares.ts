import type { KernelContext } from '../context.js';
import type { WasmHeap } from '../kernels/heap.js';
import { denseColumn, type Design, type SparseDesign } from './design.js';
import { sparseAxpy, sparseDot, sparseDots, sparseSums } from './sparseColumns.js';
import type { FeatureGroups, FeaturePenalty } from '../path/types.js';
import { symmetricEigenvalues } from '../../util/eigen.js';
import { ColumnCache } from './columnCache.js';
import type { ColumnStats } from './columnStats.js';
import { solveByPasses, type CoordinateSolver } from './convergence.js';
import { extrapolated, softThreshold } from './penalty.js';

/**
 * Weighted least squares by coordinate descent with "naive" updates (glmnet's mode for p ≥ n and for the
 * logistic family): a residual vector is kept and each coordinate update costs O(n). The training rows are
 * copied, centered, into kernel memory (ColumnCache), where SIMD dot products and axpys do the O(n) work (rows
 * outside the training part cost nothing). The linear predictor is η = b0 + Σ_j β_j (x_j − m_j)/s_j.
 *
 * Minimizes (1/2W) Σ v_i (z_i − η_i)² + λ(r‖β‖₁ + (1−r)/2‖β‖²) (r the l1 ratio), with the residual stored as r_i = v_i (z_i − η_i).
 * Every per-row vector is indexed by position in `rows`.
 *
 * On a sparse design every row is a position (a weight of 0 leaves it out) and the vectors are plain arrays: the
 * columns are read where they are, and centering is implicit as in glmnet's sparse routines — the stored residual r'
 * and a scalar `shift` o make the residual r = r' + o·v, so an update touches only its column's nonzeros.
 */
export class WlsSolver implements CoordinateSolver {
  readonly beta: Float64Array;
  intercept = 0;
  /** False holds the intercept at 0 (the Cox model has none: its likelihood ignores a shift of η). */
  fitsIntercept = true;
  /** The training rows (nonzero weight), in order. */
  readonly rows: Int32Array;
  /** Their observation weights. */
  readonly w: Float64Array;
  /** r_i = v_i (z_i − η_i) (on a sparse design, less shift · v_i). */
  private readonly res: Float64Array;
  /** Row weights of the current quadratic problem (observation weight × IRLS weight). */
  private readonly vw: Float64Array;
  /** Scratch for η on the training rows. */
  readonly eta: Float64Array;
  /** Counts the times `eta` was computed afresh: what a caller's per-row values computed from it are tagged with. */
  etaVersion = 0;
  /** The coefficients `eta` was last computed from. */
  private etaOf: { beta: Float64Array; intercept: number } | undefined;
  vSum = 0;
  /** (1/W) Σ v_i x̃_ij², computed when feature j is first touched in a quadratic problem. */
  private readonly curvature: Float64Array;
  private readonly curvatureStamp: Int32Array;
  private stamp = 1;
  readonly active: Int32Array;
  activeCount = 0;
  private sortedActive = new Int32Array(0);
  private readonly isActive: Uint8Array;
  private readonly heap: WasmHeap;
  /** Centered training columns, and the start of residual, v and η (m each) in kernel memory (dense designs). */
  private readonly columns: ColumnCache | null;
  private readonly vectors: number;
  /** A sparse design's columns, the residual's shift o, Σ r' and per feature Σ v_i x_ij (with the curvature). */
  private readonly sparse: SparseDesign | null;
  private shift = 0;
  private shiftedSum = 0;
  private readonly vx: Float64Array;
  private interceptUpdates = 0;
  /** Where every gradient of a sparse design was last computed: its residual, the gradients, how far each can move. */
  private gradientReference: ({ residual: Float64Array; gradient: Float64Array } & GradientReach) | undefined;
  private readonly gradientDone: Uint8Array;
  /** The features whose gradient bound did not settle them (boundGradients), kept between calls. */
  private readonly uncertain: { list: Int32Array; count: number };

  /** Per-feature penalty factors, and bounds on the standardized coefficients (the original ones times s_j), or null. */
  private readonly factor: Float64Array | null;
  private readonly lower: Float64Array | null;
  private readonly upper: Float64Array | null;

  /** Groups penalized as one, and per group its Lipschitz constant (the largest eigenvalue of its curvature block). */
  readonly groups: FeatureGroups | null;
  private readonly groupLipschitz: Float64Array;
  private readonly groupStamp: Int32Array;

  constructor(
    context: KernelContext,
    readonly design: Design,
    readonly stats: ColumnStats,
    weights: Float64Array,
    penalty?: FeaturePenalty,
    groups?: FeatureGroups,
  ) {
    this.heap = context.heap;
    const { n, p } = design;
    this.factor = penalty?.factor ?? null;
    this.groups = groups ?? null;
    this.groupLipschitz = new Float64Array(groups?.members.length ?? 0);
    this.groupStamp = new Int32Array(groups?.members.length ?? 0);
    this.lower = penalty?.lower ? Float64Array.from(penalty.lower, (b, j) => b * stats.scale[j]) : null;
    this.upper = penalty?.upper ? Float64Array.from(penalty.upper, (b, j) => b * stats.scale[j]) : null;
    this.beta = new Float64Array(p);
    this.sparse = design.sparse ?? null;
    this.vx = new Float64Array(this.sparse ? p : 0);
    this.gradientDone = new Uint8Array(this.sparse ? p : 0);
    this.uncertain = { list: new Int32Array(this.sparse ? p : 0), count: 0 };
    if (this.sparse) {
      if (groups) throw new Error('the group lasso takes a dense design');
      this.rows = Int32Array.from({ length: n }, (_, i) => i);
      this.w = Float64Array.from(weights);
      this.vectors = -1;
      this.columns = null;
      this.res = new Float64Array(n);
      this.vw = new Float64Array(n);
      this.eta = new Float64Array(n);
    } else {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (weights[i] !== 0) rows.push(i);
      this.rows = Int32Array.from(rows);
      const m = rows.length;
      this.w = Float64Array.from(this.rows, (i) => weights[i]);
      this.vectors = this.heap.alloc(3 * m + 6);
      this.columns = new ColumnCache(context, design, stats.mean, this.rows);
      // Views only after the last allocation: growing the memory would detach them.
      const F = this.heap.f64;
      // Each vector starts 16-byte aligned (m rounded up to even).
      const stride = m + (m & 1);
      this.res = F.subarray(this.vectors, this.vectors + m);
      this.vw = F.subarray(this.vectors + stride, this.vectors + stride + m);
      this.eta = F.subarray(this.vectors + 2 * stride, this.vectors + 2 * stride + m);
    }
    this.curvature = new Float64Array(p);
    this.curvatureStamp = new Int32Array(p);
    this.active = new Int32Array(p);
    this.isActive = new Uint8Array(p);
  }

  /** r_i = v_i (z_i − η_i), to read or to set whole (followed by newQuadratic). */
  get residual(): Float64Array {
    if (this.shift !== 0) this.unshift();
    return this.res;
  }

  /** The row weights of the current quadratic, to read or to set whole (followed by newQuadratic). */
  get v(): Float64Array {
    if (this.shift !== 0) this.unshift();
    return this.vw;
  }

  /**
   * The residual and the row weights, for a caller that writes both afresh on every row with weight (then calls
   * newQuadratic): a sparse design's pending shift is dropped instead of folded in — rows without weight have v = 0,
   * where the shift moves nothing.
   */
  rewrite(): { residual: Float64Array; v: Float64Array } {
    this.shift = 0;
    return { residual: this.res, v: this.vw };
  }

  /** Folds a sparse design's residual shift into the stored residual. */
  private unshift(): void {
    const { res, vw, shift } = this;
    for (let i = 0; i < res.length; i++) res[i] += shift * vw[i];
    this.shift = 0;
    this.shiftedSum = sum(res);
  }

  /** The features ever made nonzero, in index order (sorted again only when the set has grown). */
  activeInOrder(): Int32Array {
    if (this.sortedActive.length !== this.activeCount) this.sortedActive = this.active.slice(0, this.activeCount).sort();
    return this.sortedActive;
  }

  /** Feature j's penalty factor (1 without factors). */
  factorOf(j: number): number {
    return this.factor ? this.factor[j] : 1;
  }

  /** Whether a value of β_j lies within its bounds (always, without bounds). */
  withinBounds(j: number, value: number): boolean {
    return !this.lower || (value >= this.lower[j] && value <= this.upper![j]);
  }

  /** A value of β_j moved into its bounds. */
  clamped(j: number, value: number): number {
    return this.lower ? Math.min(Math.max(value, this.lower[j]), this.upper![j]) : value;
  }

  /** Gives the kernel memory back; the solver must not be used afterwards. */
  dispose(): void {
    if (!this.columns) return;
    this.columns.dispose();
    this.heap.release(this.vectors);
  }

  private column(j: number): number {
    return this.columns!.offset(j);
  }

  /** Feature j's standardized training column x̃_j = (x_j − m_j)/s_j, row by row, written into `out` from `at`. */
  standardizedColumnInto(j: number, out: Float64Array, at: number): void {
    const s = this.stats.scale[j];
    if (this.sparse) {
      const m = this.stats.mean[j];
      denseColumn(this.design, j).forEach((x, r) => (out[at + r] = (x - m) / s));
      return;
    }
    const start = this.column(j) / 8;
    const f64 = this.heap.f64;
    for (let r = 0; r < this.rows.length; r++) out[at + r] = f64[start + r] / s;
  }

  /** Call after changing v (a new quadratic approximation): curvatures are recomputed lazily. */
  newQuadratic(): void {
    this.stamp++;
    this.vSum = sum(this.v);
    if (this.sparse) this.shiftedSum = sum(this.residual);
  }

  curvatureOf(j: number): number {
    if (this.curvatureStamp[j] === this.stamp) return this.curvature[j];
    const s = this.stats.scale[j];
    let c: number;
    if (this.sparse) {
      // Σ v (x − m)² = Σ_nz v x² − 2m Σ_nz v x + m² Σ v.
      const [vx, vxx] = sparseDots(this.sparse, j, this.vw);
      const m = this.stats.mean[j];
      this.vx[j] = vx;
      c = Math.max(0, vxx - 2 * m * vx + m * m * this.vSum) / (this.stats.weightSum * s * s);
    } else {
      const x = this.column(j);
      c = this.heap.kernels.dot(x, x, this.vw.byteOffset, this.rows.length) / (this.stats.weightSum * s * s);
    }
    this.curvature[j] = c;
    this.curvatureStamp[j] = this.stamp;
    return c;
  }

  /** (1/W) Σ r_i x̃_ij. */
  gradient(j: number): number {
    if (this.sparse) {
      // Σ (r' + o v)(x − m) = Σ_nz r' x + o Σ_nz v x − m (Σ r' + o Σ v).
      this.curvatureOf(j);
      const { shift } = this;
      const product = sparseDot(this.sparse, j, this.res) + shift * this.vx[j] - this.stats.mean[j] * (this.shiftedSum + shift * this.vSum);
      return product / (this.stats.weightSum * this.stats.scale[j]);
    }
    return this.heap.kernels.dot(this.res.byteOffset, this.column(j), 0, this.rows.length) / (this.stats.weightSum * this.stats.scale[j]);
  }

  /** Every feature's gradient (0 for constant ones). */
  gradients(out: Float64Array, skip?: Uint8Array, kktBound?: number): Float64Array {
    if (this.sparse) return this.sparseGradients(out, skip, kktBound);
    for (let j = 0; j < out.length; j++) if (!skip?.[j]) out[j] = this.stats.constant[j] ? 0 : this.gradient(j);
    return out;
  }

  /**
   * The gradients of a sparse design (the shift folded in first: no Σ v x_j needed). With a KKT bound, a feature whose
   * gradient provably stays below it is not computed: |g_j(r)| ≤ |g_j(r₀)| + ‖x̃_j‖ ‖r − r₀‖ / W from a reference
   * residual r₀ where every gradient was computed, and out[j] gets that upper bound (the strong rule then screens on
   * it, conservatively). The reference moves to the current residual when the bound has stopped saving work.
   */
  private sparseGradients(out: Float64Array, skip?: Uint8Array, kktBound?: number): Float64Array {
    if (this.shift !== 0) this.unshift();
    const { mean, scale, constant, weightSum } = this.stats;
    const sparse = this.sparse!;
    const rSum = this.shiftedSum;
    const exact = (j: number) => (sparseDot(sparse, j, this.res) - mean[j] * rSum) / (weightSum * scale[j]);
    const reference = this.gradientReference;
    // Features whose exact gradient this call has in out (a fresh reference then need not compute them again).
    const done = this.gradientDone;
    done.fill(0);
    if (kktBound !== undefined && reference) {
      // ‖Δr‖₂, ‖Δr‖∞ and |Σ Δr| since the reference: |Δg_j|·W·s_j is at most ‖x_j − m_j‖₂‖Δr‖₂ (Cauchy–Schwarz) and
      // at most Σ|x_ij|·‖Δr‖∞ + |m_j||Σ Δr| (the nonzeros, then the mean); the second is the tighter on rare columns.
      let moved = 0;
      let largest = 0;
      let total = 0;
      for (let i = 0; i < this.res.length; i++) {
        const d = this.res[i] - reference.residual[i];
        moved += d * d;
        total += d;
        if (Math.abs(d) > largest) largest = Math.abs(d);
      }
      const distance = Math.sqrt(moved) * (1 + 1e-12);
      largest *= 1 + 1e-12;
      total = Math.abs(total) * (1 + 1e-12) + 1e-300;
      const uncertain = boundGradients(reference, distance, largest, total, CERTIFIED_SHARE * kktBound, this.factor, constant, skip, out, this.uncertain);
      let work = 0;
      for (let k = 0; k < uncertain.count; k++) {
        const j = uncertain.list[k];
        out[j] = exact(j);
        done[j] = 1;
        work += sparse.starts[j + 1] - sparse.starts[j];
      }
      // Past a quarter of the nonzeros computed, a fresh reference costs little more and tightens every bound.
      if (work * 4 < sparse.values.length) return out;
    }
    const gradient = reference?.gradient ?? new Float64Array(out.length);
    // A skipped feature's reference is left unknown (NaN: its bound is never below anything, so it is computed if it is
    // ever asked for): the strong set only grows, and its members — the most frequent columns — are most of the nonzeros.
    for (let j = 0; j < out.length; j++) gradient[j] = done[j] ? out[j] : constant[j] ? 0 : skip?.[j] ? NaN : exact(j);
    for (let j = 0; j < out.length; j++) if (!skip?.[j]) out[j] = gradient[j];
    if (reference) reference.residual.set(this.res);
    else this.gradientReference = { residual: Float64Array.from(this.res), gradient, ...gradientReach(sparse, this.stats, this.res.length) };
    return out;
  }

  /**
   * The largest eigenvalue of group g's curvature block X̃_gᵀVX̃_g / W: a step of 1/L on the group's loss never
   * overshoots (the group update below is the exact minimizer of that majorizer).
   */
  private lipschitzOf(g: number): number {
    if (this.groupStamp[g] === this.stamp) return this.groupLipschitz[g];
    const members = this.groups!.members[g];
    const k = members.length;
    const block = new Float64Array(k * k);
    const W = this.stats.weightSum;
    for (let a = 0; a < k; a++)
      for (let b = 0; b <= a; b++) {
        const ja = members[a];
        const jb = members[b];
        const dot = this.heap.kernels.dot(this.column(ja), this.column(jb), this.vw.byteOffset, this.rows.length);
        block[a * k + b] = block[b * k + a] = dot / (W * this.stats.scale[ja] * this.stats.scale[jb]);
      }
    const L = Math.max(0, ...symmetricEigenvalues(block, k));
    this.groupLipschitz[g] = L;
    this.groupStamp[g] = this.stamp;
    return L;
  }

  /**
   * One majorize-minimize step on group g: u = β_g + ∇_g / L, then the group soft-threshold
   * β_g = u · max(0, 1 − l1·√|g| / (L‖u‖)) / (1 + l2/L). Returns L · (largest change)².
   */
  private updateGroup(g: number, l1: number, l2: number): number {
    const members = this.groups!.members[g];
    const L = this.lipschitzOf(g);
    if (L === 0) return 0;
    const u = Float64Array.from(members, (j) => this.beta[j] + this.gradient(j) / L);
    let norm = 0;
    for (const x of u) norm += x * x;
    norm = Math.sqrt(norm);
    const shrink = norm === 0 ? 0 : Math.max(0, 1 - (l1 * Math.sqrt(members.length)) / (L * norm)) / (1 + l2 / L);
    let moved = 0;
    members.forEach((j, k) => {
      const next = u[k] * shrink;
      moved = Math.max(moved, (next - this.beta[j]) ** 2);
      this.setCoefficient(j, next);
    });
    const leader = members[0];
    if (shrink > 0 && !this.isActive[leader]) {
      this.isActive[leader] = 1;
      this.active[this.activeCount++] = leader;
    }
    return L * moved;
  }

  /** One coordinate update; returns curvature · change² (glmnet's convergence measure). */
  update(j: number, l1: number, l2: number): number {
    if (this.groups && this.groups.of[j] >= 0) {
      // A group moves as one, when its leader's turn comes.
      const g = this.groups.of[j];
      return this.groups.members[g][0] === j ? this.updateGroup(g, l1, l2) : 0;
    }
    const c = this.curvatureOf(j);
    if (c === 0) return 0;
    const bj = this.beta[j];
    const f = this.factor ? this.factor[j] : 1;
    let bNew = softThreshold(this.gradient(j) + c * bj, l1 * f) / (c + l2 * f);
    if (this.lower) bNew = this.clamped(j, bNew);
    if (bNew === bj) return 0;
    const d = bNew - bj;
    this.beta[j] = bNew;
    this.moveResidual(j, d);
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
    this.moveResidual(j, d);
  }

  /** r −= v ∘ (d/s_j) x̃_j: on a sparse design r' −= v ∘ (d/s_j) x_j over the nonzeros and o += (d/s_j) m_j. */
  private moveResidual(j: number, d: number): void {
    const c = d / this.stats.scale[j];
    if (this.sparse) {
      this.curvatureOf(j);
      sparseAxpy(this.sparse, j, c, this.res, this.vw);
      this.shift += c * this.stats.mean[j];
      this.shiftedSum -= c * this.vx[j];
    } else this.heap.kernels.axpy(this.res.byteOffset, this.column(j), c, this.vw.byteOffset, this.rows.length);
  }

  /** Sets the intercept, keeping the residual consistent (r −= v · d). */
  setIntercept(value: number): void {
    const d = value - this.intercept;
    this.intercept = value;
    if (this.sparse) this.shift -= d;
    else for (let i = 0; i < this.res.length; i++) this.res[i] -= this.vw[i] * d;
  }

  /**
   * How far the intercept and the given features moved since (start, startIntercept): the largest curvature-weighted
   * squared change, the convergence measure of a Newton step.
   */
  stepMove(start: Float64Array, startIntercept: number, features: Int32Array, count: number): number {
    let moved = (this.vSum / this.stats.weightSum) * (this.intercept - startIntercept) ** 2;
    for (let k = 0; k < count; k++) {
      const j = features[k];
      const d = this.beta[j] - start[j];
      if (d !== 0) moved = Math.max(moved, this.curvatureOf(j) * d * d);
    }
    return moved;
  }

  /** Unpenalized intercept: the weighted mean of the working residual. */
  updateIntercept(): number {
    if (this.vSum === 0 || !this.fitsIntercept) return 0;
    let rsum: number;
    if (this.sparse) {
      // Σ r' is kept up to date by each update; summed afresh now and then so rounding does not build up.
      if (++this.interceptUpdates % 32 === 0) this.shiftedSum = sum(this.res);
      rsum = this.shiftedSum + this.shift * this.vSum;
    } else rsum = sum(this.res);
    const d = rsum / this.vSum;
    if (d === 0) return 0;
    this.intercept += d;
    if (this.sparse) this.shift -= d;
    else for (let i = 0; i < this.res.length; i++) this.res[i] -= this.vw[i] * d;
    return (this.vSum / this.stats.weightSum) * d * d;
  }

  /**
   * Solves the current quadratic problem over the candidate features: full passes over the candidates, then the
   * active set cycled until the estimated distance to its solution is below threshold². Returns passes used.
   */
  solve(candidates: Int32Array, candidateCount: number, l1: number, l2: number, thresholdSq: number, maxPasses: number): { passes: number; converged: boolean } {
    return solveByPasses(this, candidates, candidateCount, l1, l2, thresholdSq, maxPasses);
  }

  /**
   * η on the training rows from the current coefficients (O(n · nnz)), in `eta`; the last one again when the
   * coefficients are those it was computed from (an IRLS step's objective and the next linearization ask at one point).
   */
  predictTraining(): Float64Array {
    const etaOf = this.etaOf;
    if (etaOf && etaOf.intercept === this.intercept && this.everyMayBeNonzero((j) => etaOf.beta[j] === this.beta[j])) return this.eta;
    if (this.sparse) this.sparseEta();
    else this.denseEta();
    this.etaVersion++;
    if (this.etaOf) {
      this.etaOf.beta.set(this.beta);
      this.etaOf.intercept = this.intercept;
    } else this.etaOf = { beta: Float64Array.from(this.beta), intercept: this.intercept };
    return this.eta;
  }

  /**
   * Whether `test` holds for every feature that may be nonzero, stopping at the first that fails: the active list (a
   * feature never made nonzero is 0), or every feature where groups move members the list does not hold.
   */
  everyMayBeNonzero(test: (j: number) => boolean): boolean {
    if (this.groups) {
      for (let j = 0; j < this.beta.length; j++) if (!test(j)) return false;
      return true;
    }
    for (let a = 0; a < this.activeCount; a++) if (!test(this.active[a])) return false;
    return true;
  }

  /** η = b0 − Σ β_j m_j/s_j + Σ (β_j/s_j) x_j, over the nonzeros of the columns in the model. */
  private sparseEta(): void {
    const { beta, stats } = this;
    // The features ever nonzero, in index order: every other coefficient is 0 (a sparse design has no groups).
    const active = this.activeInOrder();
    let constant = this.intercept;
    for (const j of active) if (beta[j] !== 0) constant -= (beta[j] * stats.mean[j]) / stats.scale[j];
    this.eta.fill(constant);
    for (const j of active) if (beta[j] !== 0) sparseAxpy(this.sparse!, j, -beta[j] / stats.scale[j], this.eta);
  }

  private denseEta(): void {
    this.eta.fill(this.intercept);
    for (let j = 0; j < this.beta.length; j++) {
      const b = this.beta[j];
      // η −= (−b/s_j) x̃_j
      if (b !== 0) this.heap.kernels.axpy(this.eta.byteOffset, this.column(j), -b / this.stats.scale[j], 0, this.rows.length);
    }
  }
}

/**
 * A gradient is left uncomputed when its bound is below this share of the KKT bound: below the next λ's strong-rule
 * cut too (α(2λ_next − λ) ≥ α·λ/2 on any grid with λ_next/λ ≥ 0.75), so the screening sees no bound that would let in
 * a feature the exact gradient keeps out.
 */
const CERTIFIED_SHARE = 0.5;

/**
 * How far each sparse gradient can move with the residual, per unit of ‖Δr‖₂, of ‖Δr‖∞ and of |Σ Δr| (each over W·s_j):
 * ‖x_j − m_j‖₂ over all n rows (√(Σ x² − 2m Σ x + n m²), from the nonzeros), Σ |x_ij| and |m_j| — without a held-out
 * block's nonzeros: the residual does not move on those rows, and n m² still bounds the zeros.
 */
interface GradientReach {
  perDistance: Float64Array;
  perLargest: Float64Array;
  perTotal: Float64Array;
}

function gradientReach(sparse: SparseDesign, { mean, scale, constant, weightSum }: ColumnStats, n: number): GradientReach {
  const p = mean.length;
  const perDistance = new Float64Array(p);
  const perLargest = new Float64Array(p);
  const perTotal = new Float64Array(p);
  const sums = new Float64Array(3);
  for (let j = 0; j < p; j++) {
    if (constant[j]) continue;
    sparseSums(sparse, j, sums);
    const s = sums[0];
    const ss = sums[1];
    const a = sums[2];
    const m = mean[j];
    // Rounding must not make a bound smaller than it is: a relative margin on each figure.
    const unit = (1 + 1e-12) / (weightSum * scale[j]);
    perDistance[j] = Math.sqrt(Math.max(0, ss - 2 * m * s + n * m * m) * (1 + 1e-12) + 1e-300) * unit;
    perLargest[j] = a * (1 + 1e-12) * unit;
    perTotal[j] = Math.abs(m) * unit;
  }
  return { perDistance, perLargest, perTotal };
}

/**
 * Each gradient's upper bound from the reference (out[j]) for the features not skipped; the constant ones 0. The features
 * whose bound is not below limit × their penalty factor go to `uncertain` (kept between calls), which is returned.
 */
function boundGradients(
  reference: { gradient: Float64Array } & GradientReach,
  distance: number,
  largest: number,
  total: number,
  limit: number,
  factor: Float64Array | null,
  constant: Uint8Array,
  skip: Uint8Array | undefined,
  out: Float64Array,
  uncertain: { list: Int32Array; count: number },
): { list: Int32Array; count: number } {
  const { gradient, perDistance, perLargest, perTotal } = reference;
  const list = uncertain.list;
  let count = 0;
  for (let j = 0; j < out.length; j++) {
    if (skip !== undefined && skip[j] !== 0) continue;
    if (constant[j] !== 0) {
      out[j] = 0;
      continue;
    }
    const upper = Math.abs(gradient[j]) + Math.min(perDistance[j] * distance, perLargest[j] * largest + perTotal[j] * total);
    out[j] = upper;
    if (!(upper < (factor === null ? limit : limit * factor[j]))) list[count++] = j;
  }
  uncertain.count = count;
  return uncertain;
}

function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/**
 * Moves the solver's β and intercept from the last solution by `ratio` times its step from the one before (held in
 * `previous`, which then becomes the last); a coefficient that would change sign stops at 0. Ratio 0 only records.
 */
export function extrapolate(solver: WlsSolver, previous: { beta: Float64Array; intercept: number }, ratio: number): void {
  const { beta } = solver;
  // Features never made nonzero are 0 here and in `previous`: only the others are visited (in index order, so the
  // residual moves in the same order), unless groups move members the active list does not hold.
  const features = solver.groups ? null : solver.activeInOrder();
  const count = features ? features.length : beta.length;
  for (let k = 0; k < count; k++) {
    const j = features ? features[k] : k;
    const b = beta[j];
    const before = previous.beta[j];
    previous.beta[j] = b;
    if (b === 0 || ratio === 0) continue;
    // A warm start stays within the bounds: a Newton step backtracks toward it.
    solver.setCoefficient(j, solver.clamped(j, extrapolated(b, before, ratio)));
  }
  const b0 = solver.intercept;
  if (ratio !== 0) solver.setIntercept(b0 + ratio * (b0 - previous.intercept));
  previous.intercept = b0;
}

