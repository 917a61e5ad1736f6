// Filling a feature's gaps (data.missing: mean, median, most_frequent) from the training rows of one fit: the
// values a fold fills with come from its training rows only, so its validation rows do not move them. Pure.
import type { Encoding, MissingRule } from '../domain.js';
import { encodedSpans } from '../domain.js';

/** The gaps of one column of the data, in the design's columns: one column for a number, a category's indicators. */
export interface FillGroup {
  rule: Exclude<MissingRule, 'error' | 'drop'>;
  kind: 'numeric' | 'categorical';
  /** The design's columns (a category's indicators, in level order; the first level has none with dropFirst). */
  columns: number[];
  dropFirst: boolean;
  /** The rows with a gap (their cells in `columns` are NaN in the shared design). */
  rows: Int32Array;
}

/** The gaps to fill in a design made by an encoding (NaN cells); empty when the encoding fills none. */
export function fillGroups(encoding: Encoding | null | undefined, X: Float64Array, n: number): FillGroup[] {
  if (!encoding || encoding.missing === 'error' || encoding.missing === 'drop') return [];
  const rule = encoding.missing;
  const groups: FillGroup[] = [];
  for (const { column, values: columns } of encodedSpans(encoding)) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (Number.isNaN(X[columns[0] * n + i])) rows.push(i);
    if (rows.length === 0) continue;
    const categorical = column.kind === 'categorical';
    groups.push({
      rule: categorical ? 'most_frequent' : rule,
      kind: column.kind,
      columns,
      dropFirst: categorical && column.dropFirst,
      rows: Int32Array.from(rows),
    });
  }
  return groups;
}

/**
 * What a group's gaps are filled with, from the rows whose weight is positive (every row without weights): a number,
 * or a category's level index (ties: the first level, as scikit-learn's SimpleImputer takes the smallest). A column
 * with no value in those rows is filled with 0 (a number) or its first level.
 */
export function fillValue(group: FillGroup, X: Float64Array, n: number, weights: Float64Array | null): number {
  const used = (i: number) => weights === null || weights[i] > 0;
  if (group.kind === 'categorical') {
    const levels = group.columns.length + (group.dropFirst ? 1 : 0);
    const counts = new Float64Array(levels);
    for (let i = 0; i < n; i++) {
      if (!used(i) || Number.isNaN(X[group.columns[0] * n + i])) continue;
      let level = group.dropFirst ? 0 : -1;
      for (let k = 0; k < group.columns.length; k++) if (X[group.columns[k] * n + i] === 1) level = k + (group.dropFirst ? 1 : 0);
      if (level >= 0) counts[level]++;
    }
    let best = 0;
    for (let k = 1; k < levels; k++) if (counts[k] > counts[best]) best = k;
    return best;
  }
  const values: number[] = [];
  const j = group.columns[0];
  for (let i = 0; i < n; i++) {
    const v = X[j * n + i];
    if (used(i) && !Number.isNaN(v)) values.push(v);
  }
  return numericFill(values, group.rule);
}

/** The mean, median or most frequent of a column's values (ties: the smallest); 0 when there is none. */
export function numericFill(values: ArrayLike<number> & Iterable<number>, rule: FillGroup['rule']): number {
  if (values.length === 0) return 0;
  if (rule === 'mean') {
    let sum = 0;
    for (const v of values) sum += v;
    return sum / values.length;
  }
  const sorted = Float64Array.from(values).sort();
  if (rule === 'median') {
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
  let best = sorted[0];
  let bestCount = 0;
  for (let i = 0; i < sorted.length; ) {
    let k = i;
    while (k < sorted.length && sorted[k] === sorted[i]) k++;
    if (k - i > bestCount) [best, bestCount] = [sorted[i], k - i];
    i = k;
  }
  return best;
}

/** Writes a fill into the group's gaps of X (a copy of the design): the number, or the level's indicator set. */
export function applyFill(group: FillGroup, X: Float64Array, n: number, value: number): void {
  for (const i of group.rows) {
    if (group.kind === 'numeric') X[group.columns[0] * n + i] = value;
    else for (let k = 0; k < group.columns.length; k++) X[group.columns[k] * n + i] = k + (group.dropFirst ? 1 : 0) === value ? 1 : 0;
  }
}

/** A copy of the design with every gap filled from the rows of positive weight. */
export function filledDesign(X: Float64Array, n: number, groups: FillGroup[], weights: Float64Array | null, copy: (length: number) => Float64Array): Float64Array {
  const filled = copy(X.length);
  filled.set(X);
  for (const group of groups) applyFill(group, filled, n, fillValue(group, X, n, weights));
  return filled;
}
