// The column operations on a sparse design (compressed columns), centering and scaling implicit as in glmnet's sparse
// routines: x̃_ij = (x_ij − m_j)/s_j is never formed; sums over rows split into a sum over the column's nonzeros and
// a term in m_j times a sum over all rows.
import type { SparseColumns } from '../../domain.js';

/** Weighted mean and population variance of each column: Σ w x / W and Σ w x² / W − m² over its nonzeros. */
export function sparseMoments(sparse: SparseColumns, p: number, weights: Float64Array, weightSum: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(p);
  const variance = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const [s, ss] = sparseDots(sparse, j, weights);
    const m = s / weightSum;
    mean[j] = m;
    variance[j] = Math.max(0, ss / weightSum - m * m);
  }
  return { mean, variance };
}

/** Σ_i a_i x_ij over column j's nonzeros. */
export function sparseDot(sparse: SparseColumns, j: number, a: Float64Array): number {
  const { values, rows, starts } = sparse;
  let s = 0;
  for (let k = starts[j]; k < starts[j + 1]; k++) s += a[rows[k]] * values[k];
  return s;
}

/** Σ a_i x_ij and Σ a_i x_ij² over column j's nonzeros, in one pass. */
export function sparseDots(sparse: SparseColumns, j: number, a: Float64Array): [number, number] {
  const { values, rows, starts } = sparse;
  let s = 0;
  let ss = 0;
  for (let k = starts[j]; k < starts[j + 1]; k++) {
    const ax = a[rows[k]] * values[k];
    s += ax;
    ss += ax * values[k];
  }
  return [s, ss];
}

/** out_i −= c · a_i · x_ij over column j's nonzeros (a omitted: 1). */
export function sparseAxpy(sparse: SparseColumns, j: number, c: number, out: Float64Array, a?: Float64Array): void {
  const { values, rows, starts } = sparse;
  if (a) for (let k = starts[j]; k < starts[j + 1]; k++) out[rows[k]] -= c * a[rows[k]] * values[k];
  else for (let k = starts[j]; k < starts[j + 1]; k++) out[rows[k]] -= c * values[k];
}

/**
 * Linear predictors of a path's λ in [first, last) on the given rows (all when null), written into out[(l − first)·m + r]. Column
 * by column, so each coefficient's nonzeros are read once per λ (n · λ + nnz · λ work).
 */
export function sparsePathPredictions(sparse: SparseColumns, n: number, p: number, rows: Int32Array | null, coefs: Float64Array, intercepts: Float64Array, first: number, last: number, out: Float64Array): Float64Array {
  const m = rows ? rows.length : n;
  const count = last - first;
  const gathered = rows ? new Float64Array(n) : undefined;
  for (let l = 0; l < count; l++) {
    const eta = gathered ?? out.subarray(l * m, (l + 1) * m);
    eta.fill(intercepts[first + l]);
    const b = coefs.subarray((first + l) * p, (first + l + 1) * p);
    for (let j = 0; j < p; j++) if (b[j] !== 0) sparseAxpy(sparse, j, -b[j], eta);
    if (rows) for (let r = 0; r < m; r++) out[l * m + r] = eta[rows[r]];
  }
  return out;
}
