// The coefficient-path chart (glmnet's plot of a fit): one panel per penalty (and class or response), each drawn with
// its own scales so that the names at the paths' open end can be placed in pixels, apart from each other and the lines.
import type { TopLevelSpec } from 'vega-lite';
import { groupLabel, type ReportData } from './data.js';
import { encodedSpans, isFactorGroup, outputNames, sweepFamily } from '../domain.js';
import { LAMBDA_AXIS, LOSS_AXIS, onPaths, panelColumns, SCHEMA, type Chart } from './chartKit.js';
import { SANS_SERIF_WIDTHS } from './textWidths.js';
import { textWidth } from './textWidth.js';
import { UserError } from '../errors.js';

/** The scale coefficients are drawn on: standardized (× the feature's sd, the scale glmnet fits on) or as stored. */
export type CoefScale = 'standardized' | 'original';
/** The path chart's x axis, as glmnet's plot offers: log λ, the L1 norm of the coefficients, the deviance explained. */
export type PathAxis = 'lambda' | 'l1-norm' | 'deviance';

export interface PathOptions {
  coefScale?: CoefScale;
  pathX?: PathAxis;
}

const MAX_PATH_FEATURES = 30;
/** Paths named at their open end, per panel. */
const PATH_LABELS = 6;
const WIDTH = 300;
const HEIGHT = 190;
const LABEL_FONT = 10;
const LABEL_LIMIT = 100;
/** Pixels between two names' baselines, and between a name and its path's end. */
const LABEL_GAP = 12;
const CONNECTOR = 10;

type Fit = ReportData['coefficients'][number];
interface Series {
  name: string;
  value: (coefs: Float64Array, offset: number) => number;
}

/**
 * The lines: a feature, or with model.group_categorical a factor as one line, the norm of its indicators'
 * coefficients (it enters and leaves whole); each coefficient times `scale(j)`.
 */
function pathSeries(data: ReportData, scale: (j: number) => number): Series[] {
  const features = data.sweep.featureNames;
  const config = JSON.parse(data.sweep.configJson) as { model?: { group_categorical?: boolean } };
  const encoding = data.sweep.encoding;
  const single = (j: number): Series => ({ name: features[j], value: (coefs, offset) => coefs[offset + j] * scale(j) });
  if (!config.model?.group_categorical || !encoding) return features.map((_, j) => single(j));
  return encodedSpans(encoding).flatMap((span) => [
    ...(isFactorGroup(span)
      ? [{ name: `${span.column.name} (group norm)`, value: (coefs: Float64Array, offset: number) => Math.sqrt(span.values.reduce((sq, j) => sq + (coefs[offset + j] * scale(j)) ** 2, 0)) }]
      : span.values.map(single)),
    ...(span.gap >= 0 ? [single(span.gap)] : []),
  ]);
}

/** A panel's x axis: where each fit sits on it, its title and scale, and which end the paths open out at. */
interface Axis {
  of: (fit: Fit, output: number) => number | undefined;
  title: string;
  log: boolean;
  /** The end where coefficients are largest (small λ; large norm or deviance explained). */
  openSide: 'left' | 'right';
}

function pathAxis(data: ReportData, kind: PathAxis, scale: (j: number) => number, standardized: boolean): Axis {
  const p = data.sweep.featureNames.length;
  if (kind === 'l1-norm')
    return {
      of: (fit, k) => {
        let norm = 0;
        for (let j = 0; j < p; j++) norm += Math.abs(fit.coefs[k * p + j] * scale(j));
        return norm;
      },
      title: `L1 norm of the coefficients${standardized ? ' (standardized)' : ''}`,
      log: false,
      openSide: 'right',
    };
  if (kind === 'deviance') {
    // The null model is a fit on all rows with no nonzero coefficient (the intercept only): every penalty's λ_max.
    const trainLoss = new Map(data.trials.filter((t) => t.fold === 'all' && t.status === 'ok').map((t) => [t.id, t]));
    const nullFit = [...trainLoss.values()].find((t) => t.nnz === 0 && t.trainLoss !== null);
    if (!nullFit) throw new UserError('--path-x deviance: no fit on all rows has every coefficient zero (the null model the deviance is measured from); the grid must reach λ_max of an l1 or elasticnet path');
    const nullLoss = nullFit.trainLoss!;
    return {
      of: (fit) => {
        const t = trainLoss.get(fit.trialId);
        return t?.trainLoss !== null && t?.trainLoss !== undefined && nullLoss > 0 ? 1 - t.trainLoss / nullLoss : undefined;
      },
      title: 'fraction of deviance explained (training rows)',
      log: false,
      openSide: 'right',
    };
  }
  return { of: (fit) => fit.lambda, title: 'λ (log scale)', log: true, openSide: 'left' };
}

/**
 * Names spread apart vertically: sorted by where their path ends, pushed down to at least LABEL_GAP from the one
 * above, then back up from the bottom edge — the least movement that keeps them apart and inside the panel.
 */
function spreadLabels(targets: number[], height: number, gap = LABEL_GAP): number[] {
  const order = targets.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  const top = gap / 2;
  const bottom = height - gap / 2;
  const placed = order.map((o) => Math.min(Math.max(o.y, top), bottom));
  for (let k = 1; k < placed.length; k++) placed[k] = Math.max(placed[k], placed[k - 1] + gap);
  if (placed.length && placed[placed.length - 1] > bottom) {
    placed[placed.length - 1] = bottom;
    for (let k = placed.length - 2; k >= 0; k--) placed[k] = Math.min(placed[k], placed[k + 1] - gap);
  }
  const out = new Array<number>(targets.length);
  order.forEach((o, k) => (out[o.i] = placed[k]));
  return out;
}

/** 3. Each feature's coefficient along the path, one panel per penalty (and per class or response), named at its open end. */
export function pathChart(data: ReportData, options: PathOptions = {}): Chart | undefined {
  const scales = data.sweep.featureScales;
  const standardized = (options.coefScale ?? 'standardized') === 'standardized' && scales !== null;
  const scale = (j: number) => (standardized ? scales![j] : 1);
  const outputs = outputNames(data.sweep);
  const series = pathSeries(data, scale);
  const p = data.sweep.featureNames.length;
  const q = series.length;
  const fits = onPaths(data.coefficients.filter((c) => c.lambda > 0));
  if (fits.length === 0) return undefined;
  const axis = pathAxis(data, options.pathX ?? 'lambda', scale, standardized);
  const valueOf = (c: Fit, k: number, j: number) => series[j].value(c.coefs, k * p);
  // With many features, draw the ones that ever get large: the rest is an unreadable band at zero.
  const peak = new Float64Array(q);
  for (const c of fits) for (let k = 0; k < outputs.length; k++) for (let j = 0; j < q; j++) peak[j] = Math.max(peak[j], Math.abs(valueOf(c, k, j)));
  const shown = series.map((_, j) => j).sort((a, b) => peak[b] - peak[a]).slice(0, MAX_PATH_FEATURES).sort((a, b) => a - b);
  const many = outputs.length > 1;
  const what = sweepFamily(data.sweep) === 'multinomial' ? 'class' : 'response';
  const groups = [...new Set(fits.map((c) => groupLabel(c.penalty, c.l1Ratio, c.settings)))];
  const panels = outputs.flatMap((output, k) =>
    groups.map((group) => pathPanel(fits.filter((c) => groupLabel(c.penalty, c.l1Ratio, c.settings) === group), { title: many ? `${what} ${output} · ${group}` : group, k, axis, shown, series, valueOf, standardized })),
  );
  const scaleWords = standardized
    ? 'on the standardized scale (coefficient × the feature’s standard deviation, the scale glmnet fits on; report --coef-scale original for the data’s units)'
    : scales === null
      ? 'on the original scale (this sweep was made before feature scales were kept)'
      : 'on the original scale (the data’s units)';
  const xWords = axis.log ? 'as λ goes from large (right, all zero for L1) to small (left)' : `against the ${axis.title} (left: all zero for L1)`;
  return {
    id: 'paths',
    title: 'Coefficient paths',
    caption:
      `Each feature's coefficient ${scaleWords} in the fit on all rows, ${xWords}${many ? `, one row of panels per ${what}` : ''}.` +
      (q < p ? ` A factor penalized as a group (model.group_categorical) is one line, the norm of its indicators' coefficients: it enters and leaves whole.` : '') +
      (shown.length < q ? ` The ${shown.length} features with the largest coefficients of ${q} are drawn;` : '') +
      ` the ${PATH_LABELS} largest at the ${axis.openSide} end are named there (every path on hover).`,
    guide: `${firstToEnter(data, fits)}Reading from the all-zero end: the first features to leave zero are the ones the data support most; a coefficient that grows, shrinks or changes sign along the path is shared with correlated features. Where the loss chart says overfitting (left of λ_min), the paths keep spreading: the model is spending coefficients on noise.`,
    spec: { $schema: SCHEMA, concat: panels, columns: many ? groups.length : panelColumns(panels.length), resolve: { scale: { color: 'shared' } } } as TopLevelSpec,
  };
}

interface PanelInput {
  title: string;
  k: number;
  axis: Axis;
  shown: number[];
  series: Series[];
  valueOf: (c: Fit, k: number, j: number) => number;
  standardized: boolean;
}

/** One panel: the paths, and the largest ones named in a strip at the open end, joined to their line by a short stroke. */
function pathPanel(fits: Fit[], { title, k, axis, shown, series, valueOf, standardized }: PanelInput) {
  const placed = fits.map((c) => ({ c, x: axis.of(c, k) })).filter((f): f is { c: Fit; x: number } => f.x !== undefined && Number.isFinite(f.x) && (!axis.log || f.x > 0));
  const rows: Record<string, unknown>[] = placed.flatMap(({ c, x }) => shown.map((j) => ({ feature: series[j].name, x, lambda: c.lambda, coef: valueOf(c, k, j), part: 'path' })));
  const coefs = rows.map((r) => r.coef as number);
  const low = Math.min(0, ...coefs);
  const high = Math.max(0, ...coefs);
  const pad = (high - low || 1) * 0.06;
  const yDomain = [low - pad, high + pad];
  const xs = placed.map((f) => f.x);
  const xLow = Math.min(...xs);
  const xHigh = Math.max(...xs);
  // The open end: the fit with the smallest λ (largest norm, most deviance explained).
  const end = placed.reduce((a, b) => (b.c.lambda < a.c.lambda ? b : a), placed[0]);
  const named = end ? [...shown].sort((a, b) => Math.abs(valueOf(end.c, k, b)) - Math.abs(valueOf(end.c, k, a))).slice(0, PATH_LABELS).filter((j) => valueOf(end.c, k, j) !== 0) : [];
  const widest = Math.max(0, ...named.map((j) => textWidth(SANS_SERIF_WIDTHS, { fontSize: LABEL_FONT, limit: LABEL_LIMIT }, series[j].name)));
  const strip = named.length ? Math.min(WIDTH * 0.4, widest + CONNECTOR + 8) : 0;
  // The x domain grows by the strip on the open side, so that the names sit inside the plot and off the lines.
  const toUnit = (x: number) => (axis.log ? Math.log10(x) : x);
  const fromUnit = (u: number) => (axis.log ? 10 ** u : u);
  const uLow = toUnit(xLow);
  const uHigh = toUnit(xHigh);
  const span = uHigh - uLow || 1;
  const grow = (span * strip) / (WIDTH - strip);
  const uDomain = axis.openSide === 'left' ? [uLow - grow, uHigh] : [uLow, uHigh + grow];
  const xAt = (pixel: number) => fromUnit(uDomain[0] + ((uDomain[1] - uDomain[0]) * pixel) / WIDTH);
  const yPixel = (v: number) => (HEIGHT * (yDomain[1] - v)) / (yDomain[1] - yDomain[0]);
  const yValue = (pixel: number) => yDomain[1] - ((yDomain[1] - yDomain[0]) * pixel) / HEIGHT;
  if (end && named.length) {
    const targets = named.map((j) => yPixel(valueOf(end.c, k, j)));
    const spread = spreadLabels(targets, HEIGHT);
    const endPixel = axis.openSide === 'left' ? strip : WIDTH - strip;
    const nameEdge = axis.openSide === 'left' ? endPixel - CONNECTOR - 2 : endPixel + CONNECTOR + 2;
    named.forEach((j, i) => {
      const name = series[j].name;
      rows.push({ feature: name, x: xAt(nameEdge), coef: yValue(spread[i]), label: name, part: 'label' });
      rows.push({ feature: name, x: xAt(endPixel), coef: valueOf(end.c, k, j), part: 'connector', order: 0 });
      rows.push({ feature: name, x: xAt(axis.openSide === 'left' ? endPixel - CONNECTOR : endPixel + CONNECTOR), coef: yValue(spread[i]), part: 'connector', order: 1 });
    });
  }
  const x = {
    field: 'x',
    type: 'quantitative',
    title: axis.title,
    scale: { type: axis.log ? 'log' : 'linear', domain: uDomain.map(fromUnit), nice: false, ...(axis.log ? {} : { zero: false }) },
    axis: axis.log ? LAMBDA_AXIS : { format: '.3~g', labelOverlap: 'greedy' },
  } as const;
  const y = { field: 'coef', type: 'quantitative', title: `coefficient${standardized ? ' (standardized)' : ''}`, scale: { domain: yDomain, nice: false, zero: false }, axis: LOSS_AXIS } as const;
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: "datum.part === 'path'" }],
        mark: { type: 'line', strokeWidth: 1.3 },
        encoding: {
          x,
          y,
          color: { field: 'feature', type: 'nominal', legend: null },
          tooltip: [
            { field: 'feature' },
            { field: 'lambda', type: 'quantitative', format: '.3g', title: 'λ' },
            ...(axis.log ? [] : [{ field: 'x', type: 'quantitative', format: '.3g', title: axis.title }]),
            { field: 'coef', type: 'quantitative', format: '.3g', title: 'coefficient' },
          ],
        },
      },
      {
        transform: [{ filter: "datum.part === 'connector'" }],
        mark: { type: 'line', strokeWidth: 0.8, opacity: 0.8 },
        encoding: { x, y, order: { field: 'order' }, detail: { field: 'feature' }, color: { field: 'feature', type: 'nominal', legend: null } },
      },
      {
        transform: [{ filter: "datum.part === 'label'" }],
        mark: { type: 'text', align: axis.openSide === 'left' ? 'right' : 'left', baseline: 'middle', fontSize: LABEL_FONT, limit: LABEL_LIMIT },
        encoding: { x, y, text: { field: 'label' }, color: { field: 'feature', type: 'nominal', legend: null } },
      },
    ],
  };
}

/** The order in which the L1 path (or the sparsest path there is) lets features in, from the largest λ down. */
function firstToEnter(data: ReportData, fits: Fit[]): string {
  const p = data.sweep.featureNames.length;
  const penalty = fits.some((c) => c.penalty === 'l1') ? 'l1' : fits.some((c) => c.penalty === 'elasticnet') ? 'elasticnet' : undefined;
  if (!penalty || data.sweep.targetNames.length > 1 || (data.sweep.classes?.length ?? 0) > 2) return '';
  const path = fits.filter((c) => c.penalty === penalty).sort((a, b) => b.lambda - a.lambda);
  const entered: number[] = [];
  for (const c of path) for (let j = 0; j < p; j++) if (c.coefs[j] !== 0 && !entered.includes(j)) entered.push(j);
  if (entered.length === 0) return '';
  const best = data.selections.find((s) => s.penalty === penalty);
  const names = entered.slice(0, 5).map((j) => data.sweep.featureNames[j]);
  return `On this sweep the ${penalty} path lets ${names.join(', ')} in first${best?.nnzMin !== null && best?.nnzMin !== undefined ? `; at its λ_min ${best.nnzMin} of ${p} coefficients are nonzero` : ''}. `;
}
