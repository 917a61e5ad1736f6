// The column operations on a sparse design (compressed columns), centering and scaling implicit as in glmnet's sparse
// routines: x̃_ij = (x_ij − m_j)/s_j is never formed; sums over rows split into a sum over the column's nonzeros and
// a term in m_j times a sum over all rows.
import type { SparseColumns } from '../../domain.js';
import { sharedFloat64, sharedInt32 } from '../../data/dataset.js';
import type { SparseDesign } from './design.js';

/**
 * The stretches of column j's entries a path reads, [bounds[0], bounds[1]) and [bounds[2], bounds[3]): before and after
 * its held-out block, the second empty without one. Written into one array to keep the hot loops free of allocation.
 */
const bounds = new Int32Array(4);
function stretchesOf(sparse: SparseDesign, j: number): Int32Array {
  const groups = sparse.foldGroups;
  bounds[0] = sparse.starts[j];
  bounds[3] = sparse.starts[j + 1];
  if (groups && sparse.heldOutGroup !== undefined) {
    const at = j * (groups.count + 1) + sparse.heldOutGroup;
    bounds[1] = groups.starts[at];
    bounds[2] = groups.starts[at + 1];
  } else bounds[1] = bounds[2] = bounds[3];
  return bounds;
}

/** Weighted mean and population variance of each column: Σ w x / W and Σ w x² / W − m² over its nonzeros. */
export function sparseMoments(sparse: SparseDesign, p: number, weights: Float64Array, weightSum: number): { mean: Float64Array; variance: Float64Array } {
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

/** Σ_i a_i x_ij over column j's nonzeros (a must be 0 on the held-out rows). */
export function sparseDot(sparse: SparseDesign, j: number, a: Float64Array): number {
  const { values, rows } = sparse;
  const stretches = stretchesOf(sparse, j);
  const before = stretchDot(values, rows, a, stretches[0], stretches[1]);
  return stretches[2] === stretches[3] ? before : before + stretchDot(values, rows, a, stretches[2], stretches[3]);
}

/** Σ a[rows[k]] · values[k] over k in [from, to): four sums, so that the additions do not wait on one another. */
function stretchDot(values: Float64Array, rows: Int32Array, a: Float64Array, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = from;
  for (; k + 3 < to; k += 4) {
    s0 += a[rows[k]] * values[k];
    s1 += a[rows[k + 1]] * values[k + 1];
    s2 += a[rows[k + 2]] * values[k + 2];
    s3 += a[rows[k + 3]] * values[k + 3];
  }
  for (; k < to; k++) s0 += a[rows[k]] * values[k];
  return s0 + s1 + (s2 + s3);
}

/** Σ a_i x_ij and Σ a_i x_ij² over column j's nonzeros, in one pass (a must be 0 on the held-out rows). */
export function sparseDots(sparse: SparseDesign, j: number, a: Float64Array): [number, number] {
  const { values, rows } = sparse;
  const stretches = stretchesOf(sparse, j);
  let s = 0;
  let ss = 0;
  for (let part = 0; part < 4; part += 2)
    for (let k = stretches[part], end = stretches[part + 1]; k < end; k++) {
      const ax = a[rows[k]] * values[k];
      s += ax;
      ss += ax * values[k];
    }
  return [s, ss];
}

/** out_i −= c · a_i · x_ij over column j's nonzeros (a omitted: 1); the held-out rows' out is left as it is. */
export function sparseAxpy(sparse: SparseDesign, j: number, c: number, out: Float64Array, a?: Float64Array): void {
  const { values, rows } = sparse;
  const stretches = stretchesOf(sparse, j);
  for (let part = 0; part < 4; part += 2) {
    const end = stretches[part + 1];
    if (a) for (let k = stretches[part]; k < end; k++) out[rows[k]] -= c * a[rows[k]] * values[k];
    else for (let k = stretches[part]; k < end; k++) out[rows[k]] -= c * values[k];
  }
}

/** Σ x_ij, Σ x_ij² and Σ |x_ij| over column j's nonzeros, into out[0 … 2]. */
export function sparseSums(sparse: SparseDesign, j: number, out: Float64Array): Float64Array {
  const { values } = sparse;
  const stretches = stretchesOf(sparse, j);
  let s = 0;
  let ss = 0;
  let a = 0;
  for (let part = 0; part < 4; part += 2)
    for (let k = stretches[part], end = stretches[part + 1]; k < end; k++) {
      const x = values[k];
      s += x;
      ss += x * x;
      a += Math.abs(x);
    }
  out[0] = s;
  out[1] = ss;
  out[2] = a;
  return out;
}

/** The columns with every row, whichever a path reads: predictions are of the held-out rows too. */
export function everyRow({ values, rows, starts }: SparseColumns): SparseColumns {
  return { values, rows, starts };
}

/**
 * Linear predictors of a path's λ in [first, last) on the given rows (all when null), written into out[(l − first)·m + r]. Column
 * by column, so each coefficient's nonzeros are read once per λ (n · λ + nnz · λ work).
 */
export function sparsePathPredictions(design: SparseDesign, n: number, p: number, rows: Int32Array | null, coefs: Float64Array, intercepts: Float64Array, first: number, last: number, out: Float64Array): Float64Array {
  const sparse = everyRow(design);
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

/**
 * Orders each column's entries by the fold of their row — the rows never held out first, then fold 0's, 1's, … —
 * rows ascending within each, in place, and records the groups on `sparse` (a design already grouped by the same
 * folds is left as it is). A fold's path then reads each column without the held-out block (SparseDesign.heldOutGroup).
 * With repeated folds (a row held out in several) or none, the columns are left with their rows ascending.
 */
export function groupByFold(sparse: SparseColumns, foldOf: Int32Array, foldsPerRepeat: number, n: number): void {
  const previous = sparse.foldGroups;
  const groupable = foldsPerRepeat >= 1 && foldOf.length === n;
  const count = groupable ? foldsPerRepeat + 1 : 1;
  if (!groupable && !previous) return;
  if (previous && previous.count === count && previous.groupOf.every((g, i) => g === foldOf[i] + 1)) return;
  // Not groupable after an earlier grouping: one group of every row puts each column's rows back in ascending order.
  const groupOf = sharedInt32(n);
  if (groupable) for (let i = 0; i < n; i++) groupOf[i] = foldOf[i] + 1;
  const { values, rows, starts } = sparse;
  const p = starts.length - 1;
  let longest = 0;
  for (let j = 0; j < p; j++) longest = Math.max(longest, starts[j + 1] - starts[j]);
  const rowsBefore = new Int32Array(longest);
  const valuesBefore = new Float64Array(longest);
  const next = new Int32Array(count);
  const groupStarts = sharedInt32(p * (count + 1));
  for (let j = 0; j < p; j++) {
    const first = starts[j];
    const length = starts[j + 1] - first;
    const order = previous ? ascendingOrder(rows, first, length) : null;
    for (let k = 0; k < length; k++) {
      const from = first + (order ? order[k] : k);
      rowsBefore[k] = rows[from];
      valuesBefore[k] = values[from];
    }
    next.fill(0);
    for (let k = 0; k < length; k++) next[groupOf[rowsBefore[k]]]++;
    for (let g = 0, at = first; g < count; g++) {
      groupStarts[j * (count + 1) + g] = at;
      at += next[g];
      next[g] = at - next[g];
    }
    groupStarts[j * (count + 1) + count] = first + length;
    for (let k = 0; k < length; k++) {
      const to = next[groupOf[rowsBefore[k]]]++;
      rows[to] = rowsBefore[k];
      values[to] = valuesBefore[k];
    }
  }
  if (groupable) sparse.foldGroups = { count, groupOf, starts: groupStarts };
  else delete sparse.foldGroups;
}

/** The positions of column entries [first, first + length) in ascending order of their rows (a grouped column's). */
function ascendingOrder(rows: Int32Array, first: number, length: number): Int32Array {
  return Int32Array.from({ length }, (_, k) => k).sort((a, b) => rows[first + a] - rows[first + b]);
}
