// A data frame's columns as the model's features: rows with a gap dropped (data.missing: drop), categories as one
// indicator column per level (data.categorical, data.drop), gaps left as NaN for each fold to fill and an indicator
// column per column with gaps (data.missing_indicator). The encoding is kept with the sweep for new rows.
import { createHash } from 'node:crypto';
import { encodedNames, NA_VALUES, type EncodedColumn, type Encoding, type MissingRule } from '../domain.js';
import { UserError } from '../errors.js';
import { sharedFloat64 } from './dataset.js';
import { numericFill } from './imputation.js';

/** How a frame's columns are read (the data keys of the sweep file). */
export interface FrameOptions {
  /** auto: every text feature column; none: text is an error; a list: these columns (integer codes too). */
  categorical?: 'auto' | 'none' | string[];
  dropFirst?: boolean;
  maxLevels?: number;
  naValues?: string[];
  missing?: MissingRule;
  missingIndicator?: boolean;
}

const DEFAULT_MAX_LEVELS = 100;

/** Whether an option asks for something beyond reading numbers as they are (the data's hash then says which). */
function frameKey(options: FrameOptions & { weights?: string; ignore?: string[] }, categoricalColumns: string[], dropped: number): string | undefined {
  const plain = categoricalColumns.length === 0 && dropped === 0 && (options.missing ?? 'error') === 'error' && options.weights === undefined && !options.ignore?.length;
  if (plain) return undefined;
  return JSON.stringify({
    ...(options.weights !== undefined ? { weights: options.weights } : {}),
    ...(options.ignore?.length ? { ignore: options.ignore } : {}),
    categorical: categoricalColumns,
    dropFirst: !!options.dropFirst,
    naValues: options.naValues ?? null,
    missing: options.missing ?? 'error',
    missingIndicator: !!options.missingIndicator,
  });
}

/**
 * The data's hash with the frame options that change the design or the weights: the same file read with other
 * categories, gap rules or a weights column is other data (a shared store and the worker cache keep data by hash).
 * Plain numbers keep the file's hash.
 */
export function frameHash(fileHash: string, options: FrameOptions & { weights?: string; ignore?: string[] }, categoricalColumns: string[], dropped: number): string {
  const key = frameKey(options, categoricalColumns, dropped);
  return key === undefined ? fileHash : createHash('sha256').update(fileHash).update(key).digest('hex');
}

/** Every column a frame is made of: per row, NaN (a number) or null (text) for a gap. */
export interface FrameColumns {
  n: number;
  /** Arrays with one value per row: the features (n × p, column-major), numeric targets, the offset. */
  numeric: Float64Array[];
  /** Per-row texts: class labels, fold labels, and each categorical column's cells. */
  texts: (string | null)[][];
}

/** The rows to keep: those without a gap in any column. */
export function completeRows(columns: FrameColumns): { keep: Uint8Array; dropped: number } {
  const { n } = columns;
  const keep = new Uint8Array(n).fill(1);
  for (const a of columns.numeric) for (let k = 0; k < a.length; k++) if (Number.isNaN(a[k])) keep[k % n] = 0;
  for (const t of columns.texts) for (let i = 0; i < t.length; i++) if (t[i] === null) keep[i] = 0;
  let dropped = 0;
  for (let i = 0; i < n; i++) dropped += 1 - keep[i];
  return { keep, dropped };
}

/** A column-major array (n rows × some columns) with only the kept rows, on a SharedArrayBuffer. */
export function keptRows(a: Float64Array, n: number, keep: Uint8Array, kept: number): Float64Array {
  const columns = a.length / n;
  const out = sharedFloat64(kept * columns);
  for (let c = 0, at = 0; c < columns; c++) for (let i = 0; i < n; i++) if (keep[i]) out[at++] = a[c * n + i];
  return out;
}

export function keptTexts<T>(t: T[], keep: Uint8Array): T[] {
  return t.filter((_, i) => keep[i]);
}

/** Levels in sorted order: numbers by value (integer codes), other text as sorted strings. */
function sortedLevels(values: Iterable<string>): string[] {
  const levels = [...new Set(values)];
  if (levels.every((l) => l.trim() !== '' && Number.isFinite(Number(l)))) return levels.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  return levels.sort();
}

export interface EncodedFrame {
  X: Float64Array;
  p: number;
  featureNames: string[];
  encoding: Encoding | null;
  /** The columns that have gaps (filled by each fit). */
  gapped: string[];
}

/**
 * The design of the feature columns: numbers as they are, each category as indicators, gaps as NaN (each fit fills
 * them from its training rows) with their indicators. Unchanged (the same array) when there is nothing to encode.
 */
export function encodeFrame(
  name: string,
  names: string[],
  X: Float64Array,
  n: number,
  categories: Map<number, (string | null)[]>,
  options: FrameOptions,
): EncodedFrame {
  const rule = options.missing ?? 'error';
  const fills = rule !== 'error' && rule !== 'drop';
  const columns: EncodedColumn[] = [];
  const gapped: string[] = [];
  names.forEach((column, f) => {
    const cells = categories.get(f);
    if (cells) {
      const present = cells.filter((c): c is string => c !== null);
      const levels = sortedLevels(present);
      const most = options.maxLevels ?? DEFAULT_MAX_LEVELS;
      if (levels.length > most)
        throw new UserError(
          `${name}: column "${column}" has ${levels.length} levels, more than data.max_levels (${most}); raise it, or leave the column out (data.ignore${options.categorical === 'auto' || options.categorical === undefined ? '' : ', or data.categorical'})`,
        );
      const gap = present.length < n;
      if (gap) gapped.push(column);
      const counts = new Map<string, number>();
      for (const c of present) counts.set(c, (counts.get(c) ?? 0) + 1);
      let fill: string | null = null;
      if (fills) for (const l of levels) if (fill === null || counts.get(l)! > counts.get(fill)!) fill = l;
      columns.push({ name: column, kind: 'categorical', levels, dropFirst: !!options.dropFirst, fill: fills ? (fill ?? levels[0] ?? '') : null, indicator: gap && fills && !!options.missingIndicator });
    } else {
      const cells = X.subarray(f * n, (f + 1) * n);
      // The present values are gathered only for a fill: a wide file's columns are mostly without gaps.
      let gap = false;
      for (let i = 0; i < n && !gap; i++) gap = Number.isNaN(cells[i]);
      if (gap) gapped.push(column);
      columns.push({ name: column, kind: 'numeric', fill: fills ? numericFill(cells.filter((v) => !Number.isNaN(v)), rule) : null, indicator: gap && fills && !!options.missingIndicator });
    }
  });
  if (categories.size === 0 && gapped.length === 0)
    return { X, p: names.length, featureNames: names, encoding: fills ? { columns, naValues: [...(options.naValues ?? NA_VALUES)], missing: rule } : null, gapped };

  const featureNames = columns.flatMap(encodedNames);
  const repeated = featureNames.find((f, k) => featureNames.indexOf(f) !== k);
  if (repeated !== undefined) throw new UserError(`${name}: the encoded column "${repeated}" is made twice (a column of that name and a level of another); rename one`);
  const p = featureNames.length;
  const design = sharedFloat64(n * p);
  let at = 0;
  names.forEach((_, f) => {
    const column = columns[f];
    const cells = categories.get(f);
    let gaps: ((i: number) => boolean) | undefined;
    if (column.kind === 'categorical' && cells) {
      const first = column.dropFirst ? 1 : 0;
      const index = new Map(column.levels.map((l, k) => [l, k - first]));
      const width = column.levels.length - first;
      for (let i = 0; i < n; i++) {
        const cell = cells[i];
        if (cell === null) for (let k = 0; k < width; k++) design[(at + k) * n + i] = NaN;
        else {
          const k = index.get(cell)!;
          if (k >= 0) design[(at + k) * n + i] = 1;
        }
      }
      at += width;
      gaps = (i) => cells[i] === null;
    } else {
      design.set(X.subarray(f * n, (f + 1) * n), at * n);
      at += 1;
      gaps = (i) => Number.isNaN(X[f * n + i]);
    }
    if (column.indicator) {
      for (let i = 0; i < n; i++) design[at * n + i] = gaps(i) ? 1 : 0;
      at += 1;
    }
  });
  return { X: design, p, featureNames, encoding: { columns, naValues: [...(options.naValues ?? NA_VALUES)], missing: rule }, gapped };
}

/** What the encoding did, a line per kind, for the sweep's notes ("2 categorical columns, …: island (3 levels), sex (2 levels)"). */
export function encodingNotes(frame: Pick<EncodedFrame, 'encoding' | 'gapped'>, dropped: number, n: number): string[] {
  const notes: string[] = [];
  if (dropped > 0) notes.push(`${dropped} row${dropped > 1 ? 's' : ''} with a missing value dropped (data.missing: drop); ${n} left`);
  const { encoding, gapped } = frame;
  if (!encoding) return notes;
  const categorical = encoding.columns.flatMap((c) => (c.kind === 'categorical' ? [c] : []));
  if (categorical.length)
    notes.push(
      `${categorical.length} categorical column${categorical.length > 1 ? 's' : ''}, one indicator per level${categorical[0].dropFirst ? ' but the first' : ''}: ` +
        categorical.map((c) => `${c.name} (${c.levels.length} levels)`).join(', '),
    );
  if (gapped.length)
    notes.push(
      `gaps in ${gapped.join(', ')} filled by each fit from its training rows (${encoding.missing.replace('_', ' ')}; a category: its most frequent level)`,
    );
  return notes;
}
