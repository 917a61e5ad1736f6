import type { SparseColumns } from '../../domain.js';

/**
 * The design matrix shared by all tasks; the rows a fit uses are given by weights. Dense: column-major, feature j of
 * row i is X[j·n + i]. Sparse (`sparse` given, X empty): compressed columns, read without ever densifying a column.
 */
export interface Design {
  X: Float64Array;
  n: number;
  p: number;
  sparse?: SparseDesign;
}

/**
 * A sparse design as a path reads it: with `heldOutGroup`, a design grouped by fold is read without that group's block
 * of each column — the rows a fold's path gives no weight, whose terms are zeros.
 */
export interface SparseDesign extends SparseColumns {
  heldOutGroup?: number;
}

/** Feature j over every row as a dense column (for the few columns a Newton step or an unpenalized fit takes). */
export function denseColumn(design: Design, j: number): Float64Array {
  const { X, n, sparse } = design;
  if (!sparse) return X.subarray(j * n, (j + 1) * n);
  const column = new Float64Array(n);
  for (let k = sparse.starts[j]; k < sparse.starts[j + 1]; k++) column[sparse.rows[k]] = sparse.values[k];
  return column;
}
