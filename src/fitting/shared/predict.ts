import type { WasmHeap } from '../kernels/heap.js';
import type { Design } from './design.js';
import { sparsePathPredictions } from './sparseColumns.js';

/** Rows staged row-major per kernel call (even): rows × p doubles, a few MB at most, whatever n is. */
const ROW_CHUNK = 128;

/**
 * Linear predictors of a whole λ path at once: out[(l − first)·m + r] = b0_l + x_{rows[r]}·b_l for l in
 * [first, last) and the given rows (every row when `rows` is null). A path's predictions are one matrix product
 * (rows × p times p × λ), so they run on the SIMD Gram kernel with sums over features instead of rows: the rows
 * are copied row-major a chunk at a time, the coefficient vectors once. Cheaper than one pass over the rows per λ
 * (each of which gathers scattered rows from column-major X) by the width of the kernel and its cache reuse.
 */
export function pathPredictions(
  heap: WasmHeap,
  { X, n, p, sparse }: Design,
  rows: Int32Array | null,
  coefs: Float64Array,
  intercepts: Float64Array,
  first: number,
  last: number,
  room?: Float64Array,
): Float64Array {
  const m = rows ? rows.length : n;
  const count = last - first;
  // Written into `room` when it is large enough: a path measured a group of λ at a time makes no garbage per group.
  const out = room && room.length >= count * m ? room.subarray(0, count * m) : new Float64Array(count * m);
  if (sparse) return sparsePathPredictions(sparse, n, p, rows, coefs, intercepts, first, last, out);
  if (m === 0 || count === 0) return out;
  // Leading dimension ≥ p, even (16-byte rows), a little past it so rows do not share cache sets.
  const ld = ((p + 1) & ~1) + 8;
  const lambdas4 = (count + 3) & ~3;
  const staged = stagedRows(heap, X, n, p, rows, ld);
  const coefBase = heap.alloc(lambdas4 * ld);
  const rowBase = staged === undefined ? heap.alloc(ROW_CHUNK * ld) : -1;
  const zeros = heap.alloc(ROW_CHUNK);
  const sums = heap.alloc(ROW_CHUNK * lambdas4);
  try {
    const F = heap.f64;
    const { gram } = heap.kernels;
    F.fill(0, coefBase, coefBase + lambdas4 * ld);
    for (let l = 0; l < count; l++) F.set(coefs.subarray((first + l) * p, (first + l + 1) * p), coefBase + l * ld);
    F.fill(0, zeros, zeros + ROW_CHUNK);
    const source = new Int32Array(ROW_CHUNK);
    for (let r0 = 0; r0 < m; r0 += ROW_CHUNK) {
      const chunk = Math.min(ROW_CHUNK, m - r0);
      // The kernel takes rows in pairs: an odd chunk repeats its last row (its sums are not read).
      const pairs = (chunk + 1) & ~1;
      let at = rowBase;
      if (staged === undefined) stageRows(F, rowBase, ld, X, n, p, rows, r0, chunk, source);
      else at = staged + r0 * ld;
      F.fill(0, sums, sums + pairs * lambdas4);
      gram(coefBase * 8, lambdas4, at * 8, pairs, zeros * 8, p, ld, sums * 8);
      for (let l = 0; l < count; l++) addIntercept(out, l * m + r0, intercepts[first + l], F, sums + l, lambdas4, chunk);
    }
  } finally {
    heap.release(coefBase);
    if (rowBase >= 0) heap.release(rowBase);
    heap.release(zeros);
    heap.release(sums);
  }
  return out;
}

/** Rows staged on a heap and kept, with what they are: a copy of X's rows, row-major at stride ld (X weakly held: the rows do not keep a finished sweep's data alive). */
interface Staged {
  X: WeakRef<Float64Array>;
  rows: Int32Array | null;
  ld: number;
  at: number;
}
/**
 * At most this many doubles of rows stay staged per heap (16 MB): a fold's paths for each l1 ratio predict the same
 * validation rows, and gathering them reads every column of X.
 */
const STAGED_DOUBLES = 1 << 21;
const stagedOn = new WeakMap<WasmHeap, Staged>();

/** Where the given rows of X (all rows when null) are staged whole on the heap, staging them if they are not; undefined when they would take too much memory. */
function stagedRows(heap: WasmHeap, X: Float64Array, n: number, p: number, rows: Int32Array | null, ld: number): number | undefined {
  const m = rows ? rows.length : n;
  // Padded to an even count: the last pair of an odd chunk repeats its last row.
  const padded = m + (m & 1);
  if (padded * ld > STAGED_DOUBLES) return undefined;
  const kept = stagedOn.get(heap);
  if (kept && kept.X.deref() === X && kept.ld === ld && sameRows(kept.rows, rows)) return kept.at;
  if (kept) heap.release(kept.at);
  const at = heap.alloc(padded * ld);
  const source = new Int32Array(ROW_CHUNK);
  for (let r0 = 0; r0 < m; r0 += ROW_CHUNK) stageRows(heap.f64, at + r0 * ld, ld, X, n, p, rows, r0, Math.min(ROW_CHUNK, m - r0), source);
  stagedOn.set(heap, { X: new WeakRef(X), rows: rows && Int32Array.from(rows), ld, at });
  return at;
}

function sameRows(kept: Int32Array | null, rows: Int32Array | null): boolean {
  if (kept === null || rows === null) return kept === rows;
  if (kept.length !== rows.length) return false;
  for (let r = 0; r < rows.length; r++) if (kept[r] !== rows[r]) return false;
  return true;
}

/** Rows r0 … r0 + chunk of the selection into F from `at`, row-major at stride ld, an odd chunk's last row twice. */
function stageRows(F: Float64Array, at: number, ld: number, X: Float64Array, n: number, p: number, rows: Int32Array | null, r0: number, chunk: number, source: Int32Array): void {
  const pairs = (chunk + 1) & ~1;
  for (let r = 0; r < pairs; r++) {
    const row = r0 + Math.min(r, chunk - 1);
    source[r] = rows ? rows[row] : row;
  }
  // Feature-major: reads nearby entries of one column, writes one entry into each of ≤ 128 staged rows.
  for (let j = 0; j < p; j++) stageFeature(F, at + j, ld, X, j * n, source, pairs);
}

// The loops over rows as small functions, compiled once by the JIT (docs/performance.md, "JIT").

/** F[at + r·ld] = X[col + source[r]] for r < count: one feature into each staged row. */
function stageFeature(F: Float64Array, at: number, ld: number, X: Float64Array, col: number, source: Int32Array, count: number): void {
  for (let r = 0; r < count; r++, at += ld) F[at] = X[col + source[r]];
}

/** out[o + r] = b0 + F[from + r·step] for r < count: one λ's sums for a chunk of rows, plus its intercept. */
function addIntercept(out: Float64Array, o: number, b0: number, F: Float64Array, from: number, step: number, count: number): void {
  for (let r = 0; r < count; r++) out[o + r] = b0 + F[from + r * step];
}
