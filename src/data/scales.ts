import type { Dataset } from './dataset.js';
import { sparseMoments } from '../fitting/shared/sparseColumns.js';

const computed = new WeakMap<Float64Array, number[]>();

/**
 * Each feature's population standard deviation over all rows (weighted by data.weights; gaps left out), as
 * `standardize: true` divides by: a coefficient times it is the coefficient on the standardized scale, which charts
 * and the near-zero count use so that a feature's unit does not decide what is small.
 */
export function featureScales(data: Pick<Dataset, 'X' | 'sparse' | 'n' | 'p' | 'weights'>): number[] {
  // The sweep keeps them and every batch's settings carry them: one pass over the data for both.
  const known = computed.get(data.X);
  if (known) return known;
  const { X, n, p, weights } = data;
  if (data.sparse) {
    const w = weights ?? new Float64Array(n).fill(1);
    const { variance } = sparseMoments(data.sparse, p, w, w.reduce((a, b) => a + b, 0));
    const scales = Array.from(variance, Math.sqrt);
    computed.set(X, scales);
    return scales;
  }
  const scales: number[] = [];
  for (let j = 0; j < p; j++) {
    let sum = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const x = X[j * n + i];
      const w = weights ? weights[i] : 1;
      if (Number.isNaN(x) || w === 0) continue;
      sum += w * x;
      total += w;
    }
    const mean = total > 0 ? sum / total : 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const x = X[j * n + i];
      const w = weights ? weights[i] : 1;
      if (Number.isNaN(x) || w === 0) continue;
      squares += w * (x - mean) ** 2;
    }
    scales.push(total > 0 ? Math.sqrt(squares / total) : 0);
  }
  computed.set(X, scales);
  return scales;
}
