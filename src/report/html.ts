import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fmt } from '../select/cv.js';
import { sweepFamily } from '../domain.js';
import { groupLabel, type ReportData } from './data.js';
import { metricName, type Chart } from './specs.js';
import { textWidth } from './textWidth.js';
import { SANS_SERIF_WIDTHS } from './textWidths.js';

const require = createRequire(import.meta.url);

/** Text from the data or the config goes through here before it reaches the page. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside a <script> element: "<" escaped so no value can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A package's folder (its "exports" hide build/ from require.resolve). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!(existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === name)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = up;
  }
  return dir;
}

/** The UMD builds of vega, vega-lite and vega-embed, in the order a page loads them. */
export const CHART_LIBRARIES = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;

/** A file of an installed package, by its path inside the package. */
export function libraryFile(pkg: string, file: string): string {
  return join(packageDir(pkg), file);
}

/** The chart libraries inlined, so that the page works from file:// with no network. */
function inlineLibraries(): string {
  return CHART_LIBRARIES.map(([pkg, file]) => `<script>${readFileSync(libraryFile(pkg, file), 'utf8').replace(/<\/script/gi, '<\\/script')}</script>`).join('\n');
}

const MAX_SHOWN_COEFFICIENTS = 25;

/** The chosen model: how it was chosen, its figures, its largest coefficients, and how to use it. */
function modelSection(data: ReportData, location: string): string {
  const m = data.model;
  if ('missing' in m) return `<h2>The model</h2>\n<p class="caption">No model to use: ${escapeHtml(m.missing)}</p>`;
  const what = m.penalty === 'elasticnet' ? `elasticnet, l1_ratio ${fmt(m.l1Ratio)}` : m.penalty;
  const terms = m.outputs.flatMap((t, k) => m.features.map((f, j) => ({ name: m.outputs.length > 1 ? `${t}:${f}` : f, value: m.coefs[k][j] })));
  const shown = terms.filter((t) => t.value !== 0).sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, MAX_SHOWN_COEFFICIENTS);
  const rule = m.rule.kind === '1se' ? 'λ_1se, the largest λ within one standard error of the best' : m.rule.kind === 'min' ? 'λ_min, the best mean' : `the grid λ nearest to ${m.rule.value}`;
  const db = escapeHtml(location);
  return `<h2>The model</h2>
<p>${escapeHtml(what)} at λ = ${m.lambda.toPrecision(6)} (${escapeHtml(rule)})${m.cv ? `: validation loss ${fmt(m.cv.mean)} ± ${m.cv.se > 0 ? fmt(m.cv.se) : '—'}` : ''}; ${m.nonzero} nonzero of ${terms.length} coefficients${m.family === 'cox' ? ' (log hazard ratios; no intercept)' : `, intercept ${m.intercepts.map((b) => b.toPrecision(6)).join(', ')}`}; fit on ${m.trial.nTrain} rows.</p>
${m.notes.map((n) => `<p class="warning">${escapeHtml(n)}</p>`).join('\n')}
<table>
<thead><tr><th>feature</th><th>coefficient (original scale)</th></tr></thead>
<tbody>
${shown.map((t) => `<tr><td>${escapeHtml(t.name)}</td><td>${t.value.toPrecision(6)}</td></tr>`).join('\n') || '<tr><td colspan="2">every coefficient is zero</td></tr>'}
</tbody>
</table>
${shown.length < m.nonzero ? `<p class="caption">The ${shown.length} largest of ${m.nonzero} nonzero coefficients; all of them: <code>regsweep export ${db} --model</code>.</p>` : ''}
<p class="caption">Use it: <code>regsweep predict ${db} --data new.csv${m.family === 'cox' ? ' --times 365,730' : ''}</code>${m.family === 'cox' ? ' (the linear predictor, the relative risk and the survival probability at each time)' : ''}; hand it on: <code>regsweep export ${db} --model --format sklearn</code> (or <code>glmnet</code>, <code>json</code>). Another choice: <code>--penalty</code>, <code>--l1-ratio</code>, <code>--select min|1se|lambda=VALUE</code>.</p>`;
}

/** The top of a regsweep page, through <body>: its title and the stylesheet every page shares. */
export function pageHead(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }
.caption { color: #555; max-width: 60rem; }
.guide { max-width: 60rem; border-left: 3px solid #4c78a8; padding-left: 0.8rem; }
.gone { color: #a00; font-weight: bold; }
.warning { background: #fff4e0; border-left: 4px solid #e8a33d; padding: 0.4rem 0.8rem; }
section { margin-top: 2.5rem; }
</style>
</head>
<body>`;
}

/**
 * What a page that holds its charts as drawings needs to make them live: `useDrawingTextWidths()`, to call once vega
 * is loaded, has vega measure text as the drawings were measured (the same widths, the same function: its source),
 * so that a live chart has its drawing's layout; `afterFirstPaint()` resolves once the drawings are on screen
 * (window.regsweepShownAt), the moment to start the slower live drawing.
 */
export function drawingScript(): string {
  return `var drawingTextWidths = ${JSON.stringify(SANS_SERIF_WIDTHS)};
var drawingTextWidth = ${textWidth.toString()};
function useDrawingTextWidths() { vega.textMetrics.width = function (item, text) { return drawingTextWidth(drawingTextWidths, item, text); }; }
function afterFirstPaint() {
  return new Promise(function (resolve) { requestAnimationFrame(function () { setTimeout(resolve, 0); }); }).then(function () { window.regsweepShownAt = performance.now(); });
}`;
}

/**
 * One section per chart: its title, caption, the element its chart is drawn into, holding `drawn` (the chart as the
 * SVG file has it) until the browser draws it live, and the spec it draws.
 */
export function chartSections(charts: Chart[], drawn: string[] = []): string {
  return charts
    .map(
      (c, k) => `<section>
<h2>${escapeHtml(c.title)}</h2>
<p class="caption">${escapeHtml(c.caption)}</p>
${c.guide ? `<p class="guide">${escapeHtml(c.guide)}</p>\n` : ''}<div class="chart" id="chart-${k}" data-chart="${escapeHtml(c.id)}">${drawn[k] ?? ''}</div>
<script type="application/json" id="spec-${k}">${scriptJson(c.spec)}</script>
</section>`,
    )
    .join('\n');
}

/**
 * The end of a page: the inlined libraries and the script that, after the first paint (the drawings are on screen),
 * draws every chart live, one after another, each aside and swapped in when done (window.regsweepCharts).
 */
export function pageEnd(): string {
  return `${inlineLibraries()}
<script>
${drawingScript()}
useDrawingTextWidths();
window.regsweepCharts = afterFirstPaint().then(function () {
  return Array.from(document.querySelectorAll('.chart')).reduce(function (previous, el, k) {
    return previous.then(function (views) {
      var spec = JSON.parse(document.getElementById('spec-' + k).textContent);
      var fresh = document.createElement('div');
      return vegaEmbed(fresh, spec, { actions: false, renderer: 'svg' }).then(function (result) {
        el.replaceChildren(fresh);
        return new Promise(function (next) { setTimeout(function () { next(views.concat([result])); }, 0); });
      });
    });
  }, Promise.resolve([]));
});
</script>
</body>
</html>
`;
}

/** "24 (in 9 features)" for several classes or responses, where glmnet counts the features; else the count. */
function nonzeroWords(coefficients: number | null, features: number | undefined): string {
  if (coefficients === null) return '';
  return features === undefined ? String(coefficients) : `${coefficients} (in ${features} features)`;
}

/** The objective this sweep minimized, in its family's words, and what the anchors call the same fit. */
export function objectiveLine(data: ReportData): string {
  const penalty = 'λ·(r‖b‖₁ + (1−r)/2·‖b‖²) with r the l1_ratio, intercept unpenalized';
  switch (sweepFamily(data.sweep)) {
    case 'binomial':
      return `Objective: −(1/n)·log-likelihood of the logistic model + ${penalty}; glmnet's <code>family="binomial", lambda=λ, alpha=r</code>, scikit-learn's <code>LogisticRegression(C=1/(n·λ), l1_ratio=r, solver="saga")</code>.`;
    case 'multinomial':
      return `Objective: −(1/n)·log-likelihood of the multinomial model + ${penalty} over every class's coefficients; glmnet's <code>family="multinomial", lambda=λ, alpha=r</code>, scikit-learn's <code>LogisticRegression(C=1/(n·λ), l1_ratio=r, solver="saga")</code>.`;
    case 'poisson':
      return `Objective: (1/n)·Σ(exp(η) − y·η) (the Poisson negative log-likelihood, η = Xb + b0) + ${penalty}; glmnet's <code>family="poisson", lambda=λ, alpha=r</code>, scikit-learn's <code>PoissonRegressor(alpha=λ)</code> for ridge (r = 0).`;
    case 'cox':
      return `Objective: −(1/n)·log partial likelihood of the proportional-hazards model (Breslow ties, η = Xb, no intercept) + λ·(r‖b‖₁ + (1−r)/2·‖b‖²) with r the l1_ratio; glmnet's <code>family="cox", lambda=λ, alpha=r</code> (scikit-learn has no Cox model). The validation curve is cv.glmnet's partial-likelihood deviance per death, grouped (the fold's rows added to its training rows, less the training rows alone); <code>--metric C</code> gives Harrell's concordance.`;
    case 'mgaussian':
      return `Objective: (1/2n)‖Y − XB − b0‖² + λ·(r·Σⱼ‖Bⱼ‖₂ + (1−r)/2·‖B‖²), each feature's row of coefficients across the responses penalized as a group, intercepts unpenalized; glmnet's <code>family="mgaussian", lambda=λ, alpha=r</code>, scikit-learn's <code>MultiTaskElasticNet(alpha=λ, l1_ratio=r)</code>.`;
    case 'network':
      return `Objective: the network's mean training loss + λ·(r‖W‖₁ + (1−r)/2·‖W‖²) over its weights (biases unpenalized unless model.penalize_bias), as PyTorch with the penalty added to the loss or weight decay.`;
    default:
      return `Objective: (1/2n)‖y − Xb − b0‖² + ${penalty}; scikit-learn's <code>ElasticNet(alpha=λ, l1_ratio=r)</code>, glmnet's <code>family="gaussian", lambda=λ, alpha=r</code>.`;
  }
}

export function reportHtml(data: ReportData, charts: Chart[], location = 'results.db', drawn: string[] = []): string {
  const { sweep } = data;
  const { config } = data;
  const done = data.trials.length;
  const rows = data.shownSelections
    .map((s) => {
      const edge = s.edge ? `λ_min on the ${s.edge === 'largest' ? 'upper' : 'lower'} edge: extend the grid` : '';
      // One validation set (a holdout) has no standard error.
      return `<tr><td>${escapeHtml(groupLabel(s.penalty, s.l1Ratio, s.settings))}</td><td>${fmt(s.lambdaMin)}</td><td>${fmt(s.meanMin)} ± ${s.seMin > 0 ? fmt(s.seMin) : '—'}</td><td>${nonzeroWords(s.nnzMin, s.featuresMin)}</td><td>${fmt(s.lambda1se)}</td><td>${fmt(s.mean1se)}</td><td>${nonzeroWords(s.nnz1se, s.features1se)}</td><td>${escapeHtml(edge)}</td></tr>`;
    })
    .join('\n');

  return `${pageHead(`regsweep report: ${sweep.name}`)}
<h1>Sweep <code>${escapeHtml(sweep.name)}</code></h1>
<p>${escapeHtml(config.model.kind)} model on ${sweep.n} rows × ${sweep.p} features (target ${escapeHtml(sweep.targetNames.join(', '))}),
validation ${escapeHtml(config.validation.kind)}${config.validation.kind === 'kfold' ? ` (${config.validation.folds} folds)` : ''};
status <b>${escapeHtml(sweep.status)}</b>, ${done} of ${sweep.totalTrials} trials recorded${sweep.status === 'done' && done < sweep.totalTrials ? ' (the rest lie past where paths ended: sweep.lambda fdev, devmax)' : ''}.</p>
<p class="caption">${objectiveLine(data)}</p>
${data.notes.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
<h2>Best λ per penalty${data.metric.name === 'val_loss' ? '' : ` by ${escapeHtml(metricName(data))}`}</h2>
<table>
<thead><tr><th>penalty</th><th>λ_min</th><th>validation ${escapeHtml(data.metric.name === 'val_loss' ? 'loss' : metricName(data))} ± se</th><th>nonzero</th><th>λ_1se</th><th>at λ_1se</th><th>nonzero</th><th></th></tr></thead>
<tbody>
${rows || '<tr><td colspan="8">no validation results yet</td></tr>'}
</tbody>
</table>
${modelSection(data, location)}
${chartSections(charts, drawn)}
${pageEnd()}`;
}
