import type { Encoding, SparseColumns } from '../domain.js';
import { adviseHugePages } from '../util/nativeModule.js';

/** The loaded data, ready to share with workers: every array lives on a SharedArrayBuffer. */
export interface Dataset {
  n: number;
  p: number;
  /** n × p, column-major: feature j of row i is X[j * n + i]; empty when the design is `sparse`. */
  X: Float64Array;
  /** A sparse file's design in compressed columns (svmlight, Matrix Market). */
  sparse?: SparseColumns;
  /** n × outputs, column-major. */
  y: Float64Array;
  outputs: number;
  featureNames: string[];
  targetNames: string[];
  /** For classification targets: the label of each coded class (0, 1, …). */
  classes?: string[];
  /** Per row, added to the linear predictor (data.offset), on a SharedArrayBuffer. */
  offset?: Float64Array;
  /** Per row, its observation weight (data.weights; non-negative), on a SharedArrayBuffer. */
  weights?: Float64Array;
  /** Per row, the fold label of validation kind column. */
  foldLabels?: string[];
  /** How the file's columns became the features (categories, gaps to fill); absent when they are the columns as they are. */
  encoding?: Encoding;
  /** What the data came from, for messages ("data/x.csv" or "synthetic regression n=... p=..."). */
  source: string;
  /** Content hash, so a resumed sweep can tell that its data changed. */
  hash: string;
  warnings: string[];
  /** The true coefficients, for synthetic data (p × outputs, column-major). */
  trueCoefficients?: Float64Array;
}

/** Zeros in memory the worker threads share; a large one on huge pages where they can be had (adviseHugePages). */
export function sharedFloat64(length: number): Float64Array {
  const array = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
  adviseHugePages(array);
  return array;
}

export function sharedInt32(length: number): Int32Array {
  const array = new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
  adviseHugePages(array);
  return array;
}

/**
 * One line for every constant feature column ("3 constant columns: a, b, c (kept with coefficient 0)"), or
 * undefined when there is none: a data set with many gets one line, not one per column.
 */
export function constantColumnsNote(X: Float64Array, n: number, featureNames: string[]): string | undefined {
  const constant: string[] = [];
  for (let j = 0; j < featureNames.length; j++) {
    const first = X[j * n];
    let same = true;
    for (let i = 1; i < n && same; i++) same = X[j * n + i] === first;
    if (same) constant.push(featureNames[j]);
  }
  if (constant.length === 0) return undefined;
  const shown = constant.slice(0, 8).map((c) => `"${c}"`).join(', ') + (constant.length > 8 ? ', …' : '');
  return `${constant.length} constant column${constant.length > 1 ? 's' : ''}: ${shown} (kept with coefficient 0)`;
}

/**
 * Columns of a loading file, column-major on a SharedArrayBuffer with room for `capacity` rows (an estimate, so that
 * the matrix is allocated once): grown by a copy when the estimate was short, and trimmed to the rows read by moving
 * the columns together in place, not by a second copy of the matrix.
 */
export class ColumnMajor {
  values: Float64Array;

  constructor(
    readonly columns: number,
    public capacity: number,
  ) {
    this.capacity = Math.max(1, capacity);
    this.values = sharedFloat64(this.capacity * columns);
  }

  /** Room for `rows` rows, keeping the first `filled`: at least a quarter more at a time. */
  ensure(rows: number, filled: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, Math.ceil(this.capacity * 1.25));
    const grown = sharedFloat64(capacity * this.columns);
    for (let c = 0; c < this.columns; c++) grown.set(this.values.subarray(c * this.capacity, c * this.capacity + filled), c * capacity);
    this.values = grown;
    this.capacity = capacity;
  }

  /** The n × columns matrix: in place, unless the estimate was so long that a copy of the right size gives back more. */
  finish(n: number): Float64Array {
    const { values, capacity, columns } = this;
    if (capacity > 1.25 * n + 1024) {
      const exact = sharedFloat64(n * columns);
      for (let c = 0; c < columns; c++) exact.set(values.subarray(c * capacity, c * capacity + n), c * n);
      return exact;
    }
    for (let c = 1; c < columns; c++) values.copyWithin(c * n, c * capacity, c * capacity + n);
    return new Float64Array(values.buffer, 0, n * columns);
  }
}
