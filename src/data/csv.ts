import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';
import { streamCsv } from './csvRows.js';
import { assembleDataset, checkGap, loadedColumns, missingTokens, negativeWeight, resolveColumns, TextFeature, type ColumnOptions, type LoadedColumns } from './columns.js';
import type { MissingRule } from '../domain.js';
import { ColumnMajor, type Dataset } from './dataset.js';
import { readDecimal } from './decimal.js';

/** How a CSV's columns are read (the same for every data file). */
export type CsvOptions = ColumnOptions;

/** Bytes read at a time; a line longer than this grows the buffer. */
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
      read = general === undefined ? readNumericCsv(path, name, options, fileBytes) : await readGeneralCsv(path, name, options, general);
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

/** The fast path: plain comma-separated numbers and labels, no quotes. */
function readNumericCsv(path: string, name: string, options: CsvOptions, fileBytes: number) {
  const hash = createHash('sha256');
  const utf8 = new Utf8Watch();
  let builder: TableBuilder | undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw readFailure(name, e);
  }
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let filled = 0;
  let offset = 0;
  let line = 0;
  let linesSeen = 0;
  let bytesSeen = 0;
  const handleLine = (b: Buffer, start: number, end: number) => {
    line++;
    if (end > start && b[end - 1] === 13) end--;
    let k = start;
    // Blank, or commas and blanks only: skipped, as Papa Parse's skipEmptyLines 'greedy' does.
    while (k < end && (b[k] === 32 || b[k] === 9 || b[k] === 44)) k++;
    if (k === end) return;
    if (!builder) {
      const text = b.toString('utf8', start, end);
      if (text.includes('"') || text.includes('\r')) throw new NeedsGeneralParser(estimateRows(fileBytes, bytesSeen, linesSeen));
      builder = new TableBuilder(
        text.split(',').map((h) => h.trim()),
        options,
        name,
        `${name}:${line}`,
        estimateRows(fileBytes, bytesSeen, linesSeen),
      );
      return;
    }
    readRow(builder, b, start, end, line, rowEstimate);
  };
  const rowEstimate = () => estimateRows(fileBytes, bytesSeen, linesSeen);
  try {
    for (let eof = false; !eof; ) {
      if (filled === buffer.length) {
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, filled);
        buffer = larger;
      }
      let got: number;
      try {
        got = readSync(fd, buffer, filled, buffer.length - filled, null);
      } catch (e) {
        throw readFailure(name, e);
      }
      eof = got === 0;
      const fresh = buffer.subarray(filled, filled + got);
      hash.update(fresh);
      utf8.feed(fresh, offset);
      offset += got;
      filled += got;
      const view = buffer.subarray(0, filled);
      let start = 0;
      if (offset === got && got >= 3 && view[0] === 0xef && view[1] === 0xbb && view[2] === 0xbf) start = 3;
      if (!builder && linesSeen === 0) {
        // The first chunk: its lines per byte size the matrix.
        for (let k = view.indexOf(10); k >= 0; k = view.indexOf(10, k + 1)) linesSeen++;
        bytesSeen = filled;
        if (eof || filled >= fileBytes) linesSeen += view[filled - 1] === 10 ? 0 : 1;
      }
      for (let nl = view.indexOf(10, start); nl >= 0; nl = view.indexOf(10, start)) {
        handleLine(view, start, nl);
        start = nl + 1;
      }
      if (eof) {
        if (start < filled) handleLine(view, start, filled);
        filled = 0;
      } else {
        buffer.copy(buffer, 0, start, filled);
        filled -= start;
      }
    }
  } finally {
    closeSync(fd);
  }
  utf8.end();
  return { builder, hash, utf8 };
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

/** Past this magnitude a column's sum of squares overflows double precision (its sd would be infinite). */
export const LARGEST_VALUE = 1e150;
/** Number() also reads hexadecimal, octal and binary literals; a data cell is decimal. */
const NOT_DECIMAL = /[xXoObB]/;

/** A cell as a number; `line` is asked for only when there is something to report. */
export function parseCell(cell: string, file: string, line: () => number, j: number, column: string): number {
  const v = Number(cell);
  // Number() reads surrounding spaces as part of the number, and a blank cell as 0.
  if (Number.isFinite(v) && (v !== 0 || cell.trim() !== '') && Math.abs(v) < LARGEST_VALUE && !NOT_DECIMAL.test(cell)) return v;
  const where = `${file}:${line()}:${j + 1}: column "${column}"`;
  cell = cell.trim();
  if (Number.isFinite(v) && NOT_DECIMAL.test(cell)) throw new UserError(`${where}: "${cell}" is not a decimal number`);
  if (Number.isFinite(v) && Math.abs(v) >= LARGEST_VALUE)
    throw new UserError(`${where}: ${cell} is too large in magnitude (at most 1e150: its square would overflow); rescale the column`);
  if (cell === '') throw new UserError(`${where}: empty cell (a missing value: data.missing drops or fills them)`);
  if (Number.isNaN(v)) {
    if (/^[+-]?nan$/i.test(cell)) throw new UserError(`${where}: NaN is not allowed`);
    throw new UserError(`${where}: "${cell}" is not a number`);
  }
  if (!Number.isFinite(v)) throw new UserError(`${where}: "${cell}" is infinite`);
  return v;
}

