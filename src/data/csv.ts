import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse, CsvError } from 'csv-parse';
import { UserError } from '../errors.js';
import { sharedFloat64, type Dataset } from './dataset.js';

export interface CsvOptions {
  /** Target column(s); default: the last column. */
  target?: string | string[];
  /** Binary labels: two distinct values mapped to 0 and 1. */
  classification?: boolean;
  /** [negative, positive] labels; default: the two values in sorted order (numeric 0/1 stay as they are). */
  classes?: [string, string];
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

/** Nothing but whitespace (and a UTF-8 byte order mark), checked on the bytes: a string copy of a large file is not free. */
function isBlank(bytes: Buffer): boolean {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
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
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${name}: cannot read the data file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (isBlank(bytes)) throw new UserError(`${name}: the file is empty`);
  const hash = createHash('sha256').update(bytes).digest('hex');

  const capacity = countDataLines(bytes);
  const parser = parse(bytes, { info: true, trim: true, skip_empty_lines: true, relax_column_count: true, bom: true });
  let header: string[] | undefined;
  let targetIdx: number[] = [];
  let featureIdx: number[] = [];
  let X: Float64Array = sharedFloat64(0);
  let y: Float64Array = sharedFloat64(0);
  const labels: string[] = [];
  let rows = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (!header) {
        header = record;
        ({ targetIdx, featureIdx } = resolveColumns(header, options.target, `${name}:${line}`));
        X = sharedFloat64(capacity * featureIdx.length);
        y = sharedFloat64(capacity * targetIdx.length);
        continue;
      }
      if (record.length !== header.length)
        throw new UserError(`${name}:${line}: expected ${header.length} fields as in the header, found ${record.length}`);
      if (rows === capacity) throw new Error(`${name}: more records than lines`);
      featureIdx.forEach((j, f) => (X[f * capacity + rows] = parseCell(record[j], name, line, j, header![j])));
      if (options.classification) {
        const cell = record[targetIdx[0]];
        if (cell === '') throw new UserError(`${name}:${line}:${targetIdx[0] + 1}: column "${header[targetIdx[0]]}": empty label`);
        labels.push(cell);
      } else {
        targetIdx.forEach((j, k) => (y[k * capacity + rows] = parseCell(record[j], name, line, j, header![j])));
      }
      rows++;
    }
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines;
      throw new UserError(`${name}${line ? `:${line}` : ''}: malformed CSV: ${e.message}`);
    }
    throw e;
  }
  if (!header) throw new UserError(`${name}: the file is empty`);
  if (rows === 0) throw new UserError(`${name}: a header but no data rows`);

  const p = featureIdx.length;
  const n = rows;
  X = compact(X, capacity, n, p);
  const outputs = targetIdx.length;
  y = compact(y, capacity, n, outputs);
  let classes: [string, string] | undefined;
  if (options.classification) {
    const targetName = header[targetIdx[0]];
    classes = binaryClasses(labels, options.classes, `${name}: column "${targetName}"`);
    for (let i = 0; i < n; i++) y[i] = labels[i] === classes[1] ? 1 : 0;
  }
  const featureNames = featureIdx.map((j) => header![j]);
  const warnings: string[] = [];
  for (let j = 0; j < p; j++) {
    const first = X[j * n];
    let constant = true;
    for (let i = 1; i < n && constant; i++) constant = X[j * n + i] === first;
    if (constant) warnings.push(`${name}: column "${featureNames[j]}" is constant; it stays in with coefficient 0`);
  }
  return {
    n,
    p,
    X,
    y,
    outputs,
    featureNames,
    targetNames: targetIdx.map((j) => header![j]),
    classes,
    source: name,
    hash,
    warnings,
  };
}

function resolveColumns(header: string[], target: string | string[] | undefined, where: string) {
  const seen = new Map<string, number>();
  header.forEach((h, j) => {
    if (h === '') throw new UserError(`${where}:${j + 1}: the header has an empty column name`);
    if (seen.has(h)) throw new UserError(`${where}:${j + 1}: column name "${h}" appears twice in the header`);
    seen.set(h, j);
  });
  const wanted = target === undefined ? [header[header.length - 1]] : Array.isArray(target) ? target : [target];
  const targetIdx = wanted.map((t) => {
    const j = seen.get(t);
    if (j === undefined)
      throw new UserError(`${where}: target column "${t}" is not in the header (columns: ${header.join(', ')})`);
    return j;
  });
  const featureIdx = header.map((_, j) => j).filter((j) => !targetIdx.includes(j));
  if (featureIdx.length === 0) throw new UserError(`${where}: no feature columns besides the target`);
  return { targetIdx, featureIdx };
}

function parseCell(cell: string, file: string, line: number, j: number, column: string): number {
  const where = `${file}:${line}:${j + 1}: column "${column}"`;
  if (cell === '') throw new UserError(`${where}: empty cell (missing values are not supported; impute or drop the row)`);
  const v = Number(cell);
  if (Number.isNaN(v)) {
    if (/^[+-]?nan$/i.test(cell)) throw new UserError(`${where}: NaN is not allowed`);
    throw new UserError(`${where}: "${cell}" is not a number`);
  }
  if (!Number.isFinite(v)) throw new UserError(`${where}: "${cell}" is infinite`);
  return v;
}

/** Two distinct labels → [negative, positive]. Numeric 0/1 keep their meaning; otherwise sorted order, as R's factor levels. */
function binaryClasses(labels: string[], given: [string, string] | undefined, where: string): [string, string] {
  const distinct = [...new Set(labels)];
  if (distinct.length !== 2) {
    const shown = distinct.slice(0, 5).map((v) => `"${v}"`).join(', ');
    throw new UserError(
      `${where}: a logistic model needs exactly two distinct labels, found ${distinct.length}${distinct.length ? ` (${shown}${distinct.length > 5 ? ', ...' : ''})` : ''}`,
    );
  }
  if (given) {
    for (const g of given)
      if (!distinct.includes(g)) throw new UserError(`${where}: data.classes names "${g}", which is not a label in the column (labels: ${distinct.join(', ')})`);
    return given;
  }
  const numeric = distinct.map(Number);
  if (numeric.every((v) => v === 0 || v === 1)) return numeric[0] === 0 ? [distinct[0], distinct[1]] : [distinct[1], distinct[0]];
  return [...distinct].sort() as [string, string];
}
