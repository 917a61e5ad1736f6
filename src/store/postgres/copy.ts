// A dataset's bytes, and rows of the tables a sweep fills, in and out of PostgreSQL with COPY in binary format: the
// bytes as they are, where a query's text format would send a bytea as hexadecimal and every double as decimal digits
// (formatted by the server, parsed again here).
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

/** The rows of `COPY (query) TO STDOUT (FORMAT binary)` on the caller's connection, for BinaryRowReader. */
export async function copyRowsOut(client: pg.PoolClient, query: string): Promise<Buffer> {
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT binary)`));
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Reads COPY's binary rows of `columns` fields: next() starts a row, then one call a column in the query's order (null for NULL). */
export class BinaryRowReader {
  private at: number;

  constructor(
    private readonly b: Buffer,
    private readonly columns: number,
  ) {
    if (b.length < 21 || !b.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not the binary format of COPY');
    this.at = 19 + b.readInt32BE(15);
  }

  /** Starts the next row; false at the trailer. */
  next(): boolean {
    const fields = this.b.readInt16BE(this.at);
    this.at += 2;
    if (fields !== -1 && fields !== this.columns) throw new Error(`a COPY row of ${fields} fields where ${this.columns} were read`);
    return fields !== -1;
  }

  /** The next field's length, past it when it is NULL (−1). */
  private field(): number {
    const length = this.b.readInt32BE(this.at);
    this.at += 4;
    return length;
  }

  /** A bigint below 2^53 as a number. */
  int8(): number | null {
    if (this.field() < 0) return null;
    const v = this.b.readInt32BE(this.at) * 4294967296 + this.b.readUInt32BE(this.at + 4);
    this.at += 8;
    return v;
  }

  int4(): number | null {
    if (this.field() < 0) return null;
    const v = this.b.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  float8(): number | null {
    if (this.field() < 0) return null;
    const v = this.b.readDoubleBE(this.at);
    this.at += 8;
    return v;
  }

  bool(): boolean | null {
    if (this.field() < 0) return null;
    return this.b[this.at++] === 1;
  }

  text(): string | null {
    const length = this.field();
    if (length < 0) return null;
    const v = this.b.toString('utf8', this.at, this.at + length);
    this.at += length;
    return v;
  }

  /** A bytea's bytes: a view into the rows (copy what is kept). */
  bytea(): Buffer | null {
    const length = this.field();
    if (length < 0) return null;
    const v = this.b.subarray(this.at, this.at + length);
    this.at += length;
    return v;
  }

  /** A one-dimensional float8[] (an empty array has no dimension); a NULL element is NaN. */
  float8Array(): number[] | null {
    const length = this.field();
    if (length < 0) return null;
    const end = this.at + length;
    const dimensions = this.b.readInt32BE(this.at);
    if (dimensions > 1) throw new Error(`a float8 array of ${dimensions} dimensions`);
    const count = dimensions === 0 ? 0 : this.b.readInt32BE(this.at + 12);
    const values = new Array<number>(count);
    let at = this.at + 12 + 8 * dimensions;
    for (let k = 0; k < count; k++) {
      const size = this.b.readInt32BE(at);
      values[k] = size < 0 ? NaN : this.b.readDoubleBE(at + 4);
      at += 4 + Math.max(0, size);
    }
    this.at = end;
    return values;
  }

  /** jsonb's text, after its version byte. */
  jsonb(): string | null {
    const length = this.field();
    if (length < 0) return null;
    const v = this.b.toString('utf8', this.at + 1, this.at + length);
    this.at += length;
    return v;
  }
}

/** Text as an SQL literal, for the statements COPY runs (they take no parameters); E'' whatever standard_conforming_strings says. */
export function literal(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Rows in COPY's binary format, built field by field (network byte order) into one growing buffer: the server takes
 * the values as they are, with no text to parse, and nothing is formatted here. A null is NULL (the table's
 * constraints judge it).
 */
export class BinaryRows {
  private buffer = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  constructor() {
    this.bytes(SIGNATURE);
    this.int32(0);
    this.int32(0);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  private int32(v: number): void {
    this.room(4);
    this.at = this.buffer.writeInt32BE(v, this.at);
  }

  private bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buffer.set(b, this.at);
    this.at += b.length;
  }

  /** Starts a row of `fields` values. */
  row(fields: number): this {
    this.room(2);
    this.at = this.buffer.writeInt16BE(fields, this.at);
    return this;
  }

  null(): this {
    this.int32(-1);
    return this;
  }

  int8(v: number | null): this {
    if (v === null) return this.null();
    this.int32(8);
    this.room(8);
    this.at = this.buffer.writeBigInt64BE(BigInt(v), this.at);
    return this;
  }

  int4(v: number | null): this {
    if (v === null) return this.null();
    this.int32(4);
    this.int32(v);
    return this;
  }

  float8(v: number | null): this {
    if (v === null) return this.null();
    this.int32(8);
    this.room(8);
    this.at = this.buffer.writeDoubleBE(v, this.at);
    return this;
  }

  bool(v: boolean | null): this {
    if (v === null) return this.null();
    this.int32(1);
    this.room(1);
    this.buffer[this.at++] = v ? 1 : 0;
    return this;
  }

  text(v: string | null): this {
    if (v === null) return this.null();
    const length = Buffer.byteLength(v);
    this.int32(length);
    this.room(length);
    this.at += this.buffer.write(v, this.at);
    return this;
  }

  /** jsonb's binary form: a version byte (1), then the text. */
  jsonb(v: string): this {
    const length = Buffer.byteLength(v);
    this.int32(length + 1);
    this.room(length + 1);
    this.buffer[this.at++] = 1;
    this.at += this.buffer.write(v, this.at);
    return this;
  }

  bytea(v: Uint8Array): this {
    this.int32(v.length);
    this.bytes(v);
    return this;
  }

  /** A one-dimensional float8[] (element type oid 701), lower bound 1, no nulls. */
  float8Array(values: ArrayLike<number>): this {
    this.int32(20 + 12 * values.length);
    this.int32(1);
    this.int32(0);
    this.int32(701);
    this.int32(values.length);
    this.int32(1);
    for (let k = 0; k < values.length; k++) {
      this.int32(8);
      this.room(8);
      this.at = this.buffer.writeDoubleBE(values[k], this.at);
    }
    return this;
  }

  /** The rows with COPY's trailer. */
  end(): Buffer {
    this.room(2);
    this.at = this.buffer.writeInt16BE(-1, this.at);
    return this.buffer.subarray(0, this.at);
  }
}

/** Sends rows built by BinaryRows with `COPY target FROM STDIN (FORMAT binary)` on the caller's connection. */
export async function copyRowsIn(client: pg.PoolClient, target: string, rows: BinaryRows): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${target} FROM STDIN (FORMAT binary)`));
  await new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(rows.end());
  });
}
