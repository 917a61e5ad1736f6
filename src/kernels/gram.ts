import type { ColumnStats } from './columnStats.js';
import type { Design } from './types.js';

/** How many Gram columns are computed per sweep over X: one pass over the data serves them all. */
const BLOCK = 8;

/**
 * Gram columns C_jk = (1/W) Σ w_i x̃_ij x̃_ik, computed only for features that become nonzero (glmnet's
 * covariance mode), a block at a time: the feature asked for plus the likeliest next ones, so the matrix is
 * streamed once per block instead of once per column. Entries whose partner column is already known are
 * copied (the matrix is symmetric) instead of recomputed.
 */
export class LazyGram {
  /** slot × p, row s holds the column of the feature in that slot. */
  data: Float64Array;
  readonly slotOf: Int32Array;
  slots = 0;
  private readonly centered: Float64Array;
  private readonly sums = new Float64Array(BLOCK);

  constructor(
    readonly design: Design,
    readonly weights: Float64Array,
    readonly stats: ColumnStats,
  ) {
    const { n, p } = design;
    this.slotOf = new Int32Array(p).fill(-1);
    this.data = new Float64Array(Math.min(p, 64) * p);
    this.centered = new Float64Array(BLOCK * n);
  }

  /**
   * Offset of feature j's column in `data`. When it is missing, it is computed together with up to BLOCK − 1
   * features from `next` (in order, skipping known and constant ones).
   */
  column(j: number, next?: () => Iterable<number>): number {
    if (this.slotOf[j] >= 0) return this.slotOf[j] * this.design.p;
    const block = [j];
    if (next) {
      for (const k of next()) {
        if (block.length === BLOCK) break;
        if (k !== j && this.slotOf[k] < 0 && !this.stats.constant[k]) block.push(k);
      }
    }
    this.computeBlock(block);
    return this.slotOf[j] * this.design.p;
  }

  private computeBlock(block: number[]): void {
    const { X, n, p } = this.design;
    const { mean, scale, constant, weightSum } = this.stats;
    const w = this.weights;
    const m = block.length;
    if ((this.slots + m) * p > this.data.length) {
      const bigger = new Float64Array(Math.min(p, Math.max(this.slots + m, this.slots * 2)) * p);
      bigger.set(this.data.subarray(0, this.slots * p));
      this.data = bigger;
    }
    const c = this.centered;
    for (let t = 0; t < m; t++) {
      const off = block[t] * n;
      const mt = mean[block[t]];
      for (let i = 0; i < n; i++) c[t * n + i] = w[i] * (X[off + i] - mt);
    }
    const base = this.slots;
    const data = this.data;
    const sums = this.sums;
    for (let k = 0; k < p; k++) {
      if (constant[k]) {
        for (let t = 0; t < m; t++) data[(base + t) * p + k] = 0;
        continue;
      }
      const known = this.slotOf[k];
      if (known >= 0) {
        // Symmetry: C_jk was computed when k got its slot.
        for (let t = 0; t < m; t++) data[(base + t) * p + k] = data[known * p + block[t]];
        continue;
      }
      // Both factors centered: with 0/1 fold weights each product is then the same number whichever of the two
      // columns is computed first, so a copied entry equals a computed one to the bit and a path's result does
      // not depend on which other paths filled this cache before it (resumed sweeps reproduce exactly).
      const offK = k * n;
      const mk = mean[k];
      for (let t0 = 0; t0 < m; t0 += 4) {
        const c0 = t0 * n;
        const c1 = Math.min(t0 + 1, m - 1) * n;
        const c2 = Math.min(t0 + 2, m - 1) * n;
        const c3 = Math.min(t0 + 3, m - 1) * n;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let i = 0; i < n; i++) {
          const x = X[offK + i] - mk;
          s0 += c[c0 + i] * x;
          s1 += c[c1 + i] * x;
          s2 += c[c2 + i] * x;
          s3 += c[c3 + i] * x;
        }
        sums[t0] = s0;
        if (t0 + 1 < m) sums[t0 + 1] = s1;
        if (t0 + 2 < m) sums[t0 + 2] = s2;
        if (t0 + 3 < m) sums[t0 + 3] = s3;
      }
      for (let t = 0; t < m; t++) data[(base + t) * p + k] = sums[t] / (weightSum * (scale[block[t]] * scale[k]));
    }
    for (let t = 0; t < m; t++) this.slotOf[block[t]] = base + t;
    this.slots += m;
  }
}
