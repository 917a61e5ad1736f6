// Parquet (hyparquet) and Arrow IPC / Feather v2 (apache-arrow) files: column chunks straight into the shared
// column-major arrays, with the roles, labels and checks of a CSV. A null is an error naming its column and row.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';
import { assembleDataset, checkGap, loadedColumns, missingTokens, negativeWeight, resolveColumns, type ColumnOptions, type GapRole } from './columns.js';
import type { MissingRule } from '../domain.js';
import type { CsvRecordHandlers } from './csvRows.js';
import { LARGEST_VALUE } from './cells.js';
import { ColumnMajor, type Dataset } from './dataset.js';

/** The data file formats read by column, by file name ending. */
export function columnarFormat(path: string): 'parquet' | 'arrow' | undefined {
  if (/\.parquet$/i.test(path)) return 'parquet';
  if (/\.(arrow|feather|ipc)$/i.test(path)) return 'arrow';
  return undefined;
}

/** A column's values as a loader hands them over: numbers, bigints, booleans, strings, or null for a missing value. */
type Values = ArrayLike<unknown>;

/** Where column chunks go: numbers into the arrays of their role, labels into lists, each value checked. */
class ColumnSink {
  readonly targetIdx: number[];
  readonly featureIdx: number[];
  readonly offsetIdx: number;
  readonly foldIdx: number;
  readonly weightsIdx: number;
  /** Per column of the file: [array, column in it] for numbers; undefined for labels. */
  private readonly place: ([ColumnMajor, number] | undefined)[];
  private readonly arrays: ColumnMajor[];
  readonly labels: (string | null)[] = [];
  readonly foldLabels: (string | null)[] = [];
  /** The cells of each categorical feature, by its position among the features. */
  readonly categories = new Map<number, (string | null)[]>();
  private readonly categoryAt = new Map<number, (string | null)[]>();
  private readonly rule: MissingRule;
  private readonly missing: Set<string>;
  /** Rows delivered so far, per column of the file. */
  private readonly filled: number[];

  constructor(
    readonly header: string[],
    textColumns: boolean[],
    readonly options: ColumnOptions,
    readonly name: string,
    capacity: number,
  ) {
    const roles = resolveColumns(header, options, name);
    ({ targetIdx: this.targetIdx, featureIdx: this.featureIdx, offsetIdx: this.offsetIdx, foldIdx: this.foldIdx, weightsIdx: this.weightsIdx } = roles);
    this.rule = options.missing ?? 'error';
    this.missing = missingTokens(options);
    const auto = (options.categorical ?? 'auto') === 'auto';
    const X = new ColumnMajor(this.featureIdx.length, capacity);
    const y = options.classification ? undefined : new ColumnMajor(this.targetIdx.length, capacity);
    const offset = this.offsetIdx >= 0 ? new ColumnMajor(1, capacity) : undefined;
    const weights = this.weightsIdx >= 0 ? new ColumnMajor(1, capacity) : undefined;
    this.arrays = [X, ...(y ? [y] : []), ...(offset ? [offset] : []), ...(weights ? [weights] : [])];
    this.place = header.map(() => undefined);
    this.featureIdx.forEach((j, f) => (this.place[j] = [X, f]));
    if (y) this.targetIdx.forEach((j, k) => (this.place[j] = [y, k]));
    if (offset) this.place[this.offsetIdx] = [offset, 0];
    if (weights) this.place[this.weightsIdx] = [weights, 0];
    this.filled = header.map(() => 0);
    this.featureIdx.forEach((j, f) => {
      if (!roles.categoricalIdx.has(j) && !(textColumns[j] && auto)) return;
      const cells: (string | null)[] = [];
      this.categories.set(f, cells);
      this.categoryAt.set(j, cells);
      this.place[j] = undefined;
    });
    header.forEach((column, j) => {
      if (textColumns[j] && this.place[j])
        throw new UserError(
          `${name}: column "${column}" holds text; only a label (the target of a logistic or multinomial model), a fold column (validation.column) or a category (data.categorical${this.featureIdx.includes(j) ? ' is none' : ''}) may`,
        );
    });
  }

  /** The columns whose values are read (the others are skipped by the readers). */
  get used(): number[] {
    return this.header.map((_, j) => j).filter((j) => this.place[j] || this.categoryAt.has(j) || (this.options.classification && j === this.targetIdx[0]) || j === this.foldIdx);
  }

  /** Values of column j for rows rowStart … rowStart + values.length − 1. */
  put(j: number, values: Values, rowStart: number): void {
    const column = this.header[j];
    const where = (i: number) => `${this.name}: column "${column}", row ${rowStart + i + 1}`;
    const place = this.place[j];
    if (place) {
      const [array, c] = place;
      array.ensure(rowStart + values.length, Math.max(...this.filled.filter((_, k) => this.place[k]?.[0] === array)));
      const out = array.values;
      const base = c * array.capacity + rowStart;
      const counts = this.options.counts && j === this.targetIdx[0];
      const feature = array === this.arrays[0];
      for (let i = 0; i < values.length; i++) {
        const raw = values[i];
        if (isGap(raw)) {
          this.gap(where(i), feature ? 'feature' : j === this.offsetIdx ? 'offset' : j === this.weightsIdx ? 'weight' : 'target', raw);
          out[base + i] = NaN;
          continue;
        }
        if (typeof raw === 'bigint') exactInteger(raw, () => where(i));
        const v = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : typeof raw === 'boolean' ? +raw : NaN;
        if (!Number.isFinite(v) || Math.abs(v) >= LARGEST_VALUE) throw new UserError(`${where(i)}: ${badNumber(raw)}`);
        if (counts && !(Number.isInteger(v) && v >= 0)) throw new UserError(`${where(i)}: ${v} is not a count (a poisson model needs non-negative integers)`);
        if (j === this.weightsIdx && v < 0) throw negativeWeight(where(i), String(v));
        out[base + i] = v;
      }
    } else if (this.categoryAt.has(j)) {
      const cells = this.categoryAt.get(j)!;
      for (let i = 0; i < values.length; i++) {
        const raw = values[i];
        const cell = isGap(raw) ? null : String(raw).trim();
        if (cell === null || this.missing.has(cell)) {
          this.gap(where(i), 'feature', raw);
          cells[rowStart + i] = null;
        } else cells[rowStart + i] = cell;
      }
    } else {
      const list = j === this.foldIdx ? this.foldLabels : this.labels;
      for (let i = 0; i < values.length; i++) {
        const raw = values[i];
        if (raw === null || raw === undefined) {
          this.gap(where(i), j === this.foldIdx ? 'fold label' : 'label', raw);
          list[rowStart + i] = null;
          continue;
        }
        const label = String(raw).trim();
        if (label === '') throw new UserError(`${where(i)}: empty ${j === this.foldIdx ? 'fold label' : 'label'}`);
        list[rowStart + i] = label;
      }
    }
    this.filled[j] = Math.max(this.filled[j], rowStart + values.length);
  }

  /** A gap: refused unless data.missing allows it here. */
  private gap(where: string, role: GapRole, raw: unknown): void {
    checkGap(where, role, this.rule, raw === null || raw === undefined ? 'null' : typeof raw === 'number' ? 'NaN' : `"${String(raw)}"`);
  }

  finish(hashOf: string): Dataset {
    const n = Math.max(0, ...this.used.map((j) => this.filled[j]));
    if (n === 0) throw new UserError(`${this.name}: no data rows`);
    const short = this.used.find((j) => this.filled[j] !== n);
    if (short !== undefined) throw new UserError(`${this.name}: column "${this.header[short]}" has ${this.filled[short]} rows, others ${n}`);
    const loaded = loadedColumns(this, this.arrays, n);
    const { header, labels, foldLabels, X, y, offset, weights } = loaded;
    // The content hash that guards a resume: of the values read, computed from memory (no second read of the file).
    const hash = createHash('sha256').update(hashOf).update(JSON.stringify(header));
    for (const a of [X, y, ...(offset ? [offset] : []), ...(weights ? [weights] : [])]) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    hash.update(JSON.stringify([labels, foldLabels, ...(loaded.categories.size ? [[...loaded.categories]] : [])]));
    return assembleDataset(loaded, this.name, hash.digest('hex'), []);
  }
}

/** A null, or NaN (pandas writes a float column's gaps as NaN): a gap. */
function isGap(raw: unknown): boolean {
  return raw === null || raw === undefined || (typeof raw === 'number' && Number.isNaN(raw));
}

/** A 64-bit integer a double holds exactly (|v| ≤ 2^53), or one line naming where it is: it is not rounded silently. */
function exactInteger(raw: bigint, where: () => string): void {
  if (raw > 9007199254740992n || raw < -9007199254740992n)
    throw new UserError(`${where()}: ${raw} is an integer beyond 2^53, which a double cannot hold exactly (it would be read as ${Number(raw)}); store the column as a float or rescale it`);
}

function badNumber(raw: unknown): string {
  if (typeof raw === 'string') return `"${raw}" is text, not a number`;
  if (typeof raw === 'number' && !Number.isFinite(raw)) return `${raw} is infinite`;
  if (typeof raw !== 'number' && typeof raw !== 'bigint') return `${JSON.stringify(String(raw))} is not a number`;
  return `${String(raw)} is too large in magnitude (at most 1e150: its square would overflow); rescale the column`;
}

/** Values decoded per read of a Parquet file (columns × rows). */
const PARQUET_VALUES_PER_READ = 2_000_000;

/** A Parquet file opened with hyparquet: its metadata read, or one line saying it is not one hyparquet reads. */
async function openParquet(path: string, name: string) {
  const hyparquet = await import('hyparquet');
  // hyparquet reads the footer only; a file must start with the magic number too.
  if ((await fileBytes(path, 0, 4)).toString('latin1') !== 'PAR1') throw new UserError(`${name}: not a Parquet file (it does not start with "PAR1")`);
  try {
    const file = await hyparquet.asyncBufferFromFile(path);
    return { hyparquet, file, metadata: await hyparquet.parquetMetadataAsync(file) };
  } catch (e) {
    throw new UserError(`${name}: not a Parquet file this reader understands (${(e as Error).message})`);
  }
}

/**
 * An Arrow IPC file or stream on an open handle, as apache-arrow's batch reader. Checked first: apache-arrow given
 * other bytes fails later, inside its own promises.
 */
async function openArrow(handle: FileHandle, name: string) {
  const { RecordBatchReader } = await import('apache-arrow');
  // The IPC file starts and ends with "ARROW1"; the IPC stream starts with a 0xFFFFFFFF continuation marker and ends
  // with the end-of-stream marker 0xFFFFFFFF 0x00000000. A file cut short lacks its end, and apache-arrow reads a
  // stream cut at a batch boundary as a shorter one.
  const { size } = await handle.stat();
  const { buffer: start } = await handle.read(Buffer.alloc(6), 0, 6, 0);
  const { buffer: end } = await handle.read(Buffer.alloc(8), 0, 8, Math.max(0, size - 8));
  if (start.toString('latin1') === 'ARROW1') {
    if (size < 12 || end.subarray(2).toString('latin1') !== 'ARROW1') throw new UserError(`${name}: the Arrow file is cut short (it does not end with "ARROW1"); write it again`);
  } else if (start.readUInt32LE(0) === 0xffffffff) {
    if (size < 16 || end.readUInt32LE(0) !== 0xffffffff || end.readUInt32LE(4) !== 0)
      throw new UserError(`${name}: the Arrow stream is cut short (no end-of-stream marker); write it again`);
  } else throw new UserError(`${name}: not an Arrow IPC (Feather v2) file`);
  try {
    return await RecordBatchReader.from(handle);
  } catch (e) {
    throw new UserError(`${name}: not an Arrow IPC (Feather v2) file (${(e as Error).message})`);
  }
}

/** The first bytes of a file. */
async function fileBytes(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    return (await handle.read(Buffer.alloc(length), 0, length, position)).buffer;
  } finally {
    await handle.close();
  }
}

/** An Arrow reader's record batches; a batch that cannot be decoded (damaged bytes) is one line naming the file. */
async function* arrowBatches<T>(reader: AsyncIterable<T>, name: string): AsyncGenerator<T> {
  const batches = reader[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<T>;
    try {
      next = await batches.next();
    } catch (e) {
      throw new UserError(`${name}: cannot read the Arrow data (${e instanceof Error ? e.message : String(e)}); the file may be damaged or cut short`);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** A Parquet file, column chunk by column chunk (hyparquet). */
async function loadParquet(path: string, options: ColumnOptions, name: string): Promise<Dataset> {
  const {
    hyparquet: { parquetSchema, parquetRead },
    file,
    metadata,
  } = await openParquet(path, name);
  const columns = parquetSchema(metadata).children;
  const header = columns.map((c) => c.element.name);
  const nested = columns.find((c) => c.children.length > 0);
  if (nested) throw new UserError(`${name}: column "${nested.element.name}" is nested (a struct or list); give flat columns`);
  // Byte arrays are text unless annotated as decimals or half floats (which hyparquet reads as numbers).
  const text = columns.map(
    ({ element: e }) =>
      (e.type === 'BYTE_ARRAY' || e.type === 'FIXED_LEN_BYTE_ARRAY') && e.converted_type !== 'DECIMAL' && e.logical_type?.type !== 'DECIMAL' && e.logical_type?.type !== 'FLOAT16',
  );
  const sink = new ColumnSink(header, text, options, name, Number(metadata.num_rows));
  const used = sink.used;
  // hyparquet does not stop on an error thrown by onChunk: the first is kept and thrown once reading ends.
  let refused: unknown;
  // A few columns at a time: hyparquet decodes every column asked for at once, and the decoded values (JavaScript
  // arrays) take several times the matrix's bytes.
  const perRead = Math.max(1, Math.floor(PARQUET_VALUES_PER_READ / Math.max(1, Number(metadata.num_rows))));
  for (let first = 0; first < used.length && !refused; first += perRead) {
    try {
      await parquetRead({
        file,
        metadata,
        columns: used.slice(first, first + perRead).map((j) => header[j]),
        onChunk: ({ columnName, columnData, rowStart }) => {
          if (refused) return;
          try {
            sink.put(header.indexOf(columnName), columnData as Values, rowStart);
          } catch (e) {
            refused = e;
          }
        },
      });
    } catch (e) {
      throw new UserError(`${name}: cannot read the Parquet data (${(e as Error).message})`);
    }
  }
  if (refused) throw refused;
  return sink.finish(`parquet ${metadata.num_rows}`);
}

/** An Arrow IPC file (Feather v2) or stream, record batch by record batch (apache-arrow). */
async function loadArrow(path: string, options: ColumnOptions, name: string, fileBytes: number): Promise<Dataset> {
  const { Type } = await import('apache-arrow');
  const handle = await open(path, 'r');
  try {
    const reader = await openArrow(handle, name);
    let sink: ColumnSink | undefined;
    let rows = 0;
    for await (const batch of arrowBatches(reader, name)) {
      if (!sink) {
        const fields = batch.schema.fields;
        const header = fields.map((f) => f.name);
        const text = fields.map((f) => f.typeId === Type.Utf8 || f.typeId === Type.LargeUtf8 || f.typeId === Type.Dictionary || f.typeId === Type.Binary);
        const nested = fields.find((f) => f.typeId === Type.Struct || f.typeId === Type.List);
        if (nested) throw new UserError(`${name}: column "${nested.name}" is nested (a struct or list); give flat columns`);
        // Rows estimated from the file's size (8 bytes a value); the arrays grow if that was short.
        sink = new ColumnSink(header, text, options, name, Math.ceil(fileBytes / (8 * Math.max(1, header.length))) + 64);
      }
      for (const j of sink.used) {
        const vector = batch.getChildAt(j)!;
        // Typed arrays where Arrow has them; values one by one (nulls as null) for labels, booleans and columns with nulls.
        sink.put(j, vector.nullCount > 0 || vector.type.typeId === Type.Dictionary || vector.type.typeId === Type.Bool ? Array.from(vector) : vector.toArray(), rows);
      }
      rows += batch.numRows;
    }
    if (!sink) throw new UserError(`${name}: no record batches (an empty Arrow file)`);
    return sink.finish(`arrow ${rows}`);
  } finally {
    await handle.close();
  }
}

/** A Parquet or Arrow file (see columnarFormat) as a Dataset. */
export async function loadColumnar(path: string, options: ColumnOptions = {}): Promise<Dataset> {
  const name = options.displayName ?? path;
  const fileBytes = requireRegularFile(path, name, 'data file').size;
  const format = columnarFormat(path);
  if (format === 'parquet') return loadParquet(path, options, name);
  if (format === 'arrow') return loadArrow(path, options, name, fileBytes);
  throw new UserError(`${name}: not a Parquet or Arrow file name (.parquet, .arrow, .feather)`);
}

/** Rows per read when a Parquet or Arrow file is streamed record by record (predict). */
const RECORD_CHUNK_ROWS = 4096;

/** A value as the text a CSV cell would hold: booleans as 1/0 (as loading reads them), a null as an empty cell. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/**
 * A Parquet or Arrow file as records of text, with the same handlers as csvRows.streamCsv (predict reads both):
 * the header, then each row's fields (`line` is the 1-based row, counting the header as a CSV would). A chunk of
 * rows at a time; a handler's promise pauses reading until it resolves.
 */
export async function streamColumnarRecords(path: string, name: string, handlers: CsvRecordHandlers): Promise<number> {
  requireRegularFile(path, name, 'data file');
  let rows = 0;
  let names: string[] = [];
  const emit = async (records: unknown[][]) => {
    for (const record of records) {
      rows++;
      record.forEach((v, j) => typeof v === 'bigint' && exactInteger(v, () => `${name}: column "${names[j]}", row ${rows}`));
      await handlers.record(record.map(cellText), rows + 1);
    }
  };
  if (columnarFormat(path) === 'parquet') {
    const {
      hyparquet: { parquetSchema, parquetRead },
      file,
      metadata,
    } = await openParquet(path, name);
    names = parquetSchema(metadata).children.map((c) => c.element.name);
    handlers.header(names, name);
    const total = Number(metadata.num_rows);
    for (let start = 0; start < total; start += RECORD_CHUNK_ROWS) {
      let chunk: unknown[][] = [];
      await parquetRead({ file, metadata, columns: names, rowStart: start, rowEnd: Math.min(total, start + RECORD_CHUNK_ROWS), onComplete: (r) => (chunk = r as unknown[][]) });
      await emit(chunk);
    }
  } else {
    const handle = await open(path, 'r');
    try {
      const reader = await openArrow(handle, name);
      let headerSeen = false;
      for await (const batch of arrowBatches(reader, name)) {
        names = batch.schema.fields.map((f) => f.name);
        if (!headerSeen) handlers.header(names, name);
        headerSeen = true;
        const vectors = names.map((_, j) => batch.getChildAt(j)!);
        await emit(Array.from({ length: batch.numRows }, (_, i) => vectors.map((v) => v.get(i))));
      }
    } finally {
      await handle.close();
    }
  }
  if (rows === 0) throw new UserError(`${name}: no data rows`);
  return rows;
}
