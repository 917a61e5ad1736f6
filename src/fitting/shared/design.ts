/** Column-major design matrix shared by all tasks: feature j of row i is X[j·n + i]; the rows a fit uses are given by weights. */
export interface Design {
  X: Float64Array;
  n: number;
  p: number;
}
