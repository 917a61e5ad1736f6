import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import Papa from 'papaparse';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';
import { constantColumnsNote, sharedFloat64, type Dataset } from './dataset.js';

export interface CsvOptions {
  /** Target column(s); default: the last column. */
  target?: string | string[];
  /** Class labels: K distinct values mapped to 0 … K − 1. */
  classification?: boolean;
  /** The labels in class order ([negative, positive] for two); default: sorted (numeric 0/1 stay as they are). */
  classes?: string[];
  /** Exactly two classes (a binomial model): more is an error. */
  binary?: boolean;
  /** The target holds counts: non-negative integers. */
  counts?: boolean;
  /** A column read as the offset (not a feature). */
  offset?: string;
  /** A column read as each row's fold label (not a feature). */
  foldColumn?: string;
  /** The name used in messages; default: the path. */
  displayName?: string;
}

/**
 * Data rows, counted before parsing so that the shared matrix is allocated once at its final size (a growing
 * buffer would hold up to three copies of the data at its peak). Exact for plain numeric CSV; a quoted field
 * spanning lines makes it an overestimate, handled by one compacting copy at the end.
 */
function countDataLines(bytes: Buffer): number {
  let lines = 0;
  let blank = true;
  for (let k = 0; k < bytes.length; k++) {
    const c = bytes[k];
    if (c === 10) {
      if (!blank) lines++;
      blank = true;
    } else if (blank && c !== 13 && c !== 32 && c !== 9) blank = false;
  }
  if (!blank) lines++;
  return Math.max(0, lines - 1);
}

/** 3 when the bytes start with a UTF-8 byte order mark, else 0. */
function byteOrderMarkLength(bytes: Buffer): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/** The file as text in pieces of 8 MB (a single string is limited to 512 MB), without a byte order mark. */
function* decodedChunks(bytes: Buffer): Generator<string> {
  const decoder = new StringDecoder('utf8');
  const start = byteOrderMarkLength(bytes);
  for (let offset = start; offset < bytes.length; offset += 1 << 23) yield decoder.write(bytes.subarray(offset, offset + (1 << 23)));
  const rest = decoder.end();
  if (rest) yield rest;
}

/**
 * 1-based line of the first non-blank character at or after character `position` of the decoded text (where a
 * record starts once the blank lines the parser skipped are passed). Runs over the file once; for messages only.
 */
function lineAt(bytes: Buffer, position: number): number {
  let line = 1;
  let seen = 0;
  for (const chunk of decodedChunks(bytes)) {
    for (let k = 0; k < chunk.length; k++, seen++) {
      const c = chunk.charCodeAt(k);
      if (seen >= position && c !== 10 && c !== 13 && c !== 32 && c !== 9) return line;
      if (c === 10) line++;
    }
  }
  return line;
}

/** Nothing but whitespace (and a UTF-8 byte order mark), checked on the bytes: a string copy of a large file is not free. */
function isBlank(bytes: Buffer): boolean {
  const start = byteOrderMarkLength(bytes);
  for (let k = start; k < bytes.length; k++) {
    const c = bytes[k];
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

/** The first `rows` rows of a column-major matrix allocated with `capacity` rows. */
function compact(m: Float64Array, capacity: number, rows: number, columns: number): Float64Array {
  if (rows === capacity) return m;
  const out = sharedFloat64(rows * columns);
  for (let j = 0; j < columns; j++) out.set(m.subarray(j * capacity, j * capacity + rows), j * rows);
  return out;
}

/**
 * Loads a CSV with a header row into a column-major Float64Array on a SharedArrayBuffer.
 * Every problem is one UserError naming file:line:column.
 */
export async function loadCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  const name = options.displayName ?? path;
  requireRegularFile(path, name, 'data file');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${name}: cannot read the data file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (isBlank(bytes)) throw new UserError(`${name}: the file is empty`);
  const hash = createHash('sha256').update(bytes).digest('hex');

  const capacity = countDataLines(bytes);
  let header: string[] | undefined;
  let targetIdx: number[] = [];
  let featureIdx: number[] = [];
  let offsetIdx = -1;
  let foldIdx = -1;
  let offset: Float64Array | undefined;
  const foldLabels: string[] = [];
  let X: Float64Array = sharedFloat64(0);
  let y: Float64Array = sharedFloat64(0);
  const labels: string[] = [];
  let rows = 0;
  // Papa Parse reports where each record ends (in characters); the line number is worked out from that only when a
  // message needs it, so the common path pays nothing for it.
  let recordStart = 0;
  const line = () => lineAt(bytes, recordStart);
  const handle = (record: string[], errors: Papa.ParseError[]) => {
    if (errors.length) throw new UserError(`${name}:${line()}: malformed CSV: ${errors[0].message}`);
    if (!header) {
      header = record.map((h) => h.trim());
      ({ targetIdx, featureIdx, offsetIdx, foldIdx } = resolveColumns(header, options, `${name}:${line()}`));
      X = sharedFloat64(capacity * featureIdx.length);
      y = sharedFloat64(capacity * targetIdx.length);
      if (offsetIdx >= 0) offset = sharedFloat64(capacity);
      return;
    }
    if (record.length !== header.length)
      throw new UserError(`${name}:${line()}: expected ${header.length} fields as in the header, found ${record.length}`);
    if (rows === capacity) throw new Error(`${name}: more records than lines`);
    for (let f = 0; f < featureIdx.length; f++) {
      const j = featureIdx[f];
      X[f * capacity + rows] = parseCell(record[j], name, line, j, header[j]);
    }
    if (options.classification) {
      const cell = record[targetIdx[0]].trim();
      if (cell === '') throw new UserError(`${name}:${line()}:${targetIdx[0] + 1}: column "${header[targetIdx[0]]}": empty label`);
      labels.push(cell);
    } else {
      for (let k = 0; k < targetIdx.length; k++) {
        const j = targetIdx[k];
        const v = (y[k * capacity + rows] = parseCell(record[j], name, line, j, header[j]));
        if (options.counts && !(Number.isInteger(v) && v >= 0))
          throw new UserError(`${name}:${line()}:${j + 1}: column "${header[j]}": ${record[j].trim()} is not a count (a poisson model needs non-negative integers)`);
      }
    }
    if (offset) offset[rows] = parseCell(record[offsetIdx], name, line, offsetIdx, header[offsetIdx]);
    if (foldIdx >= 0) {
      const cell = record[foldIdx].trim();
      if (cell === '') throw new UserError(`${name}:${line()}:${foldIdx + 1}: column "${header[foldIdx]}": empty fold label`);
      foldLabels.push(cell);
    }
    rows++;
  };
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    Papa.parse<string[]>(Readable.from(decodedChunks(bytes)) as unknown as Papa.LocalFile, {
      // Comma-separated, as before: Papa Parse would otherwise guess the delimiter from the first rows.
      delimiter: ',',
      skipEmptyLines: 'greedy',
      step(result, parser) {
        if (failed) return;
        try {
          handle(result.data, result.errors);
          recordStart = result.meta.cursor;
        } catch (e) {
          failed = true;
          // Rejected before abort(), which calls complete() at once.
          reject(e);
          parser.abort();
        }
      },
      complete: () => resolve(),
      error: (e) => reject(e),
    });
  });
  if (!header) throw new UserError(`${name}: the file is empty`);
  if (rows === 0) throw new UserError(`${name}: a header but no data rows`);

  const p = featureIdx.length;
  const n = rows;
  X = compact(X, capacity, n, p);
  const outputs = targetIdx.length;
  y = compact(y, capacity, n, outputs);
  let classes: string[] | undefined;
  if (options.classification) {
    const targetName = header[targetIdx[0]];
    classes = classLabels(labels, options.classes, `${name}: column "${targetName}"`, n, options.binary ?? false);
    const code = new Map(classes.map((c, k) => [c, k]));
    for (let i = 0; i < n; i++) y[i] = code.get(labels[i])!;
  }
  const featureNames = featureIdx.map((j) => header![j]);
  const warnings: string[] = [];
  if (!isUtf8(bytes)) warnings.push(`${name}:${firstInvalidUtf8Line(bytes)}: not valid UTF-8 (read as U+FFFD); save the file as UTF-8`);
  const constantNote = constantColumnsNote(X, n, featureNames);
  if (constantNote) warnings.push(`${name}: ${constantNote}`);
  return {
    n,
    p,
    X,
    y,
    outputs,
    featureNames,
    targetNames: targetIdx.map((j) => header![j]),
    classes,
    ...(offset ? { offset: compact(offset, capacity, n, 1) } : {}),
    ...(foldIdx >= 0 ? { foldLabels } : {}),
    source: name,
    hash,
    warnings,
  };
}

/** Column name → index; an empty or repeated name is an error at `where` (file:line). */
export function headerIndex(header: string[], where: string): Map<string, number> {
  const seen = new Map<string, number>();
  header.forEach((h, j) => {
    if (h === '') throw new UserError(`${where}:${j + 1}: the header has an empty column name`);
    if (seen.has(h)) throw new UserError(`${where}:${j + 1}: column name "${h}" appears twice in the header`);
    seen.set(h, j);
  });
  return seen;
}

function resolveColumns(header: string[], options: CsvOptions, where: string) {
  const seen = headerIndex(header, where);
  const target = options.target;
  const column = (name: string, what: string) => {
    const j = seen.get(name);
    if (j === undefined) throw new UserError(`${where}: ${what} column "${name}" is not in the header (columns: ${header.join(', ')})`);
    return j;
  };
  const wanted = target === undefined ? [header[header.length - 1]] : Array.isArray(target) ? target : [target];
  const targetIdx = wanted.map((t) => column(t, 'target'));
  const offsetIdx = options.offset !== undefined ? column(options.offset, 'offset (data.offset)') : -1;
  const foldIdx = options.foldColumn !== undefined ? column(options.foldColumn, 'fold (validation.column)') : -1;
  for (const [idx, what] of [[offsetIdx, 'data.offset'], [foldIdx, 'validation.column']] as const)
    if (idx >= 0 && targetIdx.includes(idx)) throw new UserError(`${where}: ${what} names "${header[idx]}", which is the target`);
  if (offsetIdx >= 0 && offsetIdx === foldIdx) throw new UserError(`${where}: data.offset and validation.column name the same column "${header[offsetIdx]}"`);
  const featureIdx = header.map((_, j) => j).filter((j) => !targetIdx.includes(j) && j !== offsetIdx && j !== foldIdx);
  if (featureIdx.length === 0) throw new UserError(`${where}: no feature columns besides the target`);
  return { targetIdx, featureIdx, offsetIdx, foldIdx };
}

/** Past this magnitude a column's sum of squares overflows double precision (its sd would be infinite). */
const LARGEST_VALUE = 1e150;
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
  if (cell === '') throw new UserError(`${where}: empty cell (missing values are not supported; impute or drop the row)`);
  if (Number.isNaN(v)) {
    if (/^[+-]?nan$/i.test(cell)) throw new UserError(`${where}: NaN is not allowed`);
    throw new UserError(`${where}: "${cell}" is not a number`);
  }
  if (!Number.isFinite(v)) throw new UserError(`${where}: "${cell}" is infinite`);
  return v;
}

/** 1-based line of the first byte sequence that is not UTF-8. */
function firstInvalidUtf8Line(bytes: Buffer): number {
  // Bisect on the longest valid prefix (a prefix may end inside a character: back off up to 3 bytes).
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    let ok = false;
    for (let back = 0; back < 4 && !ok; back++) ok = mid - back >= lo && isUtf8(bytes.subarray(0, mid - back));
    if (ok) lo = mid;
    else hi = mid;
  }
  let line = 1;
  for (let k = 0; k < lo; k++) if (bytes[k] === 10) line++;
  return line;
}

/** A classification target has a few labels; more looks like a numeric column given to a classifier. */
const MAX_CLASSES = 100;

/**
 * Distinct labels in class order. Given classes must be exactly the labels in the column. Otherwise numeric 0/1 keep
 * their meaning, numbers sort by value, and other labels in sorted order, as R's factor levels.
 */
export function classLabels(labels: string[], given: string[] | undefined, where: string, n: number, binary: boolean): string[] {
  const distinct = [...new Set(labels)];
  const shown = distinct.slice(0, 5).map((v) => `"${v}"`).join(', ') + (distinct.length > 5 ? ', ...' : '');
  if (distinct.length < 2) throw new UserError(`${where}: a classification model needs at least two distinct labels, found ${distinct.length}${distinct.length ? ` (${shown})` : ''}`);
  if (binary && distinct.length !== 2)
    throw new UserError(`${where}: a binomial model needs exactly two distinct labels, found ${distinct.length} (${shown}); model.kind logistic fits more than two as multinomial`);
  if (distinct.length > 2 && distinct.length > Math.min(MAX_CLASSES, n / 2))
    throw new UserError(`${where}: ${distinct.length} distinct labels in ${n} rows (${shown}): a classification target has a few; for a numeric target use model.kind linear or poisson`);
  if (given) {
    for (const g of given)
      if (!distinct.includes(g)) throw new UserError(`${where}: data.classes names "${g}", which is not a label in the column (labels: ${distinct.join(', ')})`);
    const missing = distinct.filter((d) => !given.includes(d));
    if (missing.length) throw new UserError(`${where}: label${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of the column ${missing.length > 1 ? 'are' : 'is'} not in data.classes (${given.join(', ')})`);
    if (new Set(given).size !== given.length) throw new UserError(`${where}: data.classes names a label twice`);
    return [...given];
  }
  const numeric = distinct.map(Number);
  if (distinct.length === 2 && numeric.every((v) => v === 0 || v === 1)) return numeric[0] === 0 ? [distinct[0], distinct[1]] : [distinct[1], distinct[0]];
  if (distinct.every((d) => d.trim() !== '' && Number.isFinite(Number(d)))) return [...distinct].sort((a, b) => Number(a) - Number(b));
  return [...distinct].sort();
}
