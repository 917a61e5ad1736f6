/** The loaded data, ready to share with workers: every array lives on a SharedArrayBuffer. */
export interface Dataset {
  n: number;
  p: number;
  /** n × p, column-major: feature j of row i is X[j * n + i]. */
  X: Float64Array;
  /** n × outputs, column-major. */
  y: Float64Array;
  outputs: number;
  featureNames: string[];
  targetNames: string[];
  /** For classification targets: the label shown for 0 and for 1. */
  classes?: [string, string];
  /** What the data came from, for messages ("data/x.csv" or "synthetic regression n=... p=..."). */
  source: string;
  /** Content hash, so a resumed sweep can tell that its data changed. */
  hash: string;
  warnings: string[];
  /** The true coefficients, for synthetic data (p × outputs, column-major). */
  trueCoefficients?: Float64Array;
}

export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}
