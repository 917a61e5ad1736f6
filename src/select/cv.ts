import { settingsLabel, settingsOf, type CvPoint, type Penalty, type Selection, type Trial } from '../domain.js';

/** A metric users choose by: its name, how to read it off a trial, and whether smaller is better. */
export interface Metric {
  name: string;
  value: (t: Trial) => number | null;
  train?: (t: Trial) => number | null;
  lowerIsBetter: boolean;
  /** A fold's weight in the CV mean when the metric sets its own (a Cox deviance: the fold's deaths). */
  weight?: (t: Trial) => number | undefined;
}

/** A Cox deviance is per death, and its folds are weighted by their deaths (cv.glmnet); other trials have none. */
const deaths = (t: Trial) => t.metrics.val_deaths;

/** A figure a trial may carry in its metrics, or null. */
const stored = (key: string) => (t: Trial) => t.metrics[key] ?? null;

/**
 * What curves and λ can be chosen by: the loss fitted (val_loss), cv.glmnet's type.measure values (deviance, mse, mae,
 * class, auc; for cox C and the ungrouped deviance) and accuracy. deviance is the loss for gaussian, mgaussian, poisson
 * and cox (its grouped partial-likelihood deviance per death) and twice it for the classifiers (glmnet's binomial and
 * multinomial deviance); a network's is its loss.
 */
export const METRICS: Record<string, Metric> = {
  val_loss: { name: 'val_loss', value: (t) => t.valLoss, train: (t) => t.trainLoss, lowerIsBetter: true, weight: deaths },
  deviance: { name: 'deviance', value: (t) => t.metrics.val_deviance ?? t.valLoss, train: (t) => t.metrics.train_deviance ?? t.trainLoss, lowerIsBetter: true, weight: deaths },
  mse: { name: 'mse', value: stored('val_mse'), lowerIsBetter: true },
  mae: { name: 'mae', value: stored('val_mae'), lowerIsBetter: true },
  class: { name: 'class', value: stored('val_class'), lowerIsBetter: true },
  accuracy: { name: 'accuracy', value: (t) => t.metrics.val_accuracy ?? null, train: (t) => t.metrics.train_accuracy ?? null, lowerIsBetter: false },
  auc: { name: 'auc', value: (t) => t.metrics.val_auc ?? null, train: (t) => t.metrics.train_auc ?? null, lowerIsBetter: false },
  deviance_ungrouped: { name: 'deviance_ungrouped', value: stored('val_deviance_ungrouped'), lowerIsBetter: true, weight: deaths },
  C: { name: 'C', value: stored('val_C'), train: stored('train_C'), lowerIsBetter: false },
};

const groupKey = (penalty: string, l1Ratio: number, settings: string) => `${penalty}\u0000${l1Ratio}\u0000${settings}`;

/**
 * Cross-validated mean and standard error per (penalty, l1_ratio, settings, λ), as cv.glmnet computes them: the mean
 * over folds weighted by fold size (by the fold's weight sum with observation weights), se = sqrt(weighted mean of squared deviations / (K − 1)). Only trials that
 * finished (status ok) count; a point missing in some folds is averaged over the folds it has.
 */
export function summarize(trials: Trial[], metric: Metric = METRICS.val_loss): CvPoint[] {
  const ends = pathEnds(trials);
  const points = new Map<string, { penalty: Penalty; l1Ratio: number; settings: string; lambda: number; values: number[]; weights: number[]; train: number[]; nnzAll: number | null; featuresAll?: number; pruned?: boolean }>();
  for (const t of trials) {
    const key = `${groupKey(t.penalty, t.l1Ratio, t.settings)}\u0000${t.lambda}`;
    let pt = points.get(key);
    if (!pt) points.set(key, (pt = { penalty: t.penalty, l1Ratio: t.l1Ratio, settings: t.settings, lambda: t.lambda, values: [], weights: [], train: [], nnzAll: null }));
    // A point of which a fold was pruned has no loss comparable with the others: it is left out whole.
    if (t.status === 'pruned') pt.pruned = true;
    if (t.status !== 'ok') continue;
    if (t.fold === 'all') {
      pt.nnzAll = t.nnz;
      if (t.metrics.nonzero_features !== undefined) pt.featuresAll = t.metrics.nonzero_features;
      continue;
    }
    const v = metric.value(t);
    if (v === null || !Number.isFinite(v)) continue;
    pt.values.push(v);
    // Folds weigh their rows, or with observation weights (data.weights) the sum of their weights, as cv.glmnet.
    pt.weights.push(metric.weight?.(t) ?? t.metrics.val_weight ?? t.nVal);
    const tr = metric.train?.(t);
    if (tr !== null && tr !== undefined && Number.isFinite(tr)) pt.train.push(tr);
  }
  const rows: CvPoint[] = [];
  for (const pt of points.values()) {
    const k = pt.values.length;
    if (k === 0 || pt.pruned) continue;
    // cv.glmnet's rule: only λ every path reached (a path a stopping rule ended has no trials below its end).
    const end = ends.get(groupKey(pt.penalty, pt.l1Ratio, pt.settings))?.curveEnd;
    if (end && pt.lambda < end.lambda) continue;
    const wSum = pt.weights.reduce((a, b) => a + b, 0);
    const mean = pt.values.reduce((s, v, i) => s + v * pt.weights[i], 0) / wSum;
    const meanSq = pt.values.reduce((s, v, i) => s + (v - mean) ** 2 * pt.weights[i], 0) / wSum;
    rows.push({
      penalty: pt.penalty,
      l1Ratio: pt.l1Ratio,
      settings: pt.settings,
      lambda: pt.lambda,
      metric: metric.name,
      folds: k,
      mean,
      se: k > 1 ? Math.sqrt(meanSq / (k - 1)) : 0,
      trainMean: pt.train.length ? pt.train.reduce((a, b) => a + b, 0) / pt.train.length : null,
      nnzAll: pt.nnzAll,
      ...(pt.featuresAll !== undefined ? { featuresAll: pt.featuresAll } : {}),
      ...(end && pt.lambda === end.lambda ? { pathEnd: end.reason } : {}),
    });
  }
  return rows.sort((a, b) => (a.penalty < b.penalty ? -1 : a.penalty > b.penalty ? 1 : a.l1Ratio - b.l1Ratio || settingsOrder(a.settings, b.settings) || b.lambda - a.lambda));
}

/** Settings keys in order: a relaxed sweep's by γ, others as text. */
function settingsOrder(a: string, b: string): number {
  const ga = relaxedGamma(a);
  const gb = relaxedGamma(b);
  if (ga !== undefined && gb !== undefined) return ga - gb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Where a stopping rule ended one path: its λ, the rule, the deviance explained there and the λ fitted. */
interface PathEnd {
  fold: string;
  lambda: number;
  reason: 'fdev' | 'devmax';
  explained: number;
  fitted: number;
}

/**
 * Per (penalty, l1_ratio, settings) whose paths a stopping rule ended (sweep.lambda fdev, devmax): each such path's
 * end, and where the CV curve ends — the largest λ at which a path ended, the smallest every path reached.
 */
function pathEnds(trials: Trial[]): Map<string, { ends: PathEnd[]; curveEnd: PathEnd }> {
  const fitted = new Map<string, number>();
  const stops: { key: string; t: Trial }[] = [];
  for (const t of trials) {
    const key = groupKey(t.penalty, t.l1Ratio, t.settings);
    fitted.set(`${key}\u0000${t.fold}`, (fitted.get(`${key}\u0000${t.fold}`) ?? 0) + 1);
    if (t.metrics.path_stop !== undefined) stops.push({ key, t });
  }
  const groups = new Map<string, { ends: PathEnd[]; curveEnd: PathEnd }>();
  for (const { key, t } of stops) {
    const end: PathEnd = { fold: t.fold, lambda: t.lambda, reason: t.metrics.path_stop === 1 ? 'fdev' : 'devmax', explained: t.metrics.dev_ratio ?? NaN, fitted: fitted.get(`${key}\u0000${t.fold}`) ?? 0 };
    const g = groups.get(key);
    if (!g) groups.set(key, { ends: [end], curveEnd: end });
    else {
      g.ends.push(end);
      if (end.lambda > g.curveEnd.lambda) g.curveEnd = end;
    }
  }
  return groups;
}

/** A line per group whose paths a stopping rule ended: where and why, and where its CV curve ends. */
export function pathEndNotes(trials: Trial[]): string[] {
  const notes: string[] = [];
  for (const [key, { ends, curveEnd }] of pathEnds(trials)) {
    const first = trials.find((t) => t.fold === ends[0].fold && t.lambda === ends[0].lambda && groupKey(t.penalty, t.l1Ratio, t.settings) === key)!;
    // A relaxed sweep's γ share one path: it is told once, for γ = 1.
    const gamma = relaxedGamma(first.settings);
    if (gamma !== undefined && gamma !== 1) continue;
    const all = ends.find((e) => e.fold === 'all');
    const folds = ends.filter((e) => e.fold !== 'all');
    const why = (e: PathEnd) => (e.reason === 'devmax' ? `deviance explained ${e.explained.toPrecision(5)} over devmax` : `deviance explained ${e.explained.toPrecision(5)}, changing by less than fdev`);
    const parts = [
      all ? `the path on all rows at λ ${fmt(all.lambda)} after ${all.fitted} λ (${why(all)})` : '',
      folds.length ? `${folds.length} fold path(s) at λ ${fmt(Math.min(...folds.map((e) => e.lambda)))} … ${fmt(Math.max(...folds.map((e) => e.lambda)))}` : '',
    ].filter(Boolean);
    const validated = trials.some((t) => t.fold !== 'all' && groupKey(t.penalty, t.l1Ratio, t.settings) === groupKey(first.penalty, first.l1Ratio, first.settings));
    const curve = validated ? `; the CV curve ends at λ ${fmt(curveEnd.lambda)}, the smallest every path reached` : '';
    notes.push(`${selectionName(first)}: paths ended early by glmnet's rules (sweep.lambda fdev, devmax): ${parts.join(', ')}${curve}`);
  }
  return notes;
}

/**
 * Per (penalty, l1_ratio, settings): λ_min, the best mean, and λ_1se, the largest λ (the simpler model) whose mean is
 * within one standard error of the best. Ties for the best go to the larger λ.
 */
export function selectLambdas(summary: CvPoint[], metric: Metric = METRICS.val_loss): Selection[] {
  const groups = new Map<string, CvPoint[]>();
  for (const row of summary) {
    if (row.metric !== metric.name) continue;
    const key = groupKey(row.penalty, row.l1Ratio, row.settings);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(row);
  }
  const better = (a: number, b: number) => (metric.lowerIsBetter ? a < b : a > b);
  const selections: Selection[] = [];
  for (const rows of groups.values()) {
    rows.sort((a, b) => b.lambda - a.lambda);
    let best = rows[0];
    for (const r of rows) if (better(r.mean, best.mean)) best = r;
    const bound = metric.lowerIsBetter ? best.mean + best.se : best.mean - best.se;
    const oneSe = rows.find((r) => r.lambda >= best.lambda && (metric.lowerIsBetter ? r.mean <= bound : r.mean >= bound)) ?? best;
    // The end of paths a stopping rule ended is not an edge: the deviance explained had stopped changing there.
    const edge = rows.length < 2 ? null : best === rows[0] ? 'largest' : best === rows[rows.length - 1] && !best.pathEnd ? 'smallest' : null;
    selections.push({
      penalty: best.penalty,
      l1Ratio: best.l1Ratio,
      settings: best.settings,
      metric: metric.name,
      lambdaMin: best.lambda,
      lambda1se: oneSe.lambda,
      meanMin: best.mean,
      seMin: best.se,
      mean1se: oneSe.mean,
      nnzMin: best.nnzAll,
      nnz1se: oneSe.nnzAll,
      ...(best.featuresAll !== undefined ? { featuresMin: best.featuresAll } : {}),
      ...(oneSe.featuresAll !== undefined ? { features1se: oneSe.featuresAll } : {}),
      edge,
    });
  }
  return selections;
}

/** The relaxed lasso's γ of a settings key, or undefined when the key holds anything else (or nothing). */
export function relaxedGamma(settings: string): number | undefined {
  const values = settingsOf(settings);
  const names = Object.keys(values);
  return names.length === 1 && names[0] === 'gamma' ? Number(values.gamma) : undefined;
}

/**
 * cv.glmnet's joint choice of λ and γ for a relaxed path (getOptcv.relaxed), over the CV points of one penalty and l1
 * ratio at every γ: the best mean (ties to the larger λ, then the larger γ), and the largest λ (then γ) whose mean is
 * within one standard error of it. Undefined when the points are not of relaxed tasks.
 */
export function relaxedChoice(points: CvPoint[], metric: Metric = METRICS.val_loss): { min: CvPoint; oneSe: CvPoint } | undefined {
  const relaxed = points.filter((p) => p.metric === metric.name && relaxedGamma(p.settings) !== undefined);
  if (relaxed.length === 0 || relaxed.length !== points.filter((p) => p.metric === metric.name).length) return undefined;
  const sign = metric.lowerIsBetter ? 1 : -1;
  const later = (a: CvPoint, b: CvPoint) => b.lambda - a.lambda || relaxedGamma(b.settings)! - relaxedGamma(a.settings)!;
  const best = Math.min(...relaxed.map((p) => sign * p.mean));
  const min = relaxed.filter((p) => sign * p.mean <= best).sort(later)[0];
  const bound = sign * min.mean + min.se;
  const oneSe = relaxed.filter((p) => sign * p.mean <= bound).sort(later)[0];
  return { min, oneSe };
}

/** Per (penalty, l1 ratio) of relaxed tasks: the joint choice of λ and γ, and a line saying it. */
export function relaxedChoices(points: CvPoint[], metric: Metric = METRICS.val_loss): { penalty: Penalty; l1Ratio: number; min: CvPoint; oneSe: CvPoint; note: string }[] {
  const out = [];
  // Grouped in one pass: a sweep of many l1 ratios has thousands of points.
  const groups = new Map<string, CvPoint[]>();
  for (const p of points) {
    const key = `${p.penalty}\u0000${p.l1Ratio}`;
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  for (const group of groups.values()) {
    const choice = relaxedChoice(group, metric);
    if (!choice) continue;
    const { min, oneSe } = choice;
    const note = `${selectionName({ penalty: min.penalty, l1Ratio: min.l1Ratio, settings: '' })} relaxed, λ and γ chosen together (cv.glmnet relax = TRUE): λ_min ${fmt(min.lambda)} with γ ${relaxedGamma(min.settings)}, λ_1se ${fmt(oneSe.lambda)} with γ ${relaxedGamma(oneSe.settings)}`;
    out.push({ penalty: min.penalty, l1Ratio: min.l1Ratio, min, oneSe, note });
  }
  return out;
}

/** The warning a user sees when λ_min sits on the edge of the grid. */
export function edgeWarning(s: Selection): string | undefined {
  if (!s.edge) return undefined;
  const what = selectionName(s);
  return s.edge === 'largest'
    ? `${what}: the best λ (${fmt(s.lambdaMin)}) is the largest in the grid; extend the grid upward`
    : `${what}: the best λ (${fmt(s.lambdaMin)}) is the smallest in the grid; extend the grid downward`;
}

/** A selection's name in messages: "elasticnet (l1_ratio 0.5)", "l1 (l1_method=proximal)". */
export function selectionName(s: Pick<Selection, 'penalty' | 'l1Ratio' | 'settings'>): string {
  const parts = [s.penalty === 'elasticnet' ? `l1_ratio ${s.l1Ratio}` : '', settingsLabel(s.settings)].filter(Boolean);
  return parts.length ? `${s.penalty} (${parts.join(', ')})` : s.penalty;
}

export function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}

/**
 * Random sweeps give every elastic-net point its own l1_ratio, so one selection per (penalty, l1 ratio) would list each
 * point; this keeps the best (penalty, l1 ratio) per penalty instead.
 */
export function bestPerPenalty(selections: Selection[], metric: Metric = METRICS.val_loss): Selection[] {
  const best = new Map<string, Selection>();
  for (const s of selections) {
    const current = best.get(s.penalty);
    if (!current || (metric.lowerIsBetter ? s.meanMin < current.meanMin : s.meanMin > current.meanMin)) best.set(s.penalty, s);
  }
  return [...best.values()];
}

/** The selections a person reads: per (penalty, l1 ratio) for grids, per penalty for random sweeps. */
export function selectionsToShow(selections: Selection[], sweepKind: string, metric: Metric = METRICS.val_loss): Selection[] {
  if (sweepKind !== 'grid') return bestPerPenalty(selections, metric);
  // In the order of the summary (a relaxed sweep's γ by value), whatever order they were stored in.
  return [...selections].sort((a, b) => (a.penalty < b.penalty ? -1 : a.penalty > b.penalty ? 1 : a.l1Ratio - b.l1Ratio || settingsOrder(a.settings, b.settings)));
}
