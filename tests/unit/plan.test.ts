import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { assignFolds } from '../../src/plan/folds.js';
import { sweepGroups } from '../../src/plan/grid.js';
import { planTasks, trialCount } from '../../src/plan/tasks.js';

const sweepOf = (yaml: string) => parseConfig(`name: t\ndata: {synthetic: {kind: regression, n: 10, p: 2}}\n${yaml}`, 't.yaml').config.sweep;
const noLambdaMax = () => {
  throw new Error('not needed');
};

describe('planning', () => {
  it('a grid: every (penalty, l1_ratio) × λ, one task per group and fold, λ descending', () => {
    const sweep = sweepOf('sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-3, 10], num: 50}, l1_ratio: [0.2, 0.8]}');
    const tasks = planTasks(sweep, 5, noLambdaMax);
    // 4 groups (l1, l2, enet 0.2, enet 0.8) × 6 fits (all + 5 folds)
    expect(tasks.length).toBe(24);
    expect(trialCount(tasks)).toBe(4 * 50 * 6);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(24);
    for (const t of tasks) {
      expect(t.lambdas[0]).toBeCloseTo(10, 12);
      expect(t.lambdas[49]).toBeCloseTo(1e-3, 15);
      expect(t.lambdas.every((l, k) => k === 0 || l < t.lambdas[k - 1])).toBe(true);
    }
    expect(tasks.filter((t) => t.penalty === 'l1').every((t) => t.l1Ratio === 1)).toBe(true);
    expect(tasks.filter((t) => t.penalty === 'l2').every((t) => t.l1Ratio === 0)).toBe(true);
  });

  it('an auto grid runs from λ_max(l1_ratio) down by the ratio', () => {
    const sweep = sweepOf('sweep: {kind: grid, penalty: [l1, elasticnet], lambda: {auto: 20, ratio: 0.01}, l1_ratio: [0.5]}');
    const groups = [...sweepGroups(sweep, (l1Ratio) => 3 / l1Ratio).values()];
    expect(groups.map((g) => [g.lambdas[0], g.lambdas.at(-1), g.lambdas.length])).toEqual([
      [3, 0.03, 20],
      [6, expect.closeTo(0.06, 12), 20],
    ]);
  });

  it('a random sweep draws the asked number of points, reproducibly, grouped into paths; trials: is the old name of points:', () => {
    const sweep = sweepOf('sweep: {kind: random, points: 200, seed: 3, penalty: [l1, l2, elasticnet], lambda: {log_uniform: [1e-4, 10]}}');
    expect(sweepOf('sweep: {kind: random, trials: 200, seed: 3, penalty: [l1, l2, elasticnet], lambda: {log_uniform: [1e-4, 10]}}')).toEqual(sweep);
    const groups = [...sweepGroups(sweep, noLambdaMax).values()];
    const points = groups.reduce((s, g) => s + g.lambdas.length, 0);
    expect(points).toBe(200);
    const l1 = groups.find((g) => g.penalty === 'l1')!;
    expect(l1.lambdas.length).toBeGreaterThan(40);
    expect(l1.lambdas.every((l) => l >= 1e-4 && l <= 10)).toBe(true);
    // Every elastic-net point has its own l1_ratio, so its own (one-λ) path.
    expect(groups.filter((g) => g.penalty === 'elasticnet').every((g) => g.lambdas.length === 1 && g.l1Ratio >= 0 && g.l1Ratio <= 1)).toBe(true);
    expect(trialCount(planTasks(sweep, 3, noLambdaMax))).toBe(200 * 4);
    expect(sweepGroups(sweep, noLambdaMax)).toEqual(sweepGroups(sweep, noLambdaMax));
  });
});

describe('folds', () => {
  it('shuffle: false gives contiguous folds sized as scikit-learn KFold (first n mod k one longer)', () => {
    const { foldOf, count } = assignFolds(11, { kind: 'kfold', folds: 3, shuffle: false, seed: 0 });
    expect(count).toBe(3);
    expect(Array.from(foldOf)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
  });
  it('shuffled folds cover every row once, with sizes differing by at most one', () => {
    const { foldOf } = assignFolds(103, { kind: 'kfold', folds: 5, shuffle: true, seed: 9 });
    const sizes = [0, 1, 2, 3, 4].map((f) => foldOf.filter((x) => x === f).length);
    expect(sizes).toEqual([21, 21, 21, 20, 20]);
    expect(Array.from(foldOf.subarray(0, 21))).not.toEqual(Array.from(assignFolds(103, { kind: 'kfold', folds: 5, shuffle: false, seed: 0 }).foldOf.subarray(0, 21)));
  });
  it('holdout keeps the asked fraction out', () => {
    const { foldOf, count } = assignFolds(200, { kind: 'holdout', fraction: 0.25, seed: 1 });
    expect(count).toBe(1);
    expect(foldOf.filter((f) => f === 0).length).toBe(50);
  });
});
