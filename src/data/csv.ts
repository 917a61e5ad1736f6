import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { builtFile } from '../builtFile.js';
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';
import { streamCsv } from './csvRows.js';
import { assembleDataset, checkGap, loadedColumns, missingTokens, negativeWeight, resolveColumns, TextFeature, type ColumnOptions, type LoadedColumns } from './columns.js';
import type { MissingRule } from '../domain.js';
import { ColumnMajor, type Dataset } from './dataset.js';
import { readDecimal } from './decimal.js';
import { parseCell } from './cells.js';
import { blank, CellKind, parseChunk, type ChunkDone, type ChunkJob, type ChunkLayout } from './csvChunk.js';
import { adviseHugePages } from '../util/nativeModule.js';

/** How a CSV's columns are read (the same for every data file). */
export type CsvOptions = ColumnOptions;

/** Bytes read at a time on one thread; a line longer than this grows the window. */
const CHUNK_BYTES = 1 << 22;
/** Rows gathered row-major before they are scattered into the columns (writes to each column then run contiguous). */
const BLOCK_VALUES = 1 << 15;

/** What a column of the file is read as. */
const enum Role {
  Number,
  Label,
  FoldLabel,
  /** A categorical feature: its cells kept as text (its slot in the block holds NaN). */
  Category,
  /** A column of data.ignore: read past. */
  Skip,
}

/** A quote in the file: it is read by the general parser (Papa Parse) instead, with the row estimate made so far. */
class NeedsGeneralParser extends Error {
  constructor(readonly rowEstimate: number) {
    super('quoted fields');
  }
}

/**
 * Where a CSV's rows go: numbers gathered row-major in a small block, then scattered into column-major arrays
 * (features, numeric targets, the offset); labels into lists.
 */
class TableBuilder {
  readonly targetIdx: number[];
  readonly featureIdx: number[];
  readonly offsetIdx: number;
  readonly foldIdx: number;
  readonly weightsIdx: number;
  /** Per column of the file: its role, and for numbers its place in a block row. */
  readonly role: Role[];
  readonly slot: Int32Array;
  readonly width: number;
  readonly block: Float64Array;
  readonly blockCapacity: number;
  blockRows = 0;
  rows = 0;
  /** Features, then numeric targets, then the offset: filled from the block's slots in this order. */
  private readonly arrays: ColumnMajor[];
  readonly labels: (string | null)[] = [];
  readonly foldLabels: (string | null)[] = [];
  /** The cells of each categorical feature, by its position among the features. */
  readonly categories = new Map<number, (string | null)[]>();
  /** Per column of the file: its position among the features, or −1. */
  private readonly featureAt: Int32Array;
  private readonly missingCells: Set<string>;
  /** A missing-value token is a number (na_values: ["-999"]): every number cell is compared with the tokens. */
  readonly numericMissing: boolean;
  private readonly rule: MissingRule;

  constructor(
    readonly header: string[],
    readonly options: CsvOptions,
    readonly name: string,
    where: string,
    capacity: number,
  ) {
    const roles = resolveColumns(header, options, where);
    ({ targetIdx: this.targetIdx, featureIdx: this.featureIdx, offsetIdx: this.offsetIdx, foldIdx: this.foldIdx, weightsIdx: this.weightsIdx } = roles);
    this.role = header.map(() => Role.Number);
    this.featureAt = new Int32Array(header.length).fill(-1);
    this.featureIdx.forEach((j, f) => (this.featureAt[j] = f));
    for (const j of roles.ignored) this.role[j] = Role.Skip;
    for (const j of roles.categoricalIdx) {
      this.role[j] = Role.Category;
      this.categories.set(this.featureAt[j], []);
    }
    this.missingCells = missingTokens(options);
    this.numericMissing = [...this.missingCells].some((t) => t !== '' && Number.isFinite(Number(t)));
    this.rule = options.missing ?? 'error';
    this.slot = new Int32Array(header.length).fill(-1);
    let width = 0;
    for (const j of this.featureIdx) this.slot[j] = width++;
    if (options.classification) this.role[this.targetIdx[0]] = Role.Label;
    else for (const j of this.targetIdx) this.slot[j] = width++;
    if (this.offsetIdx >= 0) this.slot[this.offsetIdx] = width++;
    if (this.weightsIdx >= 0) this.slot[this.weightsIdx] = width++;
    if (this.foldIdx >= 0) this.role[this.foldIdx] = Role.FoldLabel;
    this.width = width;
    this.blockCapacity = Math.max(1, Math.floor(BLOCK_VALUES / width));
    this.block = new Float64Array(this.blockCapacity * width);
    this.arrays = [
      new ColumnMajor(this.featureIdx.length, capacity),
      // Labels are coded once the classes are known (assembleDataset).
      ...(options.classification ? [] : [new ColumnMajor(this.targetIdx.length, capacity)]),
      ...(this.offsetIdx >= 0 ? [new ColumnMajor(1, capacity)] : []),
      ...(this.weightsIdx >= 0 ? [new ColumnMajor(1, capacity)] : []),
    ];
  }

  /** Where the next row's numbers go in the block. */
  rowStart(): number {
    return this.blockRows * this.width;
  }

  /** The row whose numbers were written at rowStart() is complete. */
  endRow(): void {
    if (++this.blockRows === this.blockCapacity) this.flush();
  }

  /** A record as strings (the general parser): every cell checked as the fast path checks it. */
  addFields(fields: string[], line: number): void {
    if (fields.every((f) => f.trim() === '')) return;
    const base = this.rowStart();
    for (let j = 0; j < fields.length; j++) this.cell(j, fields[j], line, base);
    this.endRow();
  }

  /** One cell as text: a gap (data.na_values), a number (checked by parseCell), a category or a label. */
  cell(j: number, text: string, line: number, base: number): void {
    const role = this.role[j];
    if (role === Role.Skip) return;
    const cell = text.trim();
    if (this.missingCells.has(cell)) return this.gap(j, cell, line, base);
    if (role === Role.Number) {
      if (Number.isNaN(Number(cell))) this.textInNumbers(j, cell, line);
      this.number(j, parseCell(text, this.name, () => line, j, this.header[j]), line, base, () => text);
    } else if (role === Role.Category) this.categories.get(this.featureAt[j])!.push(cell);
    else this.label(j, cell, line, role);
  }

  /** Text where a number was expected: a category (data.categorical: auto reads the file again), else one line. */
  private textInNumbers(j: number, cell: string, line: number): void {
    // NaN and Infinity are numbers parseCell refuses, not text.
    if (/^[+-]?(nan|infinity)$/i.test(cell)) return;
    const where = `${this.name}:${line}:${j + 1}: column "${this.header[j]}"`;
    if (this.featureAt[j] >= 0) {
      if ((this.options.categorical ?? 'auto') === 'auto') {
        // A column of numbers with text further down is more likely a mistake than a category.
        if (!this.numberBefore(j)) throw new TextFeature(this.header[j]);
        throw new UserError(`${where}: "${cell}" is not a number (the rows above hold numbers; list the column in data.categorical to read it as categories)`);
      }
      if (cell !== '')
        throw new UserError(`${where}: "${cell}" is not a number (data.categorical ${Array.isArray(this.options.categorical) ? 'does not list it' : 'is none'}: auto reads text columns as categories)`);
    }
    if (this.targetIdx.includes(j) && cell !== '')
      throw new UserError(
        `${where}: "${cell}" is not a number: the target holds labels, a categorical target, which a ${this.options.counts ? 'poisson' : 'linear'} model cannot fit (model.kind logistic or multinomial fits labels)`,
      );
  }

  /** Whether a row before this one holds a number (not a gap) in feature column j. */
  private numberBefore(j: number): boolean {
    const features = this.arrays[0];
    const at = this.featureAt[j] * features.capacity;
    for (let r = 0; r < this.rows; r++) if (!Number.isNaN(features.values[at + r])) return true;
    for (let r = 0; r < this.blockRows; r++) if (!Number.isNaN(this.block[r * this.width + this.slot[j]])) return true;
    return false;
  }

  /** A missing cell: NaN or null to drop or fill later, or one line when the rule does not allow it here. */
  private gap(j: number, cell: string, line: number, base: number): void {
    const role = this.role[j];
    checkGap(
      `${this.name}:${line}:${j + 1}: column "${this.header[j]}"`,
      this.featureAt[j] >= 0 ? 'feature' : role === Role.Label ? 'label' : role === Role.FoldLabel ? 'fold label' : j === this.offsetIdx ? 'offset' : j === this.weightsIdx ? 'weight' : 'target',
      this.rule,
      cell === '' ? 'an empty cell' : `"${cell}"`,
    );
    if (role === Role.Number) this.block[base + this.slot[j]] = NaN;
    else if (role === Role.Category) this.categories.get(this.featureAt[j])!.push(null);
    else (role === Role.Label ? this.labels : this.foldLabels).push(null);
  }

  /** A number into the block; `text` (the cell as written) is asked for only by a message. */
  number(j: number, v: number, line: number, base: number, text: () => string): void {
    this.block[base + this.slot[j]] = v;
    if (j === this.countsColumn) this.checkCount(j, v, line, text);
    else if (j === this.weightsIdx) this.checkWeight(j, v, line, text);
  }

  checkWeight(j: number, v: number, line: number, text: () => string): void {
    if (!(v >= 0)) throw negativeWeight(`${this.name}:${line}:${j + 1}: column "${this.header[j]}"`, text().trim());
  }

  /** The target column of a poisson model (non-negative integers), or −1. */
  get countsColumn(): number {
    return this.options.counts ? this.targetIdx[0] : -1;
  }

  checkCount(j: number, v: number, line: number, text: () => string): void {
    if (!(Number.isInteger(v) && v >= 0))
      throw new UserError(`${this.name}:${line}:${j + 1}: column "${this.header[j]}": ${text().trim()} is not a count (a poisson model needs non-negative integers)`);
  }

  label(j: number, cell: string, line: number, role: Role): void {
    if (cell === '') throw new UserError(`${this.name}:${line}:${j + 1}: column "${this.header[j]}": empty ${role === Role.Label ? 'label' : 'fold label'}`);
    (role === Role.Label ? this.labels : this.foldLabels).push(cell);
  }

  /**
   * The columns as parseChunk reads them, with room for `rows` rows; undefined when a column holds categories or a
   * gap token is a number (such a file is read on one thread).
   */
  chunkLayout(rows: number): ChunkLayout | undefined {
    if (this.numericMissing || this.blockRows > 0 || this.role.includes(Role.Category)) return undefined;
    for (const a of this.arrays) a.ensure(rows, this.rows);
    const arrayOf: number[] = [];
    const columnOf: number[] = [];
    this.arrays.forEach((a, k) => {
      for (let c = 0; c < a.columns; c++) arrayOf.push(k), columnOf.push(c);
    });
    const n = this.header.length;
    const layout: ChunkLayout = {
      name: this.name,
      header: this.header,
      kind: new Uint8Array(n),
      array: new Int32Array(n),
      column: new Int32Array(n),
      arrays: this.arrays.map((a) => a.values),
      capacities: this.arrays.map((a) => a.capacity),
      gapAllowed: new Uint8Array(n),
      missing: [...this.missingCells],
      countsColumn: this.countsColumn,
      weightsColumn: this.weightsIdx,
    };
    const kinds = { [Role.Number]: CellKind.Number, [Role.Skip]: CellKind.Skip, [Role.Label]: CellKind.Label, [Role.FoldLabel]: CellKind.FoldLabel, [Role.Category]: CellKind.Skip };
    for (let j = 0; j < n; j++) {
      layout.kind[j] = kinds[this.role[j]];
      if (this.role[j] === Role.Number) {
        layout.array[j] = arrayOf[this.slot[j]];
        layout.column[j] = columnOf[this.slot[j]];
      }
      // As checkGap decides: a gap in a feature unless data.missing is error; elsewhere only when it drops rows.
      layout.gapAllowed[j] = this.rule !== 'error' && (this.featureAt[j] >= 0 || this.rule === 'drop') ? 1 : 0;
    }
    return layout;
  }

  /** Scatters the block's rows into the columns. */
  flush(): void {
    const count = this.blockRows;
    if (count === 0) return;
    const { block, width, rows } = this;
    let s = 0;
    for (const array of this.arrays) {
      array.ensure(rows + count, rows);
      const { values, capacity } = array;
      for (let c = 0; c < array.columns; c++, s++) {
        const column = c * capacity + rows;
        for (let r = 0, at = s; r < count; r++, at += width) values[column + r] = block[at];
      }
    }
    this.rows += count;
    this.blockRows = 0;
  }

  /** Everything read, as the loaders hand it to assembleDataset. */
  finish(): LoadedColumns {
    this.flush();
    return loadedColumns(this, this.arrays, this.rows);
  }
}

/**
 * The first byte offset at which a file stops being UTF-8, found chunk by chunk as the file is read (a character
 * cut by a chunk's end is held back for the next chunk).
 */
class Utf8Watch {
  invalidAt = -1;
  private held: Buffer = Buffer.alloc(0);
  private heldAt = 0;

  feed(chunk: Buffer, at: number): void {
    if (this.invalidAt >= 0) return;
    const piece = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const pieceAt = this.held.length ? this.heldAt : at;
    const cut = incompleteTail(piece);
    const whole = piece.subarray(0, piece.length - cut);
    if (!isUtf8(whole)) this.invalidAt = pieceAt + longestUtf8Prefix(whole);
    this.held = Buffer.from(piece.subarray(piece.length - cut));
    this.heldAt = pieceAt + piece.length - cut;
  }

  end(): void {
    if (this.invalidAt < 0 && this.held.length) this.invalidAt = this.heldAt;
  }
}

/** Bytes at the end that start a UTF-8 character the buffer does not finish (0–3). */
function incompleteTail(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue;
    const length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/** The length of the longest prefix that is UTF-8 (a prefix may end inside a character: back off up to 3 bytes). */
function longestUtf8Prefix(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    let ok = false;
    for (let back = 0; back < 4 && !ok; back++) ok = mid - back >= lo && isUtf8(bytes.subarray(0, mid - back));
    if (ok) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** 1-based line of a byte offset, reading the file up to it (for a warning only). */
function lineOfOffset(path: string, offset: number): number {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let line = 1;
    for (let at = 0; at < offset; ) {
      const got = readSync(fd, buffer, 0, Math.min(buffer.length, offset - at), at);
      if (got === 0) break;
      for (let k = buffer.indexOf(10, 0); k >= 0 && k < got; k = buffer.indexOf(10, k + 1)) line++;
      at += got;
    }
    return line;
  } finally {
    closeSync(fd);
  }
}

/** Rows to allocate for: the file's size over the bytes per line seen so far, with a margin. */
function estimateRows(fileBytes: number, seenBytes: number, seenLines: number): number {
  if (seenBytes >= fileBytes) return seenLines;
  return Math.ceil((fileBytes / Math.max(1, seenBytes)) * Math.max(1, seenLines) * 1.05) + 64;
}

/** A read of the file that failed, as the message names it. */
function readFailure(name: string, e: unknown): UserError {
  return new UserError(`${name}: cannot read the data file (${(e as NodeJS.ErrnoException).code ?? e})`);
}

/** A window of the file, in memory the parsing threads share (on huge pages where they can be had). */
function sharedBytes(length: number): Buffer {
  const bytes = Buffer.from(new SharedArrayBuffer(length));
  adviseHugePages(bytes);
  return bytes;
}

/**
 * Loads a CSV with a header row into column-major Float64Arrays on SharedArrayBuffers, streaming the file in chunks:
 * numbers are read from the bytes, and the content hash and the UTF-8 check are made on the same pass. A file with a
 * quote anywhere is read by Papa Parse (csvRows.streamCsv) instead, with the same checks. Every problem is one
 * UserError naming file:line:column.
 */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  const name = options.displayName ?? path;
  const fileBytes = requireRegularFile(path, name, 'data file').size;
  let read: { builder: TableBuilder | undefined; hash: Hash; utf8: Utf8Watch } | undefined;
  // A text feature column found on the way (data.categorical: auto): read again with it as a category.
  for (let general: number | undefined; !read; ) {
    try {
      read =
        general === undefined
          ? await readNumericCsv(path, name, options, fileBytes, Math.min(options.threads ?? Infinity, availableParallelism()))
          : await readGeneralCsv(path, name, options, general);
    } catch (e) {
      if (e instanceof NeedsGeneralParser) general = e.rowEstimate;
      else if (e instanceof TextFeature) options = { ...options, textColumns: [...(options.textColumns ?? []), e.column] };
      else throw e;
    }
  }
  const { builder, hash, utf8 } = read;
  if (!builder) throw new UserError(`${name}: the file is empty`);
  if (builder.rows + builder.blockRows === 0) throw new UserError(`${name}: a header but no data rows`);
  const warnings = utf8.invalidAt >= 0 ? [`${name}:${lineOfOffset(path, utf8.invalidAt)}: not valid UTF-8 (read as U+FFFD); save the file as UTF-8`] : [];
  return assembleDataset(builder.finish(), name, hash.digest('hex'), warnings);
}

/** The header line, or undefined for a blank line before it; quotes in it send the file to the general parser. */
function headerOf(b: Buffer, start: number, end: number, line: number, name: string, options: CsvOptions, rowEstimate: () => number): TableBuilder | undefined {
  if (end > start && b[end - 1] === 13) end--;
  if (blank(b, start, end)) return undefined;
  const text = b.toString('utf8', start, end);
  if (text.includes('"') || text.includes('\r')) throw new NeedsGeneralParser(rowEstimate());
  return new TableBuilder(
    text.split(',').map((h) => h.trim()),
    options,
    name,
    `${name}:${line}`,
    rowEstimate(),
  );
}

/** A data line (its newline excluded): a carriage return before it dropped, a blank line skipped. */
function readLine(builder: TableBuilder, b: Buffer, start: number, end: number, line: number, rowEstimate: () => number): void {
  if (end > start && b[end - 1] === 13) end--;
  if (!blank(b, start, end)) readRow(builder, b, start, end, line, rowEstimate);
}

/** Files at least this large are parsed on every core (below it, starting a thread costs what it saves). */
const PARALLEL_BYTES = 24 << 20;
/** Bytes of the file parsed at once on every core: the file is not held whole (a longer line grows it). */
const WINDOW_BYTES = 16 << 20;

/**
 * The fast path, plain comma-separated numbers and labels: the file read a window at a time (it is never held whole;
 * a line longer than a window grows it), hashed and checked as UTF-8 on the way. A file of PARALLEL_BYTES or more,
 * on more than one thread: each window's lines cut into one stretch per thread at line starts, each parsed straight
 * into the columns at the rows its lines go to (data/csvChunk.ts) — the first on this thread, which then hashes the
 * window and reads the next into a second window while the other threads finish. A stretch that meets a line the
 * threads do not read is finished, with the rest of the file, by the one-thread reader from that line on, with its
 * checks and its messages; so is a file with a categorical column. A quote sends the file to the general parser.
 */
async function readNumericCsv(path: string, name: string, options: CsvOptions, fileBytes: number, threads: number) {
  const parallel = threads >= 2 && fileBytes >= PARALLEL_BYTES;
  // The threads start while the first window is read.
  const parsers = parallel ? await ChunkParsers.start(threads - 1) : undefined;
  const hash = createHash('sha256');
  const utf8 = new Utf8Watch();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    parsers?.stop();
    throw readFailure(name, e);
  }
  try {
    // Two windows: the next is read while the threads parse this one (a small file's are its size).
    const windowBytes = Math.min(parallel ? WINDOW_BYTES : CHUNK_BYTES, fileBytes + 1);
    let window = sharedBytes(windowBytes);
    let spare = sharedBytes(windowBytes);
    let filled = 0;
    let offset = 0;
    let eof = false;
    /** Fills `into` from `from` on with the file's next bytes, until it is full or the file ends; the bytes it holds. */
    const fill = (into: Buffer, from: number) => {
      while (!eof && from < into.length) {
        let got: number;
        try {
          got = readSync(fd, into, from, into.length - from, null);
        } catch (e) {
          throw readFailure(name, e);
        }
        if (got === 0) eof = true;
        from += got;
      }
      return from;
    };
    let builder: TableBuilder | undefined;
    /** The number of the last line read. */
    let line = 0;
    /** Every line on this thread: a file not parsed on every core, or from a stop on, or with categories. */
    let oneThread = !parsers;
    let linesSeen = 0;
    let bytesSeen = 0;
    const rowEstimate = () => estimateRows(fileBytes, bytesSeen, linesSeen);
    for (let first = true; ; first = false) {
      // Whole lines only: the part of a line at the end waits for the next window (a line longer than one grows it).
      let end = 0;
      for (;;) {
        filled = fill(window, filled);
        end = eof ? filled : window.lastIndexOf(10, filled - 1) + 1;
        if (end > 0 || eof) break;
        const larger = sharedBytes(window.length * 2);
        window.copy(larger, 0, 0, filled);
        window = larger;
      }
      const b = window;
      const last = eof;
      /** The part of a line after `end`, then the file's next bytes, into the spare window. */
      let ahead = 0;
      const readAhead = () => {
        if (last) return;
        if (spare.length < window.length) spare = sharedBytes(window.length);
        window.copy(spare, 0, end, filled);
        ahead = fill(spare, filled - end);
      };
      const lineEnd = (from: number) => {
        const nl = b.indexOf(10, from);
        return nl < 0 || nl >= end ? end : nl;
      };
      const countLines = (from: number, to: number) => {
        let count = 0;
        for (let nl = b.indexOf(10, from); nl >= 0 && nl < to; nl = b.indexOf(10, nl + 1)) count++;
        return count + (to === end && last && to > from && b[to - 1] !== 10 ? 1 : 0);
      };
      if (first) {
        // The first window's lines per byte size the matrix.
        linesSeen = countLines(0, end);
        bytesSeen = end;
      }
      let start = first && end >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
      while (!builder && start < end) {
        const lineAt = lineEnd(start);
        builder = headerOf(b, start, lineAt, ++line, name, options, rowEstimate);
        start = lineAt + 1;
      }
      const digest = () => {
        hash.update(b.subarray(0, end));
        utf8.feed(b.subarray(0, end), offset);
      };
      /** Lines from `from` to the window's end on this thread, the first numbered `at`; the next line's number. */
      const rest = (from: number, at: number) => {
        for (; from < end; from = lineEnd(from) + 1, at++) {
          if (builder) readLine(builder, b, from, lineEnd(from), at, rowEstimate);
          else builder = headerOf(b, from, lineEnd(from), at, name, options, rowEstimate);
        }
        return at;
      };
      // One stretch a thread, cut at line starts; each stretch's first line number and first row (its lines before it).
      // Equal stretches: a shorter one for this thread, which also hashes the window and reads the next, was slower.
      const jobs: ChunkJob[] = [];
      let next = line + 1;
      if (builder && !oneThread)
        for (let k = 0, from = start; k < threads && from < end; k++) {
          let to = k === threads - 1 ? end : Math.min(end, start + Math.ceil(((end - start) * (k + 1)) / threads));
          if (to < end) to = lineEnd(Math.max(from, to - 1)) + 1;
          jobs.push({ bytes: b, start: from, end: to, firstLine: next, firstRow: builder.rows + next - line - 1 });
          next += countLines(from, to);
          from = to;
        }
      const layout = builder && jobs.length ? builder.chunkLayout(builder.rows + next - line - 1) : undefined;
      if (!layout || !builder) {
        // A categorical column: this thread from here on.
        if (jobs.length) oneThread = true;
        digest();
        line = rest(start, line + 1) - 1;
        readAhead();
      } else {
        const parsing = parsers!.parse(layout, jobs.slice(1));
        const done = [parseChunk(layout, jobs[0])];
        digest();
        readAhead();
        done.push(...(await parsing));
        // The stretches' rows moved up over blank lines left out before them; the first stretch that stopped, and
        // the rest of the file, read on this thread from the line it stopped at.
        let rows = builder.rows;
        for (let k = 0; k < jobs.length && !oneThread; k++) {
          const { firstRow } = jobs[k];
          const { rows: got, stopped } = done[k];
          if (rows < firstRow && got > 0)
            layout.arrays.forEach((values, a) => {
              const capacity = layout.capacities[a];
              for (let c = 0; c < values.length / capacity; c++) values.copyWithin(c * capacity + rows, c * capacity + firstRow, c * capacity + firstRow + got);
            });
          rows += got;
          // Appended one at a time: a spread of a million labels would not fit on the stack.
          for (const label of done[k].labels) builder.labels.push(label);
          for (const label of done[k].foldLabels) builder.foldLabels.push(label);
          builder.rows = rows;
          if (stopped) {
            oneThread = true;
            rest(stopped.at, stopped.line);
          }
        }
        line = next - 1;
      }
      if (last) break;
      [window, spare] = [spare, window];
      offset += end;
      filled = ahead;
    }
    utf8.end();
    return { builder, hash, utf8 };
  } finally {
    closeSync(fd);
    parsers?.stop();
  }
}

/** Worker threads of the CSV reader (the main thread parses a stretch too), each given one stretch of a window at a time. */
class ChunkParsers {
  private constructor(private readonly threads: import('node:worker_threads').Worker[]) {}

  static async start(count: number): Promise<ChunkParsers> {
    const { Worker } = await import('node:worker_threads');
    const file = builtFile(join('workers', 'csvChunk.js'));
    return new ChunkParsers(Array.from({ length: count }, () => new Worker(file)));
  }

  /** Each job on a thread of its own; their results in the same order. */
  parse(layout: ChunkLayout, jobs: ChunkJob[]): Promise<ChunkDone[]> {
    return Promise.all(
      jobs.map(
        (job, k) =>
          new Promise<ChunkDone>((resolve, reject) => {
            const worker = this.threads[k];
            const settle = (f: () => void) => {
              worker.off('message', done).off('error', failed).off('exit', exited);
              f();
            };
            const done = (m: ChunkDone) => settle(() => resolve(m));
            const failed = (e: Error) => settle(() => reject(e));
            const exited = (code: number) => settle(() => reject(new Error(`the CSV reader's thread stopped (exit ${code})`)));
            worker.on('message', done).on('error', failed).on('exit', exited);
            worker.postMessage({ layout, job });
          }),
      ),
    );
  }

  stop(): void {
    for (const worker of this.threads) void worker.terminate();
  }
}

/** One data line of the fast path: numbers read in place, labels decoded; anything quoted goes to the general parser. */
function readRow(builder: TableBuilder, b: Buffer, start: number, end: number, line: number, rowEstimate: () => number): void {
  const columns = builder.header.length;
  const { role, slot, block } = builder;
  const { countsColumn, numericMissing, weightsIdx: weightsColumn } = builder;
  const base = builder.rowStart();
  let k = start;
  let j = 0;
  for (;;) {
    if (j === columns) {
      let fields = j + 1;
      for (let c = b.indexOf(44, k); c >= 0 && c < end; c = b.indexOf(44, c + 1)) fields++;
      throw new UserError(`${builder.name}:${line}: expected ${columns} fields as in the header, found ${fields}`);
    }
    let next = role[j] === Role.Number && !numericMissing ? readDecimal(b, k, end, block, base + slot[j]) : -1;
    if (next < 0 || (next < end && b[next] !== 44)) {
      // Not a plain number (or a label): the cell as text, checked as the general parser checks it.
      let fieldEnd = b.indexOf(44, k);
      if (fieldEnd < 0 || fieldEnd > end) fieldEnd = end;
      const text = b.toString('utf8', k, fieldEnd);
      if (text.includes('"') || text.includes('\r')) throw new NeedsGeneralParser(rowEstimate());
      builder.cell(j, text, line, base);
      next = fieldEnd;
    } else if (j === countsColumn) {
      const from = k;
      builder.checkCount(j, block[base + slot[j]], line, () => b.toString('utf8', from, next));
    } else if (j === weightsColumn) {
      const from = k;
      builder.checkWeight(j, block[base + slot[j]], line, () => b.toString('utf8', from, next));
    }
    j++;
    if (next >= end) break;
    k = next + 1;
  }
  if (j !== columns) throw new UserError(`${builder.name}:${line}: expected ${columns} fields as in the header, found ${j}`);
  builder.endRow();
}

/** The general path: Papa Parse, for files with quoted fields. */
async function readGeneralCsv(path: string, name: string, options: CsvOptions, rowEstimate: number) {
  const hash = createHash('sha256');
  const utf8 = new Utf8Watch();
  let builder: TableBuilder | undefined;
  let offset = 0;
  await streamCsv(
    path,
    name,
    {
      header(names, where) {
        builder = new TableBuilder(names, options, name, where, rowEstimate);
      },
      record(fields, line) {
        builder!.addFields(fields, line);
      },
    },
    (chunk) => {
      hash.update(chunk);
      utf8.feed(chunk, offset);
      offset += chunk.length;
    },
  );
  utf8.end();
  return { builder, hash, utf8 };
}
