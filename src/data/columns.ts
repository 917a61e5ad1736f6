// What the columns of a data file are read as (features, targets, labels, an offset, fold labels), the same for CSV,
// Parquet and Arrow, and the Dataset made of them.
import { UserError } from '../errors.js';
import { constantColumnsNote, sharedFloat64, type ColumnMajor, type Dataset } from './dataset.js';

export interface ColumnOptions {
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

/** The roles of a file's columns: target(s), features, and the offset and fold columns (−1 when absent). */
export function resolveColumns(header: string[], options: ColumnOptions, where: string) {
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

/** What a loader read: the header, the columns' roles, and the arrays (n rows; y empty for labels, coded here). */
export interface LoadedColumns {
  header: string[];
  options: ColumnOptions;
  targetIdx: number[];
  featureIdx: number[];
  offsetIdx: number;
  foldIdx: number;
  n: number;
  X: Float64Array;
  y: Float64Array;
  offset?: Float64Array;
  labels: string[];
  foldLabels: string[];
}

/**
 * A loader's column arrays trimmed to the n rows read, with the roles and labels: the arrays are the features, then
 * the numeric targets (none for a label, coded in assembleDataset into y made here), then the offset.
 */
export function loadedColumns(
  read: Omit<LoadedColumns, 'n' | 'X' | 'y' | 'offset'>,
  arrays: ColumnMajor[],
  n: number,
): LoadedColumns {
  const [X, ...rest] = arrays.map((a) => a.finish(n));
  const y = read.options.classification ? sharedFloat64(n) : rest.shift()!;
  const { header, options, targetIdx, featureIdx, offsetIdx, foldIdx, labels, foldLabels } = read;
  return { header, options, targetIdx, featureIdx, offsetIdx, foldIdx, n, X, y, offset: rest[0], labels, foldLabels };
}

/** The loaded columns as a Dataset: class labels coded, names, warnings (constant columns, and any the loader gives). */
export function assembleDataset(loaded: LoadedColumns, name: string, hash: string, warnings: string[]): Dataset {
  const { header, targetIdx, featureIdx, offsetIdx, foldIdx, options, n, X, y, offset } = loaded;
  const p = featureIdx.length;
  const outputs = options.classification ? 1 : targetIdx.length;
  let classes: string[] | undefined;
  if (options.classification) {
    classes = classLabels(loaded.labels, options.classes, `${name}: column "${header[targetIdx[0]]}"`, n, options.binary ?? false);
    const code = new Map(classes.map((c, k) => [c, k]));
    for (let i = 0; i < n; i++) y[i] = code.get(loaded.labels[i])!;
  }
  const featureNames = featureIdx.map((j) => header[j]);
  const constantNote = constantColumnsNote(X, n, featureNames);
  return {
    n,
    p,
    X,
    y,
    outputs,
    featureNames,
    targetNames: targetIdx.map((j) => header[j]),
    classes,
    ...(offsetIdx >= 0 ? { offset } : {}),
    ...(foldIdx >= 0 ? { foldLabels: loaded.foldLabels } : {}),
    source: name,
    hash,
    warnings: [...warnings, ...(constantNote ? [`${name}: ${constantNote}`] : [])],
  };
}
