import type { SweepSpec } from '../config/schema.js';
import type { FoldId, Penalty, Task } from '../domain.js';
import { sweepGroups } from './grid.js';

/** The task id: a deterministic key for resume (its "a=" is the l1 ratio; kept so that older databases resume). */
export function taskId(penalty: Penalty, l1Ratio: number, fold: FoldId): string {
  return `${penalty}/a=${l1Ratio}/fold=${fold}`;
}

/** Every group × every fold ("all" first: it is the fit users keep). */
export function planTasks(spec: SweepSpec, foldCount: number, lambdaMax: (l1Ratio: number) => number, ridgeGrid?: (num: number, ratio: number) => number[] | undefined): Task[] {
  const folds: FoldId[] = ['all', ...Array.from({ length: foldCount }, (_, k) => k)];
  const tasks: Task[] = [];
  const groups = [...sweepGroups(spec, lambdaMax, ridgeGrid).values()];
  for (const fold of folds)
    for (const g of groups) tasks.push({ id: taskId(g.penalty, g.l1Ratio, fold), penalty: g.penalty, l1Ratio: g.l1Ratio, fold, lambdas: g.lambdas });
  return tasks;
}

export function trialCount(tasks: Task[]): number {
  return tasks.reduce((s, t) => s + t.lambdas.length, 0);
}
