// Data fetched from a shared store kept on disk by content hash, so a worker fetches a sweep's data once per machine.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StoredDataset } from '../store/contract.js';
import { writeFileAtomic } from '../util/files.js';

export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'regsweep', 'datasets');
}

/** The cached dataset of a hash, or undefined (absent, or not readable as one). */
export function readCachedDataset(hash: string): StoredDataset | undefined {
  const file = join(cacheDir(), `${hash}.bin`);
  if (!existsSync(file)) return undefined;
  try {
    const bytes = readFileSync(file);
    const headerLength = bytes.readUInt32LE(0);
    const head = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as Omit<StoredDataset, 'X' | 'y' | 'offset'> & { hasOffset?: boolean };
    const start = 4 + headerLength;
    const values = new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
    const offsetLength = head.hasOffset ? head.n : 0;
    if (head.hash !== hash || values.length !== head.n * (head.p + head.outputs) + offsetLength) return undefined;
    const yEnd = head.n * (head.p + head.outputs);
    const { hasOffset: _hasOffset, ...rest } = head;
    return { ...rest, X: values.subarray(0, head.n * head.p), y: values.subarray(head.n * head.p, yEnd), offset: offsetLength ? values.subarray(yEnd) : null };
  } catch {
    return undefined;
  }
}

/** Keeps a dataset in the cache; a cache that cannot be written is only a slower next start. */
export function writeCachedDataset(d: StoredDataset): void {
  try {
    mkdirSync(cacheDir(), { recursive: true });
    const { X, y, offset, ...rest } = d;
    const header = Buffer.from(JSON.stringify({ ...rest, hasOffset: offset !== null }), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length, 0);
    // The header is padded so that the values start 8-byte aligned.
    const pad = Buffer.alloc((8 - ((4 + header.length) % 8)) % 8, 32);
    const padded = Buffer.concat([header, pad]);
    length.writeUInt32LE(padded.length, 0);
    writeFileAtomic(join(cacheDir(), `${d.hash}.bin`), [length, padded, Buffer.from(X.buffer, X.byteOffset, X.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength), ...(offset ? [Buffer.from(offset.buffer, offset.byteOffset, offset.byteLength)] : [])]);
  } catch {
    // Not cached.
  }
}
