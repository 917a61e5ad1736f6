// The compare report: the two sweeps' validation curves overlaid per penalty, and the table of their best λ.
import { dirname, join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Comparison, ComparedSweep } from '../results/compare.js';
import { fmt } from '../select/cv.js';
import { refuseProtectedOutput, storeFiles, writeFolderAtomic } from '../util/files.js';
import { displayPath, isStoreUrl } from '../util/paths.js';
import { chartSections, escapeHtml, pageEnd, pageHead } from './html.js';
import { writeChartFiles } from './render.js';
import type { Chart } from './specs.js';

import { lambdaAxis, LOSS_AXIS, panelColumns, SCHEMA } from './chartKit.js';

/** Whether the sweep fitted standardized features (λ then weighs every feature on the scale of its sd). */
function standardized(s: ComparedSweep): boolean {
  return (JSON.parse(s.sweep.configJson) as { data?: { standardize?: boolean } }).data?.standardize !== false;
}

/** "A: diabetes (l1_ratio 0.5)": the legend entry of one sweep's curve in a penalty's panel. */
function seriesName(s: ComparedSweep, penalty: string, l1Ratio: number): string {
  return `${s.label}: ${s.sweep.name}${penalty === 'elasticnet' ? ` (l1_ratio ${fmt(l1Ratio)})` : ''}`;
}

function overlayChart(c: Comparison): Chart | undefined {
  const rows: Record<string, unknown>[] = [];
  // The legend names each sweep: "A: diabetes" in blue, "B: diabetes-raw" in red.
  const names = c.sweeps.map((s) => `${s.label}: ${s.sweep.name}${s.label === 'B' && s.sweep.name === c.sweeps[0].sweep.name ? ` (id ${s.sweep.id})` : ''}`);
  c.sweeps.forEach((s, i) => {
    for (const p of s.curves) {
      if (p.lambda <= 0) continue;
      rows.push({ penalty: p.penalty, sweep: names[i], series: seriesName(s, p.penalty, p.l1Ratio), lambda: p.lambda, mean: p.mean, lo: p.mean - p.se, hi: p.mean + p.se });
    }
    for (const b of s.best) rows.push({ penalty: b.penalty, sweep: names[i], series: seriesName(s, b.penalty, b.l1Ratio), lambda: b.lambdaMin, marker: 'λ_min', mean: b.meanMin });
  });
  if (rows.length === 0) return undefined;
  const color = { field: 'sweep', type: 'nominal', scale: { domain: names, range: ['#4c78a8', '#e45756'] }, title: 'sweep', legend: { orient: 'top', labelLimit: 400 } } as const;
  const [a, b] = c.sweeps;
  // λ weighs a standardized fit's features by their sd and an unstandardized one's by their units: the same λ is
  // not the same penalty, and the chart says so where it is read.
  const scalesDiffer = standardized(a) !== standardized(b);
  const which = (s: ComparedSweep) => `${s.label} ${standardized(s) ? 'standardizes its features' : 'does not standardize'}`;
  const panels = new Set(rows.map((r) => r.penalty)).size;
  return {
    id: 'compare-fit',
    title: c.incomparable ? 'Validation loss vs λ, both sweeps — not comparable' : 'Validation loss vs λ, both sweeps',
    caption:
      `Mean validation ${c.metric} over folds (band ±1 standard error) for A (${a.sweep.name}, blue) and B (${b.sweep.name}, red), one panel per penalty; ` +
      `the dashed rules mark each sweep's λ_min.` +
      (scalesDiffer ? ` λ does not mean the same in the two: ${which(a)}, ${which(b)}; compare the curves' lowest losses, not where on the λ axis they lie.` : '') +
      (c.incomparable ? ` No verdict: ${c.incomparable}.` : ''),
    spec: {
      $schema: SCHEMA,
      ...(scalesDiffer ? { title: { text: `λ is not comparable: ${which(a)}, ${which(b)}`, fontSize: 12, fontWeight: 'normal', color: '#b00', anchor: 'start' } } : {}),
      data: { values: rows },
      facet: { field: 'penalty', type: 'nominal', title: null },
      columns: panelColumns(panels),
      resolve: { scale: { x: 'independent', y: 'independent' } },
      spec: {
        width: 360,
        height: 240,
        layer: [
          {
            transform: [{ filter: 'datum.marker == null' }],
            mark: { type: 'area', opacity: 0.15 },
            encoding: { x: lambdaAxis, y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: `validation ${c.metric === 'val_loss' ? 'loss' : c.metric}`, axis: LOSS_AXIS }, y2: { field: 'hi' }, color },
          },
          {
            transform: [{ filter: 'datum.marker == null' }],
            mark: { type: 'line', point: { size: 12 } },
            encoding: {
              x: lambdaAxis,
              y: { field: 'mean', type: 'quantitative', scale: { zero: false } },
              color,
              detail: { field: 'series' },
              tooltip: [
                { field: 'series', title: 'sweep' },
                { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ' },
                { field: 'mean', type: 'quantitative', format: '.5g', title: c.metric },
              ],
            },
          },
          {
            transform: [{ filter: "datum.marker === 'λ_min'" }],
            mark: { type: 'rule', strokeDash: [4, 3] },
            encoding: {
              x: lambdaAxis,
              color,
              tooltip: [
                { field: 'series', title: 'sweep' },
                { field: 'lambda', type: 'quantitative', format: '.4g', title: 'λ_min' },
                { field: 'mean', type: 'quantitative', format: '.5g', title: c.metric },
              ],
            },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

function compareHtml(c: Comparison, charts: Chart[], drawn: string[]): string {
  const cell = (s: ComparedSweep['best'][number] | null) =>
    s ? `<td>${fmt(s.lambdaMin)}${s.penalty === 'elasticnet' ? ` (l1_ratio ${fmt(s.l1Ratio)})` : ''}</td><td>${fmt(s.meanMin)} ± ${s.seMin > 0 ? fmt(s.seMin) : '—'}</td><td>${s.nnzMin ?? ''}</td>` : '<td colspan="3">—</td>';
  const table = c.rows.map((r) => `<tr><td>${escapeHtml(r.penalty)}</td>${cell(r.a)}${cell(r.b)}<td>${escapeHtml(r.verdict)}</td></tr>`).join('\n');
  const who = c.sweeps
    .map((s) => `<li><b>${s.label}</b>: sweep <code>${escapeHtml(s.sweep.name)}</code> (id ${s.sweep.id}) in <code>${escapeHtml(s.location)}</code> — ${escapeHtml(s.sweep.modelKind)}, ${s.sweep.n} rows × ${s.sweep.p} features, data sha256 <code>${s.sweep.dataHash.slice(0, 16)}…</code></li>`)
    .join('\n');

  return `${pageHead(`regsweep compare: ${c.sweeps[0].sweep.name} vs ${c.sweeps[1].sweep.name}`)}
<h1>Compare two sweeps</h1>
<ul>
${who}
</ul>
${c.notes.map((n) => `<p class="warning">${escapeHtml(n)}</p>`).join('\n')}
<h2>Best λ per penalty (validation ${escapeHtml(c.metric)})</h2>
<table>
<thead><tr><th>penalty</th><th>A: λ_min</th><th>A: ${escapeHtml(c.metric)} ± se</th><th>A: nonzero</th><th>B: λ_min</th><th>B: ${escapeHtml(c.metric)} ± se</th><th>B: nonzero</th><th>better</th></tr></thead>
<tbody>
${table || '<tr><td colspan="8">no validation results</td></tr>'}
</tbody>
</table>
${chartSections(charts, drawn)}
${pageEnd()}`;
}

/** "A-vs-B-compare" beside the first database (in the working folder for a store URL). */
export function defaultCompareDir(first: string, c: Comparison): string {
  const name = `${c.sweeps[0].sweep.name}-vs-${c.sweeps[1].sweep.name}-compare`;
  return isStoreUrl(first) ? resolve(name) : join(dirname(resolve(first)), name);
}

/** Writes compare.html and the overlay chart (.vl.json, .svg, .png) into `outDir`; returns the page's path. */
export async function writeCompareReport(c: Comparison, outDir: string, locations: string[], png = true): Promise<string> {
  const dir = resolve(outDir);
  for (const location of locations) refuseProtectedOutput(dir, storeFiles(location), '--out', outDir);
  const chart = overlayChart(c);
  const charts = chart ? [chart] : [];
  await writeFolderAtomic(dir, '--out', outDir, async (write) => {
    const drawn = await writeChartFiles(charts, write, png);
    write('compare.html', compareHtml(c, charts, drawn));
  });
  return displayPath(join(dir, 'compare.html'));
}
