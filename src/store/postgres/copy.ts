// A dataset's bytes in and out of PostgreSQL with COPY in binary format: the bytes as they are, where a bytea query
// would send them as hexadecimal text (twice the size, and slow to decode at hundreds of megabytes).
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

/** Writes rows (hash, seq, data) of dataset_chunks. */
export async function copyChunksIn(client: pg.PoolClient, hash: string, chunks: Buffer[]): Promise<void> {
  const stream = client.query(copyFrom('COPY regsweep.dataset_chunks (hash, seq, data) FROM STDIN (FORMAT binary)'));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  const write = (b: Buffer) => (stream.write(b) ? Promise.resolve() : new Promise<void>((r) => stream.once('drain', () => r())));
  await write(Buffer.concat([SIGNATURE, int32(0), int32(0)]));
  const hashBytes = Buffer.from(hash, 'utf8');
  for (const [seq, data] of chunks.entries()) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(3, 0);
    await write(Buffer.concat([count, int32(hashBytes.length), hashBytes, int32(4), int32(seq), int32(data.length)]));
    await write(data);
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  stream.end(trailer);
  await done;
}

/** The chunks of a dataset, in order, concatenated: each field's bytes go straight to their place as they arrive. */
export async function copyChunksOut(client: pg.PoolClient, hash: string, totalBytes: number): Promise<Buffer> {
  const stream = client.query(copyTo(`COPY (SELECT data FROM regsweep.dataset_chunks WHERE hash = ${literal(hash)} ORDER BY seq) TO STDOUT (FORMAT binary)`));
  const out = Buffer.allocUnsafe(totalBytes);
  let filled = 0;
  // Small pieces (the header, a tuple's field count and length) are gathered here; a field's bytes are not.
  let small = Buffer.alloc(0);
  let need = 19; // the signature, the flags and the header extension's length
  let state: 'header' | 'extension' | 'tuple' | 'field' | 'data' | 'end' = 'header';
  let dataLeft = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let at = 0;
    while (at < chunk.length && state !== 'end') {
      if (state === 'data') {
        const take = Math.min(dataLeft, chunk.length - at);
        if (filled + take > totalBytes) throw new Error(`dataset ${hash}: more bytes than expected`);
        chunk.copy(out, filled, at, at + take);
        filled += take;
        dataLeft -= take;
        at += take;
        if (dataLeft === 0) {
          state = 'tuple';
          need = 2;
        }
        continue;
      }
      const take = Math.min(need - small.length, chunk.length - at);
      small = Buffer.concat([small, chunk.subarray(at, at + take)]);
      at += take;
      if (small.length < need) continue;
      if (state === 'header') {
        state = 'extension';
        need = small.readInt32BE(15);
        small = Buffer.alloc(0);
        if (need === 0) {
          state = 'tuple';
          need = 2;
        }
      } else if (state === 'extension') {
        state = 'tuple';
        need = 2;
        small = Buffer.alloc(0);
      } else if (state === 'tuple') {
        state = small.readInt16BE(0) === -1 ? 'end' : 'field';
        need = 4;
        small = Buffer.alloc(0);
      } else if (state === 'field') {
        dataLeft = small.readInt32BE(0);
        small = Buffer.alloc(0);
        state = dataLeft > 0 ? 'data' : 'tuple';
        need = 2;
      }
    }
  }
  if (filled !== totalBytes) throw new Error(`dataset ${hash}: read ${filled} bytes, expected ${totalBytes}`);
  return out;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
