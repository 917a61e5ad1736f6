// Vega-Lite specs, built as typed objects from the report data; each is rendered to SVG/PNG and embedded in the page.
import type { TopLevelSpec } from 'vega-lite';
import type { PositionDef } from 'vega-lite/types_unstable/channeldef.js';
import { groupLabel, type ReportData } from './data.js';
import { outputNames, sweepFamily } from '../domain.js';

export interface Chart {
  /** File stem: fit.vl.json, fit.svg, fit.png. */
  id: string;
  title: string;
  /** One sentence under the title saying how to read it. */
  caption: string;
  spec: TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const lambdaAxis = { field: 'lambda', type: 'quantitative', scale: { type: 'log' }, title: 'λ (log scale)', axis: { format: '.0e' } } as const;
const PANEL = { width: 260, height: 180 };

/** Every chart that has data in this sweep, in reading order. */
export function buildCharts(data: ReportData): Chart[] {
  const charts = [fitChart(data), methodsChart(data), sparsityChart(data), pathChart(data), l1VsL2Chart(data), alphaLambdaChart(data), learningCurveChart(data)];
  return charts.filter((c): c is Chart => c !== undefined);
}

/** 1. Train and validation loss vs λ, ±1 se band, λ_min and λ_1se, under- and overfitting sides labelled. */
export function fitChart(data: ReportData): Chart | undefined {
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
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const g = r.group as string;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(r.lambda as number);
  }
  // A random sweep's elastic-net points each have their own l1 ratio: one-point panels say nothing (the l1 ratio × λ chart shows them).
  const paths = [...groups].filter(([, lambdas]) => new Set(lambdas).size >= 2).map(([g]) => g);
  if (paths.length > 0 && paths.length < groups.size) {
    const keep = new Set(paths);
    for (const g of [...groups.keys()]) if (!keep.has(g)) groups.delete(g);
    rows = rows.filter((r) => keep.has(r.group as string));
  }
  for (const [group, lambdas] of groups) {
    const positive = lambdas.filter((l) => l > 0);
    if (positive.length < 2) continue;
    rows.push({ group, lambda: Math.max(...positive), series: 'label', text: 'underfitting →', align: 'right' });
    rows.push({ group, lambda: Math.min(...positive), series: 'label', text: '← overfitting', align: 'left' });
  }
  for (const s of data.selections) {
    const group = groupLabel(s.penalty, s.l1Ratio, s.settings);
    if (!groups.has(group)) continue;
    rows.push({ group, lambda: s.lambdaMin, series: 'λ_min', loss: s.meanMin });
    rows.push({ group, lambda: s.lambda1se, series: 'λ_1se', loss: s.mean1se });
  }
  const positiveOnly = { filter: 'datum.lambda > 0' };
  return {
    id: 'fit',
    title: 'Under- vs overfitting: loss vs λ',
    caption: hasValidation
      ? 'Validation loss (mean over folds, band ±1 standard error) and training loss per λ. Large λ on the right underfits (both losses high); small λ on the left overfits (training loss keeps falling, validation loss rises). Solid rule: λ_min; dashed rule: λ_1se, the simplest model within one standard error.'
      : 'Training loss per λ (validation kind none: no held-out data, so no validation curve).',
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      transform: [positiveOnly],
      facet: { field: 'group', type: 'nominal', title: null },
      columns: 3,
      // Each penalty has its own λ range (auto grids start at its own λ_max).
      resolve: { scale: { x: 'independent' } },
      spec: {
        ...PANEL,
        layer: [
          {
            transform: [{ filter: "datum.series === 'validation'" }],
            mark: { type: 'area', opacity: 0.2, color: '#e45756' },
            encoding: { x: lambdaAxis, y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: 'loss' }, y2: { field: 'hi' } },
          },
          {
            transform: [{ filter: "datum.series === 'validation' || datum.series === 'train'" }],
            mark: { type: 'line', point: { size: 12 } },
            encoding: {
              x: lambdaAxis,
              y: { field: 'loss', type: 'quantitative', scale: { zero: false }, title: 'loss' },
              color: { field: 'series', type: 'nominal', scale: { domain: ['train', 'validation'], range: ['#4c78a8', '#e45756'] }, title: null },
              tooltip: [
                { field: 'series', type: 'nominal' },
                { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
                { field: 'loss', type: 'quantitative', format: '.5g' },
              ],
            },
          },
          {
            transform: [{ filter: "datum.series === 'λ_min' || datum.series === 'λ_1se'" }],
            mark: { type: 'rule', strokeWidth: 1.5 },
            encoding: {
              x: lambdaAxis,
              strokeDash: { field: 'series', type: 'nominal', scale: { domain: ['λ_min', 'λ_1se'], range: [[1, 0], [5, 3]] }, title: null },
              color: { value: '#333' },
              tooltip: [
                { field: 'series', type: 'nominal', title: 'marker' },
                { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
                { field: 'loss', type: 'quantitative', format: '.5g', title: 'validation loss' },
              ],
            },
          },
          ...(['right', 'left'] as const).map((align) => ({
            transform: [{ filter: `datum.series === 'label' && datum.align === '${align}'` }],
            mark: { type: 'text' as const, align, baseline: 'top' as const, dy: 2, fontSize: 10, color: '#666' },
            encoding: { x: lambdaAxis, y: { value: 0 }, text: { field: 'text' } },
          })),
        ],
      },
    } as TopLevelSpec,
  };
}

/** Fits on all rows when the sweep has them (the model users keep), else fold 0. */
function referenceFits(data: ReportData) {
  const all = data.trials.filter((t) => t.fold === 'all' && t.status === 'ok');
  return all.length ? all : data.trials.filter((t) => t.fold === '0' && t.status === 'ok');
}

/**
 * For a sweep that varies model settings (the seeds' comparison): validation loss and the exact-zero fraction of the
 * weights vs λ, one line per penalty and settings, side by side — weight decay against explicit L1, subgradient
 * against proximal.
 */
export function methodsChart(data: ReportData): Chart | undefined {
  if (!data.trials.some((t) => t.settings)) return undefined;
  const rows = [
    ...data.summary.filter((p) => p.lambda > 0).map((p) => ({ group: groupLabel(p.penalty, p.l1Ratio, p.settings), lambda: p.lambda, measure: 'validation loss', value: p.mean })),
    ...referenceFits(data)
      .filter((t) => t.lambda > 0)
      .map((t) => ({ group: groupLabel(t.penalty, t.l1Ratio, t.settings), lambda: t.lambda, measure: 'exact-zero fraction', value: t.zeroFraction })),
  ];
  if (rows.length === 0) return undefined;
  const panels: { measure: string; y: PositionDef<string> }[] = [
    { measure: 'validation loss', y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'validation loss (log scale)' } },
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
            { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
            { field: 'value', type: 'quantitative', format: '.4g', title: measure },
          ],
        },
      })),
    },
  };
}

/** 2. Fraction of exact-zero and near-zero weights vs λ, per penalty. */
export function sparsityChart(data: ReportData): Chart | undefined {
  const rows = referenceFits(data)
    .filter((t) => t.lambda > 0)
    .flatMap((t) => [
      { group: groupLabel(t.penalty, t.l1Ratio, t.settings), lambda: t.lambda, measure: 'exact zeros', fraction: t.zeroFraction, nnz: t.nnz },
      { group: groupLabel(t.penalty, t.l1Ratio, t.settings), lambda: t.lambda, measure: 'near zero', fraction: t.nearZeroFraction, nnz: t.nnz },
    ]);
  if (rows.length === 0) return undefined;
  const nearZero = data.config.near_zero;
  return {
    id: 'sparsity',
    title: 'Sparsity vs λ',
    caption: `Fraction of weights that are exactly zero (solid) and near zero, |w| < ${nearZero} (dashed), in the fit on all rows. L1 reaches exact zeros; L2 shrinks weights toward zero without reaching it.`,
    spec: {
      $schema: SCHEMA,
      ...PANEL,
      width: 420,
      data: { values: rows },
      mark: { type: 'line', point: { size: 10 } },
      encoding: {
        x: lambdaAxis,
        y: { field: 'fraction', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'fraction of weights' },
        color: { field: 'group', type: 'nominal', title: 'penalty' },
        strokeDash: { field: 'measure', type: 'nominal', scale: { domain: ['exact zeros', 'near zero'], range: [[1, 0], [4, 3]] }, title: null },
        tooltip: [
          { field: 'group', title: 'penalty' },
          { field: 'measure' },
          { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
          { field: 'fraction', type: 'quantitative', format: '.1%' },
          { field: 'nnz', type: 'quantitative', title: 'nonzero' },
        ],
      },
    },
  };
}

const MAX_PATH_FEATURES = 30;

/** 3. Each feature's coefficient vs λ (glmnet's plot), one panel per penalty (and per class or response), names on hover. */
export function pathChart(data: ReportData): Chart | undefined {
  const outputs = outputNames(data.sweep);
  const features = data.sweep.featureNames;
  const p = features.length;
  const fits = data.coefficients.filter((c) => c.lambda > 0);
  if (fits.length === 0) return undefined;
  // With many features, draw the ones that ever get large: the rest is an unreadable band at zero.
  const peak = new Float64Array(p);
  for (const c of fits) for (let k = 0; k < outputs.length; k++) for (let j = 0; j < p; j++) peak[j] = Math.max(peak[j], Math.abs(c.coefs[k * p + j]));
  const shown = features.map((_, j) => j).sort((a, b) => peak[b] - peak[a]).slice(0, MAX_PATH_FEATURES).sort((a, b) => a - b);
  const many = outputs.length > 1;
  const rows = fits.flatMap((c) =>
    outputs.flatMap((output, k) => shown.map((j) => ({ group: groupLabel(c.penalty, c.l1Ratio, c.settings), output, lambda: c.lambda, feature: features[j], coef: c.coefs[k * p + j] }))),
  );
  const what = sweepFamily(data.sweep) === 'multinomial' ? 'class' : 'response';
  return {
    id: 'paths',
    title: 'Coefficient paths',
    caption:
      `Each feature's coefficient (original scale) in the fit on all rows, as λ goes from large (right, all zero for L1) to small (left)${many ? `, one row of panels per ${what}` : ''}.` +
      (shown.length < p ? ` The ${shown.length} features with the largest coefficients of ${p} are drawn.` : ''),
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      facet: many ? { row: { field: 'output', type: 'nominal', title: what }, column: { field: 'group', type: 'nominal', title: null } } : { field: 'group', type: 'nominal', title: null },
      ...(many ? {} : { columns: 3 }),
      resolve: { scale: { x: 'independent', y: 'independent' } },
      spec: {
        ...PANEL,
        mark: { type: 'line', strokeWidth: 1.2 },
        encoding: {
          x: lambdaAxis,
          y: { field: 'coef', type: 'quantitative', title: 'coefficient' },
          color: { field: 'feature', type: 'nominal', legend: shown.length <= 12 ? {} : null },
          tooltip: [
            { field: 'feature' },
            ...(many ? [{ field: 'output', title: what }] : []),
            { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
            { field: 'coef', type: 'quantitative', format: '.5g', title: 'coefficient' },
          ],
        },
      },
    } as TopLevelSpec,
  };
}

/** 4. L1 vs L2 at each one's λ_min: weight histogram (sparse vs diffuse) and validation loss ± se. */
export function l1VsL2Chart(data: ReportData): Chart | undefined {
  const picks = data.selections.filter((s) => s.penalty === 'l1' || s.penalty === 'l2' || s.penalty === 'elasticnet');
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
                x: { field: 'loss', type: 'quantitative', title: 'validation loss at λ_min' },
                color: { field: 'group', type: 'nominal', legend: null },
                tooltip: [
                  { field: 'group', title: 'penalty' },
                  { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ_min' },
                  { field: 'loss', type: 'quantitative', format: '.5g', title: 'validation loss' },
                  { field: 'nnz', type: 'quantitative', title: 'nonzero weights' },
                ],
              },
            },
            { mark: { type: 'rule', color: '#222' }, encoding: { y: { field: 'group', type: 'nominal' }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
          ],
        },
      ],
    } as TopLevelSpec,
  };
}

/** 5. l1 ratio × λ heatmap of validation loss (grid sweeps), or a scatter coloured by it (random sweeps). */
export function alphaLambdaChart(data: ReportData): Chart | undefined {
  const rows = data.summary.filter((s) => s.penalty !== 'none' && s.lambda > 0).map((s) => ({ l1_ratio: s.l1Ratio, lambda: s.lambda, loss: s.mean, se: s.se, penalty: s.penalty }));
  const alphas = new Set(rows.map((r) => r.l1_ratio));
  if (alphas.size < 2) return undefined;
  const random = data.config.sweep.kind === 'random';
  const tooltip = [
    { field: 'penalty' },
    { field: 'l1_ratio', type: 'quantitative', title: 'l1_ratio' },
    { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
    { field: 'loss', type: 'quantitative', format: '.5g', title: 'validation loss' },
    { field: 'se', type: 'quantitative', format: '.3g', title: 'se' },
  ] as const;
  const color = { field: 'loss', type: 'quantitative', scale: { scheme: 'viridis' }, title: 'validation loss' } as const;
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
        height: Math.max(120, 28 * alphas.size),
        data: { values: rows.map((r) => ({ ...r, lambdaLabel: r.lambda.toPrecision(3) })) },
        mark: 'rect',
        encoding: {
          x: { field: 'lambdaLabel', type: 'ordinal', sort: { field: 'lambda', order: 'ascending' }, title: 'λ', axis: { labelAngle: -60, labelOverlap: 'greedy' } },
          y: { field: 'l1_ratio', type: 'ordinal', sort: 'descending', title: 'l1_ratio (0 = L2, 1 = L1)' },
          color,
          tooltip: [...tooltip],
        },
      };
  return {
    id: 'alpha-lambda',
    title: random ? 'Random sweep: validation loss over l1_ratio and λ' : 'l1_ratio × λ: validation loss',
    caption: 'Mean validation loss over folds for each l1_ratio and λ; darker is better. l1_ratio 1 is the lasso (L1), 0 ridge (L2).',
    spec,
  };
}

/** 6. Validation loss per epoch for network trials. */
export function learningCurveChart(data: ReportData): Chart | undefined {
  const rows = data.epochs
    .filter((e) => e.valLoss !== null && e.fold === '0')
    .map((e) => ({ group: groupLabel(e.penalty, e.l1Ratio, e.settings), lambda: e.lambda, lambdaLabel: e.lambda.toPrecision(2), epoch: e.epoch, loss: e.valLoss }));
  if (rows.length === 0) return undefined;
  return {
    id: 'learning-curves',
    title: 'Learning curves',
    caption: 'Validation loss per epoch (first validation fold), one line per λ (colour by λ).',
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      facet: { field: 'group', type: 'nominal', title: null },
      columns: 3,
      spec: {
        ...PANEL,
        mark: { type: 'line' },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { field: 'loss', type: 'quantitative', scale: { zero: false }, title: 'validation loss' },
          color: { field: 'lambdaLabel', type: 'ordinal', sort: { field: 'lambda', order: 'ascending' }, scale: { scheme: 'viridis' }, title: 'λ' },
          tooltip: [
            { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
            { field: 'epoch', type: 'quantitative' },
            { field: 'loss', type: 'quantitative', format: '.5g' },
          ],
        },
      },
    } as TopLevelSpec,
  };
}
