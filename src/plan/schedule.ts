import type { Batch, Task } from '../domain.js';

/**
 * Batches of tasks in the order the workers should take them. Linear paths in covariance mode spend a large share
 * of their time on the fold's Gram columns, which a worker keeps: all paths of a fold then go to one worker as one
 * batch, so each fold's Gram is computed once and the folds run side by side (when there are at least as many folds
 * as workers). Otherwise every task is its own batch, fold by fold, longer paths first.
 */
export function scheduleBatches(tasks: Task[], workers: number, bundleFolds: boolean): Batch[] {
  const byFold = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = String(t.fold);
    if (!byFold.has(key)) byFold.set(key, []);
    byFold.get(key)!.push(t);
  }
  const folds = [...byFold.values()].map((ts) => ts.sort((a, b) => b.lambdas.length - a.lambdas.length));
  if (bundleFolds && folds.length >= workers) return folds;
  return folds.flat().map((t) => [t]);
}

/** Worker threads for a number of batches, and whether each splits its Gram blocks with a helper thread. */
export function threadsFor(batches: number, workers: number, covariance: boolean): { threads: number; gramHelper: boolean } {
  // Fewer batches than workers would leave cores idle: a worker then splits its Gram blocks with a helper thread
  // (when there is a core for each helper), and no more workers start than there are batches.
  return { threads: Math.max(1, Math.min(workers, batches)), gramHelper: covariance && batches > 0 && batches * 2 <= workers };
}
