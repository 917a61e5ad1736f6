import { describe, expect, it } from 'vitest';
import { selectLambdas, summarize } from '../../src/select/cv.js';
import type { Trial } from '../../src/domain.js';

function trial(lambda: number, fold: string, valLoss: number, nVal = 10, nnz = 3): Trial {
  return {
    id: 0, sweepId: 1, taskId: '', penalty: 'l1', lambda, l1Ratio: 1, settings: '', fold, status: 'ok', converged: true, error: null,
    trainLoss: valLoss / 2, valLoss, nTrain: 40, nVal, nnz, zeroFraction: 0, nearZeroFraction: 0, l1Norm: 0, l2Norm: 0,
    passes: 1, epochsRun: 0, seconds: 0, metrics: {},
  };
}

describe('cross-validation summary and λ selection', () => {
  it('mean and standard error as cv.glmnet computes them', () => {
    const rows = summarize([trial(1, '0', 1), trial(1, '1', 2), trial(1, '2', 6), trial(1, 'all', 0, 0, 7)]);
    expect(rows).toHaveLength(1);
    expect(rows[0].mean).toBeCloseTo(3, 14);
    // deviations 2, 1, 3 → mean square 14/3, over K − 1 = 2 → sqrt(7/3)
    expect(rows[0].se).toBeCloseTo(Math.sqrt(7 / 3), 14);
    expect(rows[0].nnzAll).toBe(7);
  });

  it('λ_min is the best mean; λ_1se the largest λ within one se of it (the simpler model)', () => {
    // mean loss by λ: 10 → 5.0, 3 → 3.2, 1 → 3.0 (se 0.5), 0.3 → 3.4
    const trials = [
      [10, [5, 5]],
      [3, [2.7, 3.7]],
      [1, [2.5, 3.5]],
      [0.3, [3.4, 3.4]],
    ].flatMap(([l, v]) => (v as number[]).map((x, k) => trial(l as number, String(k), x)));
    const [s] = selectLambdas(summarize(trials));
    expect(s.lambdaMin).toBe(1);
    expect(s.seMin).toBeCloseTo(0.5, 12);
    expect(s.lambda1se).toBe(3);
    expect(s.lambda1se).toBeGreaterThan(s.lambdaMin);
    expect(s.edge).toBeNull();
  });

  it('flags λ_min on the edge of the grid', () => {
    const trials = [3, 2, 1].flatMap((l) => ['0', '1'].map((f) => trial(l, f, l)));
    expect(selectLambdas(summarize(trials))[0]).toMatchObject({ lambdaMin: 1, edge: 'smallest' });
    const up = [3, 2, 1].flatMap((l) => ['0', '1'].map((f) => trial(l, f, 1 / l)));
    expect(selectLambdas(summarize(up))[0]).toMatchObject({ lambdaMin: 3, edge: 'largest' });
  });

  it('ignores failed trials', () => {
    const t = trial(1, '1', 100);
    t.status = 'failed';
    expect(summarize([trial(1, '0', 2), t])[0]).toMatchObject({ mean: 2, folds: 1 });
  });
});
