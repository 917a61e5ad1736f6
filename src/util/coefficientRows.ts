// A path's coefficient vectors in the form the stores keep them, and tasks return them in: per λ, little-endian float64
// values; or, when at least three quarters of a vector of 64 or more are zero (lasso fits on wide data), the sparse form
// — "RSSPARSE", uint32 length, uint32 count, count uint32 indices (padded to 8 bytes), count float64 values. A task's
// rows are packed in one buffer, so a wide sparse path reaches the main thread (and the store) at the size of its
// nonzeros instead of as a dense λ × feature matrix.

import type { CoefficientRows } from '../domain.js';

/** The first 8 bytes of a sparse row (ASCII "RSSPARSE"), which a dense row of the same length cannot also satisfy below. */
const SPARSE_MAGIC = Uint8Array.from('RSSPARSE', (c) => c.charCodeAt(0));
/** Vectors shorter than this are kept dense whatever their zeros: the sparse form saves nothing worth a second format. */
const SPARSE_MIN_LENGTH = 64;

/** The nonzeros of values[offset … offset + length) (−0 counts as zero), and whether the row is kept sparse. */
function rowShape(values: Float64Array, offset: number, length: number): { count: number; sparse: boolean; size: number } {
  let count = 0;
  for (let j = offset; j < offset + length; j++) if (values[j] !== 0) count++;
  const sparse = length >= SPARSE_MIN_LENGTH && count * 4 <= length;
  const indexBytes = 4 * count + ((4 * count) & 4);
  return { count, sparse, size: sparse ? 16 + indexBytes + 8 * count : 8 * length };
}

/** Writes one row at `at` of `out` (its shape measured before). */
function writeRow(out: Uint8Array, at: number, values: Float64Array, offset: number, length: number, shape: { count: number; sparse: boolean }): void {
  if (!shape.sparse) {
    out.set(new Uint8Array(values.buffer, values.byteOffset + offset * 8, length * 8), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at);
  out.set(SPARSE_MAGIC, at);
  view.setUint32(8, length, true);
  view.setUint32(12, shape.count, true);
  const indexBytes = 4 * shape.count + ((4 * shape.count) & 4);
  for (let j = 0, k = 0; j < length; j++) {
    const v = values[offset + j];
    if (v === 0) continue;
    view.setUint32(16 + 4 * k, j, true);
    view.setFloat64(16 + indexBytes + 8 * k, v, true);
    k++;
  }
}

/** `rows` vectors of equal width laid end to end in `values` (a path's λ × coefficients), packed. */
export function packRows(values: Float64Array, rows: number): CoefficientRows {
  const width = rows > 0 ? values.length / rows : 0;
  if (width === 0) return { bytes: new Uint8Array(0), offsets: new Int32Array(1) };
  const shapes = Array.from({ length: rows }, (_, l) => rowShape(values, l * width, width));
  const offsets = new Int32Array(rows + 1);
  shapes.forEach((s, l) => (offsets[l + 1] = offsets[l] + s.size));
  const bytes = new Uint8Array(offsets[rows]);
  shapes.forEach((s, l) => writeRow(bytes, offsets[l], values, l * width, width, s));
  return { bytes, offsets };
}

/** How many rows are packed (0 for a task that keeps no coefficients: a network with hidden layers). */
export function rowCount(rows: CoefficientRows): number {
  return rows.offsets.length - 1;
}

/** Row l's bytes (a view, not a copy). */
export function rowBytes(rows: CoefficientRows, l: number): Uint8Array {
  return rows.bytes.subarray(rows.offsets[l], rows.offsets[l + 1]);
}

/** One row (either form) as a dense Float64Array. */
export function unpackRow(bytes: Uint8Array): Float64Array {
  if (bytes.length >= 16 && SPARSE_MAGIC.every((b, i) => bytes[i] === b)) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(8, true);
    const count = view.getUint32(12, true);
    const indexBytes = 4 * count + ((4 * count) & 4);
    if (bytes.length === 16 + indexBytes + 8 * count && count <= length) {
      const out = new Float64Array(length);
      for (let k = 0; k < count; k++) out[view.getUint32(16 + 4 * k, true)] = view.getFloat64(16 + indexBytes + 8 * k, true);
      return out;
    }
  }
  // Copied out of the driver's buffer (for alignment).
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}
