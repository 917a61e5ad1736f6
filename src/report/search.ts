// A TPE sweep's two charts Optuna users look at first: the optimization history (each point's validation loss in the
// order it was proposed, and the best so far) and the parameters' importances.
import type { TopLevelSpec } from 'vega-lite';
import { settingsOf, type Trial } from '../domain.js';
import { pointLosses, pointNumber } from '../select/points.js';
import { LOSS_AXIS, SCHEMA, type Chart } from './chartKit.js';
import type { ReportData } from './data.js';

/** Bins a numeric parameter is cut into for its importance. */
const BINS = 5;

/** Each finished point: its number, its loss (finite ones), and its parameters as they were proposed. */
function finishedPoints(trials: Trial[]): { point: number; loss: number; params: Record<string, number | string> }[] {
  const losses = pointLosses(trials);
  const first = new Map<number, Trial>();
  for (const t of trials) {
    const k = pointNumber(t.taskId);
    if (k !== undefined && !first.has(k)) first.set(k, t);
  }
  return [...losses]
    .filter(([, loss]) => Number.isFinite(loss))
    .sort(([a], [b]) => a - b)
    .map(([point, loss]) => {
      const t = first.get(point)!;
      const params: Record<string, number | string> = { penalty: t.penalty, λ: t.lambda };
      if (t.penalty === 'elasticnet') params.l1_ratio = t.l1Ratio;
      for (const [name, value] of Object.entries(settingsOf(t.settings))) params[name] = typeof value === 'number' ? value : JSON.stringify(value);
      return { point, loss, params };
    });
}

/** The optimization history: each point's loss by its number, and the best loss so far. */
export function historyChart(data: ReportData): Chart | undefined {
  if (data.config.sweep.kind !== 'tpe') return undefined;
  const points = finishedPoints(data.trials);
  if (points.length === 0) return undefined;
  const { startup, multivariate } = data.config.sweep;
  let best = Infinity;
  const rows = points.flatMap(({ point, loss }) => {
    best = Math.min(best, loss);
    return [
      { point, value: loss, series: point <= startup ? 'random (startup)' : 'proposed by TPE' },
      { point, value: best, series: 'best so far' },
    ];
  });
  const first = points.find((p) => p.loss === best)!;
  return {
    id: 'history',
    title: 'Optimization history: validation loss by point',
    caption: `Each point's cross-validated validation loss in the order it was proposed (the first ${startup} drawn at random, the rest by TPE from those finished before, ${multivariate ? 'the parameters seen together drawn jointly' : 'each parameter on its own'}), and the best so far: ${best.toPrecision(4)}, first reached at point ${first.point} of ${points.length}.`,
    spec: {
      $schema: SCHEMA,
      width: 520,
      height: 220,
      data: { values: rows },
      layer: [
        {
          transform: [{ filter: "datum.series !== 'best so far'" }],
          mark: { type: 'point', filled: true, size: 30 },
          encoding: {
            x: { field: 'point', type: 'quantitative', title: 'point (in the order proposed)' },
            y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'validation loss (log scale)', axis: LOSS_AXIS },
            color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['random (startup)', 'proposed by TPE', 'best so far'], range: ['#9ecae9', '#4c78a8', '#e45756'] } },
            tooltip: [
              { field: 'point', type: 'quantitative' },
              { field: 'value', type: 'quantitative', format: '.4g', title: 'validation loss' },
            ],
          },
        },
        {
          transform: [{ filter: "datum.series === 'best so far'" }],
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
          encoding: {
            x: { field: 'point', type: 'quantitative' },
            y: { field: 'value', type: 'quantitative', scale: { type: 'log' } },
            color: { field: 'series', type: 'nominal' },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/**
 * Parameter importances: for each parameter, the share of the variance of log validation loss between its groups — a
 * category each, a number cut into 5 bins of equal counts, a point it does not apply to in a group of its own (the
 * correlation ratio η², a simpler stand-in for Optuna's fANOVA, which fits a random forest).
 */
export function importanceChart(data: ReportData): Chart | undefined {
  if (data.config.sweep.kind !== 'tpe') return undefined;
  const points = finishedPoints(data.trials);
  if (points.length < 2 * BINS) return undefined;
  const y = points.map((p) => Math.log(p.loss));
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const total = y.reduce((s, v) => s + (v - mean) ** 2, 0);
  if (!(total > 0)) return undefined;
  const names = [...new Set(points.flatMap((p) => Object.keys(p.params)))];
  const rows = names
    .map((name) => {
      const values = points.map((p) => p.params[name]);
      if (new Set(values.map(String)).size < 2) return undefined;
      const group = groupsOf(values);
      const sums = new Map<string, { sum: number; count: number }>();
      group.forEach((g, i) => {
        const s = sums.get(g) ?? { sum: 0, count: 0 };
        s.sum += y[i];
        s.count++;
        sums.set(g, s);
      });
      let between = 0;
      for (const { sum, count } of sums.values()) between += count * (sum / count - mean) ** 2;
      return { parameter: name, importance: between / total };
    })
    .filter((r): r is { parameter: string; importance: number } => r !== undefined)
    .sort((a, b) => b.importance - a.importance);
  if (rows.length === 0) return undefined;
  return {
    id: 'importance',
    title: 'Parameter importances',
    caption: `For each parameter, the share of the variance of log validation loss over the ${points.length} finished points that lies between its groups: a category each, a number cut into ${BINS} bins of equal counts, points it does not apply to a group of their own (the correlation ratio η², a simpler stand-in for Optuna's fANOVA). Most important here: ${rows[0].parameter} (${rows[0].importance.toFixed(2)}).`,
    spec: {
      $schema: SCHEMA,
      width: 420,
      data: { values: rows },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'parameter', type: 'nominal', sort: '-x', title: null },
        x: { field: 'importance', type: 'quantitative', scale: { domain: [0, 1] }, title: 'share of the variance of log validation loss (η²)' },
        tooltip: [
          { field: 'parameter', type: 'nominal' },
          { field: 'importance', type: 'quantitative', format: '.2f', title: 'η²' },
        ],
      },
    } as TopLevelSpec,
  };
}

/** The group of each value: a category as it is, a number by its bin of equal counts, an absent value as "n/a". */
function groupsOf(values: (number | string | undefined)[]): string[] {
  const numbers = values.filter((v): v is number => typeof v === 'number');
  if (numbers.length === 0 || values.some((v) => typeof v === 'string')) return values.map((v) => (v === undefined ? 'n/a' : String(v)));
  const sorted = [...numbers].sort((a, b) => a - b);
  const edges = Array.from({ length: BINS - 1 }, (_, b) => sorted[Math.floor(((b + 1) * sorted.length) / BINS)]);
  return values.map((v) => (v === undefined ? 'n/a' : `bin ${edges.filter((e) => (v as number) >= e).length}`));
}
