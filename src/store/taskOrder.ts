// The order tasks are claimed in, the same for every store: fold by fold ("all" first: the fit users keep), longer
// paths first within a fold, then in plan order; with bundled folds, a fold's tasks as one batch.
import type { FoldId, Penalty, Task } from '../domain.js';

export interface TaskRow {
  task: Task;
  attempt: number;
  position: number;
}

/** A stored task row (lambdas as a JSON text or an array) → the task and its attempt. */
export function toTaskRow(r: Record<string, unknown>): TaskRow {
  const fold = r.fold as string;
  const lambdas = typeof r.lambdas === 'string' ? (JSON.parse(r.lambdas) as number[]) : (r.lambdas as number[]).map(Number);
  return {
    task: {
      id: r.task_id as string,
      penalty: r.penalty as Penalty,
      l1Ratio: Number(r.l1_ratio),
      fold: fold === 'all' ? 'all' : Number(fold),
      lambdas,
      ...(r.warm_from !== null && r.warm_from !== undefined ? { warmFrom: Number(r.warm_from) } : {}),
      ...(r.settings ? { settings: r.settings as string } : {}),
    },
    attempt: Number(r.attempt),
    position: Number(r.position ?? 0),
  };
}

export function foldRank(fold: FoldId | string): number {
  return fold === 'all' ? -1 : Number(fold);
}

/** Batches of tasks in the order workers should take them. */
export function inClaimOrder(rows: TaskRow[], bundleFolds: boolean): TaskRow[][] {
  const sorted = [...rows].sort(
    (a, b) => foldRank(a.task.fold) - foldRank(b.task.fold) || b.task.lambdas.length - a.task.lambdas.length || a.position - b.position,
  );
  if (!bundleFolds) return sorted.map((r) => [r]);
  const byFold = new Map<string, TaskRow[]>();
  for (const r of sorted) {
    const key = String(r.task.fold);
    if (!byFold.has(key)) byFold.set(key, []);
    byFold.get(key)!.push(r);
  }
  return [...byFold.values()];
}
