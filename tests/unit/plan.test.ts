import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { join } from 'node:path';
import { loadCsv } from '../../src/data/csv.js';
import { assignFolds } from '../../src/plan/folds.js';
import { readFixture, ROOT } from '../helpers.js';
import { nullModelFigures, ridgeLambdas, sweepGroups } from '../../src/plan/grid.js';
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
    const l1 = tasks.filter((t) => t.penalty === 'l1');
    const l2 = tasks.filter((t) => t.penalty === 'l2');
    expect([l1.length, l2.length]).toEqual([6, 6]);
    expect(l1.every((t) => t.l1Ratio === 1)).toBe(true);
    expect(l2.every((t) => t.l1Ratio === 0)).toBe(true);
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
    const elasticnet = groups.filter((g) => g.penalty === 'elasticnet');
    expect(elasticnet.length).toBeGreaterThan(20);
    expect(elasticnet.every((g) => g.lambdas.length === 1 && g.l1Ratio >= 0 && g.l1Ratio <= 1)).toBe(true);
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
  it('stratified with shuffle: false is scikit-learn StratifiedKFold; plain is KFold (tests/fixtures/sklearn_folds.json)', async () => {
    const reference = readFixture<Record<string, { file: string; column: string; stratified_5: number[]; stratified_3: number[]; kfold_5: number[] }>>('sklearn_folds.json');
    for (const ref of Object.values(reference)) {
      const data = await loadCsv(join(ROOT, ref.file), { target: ref.column, classification: true });
      const kfold = (folds: number, stratify: boolean) => Array.from(assignFolds(data.n, { kind: 'kfold', folds, shuffle: false, stratify, repeats: 1, seed: 0 }, { classOf: data.y }).foldOf);
      expect(kfold(5, true)).toEqual(ref.stratified_5);
      expect(kfold(3, true)).toEqual(ref.stratified_3);
      expect(kfold(5, false)).toEqual(ref.kfold_5);
      // Shuffled, each fold still holds each class's share (to within one row).
      const shuffled = assignFolds(data.n, { kind: 'kfold', folds: 5, shuffle: true, stratify: true, repeats: 1, seed: 3 }, { classOf: data.y }).foldOf;
      expect(Array.from(shuffled)).not.toEqual(ref.stratified_5);
      const K = data.classes!.length;
      for (let c = 0; c < K; c++) {
        const perFold = [0, 1, 2, 3, 4].map((f) => Array.from(shuffled).filter((x, i) => x === f && data.y[i] === c).length);
        expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
      }
    }
  });
  it('repeats: each repeat covers every row once, with folds drawn again', () => {
    const folds = assignFolds(50, { kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 3, seed: 1 });
    expect([folds.count, folds.perRepeat, folds.repeats, folds.foldOf.length]).toEqual([15, 5, 3, 150]);
    for (let r = 0; r < 3; r++) {
      const one = Array.from(folds.foldOf.subarray(r * 50, (r + 1) * 50));
      expect([0, 1, 2, 3, 4].map((f) => one.filter((x) => x === f).length)).toEqual([10, 10, 10, 10, 10]);
    }
    expect(Array.from(folds.foldOf.subarray(0, 50))).not.toEqual(Array.from(folds.foldOf.subarray(50, 100)));
    // The first repeat is the single-repeat assignment with the same seed.
    expect(Array.from(folds.foldOf.subarray(0, 50))).toEqual(Array.from(assignFolds(50, { kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 1, seed: 1 }).foldOf));
  });
  it('a fold column: each label a fold, numbers in numeric order', () => {
    const folds = assignFolds(6, { kind: 'column', column: 'f' }, { foldLabels: ['10', '2', '2', '9', '10', '9'] });
    expect(folds.labels).toEqual(['2', '9', '10']);
    expect(Array.from(folds.foldOf)).toEqual([2, 0, 0, 1, 2, 1]);
    expect(folds.count).toBe(3);
  });
  it('holdout keeps the asked fraction out', () => {
    const { foldOf, count } = assignFolds(200, { kind: 'holdout', fraction: 0.25, seed: 1 });
    expect(count).toBe(1);
    expect(foldOf.filter((f) => f === 0).length).toBe(50);
  });
});

describe('the automatic ridge grid', () => {
  /** df(λ) = tr(C (C + λI)⁻¹) with C the standardized covariance, by solving (C + λI) Z = C (no eigenvalues). */
  function degreesOfFreedom(X: Float64Array, n: number, p: number, lambda: number): number {
    const mean = (j: number) => X.subarray(j * n, (j + 1) * n).reduce((s, v) => s + v, 0) / n;
    const cols = Array.from({ length: p }, (_, j) => {
      const m = mean(j);
      const sd = Math.sqrt(X.subarray(j * n, (j + 1) * n).reduce((s, v) => s + (v - m) ** 2, 0) / n);
      return Array.from(X.subarray(j * n, (j + 1) * n), (v) => (v - m) / sd);
    });
    const C = cols.map((a) => cols.map((b) => a.reduce((s, v, i) => s + v * b[i], 0) / n));
    // Gauss–Jordan on [C + λI | C]; the trace of the solution is df.
    const A = C.map((row, i) => [...row.map((v, j) => v + (i === j ? lambda : 0)), ...row]);
    for (let c = 0; c < p; c++) {
      const pivot = A[c][c];
      for (let j = 0; j < 2 * p; j++) A[c][j] /= pivot;
      for (let r = 0; r < p; r++) if (r !== c) {
        const f = A[r][c];
        for (let j = 0; j < 2 * p; j++) A[r][j] -= f * A[c][j];
      }
    }
    return A.reduce((s, row, i) => s + row[p + i], 0);
  }

  it('spans the effective degrees of freedom from 0.5 (largest λ) to p − 0.5 (smallest), log-spaced', async () => {
    const data = await loadCsv(join(ROOT, 'data', 'diabetes.csv'), { target: 'progression' });
    const grid = ridgeLambdas(data, true, 1, 30, 1e-3);
    expect(grid).toHaveLength(30);
    expect(degreesOfFreedom(data.X, data.n, data.p, grid[0])).toBeCloseTo(0.5, 6);
    expect(degreesOfFreedom(data.X, data.n, data.p, grid[29])).toBeCloseTo(data.p - 0.5, 6);
    const ratios = grid.slice(1).map((l, k) => grid[k] / l);
    for (const r of ratios) expect(r).toBeCloseTo(ratios[0], 9);
    // glmnet's rule (λ_max of the lasso over a floored l1 ratio of 1e-3) starts three decades higher than needed.
    const lassoMax = nullModelFigures('gaussian', { ...data, classes: 0 }, true, false).lassoMax;
    expect(lassoMax / 1e-3 / grid[0]).toBeGreaterThan(100);
  });

  it('a loss with curvature c (logistic: ȳ(1 − ȳ)) scales the grid by c', async () => {
    const data = await loadCsv(join(ROOT, 'data', 'diabetes.csv'), { target: 'progression' });
    const one = ridgeLambdas(data, true, 1, 10, 1e-3);
    const quarter = ridgeLambdas(data, true, 0.25, 10, 1e-3);
    one.forEach((l, k) => expect(quarter[k] / l).toBeCloseTo(0.25, 9));
  });
});

describe('a λ grid per penalty', () => {
  it('gives each penalty its own grid, and refuses a penalty without one', () => {
    const sweep = sweepOf('sweep: {kind: grid, penalty: [l1, l2], lambda: {l1: [1, 0.1], l2: {log_range: [1, 100], num: 3}}}');
    const groups = [...sweepGroups(sweep, noLambdaMax).values()];
    expect(groups.map((g) => [g.penalty, g.lambdas.map((l) => Number(l.toPrecision(12)))])).toEqual([
      ['l1', [1, 0.1]],
      ['l2', [100, 10, 1]],
    ]);
    expect(() => parseConfig('name: t\ndata: {synthetic: {kind: regression, n: 10, p: 2}}\nsweep: {kind: grid, penalty: [l1], lambda: {l1: {num: 3}}}\n', 't.yaml')).toThrow(
      /t.yaml:3: sweep.lambda.l1: /,
    );
  });
});
