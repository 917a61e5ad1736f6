// The charts as a paper would print them: every spec valid against the Vega-Lite schema, every chart kind rendered
// to PNG within size bounds and with marks drawn, a random sweep of 200 points as one panel per penalty, the loss
// axis named and on a log scale when the curve spans decades, numbers to three significant digits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { readReportData, type ReportData } from '../../src/report/data.js';
import { renderSvg, svgToPng } from '../../src/report/render.js';
import { buildCharts, distinctDigits, type Chart } from '../../src/report/specs.js';
import { objectiveLine } from '../../src/report/html.js';
import { withResults } from '../../src/results/open.js';
import { ROOT, tempDir, writeFile } from '../helpers.js';

// The schema vega-lite ships (its "exports" hide build/, so it is read from its folder).
const schema = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'vega-lite', 'build', 'vega-lite-schema.json'), 'utf8'));
const validate = new Ajv({ strict: false, allErrors: false, validateFormats: false, logger: false }).compile(schema);

/** Width and height of a PNG, from its header. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });
/** Marks drawn in an SVG from vega: the items inside its mark groups. */
const markCount = (svg: string) => (svg.match(/<(path|rect|line|circle|text)\b/g) ?? []).length;

async function sweepData(dir: string, name: string, yaml: string): Promise<ReportData> {
  const config = writeFile(dir, `${name}.yaml`, `name: ${name}\n${yaml}output: ${name}.db\n`);
  await runSweep(config);
  return withResults(join(dir, `${name}.db`), undefined, ({ store, sweep }) => readReportData(store, sweep));
}

describe('charts for a paper', () => {
  const dir = tempDir('regsweep-charts-');
  let grid: ReportData;
  let random: ReportData;
  let network: ReportData;
  let logistic: ReportData;

  beforeAll(async () => {
    grid = await sweepData(
      dir,
      'grid',
      `data: {synthetic: {kind: regression, n: 150, p: 40, nonzero: 5, rho: 0.5, snr: 2, seed: 3}}
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {auto: 30, ratio: 1e-4}, l1_ratio: [0.3, 0.7], extend: 0}
`,
    );
    random = await sweepData(
      dir,
      'random',
      `data: {synthetic: {kind: regression, n: 150, p: 20, nonzero: 4, seed: 5}}
validation: {kind: kfold, folds: 3, seed: 0}
sweep: {kind: random, points: 200, seed: 1, penalty: [l1, l2, elasticnet], lambda: {log_uniform: [1e-4, 10]}, l1_ratio: {uniform: [0.05, 0.95]}}
`,
    );
    logistic = await sweepData(
      dir,
      'logistic',
      `data: {synthetic: {kind: classification, n: 200, p: 15, nonzero: 4, seed: 2}}
validation: {kind: kfold, folds: 3, seed: 0}
model: {kind: logistic}
sweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 12}, extend: 0}
`,
    );
    network = await sweepData(
      dir,
      'network',
      `data: {synthetic: {kind: regression, n: 200, p: 10, nonzero: 3, seed: 2}}
validation: {kind: holdout, fraction: 0.25, seed: 0}
model: {kind: mlp, hidden: [8], epochs: 15, lr: 0.01, batch: 32, early_stopping: {patience: 3}}
sweep: {kind: grid, penalty: [l2], lambda: [1e-3, 1e-1], extend: 0}
`,
    );
  }, 240_000);

  const all = () => [grid, random, logistic, network].flatMap((d) => buildCharts(d).map((c) => ({ sweep: d.sweep.name, chart: c })));

  it('every chart of every kind is a valid Vega-Lite spec, with a reading guide on the loss chart', () => {
    const charts = all();
    expect(new Set(charts.map((c) => c.chart.id))).toEqual(new Set(['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda', 'learning-curves']));
    for (const { sweep, chart } of charts) {
      const ok = validate(chart.spec);
      expect(ok, `${sweep}/${chart.id}: ${JSON.stringify(validate.errors?.slice(0, 2))}`).toBe(true);
    }
    for (const d of [grid, random, logistic]) expect(buildCharts(d).find((c) => c.id === 'fit')!.guide).toMatch(/lowest validation .* at λ_min = /);
  });

  it('renders every chart kind to a PNG of bounded size with its marks drawn', async () => {
    for (const { sweep, chart } of all()) {
      const svg = await renderSvg(chart.spec);
      expect(markCount(svg), `${sweep}/${chart.id}`).toBeGreaterThan(20);
      const { width, height } = pngSize(svgToPng(svg));
      // 2× zoom: a chart a page holds, not 2 986 × 34 160.
      expect(width, `${sweep}/${chart.id} width`).toBeGreaterThan(300);
      expect(width, `${sweep}/${chart.id} width`).toBeLessThan(2600);
      expect(height, `${sweep}/${chart.id} height`).toBeLessThan(2400);
      // Numbers to three significant digits: no long decimals in any text the chart shows.
      const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(texts.length, `${sweep}/${chart.id}`).toBeGreaterThan(3);
      expect(texts.filter((t) => /\d\.\d{4,}/.test(t)), `${sweep}/${chart.id}`).toEqual([]);
    }
  });

  it('a random sweep of 200 points: one panel per penalty, coloured by l1_ratio, the best λ marked, no λ_1se', async () => {
    const fit = buildCharts(random).find((c) => c.id === 'fit')! as Chart & { spec: { facet: { field: string }; data: { values: { series: string; penalty: string }[] } } };
    expect(fit.spec.facet.field).toBe('penalty');
    const values = fit.spec.data.values;
    expect(new Set(values.filter((v) => v.series === 'point').map((v) => v.penalty))).toEqual(new Set(['l1', 'l2', 'elasticnet']));
    expect(values.filter((v) => v.series === 'point').length).toBe(random.summary.length);
    expect(values.some((v) => v.series === 'λ_1se')).toBe(false);
    const svg = await renderSvg(fit.spec);
    const { width, height } = pngSize(svgToPng(svg));
    expect(width).toBeLessThan(2400);
    expect(height).toBeLessThan(700);
    expect(svg).toContain('l1_ratio');
  });

  it('names the metric, shares the λ axis between panels, and takes a log loss axis only when the curve spans decades', () => {
    const fit = (d: ReportData, y?: 'log' | 'linear') => JSON.stringify(buildCharts(d, { y }).find((c) => c.id === 'fit')!.spec);
    expect(fit(grid)).toContain('"title":"MSE');
    expect(fit(logistic)).toContain('"title":"log-loss');
    expect(fit(grid)).not.toContain('"independent"');
    const span = (d: ReportData) => {
      const losses = d.summary.flatMap((s) => [s.mean, ...(s.trainMean !== null ? [s.trainMean] : [])]).filter((v) => v > 0);
      return Math.max(...losses) / Math.min(...losses);
    };
    for (const d of [grid, logistic]) expect(fit(d).includes('(log scale)"'), `${d.sweep.name}: span ${span(d)}`).toBe(span(d) > 100);
    expect(fit(grid, 'log')).toContain('MSE (log scale)');
    expect(fit(grid, 'linear')).not.toContain('MSE (log scale)');
  });

  it('learning curves draw training and validation loss per epoch and mark the epoch early stopping kept', () => {
    const curves = buildCharts(network).find((c) => c.id === 'learning-curves')! as Chart & { spec: { data: { values: { series: string }[] } } };
    const series = new Set(curves.spec.data.values.map((v) => v.series));
    expect(series).toEqual(new Set(['train', 'validation', 'kept']));
  });

  it('legend labels are drawn whole: text is measured as the browser measures it, not by vega\'s 0.8 em estimate', async () => {
    const sparsity = buildCharts(grid).find((c) => c.id === 'sparsity')!;
    const texts = [...(await renderSvg(sparsity.spec)).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toEqual(expect.arrayContaining(['elasticnet l1_ratio=0.3', 'elasticnet l1_ratio=0.7', 'l1', 'l2']));
    expect(texts.filter((t) => t.includes('…'))).toEqual([]);
  });

  it('no SI prefix on a loss or λ axis ("700m" reads as milli-units), and a facet grid with no empty panel (4 panels: 2 × 2)', async () => {
    const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].trim());
    // A number with an SI suffix, as d3's "s" format and a log axis's default write it.
    const si = /^[−-]?\d+(\.\d+)?[yzafpnµμmkMGTPEZY]$/;
    let labels = 0;
    for (const data of [grid, logistic, random]) {
      for (const chart of buildCharts(data).filter((c) => ['fit', 'l1-vs-l2', 'l1-ratio-lambda', 'paths'].includes(c.id))) {
        const found = texts(await renderSvg(chart.spec));
        labels += found.length;
        expect(found.filter((t) => si.test(t)), `${data.sweep.name} ${chart.id}`).toEqual([]);
      }
    }
    expect(labels).toBeGreaterThan(100);
    // The logistic losses are below 1 (where "~s" wrote 700m): their ticks are plain decimals.
    const logisticFit = texts(await renderSvg(buildCharts(logistic).find((c) => c.id === 'fit')!.spec));
    expect(logisticFit.some((t) => /^0\.\d+$/.test(t))).toBe(true);
    // l1, l2 and elasticnet at two l1 ratios: four panels in two columns, each with marks.
    const fit = buildCharts(grid).find((c) => c.id === 'fit')!;
    expect((fit.spec as { columns?: number }).columns).toBe(2);
    const paths = buildCharts(grid).find((c) => c.id === 'paths')!;
    expect((paths.spec as { columns?: number }).columns).toBe(2);
    expect((buildCharts(logistic).find((c) => c.id === 'fit')!.spec as { columns?: number }).columns).toBe(2);
  });

  it('the reading guide claims only what the numbers show: overfitting when the small-λ end is worse by more than a se, "simpler" when λ_1se has fewer nonzeros', () => {
    let checked = 0;
    for (const data of [grid, logistic]) {
      const guide = buildCharts(data).find((c) => c.id === 'fit')!.guide!;
      const best = [...data.shownSelections].sort((a, b) => a.meanMin - b.meanMin)[0];
      const group = data.summary.filter((p) => p.penalty === best.penalty && p.l1Ratio === best.l1Ratio && p.settings === best.settings && p.lambda > 0);
      const smallest = group.reduce((a, b) => (b.lambda < a.lambda ? b : a));
      if (smallest.lambda < best.lambdaMin) {
        const worse = smallest.mean - best.meanMin > best.seMin;
        expect(guide.includes('Overfitting is the left side'), data.sweep.name).toBe(worse);
        expect(guide.includes('No clear overfitting in this range'), data.sweep.name).toBe(!worse);
        checked++;
      }
      if (best.lambda1se !== best.lambdaMin) {
        expect(guide.includes('a simpler model'), data.sweep.name).toBe(best.nnz1se! < best.nnzMin!);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  it('the α × λ heatmap puts λ on a log axis', () => {
    const heat = buildCharts(grid).find((c) => c.id === 'l1-ratio-lambda')!;
    expect(JSON.stringify(heat.spec)).toContain('"x":{"field":"lambdaLow","type":"quantitative","scale":{"type":"log"}');
  });

  type PathPanel = { title: string; data: { values: { feature: string; x: number; lambda: number; coef: number; part: string; label?: string }[] } };
  const pathPanels = (d: ReportData, options = {}) => (buildCharts(d, options).find((c) => c.id === 'paths')!.spec as unknown as { concat: PathPanel[] }).concat;

  it('coefficient paths: on the standardized scale by default (coefficient × the feature’s sd), the original with coefScale, against λ, the L1 norm or the deviance explained', () => {
    const scales = grid.sweep.featureScales!;
    expect(scales).toHaveLength(grid.sweep.p);
    const fits = grid.coefficients.filter((c) => c.penalty === 'l1' && c.fold === 'all' && c.lambda > 0);
    const lambdaOf = (panel: PathPanel) => panel.data.values.filter((v) => v.part === 'path');
    const check = (panels: PathPanel[], scaled: boolean) => {
      const l1 = lambdaOf(panels.find((p) => p.title === 'l1')!);
      let compared = 0;
      for (const v of l1) {
        const fit = fits.find((c) => c.lambda === v.lambda)!;
        const j = grid.sweep.featureNames.indexOf(v.feature);
        expect(v.coef).toBeCloseTo(fit.coefs[j] * (scaled ? scales[j] : 1), 12);
        compared++;
      }
      expect(compared).toBeGreaterThan(100);
    };
    check(pathPanels(grid), true);
    check(pathPanels(grid, { coefScale: 'original' }), false);
    // L1 norm: Σ|b_j·s_j| of the fit; deviance explained: 1 − training loss / the null fit's, rising as λ falls.
    const norm = lambdaOf(pathPanels(grid, { pathX: 'l1-norm' }).find((p) => p.title === 'l1')!);
    for (const v of norm.slice(0, 50)) {
      const fit = fits.find((c) => c.lambda === v.lambda)!;
      expect(v.x).toBeCloseTo(fit.coefs.reduce((s, b, j) => s + Math.abs(b * scales[j]), 0), 10);
    }
    const deviance = lambdaOf(pathPanels(grid, { pathX: 'deviance' }).find((p) => p.title === 'l1')!);
    const nullLoss = grid.trials.find((t) => t.fold === 'all' && t.nnz === 0)!.trainLoss!;
    for (const v of deviance.slice(0, 50)) {
      const trial = grid.trials.find((t) => t.fold === 'all' && t.penalty === 'l1' && t.lambda === v.lambda)!;
      expect(v.x).toBeCloseTo(1 - trial.trainLoss! / nullLoss, 12);
    }
    const byLambda = [...new Map(deviance.map((v) => [v.lambda, v.x])).entries()].sort((a, b) => b[0] - a[0]).map((e) => e[1]);
    expect(byLambda[0]).toBeCloseTo(0, 12);
    expect(byLambda.at(-1)!).toBeGreaterThan(0.5);
  });

  it('path names: the largest at the small-λ end, spread at least 12 px apart inside the panel, with padding around the lines', () => {
    for (const panel of pathPanels(grid)) {
      const spec = panel as PathPanel & { height: number; layer: { encoding: { y: { scale: { domain: number[] } } } }[] };
      const [low, high] = spec.layer[0].encoding.y.scale.domain;
      const labels = panel.data.values.filter((v) => v.part === 'label');
      expect(labels.length, panel.title).toBeGreaterThanOrEqual(3);
      const pixels = labels.map((v) => (spec.height * (high - v.coef)) / (high - low)).sort((a, b) => a - b);
      pixels.forEach((y, k) => {
        expect(y).toBeGreaterThanOrEqual(5.9);
        expect(y).toBeLessThanOrEqual(spec.height - 5.9);
        if (k > 0) expect(y - pixels[k - 1]).toBeGreaterThanOrEqual(11.999);
      });
      // No line touches the frame: 6% of the range free above and below.
      const coefs = panel.data.values.filter((v) => v.part === 'path').map((v) => v.coef);
      expect(high - Math.max(...coefs, 0)).toBeGreaterThan(0.05 * (high - low));
      expect(Math.min(...coefs, 0) - low).toBeGreaterThan(0.05 * (high - low));
      // The names are those of the largest |coefficient| at the smallest λ.
      const ends = panel.data.values.filter((v) => v.part === 'path');
      const smallest = Math.min(...ends.map((v) => v.lambda));
      const largest = ends.filter((v) => v.lambda === smallest && v.coef !== 0).sort((a, b) => Math.abs(b.coef) - Math.abs(a.coef)).slice(0, labels.length).map((v) => v.feature);
      expect(new Set(labels.map((v) => v.label))).toEqual(new Set(largest));
    }
  });

  it('near zero is counted on the standardized scale: |w × sd| < near_zero', () => {
    const fits = grid.coefficients.filter((c) => c.fold === 'all');
    let checked = 0;
    for (const c of fits) {
      const trial = grid.trials.find((t) => t.id === c.trialId)!;
      const near = Array.from(c.coefs).filter((b, j) => Math.abs(b * grid.sweep.featureScales![j]) < grid.config.near_zero).length;
      expect(trial.nearZeroFraction).toBeCloseTo(near / grid.sweep.p, 12);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
    expect(buildCharts(grid).find((c) => c.id === 'sparsity')!.caption).toContain("|w × the feature's sd| < 0.001, on the standardized scale");
  });

  it('the heatmap colours by how much worse than the best a cell is (0 at the best), its text at the digits that tell the ratios apart', () => {
    const heat = buildCharts(grid).find((c) => c.id === 'l1-ratio-lambda')!;
    const spec = heat.spec as unknown as { data: { values: { above: number; loss: number }[] }; encoding: { color: { field: string; scale: { type: string; domain: number[]; clamp: boolean } } } };
    expect(spec.encoding.color.field).toBe('above');
    expect(spec.encoding.color.scale).toMatchObject({ type: 'symlog', clamp: true });
    const aboves = spec.data.values.map((v) => v.above);
    expect(Math.min(...aboves)).toBe(0);
    expect(aboves.every((a) => a >= 0)).toBe(true);
    expect(distinctDigits(26.1234, 26.1199)).toEqual(['26.123', '26.12']);
    expect(distinctDigits(26.1, 26.1)).toEqual(['26.1', '26.1']);
    expect(distinctDigits(0.123456, 0.98)).toEqual(['0.123', '0.98']);
    const [lo, hi] = heat.guide!.match(/lies between (\S+) and (\S+)\./)!.slice(1);
    expect(lo).not.toBe(hi);
  });

  it('a random sweep’s sparsity shows every penalty, elastic net included; the objective line and the settings chart speak of their model', () => {
    const sparsity = buildCharts(random).find((c) => c.id === 'sparsity')!.spec as unknown as { data: { values: { group: string }[] } };
    expect(new Set(sparsity.data.values.map((v) => v.group))).toEqual(new Set(['l1', 'l2', 'elasticnet (each its l1_ratio)']));
    expect(objectiveLine(logistic)).toContain('LogisticRegression(C=1/(n·λ)');
    expect(objectiveLine(logistic)).not.toContain('ElasticNet(');
    expect(objectiveLine(grid)).toContain('ElasticNet(alpha=λ, l1_ratio=r)');
  });

  it('settings compared: the loss axis is linear when the losses span less than two decades (a log axis of 10–100 drew them all in 10–20)', async () => {
    const settings = await sweepData(
      dir,
      'settings',
      `data: {synthetic: {kind: regression, n: 120, p: 6, nonzero: 3, seed: 2}}
validation: {kind: holdout, fraction: 0.25, seed: 0}
model: {kind: mlp, hidden: [], epochs: 8, lr: 0.01, batch: 32}
sweep: {kind: grid, penalty: [l1], lambda: [1e-3, 1e-2, 1e-1], extend: 0, model: {l1_method: [subgradient, proximal]}}
`,
    );
    const methods = buildCharts(settings).find((c) => c.id === 'methods')!.spec as unknown as { data: { values: { measure: string; value: number }[] }; hconcat: { encoding: { y: { scale: Record<string, unknown>; title: string } } }[] };
    const losses = methods.data.values.filter((v) => v.measure === 'validation loss').map((v) => v.value);
    expect(losses.length).toBeGreaterThanOrEqual(6);
    const span = Math.max(...losses) / Math.min(...losses);
    const y = methods.hconcat[0].encoding.y;
    expect(y.scale.type === 'log', `span ${span}`).toBe(span > 100);
    expect(y.title.includes('log scale')).toBe(span > 100);
  });
});

