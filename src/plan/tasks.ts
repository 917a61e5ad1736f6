import type { SweepSpec } from '../config/schema.js';
import { settingsLabel, type FoldId, type Penalty, type Task } from '../domain.js';
import { sweepGroups } from './grid.js';

/**
 * The task id: a deterministic key for resume (its "a=" is the l1 ratio; kept so that older databases resume), with
 * the settings it varies: "l1/a=1/l1_method=proximal, lr=0.001/fold=0".
 */
export function taskId(penalty: Penalty, l1Ratio: number, fold: FoldId, settings = ''): string {
  return settings ? `${penalty}/a=${l1Ratio}/${settingsLabel(settings)}/fold=${fold}` : `${penalty}/a=${l1Ratio}/fold=${fold}`;
}

/** Every group × every fold ("all" first: it is the fit users keep). */
export function planTasks(spec: SweepSpec, foldCount: number, lambdaMax: (l1Ratio: number) => number, ridgeGrid?: (num: number, ratio: number) => number[] | undefined): Task[] {
  const folds: FoldId[] = ['all', ...Array.from({ length: foldCount }, (_, k) => k)];
  const tasks: Task[] = [];
  const groups = [...sweepGroups(spec, lambdaMax, ridgeGrid).values()];
  for (const fold of folds)
    for (const g of groups)
      tasks.push({ id: taskId(g.penalty, g.l1Ratio, fold, g.settings), penalty: g.penalty, l1Ratio: g.l1Ratio, fold, lambdas: g.lambdas, ...(g.settings ? { settings: g.settings } : {}) });
  return tasks;
}

export function trialCount(tasks: Task[]): number {
  return tasks.reduce((s, t) => s + t.lambdas.length, 0);
}
