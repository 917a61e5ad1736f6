import type { ValidationConfig } from '../config/schema.js';
import { Rng } from '../util/random.js';

export interface FoldAssignment {
  /** Per row: the validation fold it belongs to, or −1 when it is never held out. */
  foldOf: Int32Array;
  /** Number of validation folds (0 for kind none). */
  count: number;
}

/**
 * k-fold: rows are shuffled with the seed (or kept in order with shuffle: false) and cut into k contiguous
 * runs, the first n mod k one row longer, as scikit-learn's KFold does. Holdout: the first fraction·n rows
 * of a seeded permutation are the validation fold (with shuffle: false, the last fraction·n rows).
 */
export function assignFolds(n: number, validation: ValidationConfig): FoldAssignment {
  const foldOf = new Int32Array(n).fill(-1);
  if (validation.kind === 'none') return { foldOf, count: 0 };
  if (validation.kind === 'holdout') {
    const held = Math.min(n - 1, Math.max(1, Math.round(validation.fraction * n)));
    if (!validation.shuffle) {
      for (let i = n - held; i < n; i++) foldOf[i] = 0;
      return { foldOf, count: 1 };
    }
    const order = new Rng(validation.seed).permutation(n);
    for (let r = 0; r < held; r++) foldOf[order[r]] = 0;
    return { foldOf, count: 1 };
  }
  const k = validation.folds;
  const order = validation.shuffle ? new Rng(validation.seed).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const base = Math.floor(n / k);
  const extra = n % k;
  let r = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    for (let s = 0; s < size; s++) foldOf[order[r++]] = f;
  }
  return { foldOf, count: k };
}
