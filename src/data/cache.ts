// Data fetched from a shared store kept on disk by content hash, so a worker fetches a sweep's data once per machine.
// The file carries a checksum of its values, verified on every read: a cache changed on disk is fetched again, never
// fitted on.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StoredDataset } from '../domain.js';
import { removeAbandonedTemporaries, writeFileAtomic } from '../util/files.js';
import { storedDesignLength, valuesChecksum } from './stored.js';

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'regsweep', 'datasets');
}

const cachedFile = (hash: string) => join(cacheDir(), `${hash}.bin`);

/** The cached dataset of a hash; or nothing cached; or why the file there cannot be used (it is then fetched again). */
export type CacheRead = { dataset: StoredDataset } | { absent: true } | { unusable: string };

export function readCachedDataset(hash: string): CacheRead {
  const file = cachedFile(hash);
  if (!existsSync(file)) return { absent: true };
  try {
    const bytes = readFileSync(file);
    const headerLength = bytes.readUInt32LE(0);
    const head = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as Omit<StoredDataset, 'X' | 'y' | 'offset' | 'weights' | 'nnz'> & { nnz?: number | null; hasOffset?: boolean; hasWeights?: boolean; sha256?: string };
    const start = 4 + headerLength;
    const values = new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
    const offsetLength = head.hasOffset ? head.n : 0;
    const weightsLength = head.hasWeights ? head.n : 0;
    const nnz = head.nnz ?? null;
    const xLength = storedDesignLength(head.n, head.p, nnz);
    if (head.hash !== hash || values.length !== xLength + head.n * head.outputs + offsetLength + weightsLength) return { unusable: `${file}: not the cached data of ${hash.slice(0, 12)}… (another size or hash)` };
    if (!head.sha256) return { unusable: `${file}: has no checksum (cached by an older regsweep)` };
    if (valuesChecksum([values]) !== head.sha256) return { unusable: `${file}: its values do not match their checksum (the file changed on disk)` };
    const yEnd = xLength + head.n * head.outputs;
    const { hasOffset: _hasOffset, hasWeights: _hasWeights, sha256: _sha256, ...rest } = head;
    return {
      dataset: {
        ...rest,
        nnz,
        X: values.subarray(0, xLength),
        y: values.subarray(xLength, yEnd),
        offset: offsetLength ? values.subarray(yEnd, yEnd + offsetLength) : null,
        weights: weightsLength ? values.subarray(yEnd + offsetLength) : null,
      },
    };
  } catch (e) {
    return { unusable: `${file}: cannot be read as cached data (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** Keeps a dataset in the cache; a cache that cannot be written is only a slower next start. */
export function writeCachedDataset(d: StoredDataset): void {
  try {
    mkdirSync(cacheDir(), { recursive: true });
    const { X, y, offset, weights, ...rest } = d;
    const parts = [X, y, ...(offset ? [offset] : []), ...(weights ? [weights] : [])];
    const header = Buffer.from(JSON.stringify({ ...rest, hasOffset: offset !== null, ...(weights ? { hasWeights: true } : {}), sha256: valuesChecksum(parts) }), 'utf8');
    const length = Buffer.alloc(4);
    // The header is padded so that the values start 8-byte aligned.
    const pad = Buffer.alloc((8 - ((4 + header.length) % 8)) % 8, 32);
    const padded = Buffer.concat([header, pad]);
    length.writeUInt32LE(padded.length, 0);
    writeFileAtomic(cachedFile(d.hash), [length, padded, ...parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
  } catch {
    // Not cached.
  }
}

/** Removes the temporary files of writes that did not finish (a worker killed while caching): their writer is gone. */
export function removeUnfinishedCacheFiles(): void {
  removeAbandonedTemporaries(cacheDir());
}
