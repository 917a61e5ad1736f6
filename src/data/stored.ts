import { createHash } from 'node:crypto';
import type { Encoding, StoredDataset } from '../domain.js';
import { sharedFloat64, type Dataset } from './dataset.js';

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
    X: data.X,
    y: data.y,
    offset: data.offset ?? null,
    weights: data.weights ?? null,
  };
}

/** A stored dataset back on SharedArrayBuffers, ready for the workers. */
export function fromStoredDataset(stored: StoredDataset, source: string, encoding: Encoding | null): Dataset {
  const X = sharedFloat64(stored.X.length);
  X.set(stored.X);
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

/** SHA-256 of values as little-endian float64 bytes, in order: what a stored or cached copy of the data is checked by. */
export function valuesChecksum(parts: Float64Array[]): string {
  const hash = createHash('sha256');
  for (const a of parts) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest('hex');
}
