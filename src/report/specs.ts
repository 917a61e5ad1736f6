// Vega-Lite specs, built as typed objects from the report data; each is rendered to SVG/PNG and embedded in the page.
import type { TopLevelSpec } from 'vega-lite';
import type { PositionDef } from 'vega-lite/types_unstable/channeldef.js';
import { groupLabel, type ReportData } from './data.js';
import { sweepFamily, type Trial } from '../domain.js';
import { pathChart, type PathOptions } from './paths.js';
import { facetColumns, lambdaAxis, LOSS_AXIS, onPaths, PANEL, SCHEMA, sig3, type Chart } from './chartKit.js';
import { fmt, relaxedChoice, relaxedGamma } from '../select/cv.js';
import { historyChart, importanceChart } from './search.js';

export { type Chart } from './chartKit.js';

/** How the loss axis is drawn: `auto` takes a log scale when the curve spans more than two decades. */
export type LossScale = 'auto' | 'log' | 'linear';

export interface ChartOptions extends PathOptions {
  /** report --y log|linear */
  y?: LossScale;
}

/** Every chart that has data in this sweep, in reading order. */
export function buildCharts(data: ReportData, options: ChartOptions = {}): Chart[] {
  const charts = [fitChart(data, options), historyChart(data), importanceChart(data), relaxedChart(data), methodsChart(data), sparsityChart(data), pathChart(data, options), l1VsL2Chart(data), l1RatioLambdaChart(data), learningCurveChart(data)];
  return charts.filter((c): c is Chart => c !== undefined);
}

/** How much worse `value` is than `best` under the report's metric (positive: worse), whichever way it is better. */
function worseBy(data: Pick<ReportData, 'metric'>, value: number, best: number): number {
  return data.metric.lowerIsBetter ? value - best : best - value;
}

/** The curves' figure by its name: MSE, log-loss, Poisson deviance; or the --metric asked for. */
export function metricName(data: ReportData): string {
  const family = sweepFamily(data.sweep);
  const classifier = family === 'binomial' || family === 'multinomial';
  switch (data.metric.name) {
    case 'deviance':
      return classifier ? `${family} deviance` : family === 'poisson' ? 'Poisson deviance' : family === 'cox' ? 'partial-likelihood deviance per death' : family === 'mgaussian' ? 'MSE (summed over targets)' : family === 'network' ? 'loss' : 'MSE';
    case 'mse':
      return classifier ? 'MSE of the class probabilities' : family === 'mgaussian' ? 'MSE (summed over targets)' : 'MSE';
    case 'mae':
      return classifier ? 'MAE of the class probabilities' : family === 'mgaussian' ? 'MAE (summed over targets)' : 'MAE';
    case 'class':
      return 'misclassification error';
    case 'auc':
      return 'AUC';
    case 'C':
      return "Harrell's C";
    case 'deviance_ungrouped':
      return 'partial-likelihood deviance per death (ungrouped)';
    case 'accuracy':
      return 'accuracy';
  }
  if (family === 'binomial' || family === 'multinomial') return 'log-loss';
  if (family === 'poisson') return 'Poisson deviance';
  if (family === 'cox') return 'partial-likelihood deviance per death';
  if (family === 'mgaussian') return 'MSE (summed over targets)';
  return 'MSE';
}

/** "mean ± se over 5 folds", "one holdout", … for the validation figures of this sweep. */
function validationWords(data: ReportData): string {
  const v = data.config.validation;
  if (v.kind === 'kfold') return `mean ± se over ${v.folds * (v.repeats ?? 1)} folds`;
  if (v.kind === 'holdout') return 'one holdout set';
  if (v.kind === 'column') return 'mean ± se over the folds of the fold column';
  return 'no validation';
}

/** Log when the positive values span more than two decades (or when asked). */
function lossScale(values: number[], asked: LossScale = 'auto'): 'log' | 'linear' {
  if (asked !== 'auto') return asked;
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length < 2) return 'linear';
  return Math.max(...positive) / Math.min(...positive) > 100 ? 'log' : 'linear';
}

const OVER_UNDER = 'λ (log scale): ← overfitting · underfitting →';

/** 1. Train and validation loss vs λ, ±1 se band, λ_min and λ_1se; a random sweep's points as a scatter. */
function fitChart(data: ReportData, options: ChartOptions = {}): Chart | undefined {
  return data.config.sweep.kind !== 'grid' ? randomFitChart(data, options) : gridFitChart(data, options);
}

function gridFitChart(data: ReportData, options: ChartOptions): Chart | undefined {
  let rows: Record<string, unknown>[] = [];
  const hasValidation = data.summary.length > 0;
  if (hasValidation) {
    for (const s of data.summary) {
      const group = groupLabel(s.penalty, s.l1Ratio, s.settings);
      rows.push({ group, lambda: s.lambda, series: 'validation', loss: s.mean, lo: s.mean - s.se, hi: s.mean + s.se, folds: s.folds });
      if (s.trainMean !== null) rows.push({ group, lambda: s.lambda, series: 'train', loss: s.trainMean });
    }
  } else {
    for (const t of data.trials) if (t.fold === 'all' && t.status === 'ok' && t.lambda > 0) rows.push({ group: groupLabel(t.penalty, t.l1Ratio, t.settings), lambda: t.lambda, series: 'train', loss: t.trainLoss });
  }
  if (rows.length === 0) return undefined;
  const groups = new Set(rows.map((r) => r.group as string));
  for (const s of data.selections) {
    const group = groupLabel(s.penalty, s.l1Ratio, s.settings);
    if (!groups.has(group)) continue;
    rows.push({ group, lambda: s.lambdaMin, series: 'λ_min', loss: s.meanMin });
    rows.push({ group, lambda: s.lambda1se, series: 'λ_1se', loss: s.mean1se });
  }
  const metric = metricName(data);
  const perGroup = new Map<unknown, number>();
  for (const r of rows) if (r.series === 'validation' || r.series === 'train') perGroup.set(`${r.group}/${r.series}`, (perGroup.get(`${r.group}/${r.series}`) ?? 0) + 1);
  const maxLambdas = Math.max(0, ...perGroup.values());
  const scale = lossScale(rows.filter((r) => r.series === 'validation' || r.series === 'train').map((r) => r.loss as number), options.y);
  if (scale === 'log') {
    // A log axis takes positive values only: the band is cut at the smallest loss drawn.
    const floor = Math.min(...rows.filter((r) => typeof r.loss === 'number' && (r.loss as number) > 0).map((r) => r.loss as number));
    rows = rows.filter((r) => r.loss === undefined || (r.loss as number) > 0).map((r) => (r.lo !== undefined ? { ...r, lo: Math.max(r.lo as number, floor) } : r));
  }
  const yTitle = `${metric}${scale === 'log' ? ' (log scale)' : ''}`;
  const y = { type: 'quantitative', scale: scale === 'log' ? { type: 'log' } : { zero: false }, title: yTitle, axis: LOSS_AXIS } as const;
  const positiveOnly = { filter: 'datum.lambda > 0' };
  return {
    id: 'fit',
    title: `Under- vs overfitting: ${metric} vs λ`,
    caption: hasValidation
      ? `Validation ${metric} (${validationWords(data)}; the band is ±1 standard error) and training ${metric} per λ, on one λ axis for every panel. Large λ on the right underfits (both losses high); small λ on the left overfits (training loss keeps falling, validation loss rises). Solid rule: λ_min; dashed rule: λ_1se, the simplest model within one standard error.`
      : `Training ${metric} per λ (${noValidationYet(data)}).`,
    guide: fitGuide(data, metric),
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      transform: [positiveOnly],
      facet: { field: 'group', type: 'nominal', title: null },
      columns: facetColumns(rows, 'group'),
      spec: {
        ...PANEL,
        layer: [
          {
            transform: [{ filter: "datum.series === 'validation'" }],
            mark: { type: 'area', opacity: 0.2, color: '#e45756' },
            encoding: { x: { ...lambdaAxis, title: OVER_UNDER }, y: { field: 'lo', ...y }, y2: { field: 'hi' } },
          },
          {
            transform: [{ filter: "datum.series === 'validation' || datum.series === 'train'" }],
            // A dot per λ while they can be told apart; past 40 λ a panel the line alone (and a tenth of the marks).
            mark: { type: 'line', ...(maxLambdas <= 40 ? { point: { size: 12 } } : {}) },
            encoding: {
              x: { ...lambdaAxis, title: OVER_UNDER },
              y: { field: 'loss', ...y },
              color: { field: 'series', type: 'nominal', scale: { domain: ['train', 'validation'], range: ['#4c78a8', '#e45756'] }, title: null },
              tooltip: [
                { field: 'series', type: 'nominal' },
                { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
                { field: 'loss', type: 'quantitative', format: '.3g', title: metric },
              ],
            },
          },
          {
            transform: [{ filter: "datum.series === 'λ_min' || datum.series === 'λ_1se'" }],
            mark: { type: 'rule', strokeWidth: 1.5 },
            encoding: {
              x: { ...lambdaAxis, title: OVER_UNDER },
              strokeDash: { field: 'series', type: 'nominal', scale: { domain: ['λ_min', 'λ_1se'], range: [[1, 0], [5, 3]] }, title: null, legend: { symbolType: 'stroke' } },
              color: { value: '#333' },
              tooltip: [
                { field: 'series', type: 'nominal', title: 'marker' },
                { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
                { field: 'loss', type: 'quantitative', format: '.3g', title: `validation ${metric}` },
              ],
            },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

/**
 * A random sweep's points: validation loss vs λ, one panel per penalty, coloured by l1 ratio, with a smoothed trend
 * (loess over log λ) and the best point's λ; λ_1se is not drawn (the points are not one curve to take it from).
 */
function randomFitChart(data: ReportData, options: ChartOptions): Chart | undefined {
  const points = data.summary.filter((s) => s.lambda > 0);
  if (points.length === 0) return undefined;
  const metric = metricName(data);
  const rows: Record<string, unknown>[] = points.map((s) => ({ penalty: s.penalty, l1_ratio: s.l1Ratio, lambda: s.lambda, loss: s.mean, se: s.se, series: 'point' }));
  for (const s of data.shownSelections) rows.push({ penalty: s.penalty, lambda: s.lambdaMin, loss: s.meanMin, series: 'λ_min' });
  const scale = lossScale(points.map((s) => s.mean), options.y);
  const y = { field: 'loss', type: 'quantitative', scale: scale === 'log' ? { type: 'log' } : { zero: false }, title: `validation ${metric}${scale === 'log' ? ' (log scale)' : ''}`, axis: LOSS_AXIS } as const;
  return {
    id: 'fit',
    title: `Random sweep: validation ${metric} vs λ`,
    caption: `Each point is one sampled (λ, l1_ratio): its validation ${metric} (${validationWords(data)}), one panel per penalty, the colour its l1_ratio; the line is a smoothed trend over log λ, the rule the best point's λ. Right: underfitting; left: overfitting.`,
    guide: fitGuide(data, metric),
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      facet: { field: 'penalty', type: 'nominal', title: null },
      columns: facetColumns(rows.filter((r) => r.penalty !== undefined), 'penalty'),
      spec: {
        ...PANEL,
        layer: [
          {
            transform: [{ filter: "datum.series === 'point'" }],
            mark: { type: 'point', filled: true, size: 28, opacity: 0.8 },
            encoding: {
              x: { ...lambdaAxis, title: OVER_UNDER },
              y,
              color: { field: 'l1_ratio', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] }, title: 'l1_ratio', legend: { format: '.2~f' } },
              tooltip: [
                { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
                { field: 'l1_ratio', type: 'quantitative', format: '.3g' },
                { field: 'loss', type: 'quantitative', format: '.3g', title: metric },
                { field: 'se', type: 'quantitative', format: '.3g' },
              ],
            },
          },
          {
            transform: [{ filter: "datum.series === 'point'" }, { calculate: 'log(datum.lambda) / LN10', as: 'log_lambda' }, { loess: 'loss', on: 'log_lambda', bandwidth: 0.5 }, { calculate: 'pow(10, datum.log_lambda)', as: 'lambda' }],
            // Clipped: a smoothed line may run past the points at the ends of the λ range.
            mark: { type: 'line', color: '#333', strokeWidth: 1.5, clip: true },
            encoding: { x: { ...lambdaAxis, title: OVER_UNDER }, y },
          },
          {
            transform: [{ filter: "datum.series === 'λ_min'" }],
            mark: { type: 'rule', color: '#333', strokeWidth: 1.5 },
            encoding: { x: { ...lambdaAxis, title: OVER_UNDER }, tooltip: [{ field: 'lambda', type: 'quantitative', format: '.3g', title: 'best λ' }] },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

/** Why the fit chart has no validation curve: none asked for, none finished yet, or none that finished. */
function noValidationYet(data: ReportData): string {
  if (data.config.validation.kind === 'none') return 'validation kind none: no held-out data, so no validation curve';
  if (data.sweep.status === 'running') return `validation curves (${validationWords(data)}) appear when the first validation fold completes`;
  return 'no validation fold finished: see the status column of the trials table';
}

/** The fit chart read on this sweep's numbers: where the best λ is, what λ_1se gives up, what each side looks like. */
function fitGuide(data: ReportData, metric: string): string {
  const best = [...data.shownSelections].sort((a, b) => worseBy(data, a.meanMin, b.meanMin))[0];
  if (!best)
    return data.config.validation.kind === 'none'
      ? 'There is no validation curve here (validation kind none): the chart shows how closely the model can follow its training rows as λ shrinks, not how well it predicts new ones.'
      : `No validation figures yet: ${noValidationYet(data)}. Until then the chart shows how closely the model follows its training rows as λ shrinks, not how well it predicts new ones.`;
  const group = groupLabel(best.penalty, best.l1Ratio, best.settings);
  const points = data.summary.filter((s) => groupLabel(s.penalty, s.l1Ratio, s.settings) === group && s.lambda > 0).sort((a, b) => a.lambda - b.lambda);
  const smallest = points[0];
  const largest = points[points.length - 1];
  const parts = [
    `On this sweep the ${data.metric.lowerIsBetter ? 'lowest' : 'highest'} validation ${metric} is ${sig3(best.meanMin)}${best.seMin > 0 ? ` ± ${sig3(best.seMin)}` : ''}, for ${group} at λ_min = ${sig3(best.lambdaMin)}${best.nnzMin !== null ? ` (${best.nnzMin} nonzero coefficients${best.featuresMin !== undefined ? `, in ${best.featuresMin} of ${data.sweep.p} features` : ''})` : ''}.`,
  ];
  if (best.lambda1se !== best.lambdaMin) {
    // "Simpler" only when it has fewer nonzero coefficients; otherwise it is the same model, shrunk more.
    const fewer = best.nnz1se !== null && best.nnzMin !== null && best.nnz1se < best.nnzMin;
    const what = fewer
      ? `a simpler model (${best.nnz1se} nonzero)`
      : `a more strongly shrunk model${best.nnz1se !== null ? ` (the same ${best.nnz1se} nonzero coefficients, smaller)` : ''}`;
    parts.push(`λ_1se = ${sig3(best.lambda1se)} is the largest λ whose ${metric} (${sig3(best.mean1se)}) is within one standard error of that: ${what} that the data cannot tell apart from the best — glmnet's default choice.`);
  }
  if (largest && largest.lambda > best.lambdaMin)
    parts.push(`Underfitting is the right side: at λ = ${sig3(largest.lambda)} the penalty leaves too little of the signal, and validation (${sig3(largest.mean)}) and training${largest.trainMean !== null ? ` (${sig3(largest.trainMean)})` : ''} losses are both high and close together.`);
  if (smallest && smallest.lambda < best.lambdaMin && smallest.trainMean !== null) {
    // Overfitting is claimed only when the loss at the small-λ end is above the best by more than its standard error.
    if (worseBy(data, smallest.mean, best.meanMin) > best.seMin)
      parts.push(`Overfitting is the left side: at λ = ${sig3(smallest.lambda)} the training ${metric} ${data.metric.lowerIsBetter ? 'falls' : 'rises'} to ${sig3(smallest.trainMean)} while the validation ${metric} is ${sig3(smallest.mean)}, worse than the best by ${sig3(worseBy(data, smallest.mean, best.meanMin))} (more than its standard error): the fit follows noise in its training rows.`);
    else
      parts.push(`No clear overfitting in this range: at the smallest λ (${sig3(smallest.lambda)}) the validation ${metric} (${sig3(smallest.mean)}) is within one standard error of the best, though the training ${metric} falls to ${sig3(smallest.trainMean)}; smaller λ would show whether it rises.`);
  }
  return parts.join(' ');
}

/** Fits on all rows when the sweep has them (the model users keep), else fold 0. */
function referenceFits(data: ReportData) {
  return onPaths(keptFits(data));
}

/** Every fit on all rows (or fold 0 without them), path or single point. */
function keptFits(data: ReportData) {
  const all = data.trials.filter((t) => t.fold === 'all' && t.status === 'ok');
  return all.length ? all : data.trials.filter((t) => t.fold === '0' && t.status === 'ok');
}

/**
 * The relaxed lasso (sweep.gamma), as glmnet's plot(cv.relaxed): the validation curve against λ, one line per γ, a
 * panel per penalty and l1 ratio, with rules at λ and γ chosen together (λ_min and λ_1se of cv.glmnet relax = TRUE).
 */
function relaxedChart(data: ReportData): Chart | undefined {
  const points = data.summary.filter((p) => p.lambda > 0 && relaxedGamma(p.settings) !== undefined);
  if (points.length === 0) return undefined;
  const metric = metricName(data);
  const rows: Record<string, unknown>[] = points.map((p) => ({ group: groupLabel(p.penalty, p.l1Ratio), gamma: String(relaxedGamma(p.settings)), lambda: p.lambda, loss: p.mean, se: p.se }));
  const picks: string[] = [];
  for (const group of new Set(points.map((p) => groupLabel(p.penalty, p.l1Ratio)))) {
    const choice = relaxedChoice(data.summary.filter((p) => groupLabel(p.penalty, p.l1Ratio) === group), data.metric);
    if (!choice) continue;
    for (const [series, p] of [['λ_min', choice.min], ['λ_1se', choice.oneSe]] as const) rows.push({ group, series, lambda: p.lambda, loss: p.mean, gamma: String(relaxedGamma(p.settings)) });
    picks.push(`${group}: λ_min ${fmt(choice.min.lambda)} with γ ${relaxedGamma(choice.min.settings)}, λ_1se ${fmt(choice.oneSe.lambda)} with γ ${relaxedGamma(choice.oneSe.settings)}`);
  }
  const y = { field: 'loss', type: 'quantitative', scale: { zero: false }, title: `validation ${metric}`, axis: LOSS_AXIS } as const;
  return {
    id: 'relaxed',
    title: `The relaxed lasso: validation ${metric} vs λ for each γ`,
    caption: `Each line blends the penalized fit at λ with the unpenalized refit on the features it keeps: γ = 1 is the plain path, γ = 0 the refit alone (${validationWords(data)}). λ and γ are chosen together, as cv.glmnet with relax = TRUE: ${picks.join('; ')}. Solid rule: λ_min; dashed: λ_1se.`,
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      facet: { field: 'group', type: 'nominal', title: null },
      columns: facetColumns(rows, 'group'),
      spec: {
        ...PANEL,
        width: 320,
        layer: [
          {
            transform: [{ filter: 'datum.series == null' }],
            mark: { type: 'line', point: { size: 12 } },
            encoding: {
              x: { ...lambdaAxis, title: OVER_UNDER },
              y,
              color: { field: 'gamma', type: 'ordinal', title: 'γ', scale: { scheme: 'viridis' } },
              tooltip: [
                { field: 'gamma', title: 'γ' },
                { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
                { field: 'loss', type: 'quantitative', format: '.4g', title: metric },
                { field: 'se', type: 'quantitative', format: '.3g', title: 'standard error' },
              ],
            },
          },
          {
            transform: [{ filter: 'datum.series != null' }],
            mark: { type: 'rule', strokeWidth: 1.5, color: '#333' },
            encoding: {
              x: { ...lambdaAxis, title: OVER_UNDER },
              strokeDash: { field: 'series', type: 'nominal', scale: { domain: ['λ_min', 'λ_1se'], range: [[1, 0], [5, 3]] }, title: null, legend: { symbolType: 'stroke' } },
              tooltip: [
                { field: 'series', title: 'marker' },
                { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
                { field: 'gamma', title: 'γ' },
              ],
            },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

/**
 * For a sweep that varies model settings (the seeds' comparison): validation loss and the exact-zero fraction of the
 * weights vs λ, one line per penalty and settings, side by side — weight decay against explicit L1, subgradient
 * against proximal.
 */
function methodsChart(data: ReportData): Chart | undefined {
  // A relaxed sweep's settings are its γ alone: the relaxed chart compares them.
  if (!data.trials.some((t) => t.settings && relaxedGamma(t.settings) === undefined)) return undefined;
  const rows = [
    ...data.summary.filter((p) => p.lambda > 0).map((p) => ({ group: groupLabel(p.penalty, p.l1Ratio, p.settings), lambda: p.lambda, measure: 'validation loss', value: p.mean })),
    ...referenceFits(data)
      .filter((t) => t.lambda > 0)
      .map((t) => ({ group: groupLabel(t.penalty, t.l1Ratio, t.settings), lambda: t.lambda, measure: 'exact-zero fraction', value: t.zeroFraction })),
  ];
  if (rows.length === 0) return undefined;
  const panels: { measure: string; y: PositionDef<string> }[] = [
    {
      measure: 'validation loss',
      y: lossScale(rows.filter((r) => r.measure === 'validation loss').map((r) => r.value)) === 'log'
        ? { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'validation loss (log scale)', axis: LOSS_AXIS }
        : { field: 'value', type: 'quantitative', scale: { zero: false }, title: 'validation loss', axis: LOSS_AXIS },
    },
    { measure: 'exact-zero fraction', y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'exact-zero weights' } },
  ];
  return {
    id: 'methods',
    title: 'Settings compared: validation loss and exact zeros vs λ',
    caption:
      'One line per penalty and model settings. Left: validation loss (lower is better); right: the fraction of weights that are exactly zero in the fit kept. A proximal L1 step reaches exact zeros, a subgradient in the loss does not; weight decay (L2) shrinks without zeros.',
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      hconcat: panels.map(({ measure, y }) => ({
        ...PANEL,
        width: 320,
        title: measure,
        transform: [{ filter: `datum.measure === '${measure}'` }],
        mark: { type: 'line' as const, point: { size: 12 } },
        encoding: {
          x: lambdaAxis,
          y,
          color: { field: 'group', type: 'nominal', title: 'penalty · settings', legend: { labelLimit: 400 } },
          tooltip: [
            { field: 'group', title: 'penalty · settings' },
            { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
            { field: 'value', type: 'quantitative', format: '.3g', title: measure },
          ],
        },
      })),
    },
  };
}

/** 2. Fraction of exact-zero and near-zero weights vs λ, per penalty. */
function sparsityChart(data: ReportData): Chart | undefined {
  // A random sweep's points (each elastic-net point its own l1 ratio) are dots per penalty, not lines per l1 ratio.
  const random = data.config.sweep.kind !== 'grid';
  const label = (t: Trial) => (random ? groupLabel(t.penalty === 'elasticnet' ? 'elasticnet (each its l1_ratio)' : t.penalty, t.l1Ratio, t.settings) : groupLabel(t.penalty, t.l1Ratio, t.settings));
  const rows = (random ? keptFits(data) : referenceFits(data))
    .filter((t) => t.lambda > 0)
    .flatMap((t) => [
      { group: label(t), l1_ratio: t.l1Ratio, lambda: t.lambda, measure: 'exact zeros', fraction: t.zeroFraction, nnz: t.nnz },
      { group: label(t), l1_ratio: t.l1Ratio, lambda: t.lambda, measure: 'near zero', fraction: t.nearZeroFraction, nnz: t.nnz },
    ]);
  if (rows.length === 0) return undefined;
  const nearZero = data.config.near_zero;
  // Coefficients are called near zero on the standardized scale (the sweep kept each feature's sd); network weights as they are.
  const standardized = data.sweep.featureScales !== null && data.config.model.kind !== 'mlp';
  return {
    id: 'sparsity',
    title: 'Sparsity vs λ',
    caption: `Fraction of weights that are exactly zero (${random ? 'circles' : 'solid'}) and near zero (${random ? 'triangles' : 'dashed'}: ${standardized ? `|w × the feature's sd| < ${nearZero}, on the standardized scale, so that a feature's unit does not make its coefficient small` : `|w| < ${nearZero}`}), in the fit on all rows${random ? ', one dot per sampled point (elastic net at its own l1_ratio, on hover)' : ''}. L1 reaches exact zeros; L2 shrinks weights toward zero without reaching it.`,
    guide: `${sparsityAtSelections(data)}Read it with the loss chart: a λ whose validation loss is close to the best but with many more exact zeros is a smaller model for nearly the same error. A gap between the dashed and the solid line of a penalty is weights that are small but not zero — what ridge (L2) gives, and what a subgradient L1 in a network gives instead of zeros.`,
    spec: {
      $schema: SCHEMA,
      ...PANEL,
      width: 420,
      data: { values: rows },
      // Lines only: the legend then shows a solid and a dashed stroke, not one dot for both measures.
      mark: random ? { type: 'point', size: 30, filled: true, opacity: 0.8 } : { type: 'line', strokeWidth: 1.8 },
      encoding: {
        x: lambdaAxis,
        y: { field: 'fraction', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'fraction of weights' },
        color: { field: 'group', type: 'nominal', title: 'penalty', legend: random ? {} : { symbolType: 'stroke', symbolStrokeWidth: 3 } },
        ...(random
          ? { shape: { field: 'measure', type: 'nominal', scale: { domain: ['exact zeros', 'near zero'], range: ['circle', 'triangle-up'] }, title: null } }
          : { strokeDash: { field: 'measure', type: 'nominal', scale: { domain: ['exact zeros', 'near zero'], range: [[1, 0], [4, 3]] }, title: null, legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } } }),
        tooltip: [
          { field: 'group', title: 'penalty' },
          ...(random ? [{ field: 'l1_ratio', type: 'quantitative', format: '.2f' } as const] : []),
          { field: 'measure' },
          { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
          { field: 'fraction', type: 'quantitative', format: '.1%' },
          { field: 'nnz', type: 'quantitative', title: 'nonzero' },
        ],
      },
    },
  };
}

/** Two numbers written with the fewest significant digits (three at least) that tell them apart, when they differ. */
export function distinctDigits(a: number, b: number): [string, string] {
  for (let digits = 3; digits < 12; digits++) {
    const [x, y] = [a, b].map((v) => String(Number(v.toPrecision(digits))));
    if (x !== y || a === b) return [x, y];
  }
  return [String(a), String(b)];
}

/** The best cell of the heatmap and how far apart the l1 ratios' best values are. */
function bestCell(rows: { l1_ratio: number; lambda: number; loss: number; above: number }[]): string {
  if (rows.length === 0) return '';
  const best = rows.reduce((a, b) => (b.above < a.above ? b : a));
  const perRatio = new Map<number, { loss: number; above: number }>();
  for (const r of rows) if (!perRatio.has(r.l1_ratio) || r.above < perRatio.get(r.l1_ratio)!.above) perRatio.set(r.l1_ratio, r);
  const bests = [...perRatio.values()].map((r) => r.loss);
  const highest = Math.max(...bests);
  const [low, high] = distinctDigits(Math.min(...bests), highest);
  return `On this sweep the best cell is l1_ratio ${sig3(best.l1_ratio)} at λ ${sig3(best.lambda)} (${distinctDigits(best.loss, highest)[0]}); the best of each l1_ratio lies between ${low} and ${high}. `;
}

/** "On this sweep, at λ_min: l1 leaves 12 of 150 weights nonzero (92% exact zeros), …" from the fits kept. */
function sparsityAtSelections(data: ReportData): string {
  const fits = referenceFits(data);
  const parts = data.shownSelections.flatMap((s) => {
    const fit = fits.find((t) => t.penalty === s.penalty && t.l1Ratio === s.l1Ratio && t.settings === s.settings && t.lambda === s.lambdaMin);
    return fit ? [`${groupLabel(s.penalty, s.l1Ratio, s.settings)} ${Math.round(100 * fit.zeroFraction)}% exact zeros and ${Math.round(100 * fit.nearZeroFraction)}% near zero`] : [];
  });
  return parts.length ? `On this sweep, at each penalty's λ_min: ${parts.join('; ')}. ` : '';
}

/** Which penalty is best here, and whether the others are within its standard error. */
function penaltyVerdict(picks: ReportData['selections'], lowerIsBetter: boolean, metric: string): string {
  const sorted = [...picks].sort((a, b) => a.meanMin - b.meanMin);
  if (!lowerIsBetter) sorted.reverse();
  const best = sorted[0];
  if (!best) return '';
  const close = sorted.slice(1).filter((s) => Math.abs(s.meanMin - best.meanMin) <= s.seMin + best.seMin);
  const label = (s: (typeof picks)[number]) => groupLabel(s.penalty, s.l1Ratio, s.settings);
  return `On this sweep ${label(best)} has the ${lowerIsBetter ? 'lowest' : 'highest'} validation ${metric} (${sig3(best.meanMin)}${best.seMin > 0 ? ` ± ${sig3(best.seMin)}` : ''})${close.length ? `; ${close.map(label).join(', ')} ${close.length > 1 ? 'are' : 'is'} within its standard error` : ', by more than the standard errors'}. `;
}

/** 4. L1 vs L2 at each one's λ_min: weight histogram (sparse vs diffuse) and validation loss ± se. */
function l1VsL2Chart(data: ReportData): Chart | undefined {
  const picks = data.shownSelections.filter((s) => s.penalty === 'l1' || s.penalty === 'l2' || s.penalty === 'elasticnet');
  if (picks.length < 2) return undefined;
  const weights: Record<string, unknown>[] = [];
  for (const s of picks) {
    const fit = data.coefficients.find((c) => c.penalty === s.penalty && c.l1Ratio === s.l1Ratio && c.settings === s.settings && c.lambda === s.lambdaMin);
    if (!fit) continue;
    for (const w of fit.coefs) weights.push({ group: groupLabel(s.penalty, s.l1Ratio, s.settings), weight: w });
  }
  const losses = picks.map((s) => ({ group: groupLabel(s.penalty, s.l1Ratio, s.settings), loss: s.meanMin, lo: s.meanMin - s.seMin, hi: s.meanMin + s.seMin, lambda: s.lambdaMin, nnz: s.nnzMin }));
  return {
    id: 'l1-vs-l2',
    title: 'L1 vs L2 at each one’s best λ',
    caption: 'Left: the weights of the fit on all rows at each penalty’s λ_min (L1: a spike at zero and a few large weights; L2: many small ones). Right: the validation loss at λ_min with ±1 standard error.',
    guide: `${penaltyVerdict(picks, data.metric.lowerIsBetter, metricName(data))}When the error bars overlap, the data cannot tell the penalties apart: take the simpler model (the one with more zeros). A penalty that wins by more than its standard error is telling you about the signal — few strong features favour L1, many small effects favour L2.`,
    spec: {
      $schema: SCHEMA,
      hconcat: [
        {
          data: { values: weights },
          facet: { row: { field: 'group', type: 'nominal', title: null } },
          spec: {
            width: 300,
            height: 90,
            mark: 'bar',
            encoding: {
              x: { field: 'weight', type: 'quantitative', bin: { maxbins: 40 }, title: 'weight (original scale)' },
              y: { aggregate: 'count', type: 'quantitative', title: 'features' },
              color: { field: 'group', type: 'nominal', legend: null },
              tooltip: [{ field: 'group', title: 'penalty' }, { aggregate: 'count', type: 'quantitative', title: 'features' }],
            },
          },
        },
        {
          data: { values: losses },
          width: 220,
          height: 90 * picks.length,
          layer: [
            {
              mark: 'bar',
              encoding: {
                y: { field: 'group', type: 'nominal', title: null },
                x: { field: 'loss', type: 'quantitative', title: 'validation loss at λ_min', scale: { zero: true, nice: true }, axis: LOSS_AXIS },
                color: { field: 'group', type: 'nominal', legend: null },
                tooltip: [
                  { field: 'group', title: 'penalty' },
                  { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ_min' },
                  { field: 'loss', type: 'quantitative', format: '.3g', title: 'validation loss' },
                  { field: 'nnz', type: 'quantitative', title: 'nonzero weights' },
                ],
              },
            },
            { mark: { type: 'rule', color: '#222', clip: false }, encoding: { y: { field: 'group', type: 'nominal' }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
          ],
        },
      ],
    } as TopLevelSpec,
  };
}

/** Cell bounds for a heatmap on a log λ axis: geometric midpoints to the neighbouring λ of the same l1 ratio. */
function withCells<T extends { l1_ratio: number; lambda: number }>(rows: T[]): (T & { lambdaLow: number; lambdaHigh: number })[] {
  const byRatio = new Map<number, number[]>();
  for (const r of rows) {
    if (!byRatio.has(r.l1_ratio)) byRatio.set(r.l1_ratio, []);
    byRatio.get(r.l1_ratio)!.push(r.lambda);
  }
  for (const lambdas of byRatio.values()) lambdas.sort((a, b) => a - b);
  return rows.map((r) => {
    const lambdas = byRatio.get(r.l1_ratio)!;
    const k = lambdas.indexOf(r.lambda);
    const below = k > 0 ? lambdas[k - 1] : r.lambda / (lambdas.length > 1 ? lambdas[1] / lambdas[0] : 10);
    const above = k < lambdas.length - 1 ? lambdas[k + 1] : r.lambda * (lambdas.length > 1 ? lambdas[k] / lambdas[k - 1] : 10);
    return { ...r, lambdaLow: Math.sqrt(below * r.lambda), lambdaHigh: Math.sqrt(above * r.lambda) };
  });
}

/** 5. l1 ratio × λ heatmap of validation loss (grid sweeps), or a scatter coloured by it (random sweeps). */
function l1RatioLambdaChart(data: ReportData): Chart | undefined {
  const points = data.summary.filter((s) => s.penalty !== 'none' && s.lambda > 0);
  const ratios = new Set(points.map((r) => r.l1Ratio));
  if (ratios.size < 2) return undefined;
  // Coloured by how far above the best a cell is, on a scale that is linear within a standard error of the best and
  // logarithmic beyond (symlog), clamped: the region of interest gets the colours, not the underfitting end.
  const best = points.reduce((a, b) => (worseBy(data, b.mean, a.mean) < 0 ? b : a));
  const unit = best.se > 0 ? best.se : Math.max(Math.abs(best.mean) * 1e-3, 1e-12);
  const rows = points.map((s) => ({ l1_ratio: s.l1Ratio, lambda: s.lambda, loss: s.mean, se: s.se, penalty: s.penalty, above: worseBy(data, s.mean, best.mean) }));
  const ceiling = Math.max(unit, Math.min(Math.max(...rows.map((r) => r.above)), 20 * unit));
  const random = data.config.sweep.kind !== 'grid';
  const tooltip = [
    { field: 'penalty' },
    { field: 'l1_ratio', type: 'quantitative', title: 'l1_ratio' },
    { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
    { field: 'loss', type: 'quantitative', format: '.4g', title: 'validation loss' },
    { field: 'above', type: 'quantitative', format: '.3g', title: 'worse than the best by' },
    { field: 'se', type: 'quantitative', format: '.3g', title: 'se' },
  ] as const;
  const color = {
    field: 'above',
    type: 'quantitative',
    scale: { type: 'symlog', constant: unit, domain: [0, ceiling], clamp: true, scheme: 'viridis' },
    title: 'worse than the best by',
    legend: { format: '~r', labelOverlap: 'greedy' },
  } as const;
  const spec: TopLevelSpec = random
    ? {
        $schema: SCHEMA,
        width: 420,
        height: 260,
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x: lambdaAxis, y: { field: 'l1_ratio', type: 'quantitative', title: 'l1_ratio (0 = L2, 1 = L1)' }, color, tooltip: [...tooltip] },
      }
    : {
        $schema: SCHEMA,
        width: 520,
        height: Math.max(120, 28 * ratios.size),
        data: { values: withCells(rows) },
        mark: 'rect',
        encoding: {
          // Each cell spans from the midpoint (in log λ) to its lower neighbour to the one to its upper neighbour.
          x: { field: 'lambdaLow', type: 'quantitative', scale: { type: 'log' }, title: 'λ (log scale)', axis: { format: '.0e', labelOverlap: 'greedy' } },
          x2: { field: 'lambdaHigh' },
          y: { field: 'l1_ratio', type: 'ordinal', sort: 'descending', title: 'l1_ratio (0 = L2, 1 = L1)', axis: { format: '.2~f' } },
          color,
          tooltip: [...tooltip],
        },
      };
  return {
    id: 'l1-ratio-lambda',
    title: random ? 'Random sweep: validation loss over l1_ratio and λ' : 'l1_ratio × λ: validation loss',
    caption: `Mean validation ${metricName(data)} over folds for each l1_ratio and λ, coloured by how much worse it is than the best cell (${sig3(best.mean)}): darkest is the best, the colour changes evenly within one standard error of it (${sig3(unit)}) and by decades beyond, up to ${sig3(ceiling)} worse (the underfitting end shares the lightest colour). l1_ratio 1 is the lasso (L1), 0 ridge (L2).`,
    guide: `${bestCell(rows)}A dark band along one row says that mix of L1 and L2 is best over a range of λ; a dark region running diagonally says λ and l1_ratio trade off (more L1 wants a smaller λ). Light cells on the right are underfitting at every mix; on the left, the rows part ways as overfitting sets in.`,
    spec,
  };
}

/** 6. Training and validation loss per epoch for network trials, the epoch kept by early stopping marked. */
function learningCurveChart(data: ReportData): Chart | undefined {
  const epochs = data.epochs.filter((e) => e.fold === '0');
  const rows: Record<string, unknown>[] = epochs.flatMap((e) => {
    const base = { group: groupLabel(e.penalty, e.l1Ratio, e.settings), lambda: e.lambda, lambdaLabel: sig3(e.lambda), epoch: e.epoch };
    return [...(e.valLoss !== null ? [{ ...base, series: 'validation', loss: e.valLoss }] : []), ...(e.trainLoss !== null ? [{ ...base, series: 'train', loss: e.trainLoss }] : [])];
  });
  if (!rows.some((r) => r.series === 'validation')) return undefined;
  // The epoch kept: the one with the lowest validation loss of a trial stopped early (its weights are the ones stored).
  const kept = new Map<number, TrialEpochLike>();
  for (const e of epochs) if (e.valLoss !== null && (!kept.has(e.trialId) || e.valLoss < kept.get(e.trialId)!.valLoss!)) kept.set(e.trialId, e);
  const earlyStopping = data.config.model.kind === 'mlp' && (data.config.model as { early_stopping?: unknown }).early_stopping !== undefined;
  if (earlyStopping) for (const e of kept.values()) rows.push({ group: groupLabel(e.penalty, e.l1Ratio, e.settings), lambda: e.lambda, lambdaLabel: sig3(e.lambda), epoch: e.epoch, loss: e.valLoss, series: 'kept' });
  const metric = metricName(data);
  const color = { field: 'lambdaLabel', type: 'ordinal', sort: { field: 'lambda', order: 'ascending' }, scale: { scheme: 'viridis' }, title: 'λ' } as const;
  return {
    id: 'learning-curves',
    title: `Learning curves: ${metric} per epoch`,
    caption: `Training (dashed) and validation (solid) ${metric} per epoch on the first validation fold, one colour per λ${earlyStopping ? '; a dot marks the epoch early stopping kept' : ''}. The gap between the two is overfitting.`,
    guide: `${lowestEpoch(rows, metric)}A validation line that turns up while its training line keeps falling is overfitting by epochs: more epochs only memorize. A larger λ holds the two lines together at a higher level (underfitting when both stay high). The λ whose validation line ends lowest is the one the loss chart picks.`,
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      facet: { field: 'group', type: 'nominal', title: null },
      columns: facetColumns(rows, 'group'),
      spec: {
        ...PANEL,
        layer: [
          {
            transform: [{ filter: "datum.series !== 'kept'" }],
            mark: { type: 'line' },
            encoding: {
              x: { field: 'epoch', type: 'quantitative' },
              y: { field: 'loss', type: 'quantitative', scale: { zero: false }, title: metric },
              color,
              strokeDash: { field: 'series', type: 'nominal', scale: { domain: ['validation', 'train'], range: [[1, 0], [4, 3]] }, title: null, legend: { symbolType: 'stroke' } },
              tooltip: [
                { field: 'series' },
                { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
                { field: 'epoch', type: 'quantitative' },
                { field: 'loss', type: 'quantitative', format: '.3g', title: metric },
              ],
            },
          },
          {
            transform: [{ filter: "datum.series === 'kept'" }],
            mark: { type: 'point', filled: true, size: 30 },
            encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' }, color },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

type TrialEpochLike = ReportData['epochs'][number];

/** Where the first fold's validation loss is lowest, and how far it rises after that on the same curve. */
function lowestEpoch(rows: Record<string, unknown>[], metric: string): string {
  const validation = rows.filter((r) => r.series === 'validation') as { group: string; lambda: number; epoch: number; loss: number }[];
  if (validation.length === 0) return '';
  const best = validation.reduce((a, b) => (b.loss < a.loss ? b : a));
  const curve = validation.filter((r) => r.group === best.group && r.lambda === best.lambda);
  const last = curve.reduce((a, b) => (b.epoch > a.epoch ? b : a));
  const rise = last.loss - best.loss;
  return `On this sweep the lowest validation ${metric} on the first fold is ${sig3(best.loss)}, at epoch ${best.epoch} (${best.group}, λ ${sig3(best.lambda)})${rise > 0 && last.epoch > best.epoch ? `; that curve ends ${sig3(rise)} higher at epoch ${last.epoch}` : ''}. `;
}
