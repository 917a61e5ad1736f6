// The points of a TPE sweep (sweep.kind tpe): each is its own task per fold, numbered in the order it was proposed
// ("…/point=K"); its loss is the cross-validated mean over its folds.
import type { Trial } from '../domain.js';
import { METRICS, summarize } from './cv.js';

/** The number of a point's task ("…/point=K"), or undefined for a task of no point. */
export function pointNumber(taskIdText: string): number | undefined {
  const m = /\/point=(\d+)$/.exec(taskIdText);
  return m ? Number(m[1]) : undefined;
}

/**
 * Each point's cross-validated validation loss (cv.glmnet's mean over folds, as `query` computes it), by point number;
 * a point with a fold that failed, diverged or was pruned is not finite (counted among the worst).
 */
export function pointLosses(trials: Trial[]): Map<number, number> {
  const byPoint = new Map<number, Trial[]>();
  for (const t of trials) {
    const k = pointNumber(t.taskId);
    if (k === undefined) continue;
    if (!byPoint.has(k)) byPoint.set(k, []);
    byPoint.get(k)!.push(t);
  }
  const losses = new Map<number, number>();
  for (const [k, ts] of byPoint) {
    const held = ts.filter((t) => t.fold !== 'all');
    const bad = held.some((t) => t.status !== 'ok' || t.valLoss === null || !Number.isFinite(t.valLoss));
    const [cv] = summarize(held, METRICS.val_loss);
    losses.set(k, bad || !cv ? Infinity : cv.mean);
  }
  return losses;
}

