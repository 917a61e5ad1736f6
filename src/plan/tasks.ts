import type { Penalty, SweepSpec } from '../config/schema.js';
import { Rng } from '../util/random.js';
import type { FoldId } from './folds.js';

/** One warm-started λ path: every trial of one (penalty, l1_ratio) on one fold. */
export interface Task {
  /** Deterministic, so a resumed sweep finds what is done: "l1/a=1/fold=all". */
  id: string;
  penalty: Penalty;
  /** l1_ratio α: 1 for l1, 0 for l2 and none. */
  alpha: number;
  fold: FoldId;
  /** Descending. */
  lambdas: number[];
}

/** A point of the sweep: what a user chooses between; each is fitted once per fold. */
export interface SweepPoint {
  penalty: Penalty;
  alpha: number;
  lambda: number;
}

export function alphaOf(penalty: Penalty, l1Ratio: number): number {
  return penalty === 'l1' ? 1 : penalty === 'elasticnet' ? l1Ratio : 0;
}

export function taskId(penalty: Penalty, alpha: number, fold: FoldId): string {
  return `${penalty}/a=${alpha}/fold=${fold}`;
}

/** Evenly spaced on a log scale, from high down to low. */
export function logSpaceDescending(high: number, low: number, num: number): number[] {
  if (num === 1) return [high];
  const step = Math.log(low / high) / (num - 1);
  return Array.from({ length: num }, (_, k) => (k === num - 1 ? low : high * Math.exp(step * k)));
}

/**
 * The (penalty, α) groups of a sweep and their λ values, descending. `lambdaMax(α)` is the data's λ_max
 * (computed once on all rows, so every fold walks the same λ sequence as cv.glmnet does).
 */
export function sweepGroups(spec: SweepSpec, lambdaMax: (alpha: number) => number): Map<string, { penalty: Penalty; alpha: number; lambdas: number[] }> {
  const groups = new Map<string, { penalty: Penalty; alpha: number; lambdas: number[] }>();
  const add = (penalty: Penalty, alpha: number, lambda: number) => {
    const key = `${penalty}/${alpha}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { penalty, alpha, lambdas: [] }));
    g.lambdas.push(lambda);
  };
  if (spec.kind === 'grid') {
    for (const penalty of spec.penalty) {
      if (penalty === 'none') {
        add('none', 0, 0);
        continue;
      }
      const alphas = penalty === 'elasticnet' ? [...new Set(spec.l1_ratio)] : [alphaOf(penalty, 1)];
      for (const alpha of alphas) {
        const lambdas = Array.isArray(spec.lambda)
          ? spec.lambda
          : 'log_range' in spec.lambda
            ? logSpaceDescending(spec.lambda.log_range[1], spec.lambda.log_range[0], spec.lambda.num)
            : logSpaceDescending(lambdaMax(alpha), lambdaMax(alpha) * spec.lambda.ratio, spec.lambda.auto);
        for (const lambda of lambdas) add(penalty, alpha, lambda);
      }
    }
  } else {
    const rng = new Rng(spec.seed);
    const [lo, hi] = spec.lambda.log_uniform;
    const [aLo, aHi] = spec.l1_ratio.uniform;
    for (let t = 0; t < spec.trials; t++) {
      const penalty = spec.penalty[rng.int(spec.penalty.length)];
      const lambda = Math.exp(Math.log(lo) + rng.uniform() * Math.log(hi / lo));
      const ratio = aLo + rng.uniform() * (aHi - aLo);
      if (penalty === 'none') add('none', 0, 0);
      else add(penalty, alphaOf(penalty, ratio), lambda);
    }
  }
  for (const g of groups.values()) g.lambdas = [...new Set(g.lambdas)].sort((a, b) => b - a);
  return groups;
}

/** Every group × every fold ("all" first: it is the fit users keep). */
export function planTasks(spec: SweepSpec, foldCount: number, lambdaMax: (alpha: number) => number): Task[] {
  const folds: FoldId[] = ['all', ...Array.from({ length: foldCount }, (_, k) => k)];
  const tasks: Task[] = [];
  const groups = [...sweepGroups(spec, lambdaMax).values()];
  for (const fold of folds)
    for (const g of groups) tasks.push({ id: taskId(g.penalty, g.alpha, fold), penalty: g.penalty, alpha: g.alpha, fold, lambdas: g.lambdas });
  return tasks;
}

export function trialCount(tasks: Task[]): number {
  return tasks.reduce((s, t) => s + t.lambdas.length, 0);
}
