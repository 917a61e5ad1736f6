// What the columns of a data file are read as (features, targets, labels, an offset, fold labels), the same for CSV,
// Parquet and Arrow, and the Dataset made of them.
import { NA_VALUES, type MissingRule } from '../domain.js';
import { UserError } from '../errors.js';
import { constantColumnsNote, sharedFloat64, type ColumnMajor, type Dataset } from './dataset.js';
import { completeRows, encodeFrame, encodingNotes, frameHash, keptRows, keptTexts, type FrameOptions } from './frame.js';

export interface ColumnOptions extends FrameOptions {
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
  /** A column of non-negative observation weights (not a feature). */
  weights?: string;
  /** The name used in messages; default: the path. */
  displayName?: string;
  /** Feature columns found to hold text while reading (data.categorical: auto): read as categories. */
  textColumns?: string[];
  /** Columns that are not features (data.ignore): read past. */
  ignore?: string[];
  /** A side file of a sparse matrix (data.target_path): its columns besides the target, fold, weights and offset are read past. */
  noFeatures?: boolean;
  /** Threads that parse a large CSV at once (default: every core). */
  threads?: number;
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
  const weightsIdx = options.weights !== undefined ? column(options.weights, 'weights (data.weights)') : -1;
  for (const [idx, what] of [[offsetIdx, 'data.offset'], [foldIdx, 'validation.column'], [weightsIdx, 'data.weights']] as const)
    if (idx >= 0 && targetIdx.includes(idx)) throw new UserError(`${where}: ${what} names "${header[idx]}", which is the target`);
  if (offsetIdx >= 0 && offsetIdx === foldIdx) throw new UserError(`${where}: data.offset and validation.column name the same column "${header[offsetIdx]}"`);
  if (weightsIdx >= 0 && (weightsIdx === offsetIdx || weightsIdx === foldIdx))
    throw new UserError(`${where}: data.weights and ${weightsIdx === offsetIdx ? 'data.offset' : 'validation.column'} name the same column "${header[weightsIdx]}"`);
  const ignored = new Set<number>();
  for (const name of options.ignore ?? []) {
    const j = seen.get(name);
    if (j === undefined) throw new UserError(`${where}: data.ignore names "${name}", which is not a column (columns: ${header.join(', ')})`);
    if (targetIdx.includes(j) || j === offsetIdx || j === foldIdx || j === weightsIdx) throw new UserError(`${where}: data.ignore names "${name}", which the sweep reads (the target, offset, weights or fold column)`);
    ignored.add(j);
  }
  if (options.noFeatures) for (let j = 0; j < header.length; j++) if (!targetIdx.includes(j) && j !== offsetIdx && j !== foldIdx && j !== weightsIdx) ignored.add(j);
  const featureIdx = header.map((_, j) => j).filter((j) => !targetIdx.includes(j) && j !== offsetIdx && j !== foldIdx && j !== weightsIdx && !ignored.has(j));
  if (featureIdx.length === 0 && !options.noFeatures) throw new UserError(`${where}: no feature columns besides the target`);
  const categoricalIdx = new Set<number>();
  if (Array.isArray(options.categorical))
    for (const name of options.categorical) {
      const j = seen.get(name);
      if (j === undefined) throw new UserError(`${where}: data.categorical names "${name}", which is not a column (columns: ${header.join(', ')})`);
      if (!featureIdx.includes(j))
        throw new UserError(
          `${where}: data.categorical names "${name}", which is ${targetIdx.includes(j) ? 'the target (a logistic or multinomial model reads its target as labels)' : j === offsetIdx ? 'the offset' : j === weightsIdx ? 'the weights column' : ignored.has(j) ? 'in data.ignore' : 'the fold column'}, not a feature`,
        );
      categoricalIdx.add(j);
    }
  for (const name of options.textColumns ?? []) categoricalIdx.add(seen.get(name)!);
  return { targetIdx, featureIdx, offsetIdx, foldIdx, weightsIdx, categoricalIdx, ignored };
}

/** A feature column holds text and data.categorical is auto: the file is read again with it as a category. */
export class TextFeature extends Error {
  constructor(readonly column: string) {
    super(`column "${column}" holds text`);
  }
}

/** A cell read as missing (data.na_values), trimmed as every cell is. */
export function missingTokens(options: FrameOptions): Set<string> {
  return new Set((options.naValues ?? NA_VALUES).map((t) => t.trim()));
}

/** The role of a column a gap is in, for its message. */
export type GapRole = 'feature' | 'target' | 'offset' | 'weight' | 'fold label' | 'label';

/**
 * A gap where data.missing does not allow one (error: anywhere; a fill rule: outside the features, which only drop
 * handles) is one line naming it, thrown here; an allowed one returns. `shown` is the cell as the message quotes it.
 */
export function checkGap(where: string, role: GapRole, rule: MissingRule, shown: string): void {
  if (rule !== 'error' && (role === 'feature' || rule === 'drop')) return;
  if (role === 'feature') throw new UserError(`${where}: missing value (${shown}); set data.missing to drop (drop such rows), or mean, median or most_frequent (fill a feature's gaps)`);
  throw new UserError(`${where}: missing ${role} (${shown}); data.missing: drop drops such rows (a gap is filled only in a feature)`);
}

/** A negative observation weight, as every reader says it. */
export function negativeWeight(where: string, shown: string): UserError {
  return new UserError(`${where}: ${shown} is negative; an observation weight (data.weights) is 0 or more`);
}

/** A classification target has a few labels; more looks like a numeric column given to a classifier. */
const MAX_CLASSES = 100;

/**
 * Distinct labels in class order. Given classes must be exactly the labels in the column. Otherwise numeric 0/1 keep
 * their meaning, numbers sort by value, and other labels in sorted order, as R's factor levels.
 */
function classLabels(labels: string[], given: string[] | undefined, where: string, n: number, binary: boolean): string[] {
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
  weightsIdx: number;
  n: number;
  X: Float64Array;
  y: Float64Array;
  offset?: Float64Array;
  weights?: Float64Array;
  /** Per row; null for a gap (data.missing: drop). */
  labels: (string | null)[];
  foldLabels: (string | null)[];
  /** The cells of each categorical feature, by the feature's position; null for a gap. */
  categories: Map<number, (string | null)[]>;
}

/**
 * A loader's column arrays trimmed to the n rows read, with the roles and labels: the arrays are the features, then
 * the numeric targets (none for a label, coded in assembleDataset into y made here), then the offset.
 */
export function loadedColumns(
  read: Omit<LoadedColumns, 'n' | 'X' | 'y' | 'offset' | 'weights'>,
  arrays: ColumnMajor[],
  n: number,
): LoadedColumns {
  const [X, ...rest] = arrays.map((a) => a.finish(n));
  const y = read.options.classification ? sharedFloat64(n) : rest.shift()!;
  const { header, options, targetIdx, featureIdx, offsetIdx, foldIdx, weightsIdx, labels, foldLabels, categories } = read;
  const offset = offsetIdx >= 0 ? rest.shift() : undefined;
  const weights = weightsIdx >= 0 ? rest.shift() : undefined;
  return { header, options, targetIdx, featureIdx, offsetIdx, foldIdx, weightsIdx, n, X, y, offset, weights, labels, foldLabels, categories };
}

/** The loaded columns as a Dataset: rows with gaps dropped (data.missing: drop), categories encoded, class labels coded, names, notes. */
export function assembleDataset(read: LoadedColumns, name: string, fileHash: string, warnings: string[]): Dataset {
  const { header, targetIdx, featureIdx, offsetIdx, foldIdx, weightsIdx, options } = read;
  const classification = !!options.classification;
  let { n, X, y, offset, weights, labels, foldLabels, categories } = read;
  let dropped = 0;
  if (options.missing === 'drop') {
    const texts = [...(classification ? [labels] : []), ...(foldIdx >= 0 ? [foldLabels] : []), ...categories.values()];
    const numeric = [X, ...(classification ? [] : [y]), ...(offset ? [offset] : []), ...(weights ? [weights] : [])];
    const complete = completeRows({ n, numeric, texts });
    dropped = complete.dropped;
    if (dropped === n) throw new UserError(`${name}: every row has a missing value, so data.missing: drop leaves none`);
    if (dropped > 0) {
      const { keep } = complete;
      const kept = n - dropped;
      X = keptRows(X, n, keep, kept);
      y = classification ? sharedFloat64(kept) : keptRows(y, n, keep, kept);
      offset = offset ? keptRows(offset, n, keep, kept) : undefined;
      weights = weights ? keptRows(weights, n, keep, kept) : undefined;
      labels = classification ? keptTexts(labels, keep) : labels;
      foldLabels = foldIdx >= 0 ? keptTexts(foldLabels, keep) : foldLabels;
      categories = new Map([...categories].map(([f, cells]) => [f, keptTexts(cells, keep)]));
      n = kept;
    }
  }
  if (weights && !weights.some((w) => w > 0)) throw new UserError(`${name}: column "${header[weightsIdx]}" (data.weights): every weight is 0, so no row is fitted`);
  const outputs = classification ? 1 : targetIdx.length;
  let classes: string[] | undefined;
  if (classification) {
    const present = labels as string[];
    classes = classLabels(present, options.classes, `${name}: column "${header[targetIdx[0]]}"`, n, options.binary ?? false);
    const code = new Map(classes.map((c, k) => [c, k]));
    for (let i = 0; i < n; i++) y[i] = code.get(present[i])!;
  }
  const frame = encodeFrame(name, featureIdx.map((j) => header[j]), X, n, categories, options);
  const categoricalColumns = [...categories.keys()].map((f) => header[featureIdx[f]]);
  const constantNote = constantColumnsNote(frame.X, n, frame.featureNames);
  return {
    n,
    p: frame.p,
    X: frame.X,
    y,
    outputs,
    featureNames: frame.featureNames,
    targetNames: targetIdx.map((j) => header[j]),
    classes,
    ...(offsetIdx >= 0 ? { offset } : {}),
    ...(weights ? { weights } : {}),
    ...(foldIdx >= 0 ? { foldLabels: foldLabels as string[] } : {}),
    ...(frame.encoding ? { encoding: frame.encoding } : {}),
    source: name,
    hash: frameHash(fileHash, options, categoricalColumns, dropped),
    warnings: [...warnings, ...encodingNotes(frame, dropped, n).map((note) => `${name}: ${note}`), ...(constantNote ? [`${name}: ${constantNote}`] : [])],
  };
}
