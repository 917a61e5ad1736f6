// The column operations on a sparse design (compressed columns), centering and scaling implicit as in glmnet's sparse
// routines: x̃_ij = (x_ij − m_j)/s_j is never formed; sums over rows split into a sum over the column's nonzeros and
// a term in m_j times a sum over all rows.
import type { SparseColumns } from '../../domain.js';
import { sharedFloat64, sharedInt32 } from '../../data/dataset.js';

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

/**
 * Up to this share of nonzeros a dense design is fitted on compressed columns by the families that take naive updates
 * on every pass (logistic, multinomial, poisson): a coordinate update then reads the column's nonzeros, not its n rows.
 */
const DENSE_AS_SPARSE_DENSITY = 0.05;

/** What of a sweep's model decides whether its design may be fitted on compressed columns (the sweep file's names). */
export interface SparseEligible {
  kind: string;
  solver?: string;
  grouped?: boolean;
  group_categorical?: boolean;
}

/**
 * A dense design's compressed columns (on SharedArrayBuffers) when its model is fitted faster on them: a logistic,
 * multinomial (not grouped) or poisson model by coordinate descent, no gaps to fill, at most DENSE_AS_SPARSE_DENSITY
 * nonzero. Undefined otherwise: linear models keep the dense Gram, networks and Cox the dense design.
 */
export function denseAsSparse(model: SparseEligible, X: Float64Array, n: number, p: number, fills: boolean): SparseColumns | undefined {
  if (fills || X.length === 0 || X.length !== n * p) return undefined;
  if (model.kind !== 'logistic' && model.kind !== 'multinomial' && model.kind !== 'poisson') return undefined;
  if (model.solver === 'fista' || model.grouped || model.group_categorical) return undefined;
  let nonzeros = 0;
  for (let k = 0; k < X.length; k++) if (X[k] !== 0) nonzeros++;
  if (nonzeros > DENSE_AS_SPARSE_DENSITY * X.length) return undefined;
  const starts = sharedInt32(p + 1);
  const rows = sharedInt32(nonzeros);
  const values = sharedFloat64(nonzeros);
  let at = 0;
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) {
      const x = X[j * n + i];
      if (x === 0) continue;
      rows[at] = i;
      values[at++] = x;
    }
    starts[j + 1] = at;
  }
  return { values, rows, starts };
}
