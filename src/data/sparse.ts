// Sparse input: svmlight / libsvm files (`label index:value …` per line) and Matrix Market coordinate files (.mtx) with
// the target in a side file, read into compressed columns on SharedArrayBuffers (domain.ts SparseColumns).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { extname } from 'node:path';
import type { SparseColumns } from '../domain.js';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';
import { displayPath } from '../util/paths.js';
import { assembleDataset, type ColumnOptions } from './columns.js';
import { loadCsv } from './csv.js';
import { sharedFloat64, sharedInt32, type Dataset } from './dataset.js';
import { LARGEST_VALUE } from './cells.js';

export type SparseFormat = 'svmlight' | 'matrix-market';

/** A sparse data file by its name: .svm, .svmlight, .libsvm or .mtx. */
export function sparseFormat(path: string): SparseFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.svm' || ext === '.svmlight' || ext === '.libsvm') return 'svmlight';
  if (ext === '.mtx') return 'matrix-market';
  return undefined;
}

export interface SparseOptions extends ColumnOptions {
  /** data.target_path: a CSV of the target (and fold, weights, offset columns), one row per matrix row. */
  targetPath?: string;
  /** data.feature_names: one name per line, one per column of the matrix. */
  featureNamesPath?: string;
}

/**
 * Bytes read at a time: each chunk's text a young string, collected at once; 4 MB chunks were large objects that
 * stayed until a full collection, which a sweep's main thread may never run.
 */
const CHUNK_BYTES = 1 << 16;

/** Calls `line(text, number)` for each line of the file, feeding every byte to `hash`. */
function eachLine(path: string, hash: Hash, line: (text: string, number: number) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    let carry = '';
    let number = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      // A multi-byte character cut at the chunk's end stays in the carry as its bytes.
      const text = carry + buffer.toString('latin1', 0, read);
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        line(text.slice(start, end), ++number);
        start = end + 1;
      }
      carry = text.slice(start);
    }
    if (carry !== '') line(carry, ++number);
  } finally {
    closeSync(fd);
  }
}

/** An entry given twice (found when the columns are compressed): its row and column, 0-based. */
class DuplicateEntry {
  constructor(
    readonly row: number,
    readonly column: number,
  ) {}
}

/**
 * Nonzero entries as they are read (row, column, value), grown as needed — or, when the file says how many and the
 * matrix's columns, sized once on SharedArrayBuffers: then a file in column order (as R's Matrix::writeMM writes one)
 * is its compressed columns already, and its entries' columns are only counted.
 */
class Triplets {
  rows: Int32Array;
  values: Float64Array;
  count = 0;
  /** Each entry's column; absent while a sized file's entries come column by column (`perColumn` counts them). */
  private columns: Int32Array | undefined;
  /** A sized file's entries per column j at j + 1: the columns' starts once summed. */
  private readonly perColumn: Int32Array | undefined;
  private lastRow = -1;
  private lastColumn = -1;

  constructor(size?: { entries: number; p: number }) {
    const length = Math.max(1, size?.entries ?? 1 << 16);
    this.rows = size ? sharedInt32(length) : new Int32Array(length);
    this.values = size ? sharedFloat64(length) : new Float64Array(length);
    if (size) this.perColumn = sharedInt32(size.p + 1);
    else this.columns = new Int32Array(length);
  }

  push(row: number, column: number, value: number): void {
    if (!this.columns) {
      if (column > this.lastColumn || (column === this.lastColumn && row > this.lastRow)) {
        this.perColumn![column + 1]++;
        this.lastRow = row;
        this.lastColumn = column;
        this.rows[this.count] = row;
        this.values[this.count++] = value;
        return;
      }
      this.columns = this.columnsSoFar();
    }
    if (this.count === this.rows.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as { new (n: number): T })(a.length * 2);
        b.set(a);
        return b;
      };
      this.rows = grow(this.rows);
      this.columns = grow(this.columns);
      this.values = grow(this.values);
    }
    this.rows[this.count] = row;
    this.columns[this.count] = column;
    this.values[this.count] = value;
    this.count++;
  }

  /** Every column index moved by `by` (an svmlight file's 1-based indices made 0-based). */
  shiftColumns(by: number): void {
    const columns = this.columns ?? (this.columns = this.columnsSoFar());
    for (let k = 0; k < this.count; k++) columns[k] += by;
  }

  /** The columns of the entries read in column order so far, from their counts. */
  private columnsSoFar(): Int32Array {
    const columns = new Int32Array(this.rows.length);
    const perColumn = this.perColumn!;
    for (let j = 0, k = 0; j + 1 < perColumn.length; j++) {
      columns.fill(j, k, k + perColumn[j + 1]);
      k += perColumn[j + 1];
    }
    return columns;
  }

  /**
   * Compressed columns of a p-column matrix, rows ascending within each column (entries are placed by a counting sort on
   * their column, so a file in row or column order needs no other sorting); throws DuplicateEntry for a (row, column)
   * given twice.
   */
  compress(p: number): SparseColumns {
    const { count, columns } = this;
    if (!columns) {
      const starts = this.perColumn!;
      for (let j = 0; j < p; j++) starts[j + 1] += starts[j];
      if (count === this.rows.length) return { values: this.values, rows: this.rows, starts };
      // Fewer than the size line's entries (explicit zeros are not kept): arrays of their own length.
      const rows = sharedInt32(count);
      const values = sharedFloat64(count);
      rows.set(this.rows.subarray(0, count));
      values.set(this.values.subarray(0, count));
      return { values, rows, starts };
    }
    const starts = sharedInt32(p + 1);
    for (let k = 0; k < count; k++) starts[columns[k] + 1]++;
    for (let j = 0; j < p; j++) starts[j + 1] += starts[j];
    const next = Int32Array.from(starts.subarray(0, p));
    const rows = sharedInt32(count);
    const values = sharedFloat64(count);
    for (let k = 0; k < count; k++) {
      const at = next[columns[k]]++;
      rows[at] = this.rows[k];
      values[at] = this.values[k];
    }
    for (let j = 0; j < p; j++) {
      const from = starts[j];
      const to = starts[j + 1];
      let sorted = true;
      for (let a = from + 1; a < to && sorted; a++) sorted = rows[a] > rows[a - 1];
      if (sorted) continue;
      const order = Array.from({ length: to - from }, (_, a) => from + a).sort((a, b) => rows[a] - rows[b] || a - b);
      const columnRows = order.map((a) => rows[a]);
      const columnValues = order.map((a) => values[a]);
      for (let a = 0; a < order.length; a++) {
        if (a > 0 && columnRows[a] === columnRows[a - 1]) throw new DuplicateEntry(columnRows[a], j);
        rows[from + a] = columnRows[a];
        values[from + a] = columnValues[a];
      }
    }
    return { values, rows, starts };
  }
}

/** A value of the file as a number, or one line naming where it is and what is wrong. */
function parseValue(text: string, where: () => string): number {
  const v = Number(text);
  if (text === '' || !Number.isFinite(v) || /[xXoObB]/.test(text)) {
    if (/^[+-]?nan$/i.test(text)) throw new UserError(`${where()}: NaN is not allowed`);
    if (Number.isFinite(v)) throw new UserError(`${where()}: "${text}" is not a decimal number`);
    throw new UserError(`${where()}: "${text}" is not a number`);
  }
  if (Math.abs(v) >= LARGEST_VALUE) throw new UserError(`${where()}: ${text} is too large in magnitude (at most 1e150: its square would overflow); rescale the column`);
  return v;
}

/** An index of the file: a non-negative integer below 2^31. */
function parseIndex(text: string, where: () => string, what: string): number {
  const v = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(v) || v >= 2 ** 31 - 1) throw new UserError(`${where()}: ${what} "${text}" is not a non-negative integer`);
  return v;
}

interface SvmlightRead {
  triplets: Triplets;
  labels: string[];
  /** The largest index read, and whether any is 0 (then indices are 0-based, as scikit-learn's load_svmlight_file detects). */
  largest: number;
  zeroBased: boolean;
}

/** Reads an svmlight / libsvm file: per line a label, then `index:value` pairs with indices strictly increasing. */
function readSvmlight(path: string, name: string, hash: Hash, counts: boolean): SvmlightRead {
  const triplets = new Triplets();
  const labels: string[] = [];
  let largest = -1;
  let zeroBased = false;
  eachLine(path, hash, (raw, line) => {
    const hashAt = raw.indexOf('#');
    const text = (hashAt >= 0 ? raw.slice(0, hashAt) : raw).trim();
    if (text === '') return;
    const tokens = text.split(/[ \t]+/);
    const row = labels.length;
    const label = tokens[0];
    if (label.includes(':')) throw new UserError(`${name}:${line}: the line starts with "${label}"; each line starts with its label, then index:value pairs`);
    const value = parseValue(label, () => `${name}:${line}: label`);
    if (counts && !(Number.isInteger(value) && value >= 0)) throw new UserError(`${name}:${line}: label ${label} is not a count (a poisson model needs non-negative integers)`);
    labels.push(Buffer.from(label, 'latin1').toString('utf8'));
    let previous = -1;
    for (let t = 1; t < tokens.length; t++) {
      const token = tokens[t];
      const colon = token.indexOf(':');
      if (colon < 0) throw new UserError(`${name}:${line}: "${token}" is not index:value`);
      const key = token.slice(0, colon);
      if (key === 'qid') throw new UserError(`${name}:${line}: qid (a ranking query id) is not read; remove the qid:… fields`);
      const where = () => `${name}:${line}: "${token}"`;
      const index = parseIndex(key, where, 'index');
      if (index <= previous)
        throw new UserError(index === previous ? `${name}:${line}: index ${index} appears twice on the line` : `${name}:${line}: index ${index} after ${previous}: indices on a line are increasing`);
      previous = index;
      const value = parseValue(token.slice(colon + 1), where);
      if (index === 0) zeroBased = true;
      if (index > largest) largest = index;
      if (value !== 0) triplets.push(row, index, value);
    }
  });
  return { triplets, labels, largest, zeroBased };
}

/**
 * Reads a Matrix Market coordinate file (real, integer or pattern; general), every line checked: `onSize` gets the
 * number of entries the size line gives (and the columns), `onEntry` each entry (0-based row and column) with its line.
 */
function scanMatrixMarket(path: string, name: string, hash: Hash, onSize: (entries: number, p: number) => void, onEntry: (row: number, column: number, value: number, line: number) => void): { n: number; p: number } {
  let size: { n: number; p: number; entries: number; line: number } | undefined;
  let pattern = false;
  let seen = 0;
  eachLine(path, hash, (raw, line) => {
    const text = raw.trim();
    if (line === 1) {
      const banner = text.toLowerCase().split(/\s+/);
      if (banner[0] !== '%%matrixmarket' || banner[1] !== 'matrix')
        throw new UserError(`${name}:1: not a Matrix Market file (the first line is "%%MatrixMarket matrix coordinate real general")`);
      if (banner[2] !== 'coordinate') throw new UserError(`${name}:1: a Matrix Market "${banner[2]}" file; a sparse matrix is "coordinate" (write it with Matrix::writeMM or scipy.io.mmwrite)`);
      if (!['real', 'integer', 'pattern', 'double'].includes(banner[3])) throw new UserError(`${name}:1: "${banner[3]}" entries are not read; real, integer and pattern are`);
      if (banner[4] !== 'general') throw new UserError(`${name}:1: a "${banner[4]}" matrix is not read; write it as "general" (every entry stored)`);
      pattern = banner[3] === 'pattern';
      return;
    }
    if (text === '' || text.startsWith('%')) return;
    const tokens = text.split(/\s+/);
    const where = () => `${name}:${line}`;
    if (!size) {
      if (tokens.length !== 3) throw new UserError(`${where()}: expected the size line "rows columns entries", found "${text}"`);
      const [n, p, entries] = tokens.map((t) => parseIndex(t, where, 'size'));
      size = { n, p, entries, line };
      onSize(entries, p);
      return;
    }
    if (tokens.length !== (pattern ? 2 : 3)) throw new UserError(`${where()}: expected "row column${pattern ? '' : ' value'}", found "${text}"`);
    const i = parseIndex(tokens[0], where, 'row');
    const j = parseIndex(tokens[1], where, 'column');
    if (i < 1 || i > size.n) throw new UserError(`${where()}: row ${i} is outside 1 … ${size.n} (the size line ${size.line})`);
    if (j < 1 || j > size.p) throw new UserError(`${where()}: column ${j} is outside 1 … ${size.p} (the size line ${size.line})`);
    const value = pattern ? 1 : parseValue(tokens[2], () => `${where()}: value`);
    seen++;
    if (seen > size.entries) throw new UserError(`${where()}: more entries than the ${size.entries} the size line ${size.line} gives`);
    onEntry(i - 1, j - 1, value, line);
  });
  if (!size) throw new UserError(`${name}: the file is empty (no size line)`);
  if (seen !== size.entries) throw new UserError(`${name}: ${seen} entries, but the size line ${size.line} gives ${size.entries}`);
  if (size.n === 0) throw new UserError(`${name}: the matrix has no rows`);
  return { n: size.n, p: size.p };
}

/** A Matrix Market file's nonzero entries. */
function readMatrixMarket(path: string, name: string, hash: Hash): { triplets: Triplets; n: number; p: number } {
  let triplets: Triplets | undefined;
  const { n, p } = scanMatrixMarket(
    path,
    name,
    hash,
    // Sized once: the size line says how many entries follow (a file that gives more is refused).
    (entries, columns) => (triplets = new Triplets({ entries, p: columns })),
    (row, column, value) => {
      if (value !== 0) triplets!.push(row, column, value);
    },
  );
  return { triplets: triplets!, n, p };
}

/** A Matrix Market file's entries as compressed columns; an entry given twice is refused with the two lines that give it. */
function matrixMarketColumns(path: string, name: string, read: { triplets: Triplets; p: number }): SparseColumns {
  try {
    return read.triplets.compress(read.p);
  } catch (e) {
    if (!(e instanceof DuplicateEntry)) throw e;
    // Rare: the file is read again for the lines, rather than every entry's line kept while reading.
    const lines: number[] = [];
    scanMatrixMarket(path, name, createHash('sha256'), () => undefined, (row, column, value, line) => {
      if (value !== 0 && row === e.row && column === e.column) lines.push(line);
    });
    throw new UserError(`${name}: lines ${lines[0]} and ${lines[1]} both give row ${e.row + 1}, column ${e.column + 1}; each entry appears once`);
  }
}

/** data.feature_names: one per line (a trailing empty line is not a name); as many as the matrix has columns. */
function readFeatureNames(path: string, p: number, hash: Hash): string[] {
  const name = displayPath(path);
  requireRegularFile(path, name, 'feature names file (data.feature_names)');
  const text = readFileSync(path, 'utf8');
  hash.update(text);
  const names = text.split(/\r?\n/);
  if (names[names.length - 1] === '') names.pop();
  if (names.length !== p) throw new UserError(`${name}: ${names.length} names for the ${p} columns of the matrix (data.feature_names: one per line)`);
  const seen = new Map<string, number>();
  names.forEach((n, k) => {
    if (n.trim() === '') throw new UserError(`${name}:${k + 1}: an empty feature name`);
    if (seen.has(n)) throw new UserError(`${name}:${k + 1}: "${n}" is also the name on line ${seen.get(n)! + 1}`);
    seen.set(n, k);
  });
  return names;
}

/** A sparse file's design alone (for predictions): its compressed columns, rows and columns; labels are not read as a target. */
export function readSparseDesign(path: string, format: SparseFormat, name: string): { sparse: SparseColumns; n: number; p: number } {
  requireRegularFile(path, name, 'data file');
  const hash = createHash('sha256');
  if (format === 'matrix-market') {
    const read = readMatrixMarket(path, name, hash);
    return { sparse: matrixMarketColumns(path, name, read), n: read.n, p: read.p };
  }
  return svmlightColumns(readSvmlight(path, name, hash, false), name);
}

/**
 * An svmlight file's entries as compressed columns: indices made 0-based (the file's are 1-based unless one is 0),
 * as many columns as the largest index; `firstIndex` is the file's index of column 0.
 */
function svmlightColumns(read: SvmlightRead, name: string): { sparse: SparseColumns; n: number; p: number; firstIndex: number } {
  const n = read.labels.length;
  if (n === 0) throw new UserError(`${name}: the file is empty`);
  const firstIndex = read.zeroBased ? 0 : 1;
  const p = Math.max(0, read.largest + 1 - firstIndex);
  if (firstIndex) read.triplets.shiftColumns(-1);
  return { sparse: read.triplets.compress(p), n, p, firstIndex };
}

/** A sparse data file as a Dataset: X empty, the design in `sparse`. */
export async function loadSparse(path: string, format: SparseFormat, options: SparseOptions): Promise<Dataset> {
  const name = options.displayName ?? path;
  requireRegularFile(path, name, 'data file');
  const hash = createHash('sha256').update(`sparse:${format}\n`);
  let base: Dataset;
  let sparse: SparseColumns;
  let p: number;
  let defaultNames: (j: number) => string;
  if (format === 'svmlight') {
    if (options.targetPath !== undefined) throw new UserError(`${name}: data.target_path: an svmlight file has its labels on each line; data.target_path is for Matrix Market files`);
    for (const [key, given] of [['data.weights', options.weights], ['data.offset', options.offset], ['validation.column', options.foldColumn]] as const)
      if (given !== undefined) throw new UserError(`${name}: ${key}: an svmlight file has no columns besides its label; give the matrix as a Matrix Market file with data.target_path`);
    const read = readSvmlight(path, name, hash, !!options.counts);
    const columns = svmlightColumns(read, name);
    const { n, firstIndex } = columns;
    ({ sparse, p } = columns);
    defaultNames = (j) => `f${j + firstIndex}`;
    const classification = !!options.classification;
    const y = sharedFloat64(n);
    if (!classification) read.labels.forEach((label, i) => (y[i] = Number(label)));
    const target = typeof options.target === 'string' ? options.target : 'label';
    base = assembleDataset(
      { header: [target], options: { ...options, target }, targetIdx: [0], featureIdx: [], offsetIdx: -1, foldIdx: -1, weightsIdx: -1, n, X: sharedFloat64(0), y, labels: read.labels, foldLabels: [], categories: new Map() },
      name,
      '',
      [],
    );
  } else {
    if (options.targetPath === undefined) throw new UserError(`${name}: a Matrix Market file holds the features only; give the target's file as data.target_path`);
    const read = readMatrixMarket(path, name, hash);
    p = read.p;
    sparse = matrixMarketColumns(path, name, read);
    defaultNames = (j) => `f${j + 1}`;
    base = await loadCsv(options.targetPath, { ...options, displayName: displayPath(options.targetPath), noFeatures: true });
    if (base.n !== read.n) throw new UserError(`${base.source}: ${base.n} rows, but the matrix ${name} has ${read.n}`);
    hash.update(base.hash);
  }
  if (base.outputs !== 1) throw new UserError(`${name}: a sparse design takes one target column`);
  const featureNames = options.featureNamesPath !== undefined ? readFeatureNames(options.featureNamesPath, p, hash) : Array.from({ length: p }, (_, j) => defaultNames(j));
  if (p === 0) throw new UserError(`${name}: no feature has a value (every line holds a label only)`);
  hash.update(JSON.stringify({ classes: base.classes ?? null, counts: !!options.counts }));
  const empty = countEmpty(sparse, p);
  return {
    ...base,
    p,
    X: sharedFloat64(0),
    sparse,
    featureNames,
    source: name,
    hash: hash.digest('hex'),
    warnings: [...base.warnings, ...(empty ? [`${name}: ${empty} of ${p} columns have no nonzero value (kept with coefficient 0)`] : [])],
  };
}

function countEmpty(sparse: SparseColumns, p: number): number {
  let empty = 0;
  for (let j = 0; j < p; j++) if (sparse.starts[j + 1] === sparse.starts[j]) empty++;
  return empty;
}
