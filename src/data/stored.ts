import { createHash } from 'node:crypto';
import type { Encoding, SparseColumns, StoredDataset } from '../domain.js';
import { sharedFloat64, sharedInt32, type Dataset } from './dataset.js';

/** A dataset as a shared store keeps it, for workers on other machines. */
export function toStoredDataset(data: Dataset): StoredDataset {
  return {
    hash: data.hash,
    n: data.n,
    p: data.p,
    outputs: data.outputs,
    featureNames: data.featureNames,
    targetNames: data.targetNames,
    classes: data.classes ?? null,
    X: data.sparse ? packSparse(data.sparse) : data.X,
    nnz: data.sparse ? data.sparse.values.length : null,
    y: data.y,
    offset: data.offset ?? null,
    weights: data.weights ?? null,
  };
}

/** A stored dataset back on SharedArrayBuffers, ready for the workers. */
export function fromStoredDataset(stored: StoredDataset, source: string, encoding: Encoding | null): Dataset {
  const sparse = stored.nnz === null ? undefined : unpackSparse(stored.X, stored.nnz, stored.p);
  const X = sharedFloat64(sparse ? 0 : stored.X.length);
  if (!sparse) X.set(stored.X);
  const y = sharedFloat64(stored.y.length);
  y.set(stored.y);
  let offset: Float64Array | undefined;
  if (stored.offset) {
    offset = sharedFloat64(stored.offset.length);
    offset.set(stored.offset);
  }
  let weights: Float64Array | undefined;
  if (stored.weights) {
    weights = sharedFloat64(stored.weights.length);
    weights.set(stored.weights);
  }
  return {
    n: stored.n,
    p: stored.p,
    X,
    ...(sparse ? { sparse } : {}),
    y,
    outputs: stored.outputs,
    featureNames: stored.featureNames,
    targetNames: stored.targetNames,
    classes: stored.classes ?? undefined,
    ...(offset ? { offset } : {}),
    ...(weights ? { weights } : {}),
    ...(encoding ? { encoding } : {}),
    source,
    hash: stored.hash,
    warnings: [],
  };
}

/** A sparse design as one array of doubles: values, row indices, column starts (integers below 2^31 are exact). */
function packSparse({ values, rows, starts }: SparseColumns): Float64Array {
  const packed = new Float64Array(2 * values.length + starts.length);
  packed.set(values);
  packed.set(rows, values.length);
  packed.set(starts, 2 * values.length);
  return packed;
}

function unpackSparse(packed: Float64Array, nnz: number, p: number): SparseColumns {
  const values = sharedFloat64(nnz);
  values.set(packed.subarray(0, nnz));
  const rows = sharedInt32(nnz);
  rows.set(packed.subarray(nnz, 2 * nnz));
  const starts = sharedInt32(p + 1);
  starts.set(packed.subarray(2 * nnz, 2 * nnz + p + 1));
  return { values, rows, starts };
}

/** Doubles a stored design takes: n × p dense, 2 nnz + p + 1 sparse. */
export function storedDesignLength(n: number, p: number, nnz: number | null): number {
  return nnz === null ? n * p : 2 * nnz + p + 1;
}

/** SHA-256 of values as little-endian float64 bytes, in order: what a stored or cached copy of the data is checked by. */
export function valuesChecksum(parts: Float64Array[]): string {
  const hash = createHash('sha256');
  for (const a of parts) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest('hex');
}
