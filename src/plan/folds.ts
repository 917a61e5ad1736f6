import type { ValidationConfig } from '../config/schema.js';
import { Rng } from '../util/random.js';

export interface FoldAssignment {
  /**
   * Per repeat, per row: the validation fold within that repeat, or −1 when the row is never held out (n × repeats,
   * repeat after repeat). A task's fold f is fold f mod perRepeat of repeat ⌊f / perRepeat⌋.
   */
  foldOf: Int32Array;
  /** Validation folds over all repeats (0 for kind none). */
  count: number;
  /** Folds of one repeat. */
  perRepeat: number;
  repeats: number;
  /** Validation kind column: the label of each fold, in fold order. */
  labels?: string[];
}

/** What some fold rules read besides the row count: the class of each row (stratify), the fold column (column). */
export interface FoldInputs {
  /** Class codes 0 … K − 1 of a classification target. */
  classOf?: Float64Array;
  foldLabels?: string[];
}

/**
 * k-fold: rows are shuffled with the seed (or kept in order with shuffle: false) and cut into k contiguous
 * runs, the first n mod k one row longer, as scikit-learn's KFold does; stratified, the folds are dealt out per class
 * as scikit-learn's StratifiedKFold does (the same assignment with shuffle: false). Repeats draw the folds again with
 * seeds seed + 1, seed + 2, …. Holdout: the first fraction·n rows of a seeded permutation are the validation fold
 * (with shuffle: false, the last fraction·n rows). Column: each distinct label of the column is a fold.
 */
export function assignFolds(n: number, validation: ValidationConfig, inputs: FoldInputs = {}): FoldAssignment {
  if (validation.kind === 'none') return { foldOf: new Int32Array(n).fill(-1), count: 0, perRepeat: 0, repeats: 1 };
  if (validation.kind === 'holdout') {
    const foldOf = new Int32Array(n).fill(-1);
    const held = Math.min(n - 1, Math.max(1, Math.round(validation.fraction * n)));
    if (!validation.shuffle) {
      for (let i = n - held; i < n; i++) foldOf[i] = 0;
    } else {
      const order = new Rng(validation.seed).permutation(n);
      for (let r = 0; r < held; r++) foldOf[order[r]] = 0;
    }
    return { foldOf, count: 1, perRepeat: 1, repeats: 1 };
  }
  if (validation.kind === 'column') {
    const labels = inputs.foldLabels ?? [];
    const distinct = [...new Set(labels)];
    const sorted = distinct.every((d) => Number.isFinite(Number(d))) ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
    const index = new Map(sorted.map((label, f) => [label, f]));
    return { foldOf: Int32Array.from(labels, (label) => index.get(label)!), count: sorted.length, perRepeat: sorted.length, repeats: 1, labels: sorted };
  }
  const k = validation.folds;
  const repeats = validation.repeats ?? 1;
  const foldOf = new Int32Array(n * repeats);
  for (let r = 0; r < repeats; r++) {
    const seed = validation.seed + r;
    const folds = foldOf.subarray(r * n, (r + 1) * n);
    if (validation.stratify && inputs.classOf) stratifiedFolds(inputs.classOf, k, validation.shuffle ? new Rng(seed) : undefined, folds);
    else plainFolds(n, k, validation.shuffle ? new Rng(seed) : undefined, folds);
  }
  return { foldOf, count: k * repeats, perRepeat: k, repeats };
}

function plainFolds(n: number, k: number, rng: Rng | undefined, foldOf: Int32Array): void {
  const order = rng ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const base = Math.floor(n / k);
  const extra = n % k;
  let r = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    for (let s = 0; s < size; s++) foldOf[order[r++]] = f;
  }
}

/**
 * scikit-learn's StratifiedKFold: classes numbered in order of first appearance; fold i gets the share of each class
 * that the i-th, (i+k)-th, … of the labels sorted by class would give it; each class's rows take their folds in data
 * order (shuffled per class with a seed).
 */
function stratifiedFolds(classOf: Float64Array, k: number, rng: Rng | undefined, foldOf: Int32Array): void {
  const n = classOf.length;
  const firstSeen = new Map<number, number>();
  for (let i = 0; i < n; i++) if (!firstSeen.has(classOf[i])) firstSeen.set(classOf[i], firstSeen.size);
  const K = firstSeen.size;
  const encoded = Int32Array.from(classOf, (c) => firstSeen.get(c)!);
  const sorted = Int32Array.from(encoded).sort();
  const allocation = Array.from({ length: k }, () => new Int32Array(K));
  for (let i = 0; i < n; i++) allocation[i % k][sorted[i]]++;
  for (let c = 0; c < K; c++) {
    const folds: number[] = [];
    for (let f = 0; f < k; f++) for (let t = 0; t < allocation[f][c]; t++) folds.push(f);
    if (rng) {
      const order = rng.permutation(folds.length);
      const shuffled = Array.from(order, (o) => folds[o]);
      folds.splice(0, folds.length, ...shuffled);
    }
    let next = 0;
    for (let i = 0; i < n; i++) if (encoded[i] === c) foldOf[i] = folds[next++];
  }
}
