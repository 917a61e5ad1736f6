import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { textWidth } from '../../src/report/textWidth.js';
import { SANS_SERIF_WIDTHS } from '../../src/report/textWidths.js';
import { writeReport } from '../../src/report/write.js';
import { tempDir, writeFile } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const XSS = '<img src=x onerror=alert(1)>';
// CI installs chromium (.ci/run); elsewhere the test says it was skipped rather than failing on a missing browser.
const haveBrowser = existsSync(CHROMIUM) || process.env.CI === 'true';

describe.runIf(haveBrowser)('report.html in a real browser (Debian chromium, file:// URL, no network)', () => {
  let browser: Browser;
  let page: string;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    const rows = [`a,${JSON.stringify(XSS).slice(1, -1)},c,y`];
    for (let i = 0; i < 90; i++) {
      const x = [Math.sin(i), Math.cos(3 * i), Math.sin(7 * i + 1)];
      rows.push([...x, 2 * x[0] - x[1] + 0.2 * Math.sin(11 * i)].join(','));
    }
    writeFile(dir, 'x.csv', rows.join('\n') + '\n');
    const config = writeFile(dir, 'b.yaml', `name: browser
data: {path: x.csv}
validation: {kind: kfold, folds: 3, seed: 0}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-3, 3], num: 10}, l1_ratio: [0.3, 0.7]}
workers: 2
output: b.db
`);
    await runSweep(config);
    page = pathToFileURL(join(dir, 'report', 'report.html')).href;
    await writeReport(join(dir, 'b.db'), { outDir: join(dir, 'report'), png: false });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  });
  afterAll(async () => browser?.close());

  it('draws every chart with no console error, no network request and no injected markup', async () => {
    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    let dialog = false;
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('dialog', async (d) => {
      dialog = true;
      await d.dismiss();
    });
    tab.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
    await tab.goto(page);
    await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts.then(() => true));

    const charts = await tab.$$eval('.chart', (els) => els.map((el) => ({ id: el.getAttribute('data-chart'), marks: el.querySelectorAll('svg .mark-line path, svg .mark-symbol path, svg .mark-rect path, svg .mark-area path, svg .mark-rule line').length })));
    expect(charts.map((c) => c.id)).toEqual(['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda']);
    for (const c of charts) expect(c.marks, c.id!).toBeGreaterThan(0);

    // The hostile column name is shown as text (in the coefficient-path legend), never as an element.
    expect(await tab.$$('img')).toHaveLength(0);
    expect(await tab.evaluate(() => document.body.textContent)).toContain(XSS);

    // A tooltip on hover.
    const point = await tab.$('[data-chart="fit"] svg .mark-symbol path');
    await point!.hover({ force: true });
    await tab.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });

    await tab.screenshot({ path: join(dir, 'report-screenshot.png'), fullPage: true });
    expect(dialog).toBe(false);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('the page holds every chart drawn (its SVG file) before any script runs; the live charts have the same marks and size', async () => {
    const perChart = (tab: Page) =>
      tab.$$eval('.chart', (els) =>
        els.map((el) => [el.getAttribute('data-chart'), el.querySelectorAll('svg .role-mark > *').length, el.querySelector('svg')?.getAttribute('width'), el.querySelector('svg')?.getAttribute('height')]),
      );
    const still = await browser.newContext({ javaScriptEnabled: false });
    const served = await still.newPage();
    await served.goto(page);
    const drawn = await perChart(served);
    await still.close();
    expect(drawn.map(([id]) => id)).toEqual(['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda']);
    for (const [id, marks] of drawn) expect(marks, String(id)).toBeGreaterThan(0);
    // The drawing is the chart's SVG file.
    const fitSvg = readFileSync(join(dir, 'report', 'fit.svg'), 'utf8');
    expect(readFileSync(join(dir, 'report', 'report.html'), 'utf8')).toContain(fitSvg);
    const tab = await browser.newPage();
    await tab.goto(page);
    await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts.then(() => true));
    expect(await perChart(tab)).toEqual(drawn);
    expect(await tab.$$eval('.chart', (els) => els.map((el) => el.querySelectorAll('svg.marks').length))).toEqual(drawn.map(() => 1));
    await tab.close();
  });

  it('the text widths charts are laid out with outside a browser agree with chromium measuring whole strings', async () => {
    const tab = await browser.newPage();
    const strings = ['elasticnet l1_ratio=0.95', 'λ (log scale): ← overfitting · underfitting →', 'fraction of weights', 'MSE (validation, mean ± se over 5 folds)', '1e-4', 'Coefficient paths'];
    const fonts = [
      { css: '10px sans-serif', item: { fontSize: 10 } },
      { css: 'bold 11px sans-serif', item: { fontSize: 11, fontWeight: 'bold' } },
    ];
    const measured = await tab.evaluate(
      ({ strings, fonts }) => {
        const context = document.createElement('canvas').getContext('2d')!;
        return fonts.map((f) => strings.map((s) => ((context.font = f.css), context.measureText(s).width)));
      },
      { strings, fonts },
    );
    await tab.close();
    fonts.forEach((f, i) =>
      strings.forEach((s, j) => {
        const ours = textWidth(SANS_SERIF_WIDTHS, f.item, s);
        expect(Math.abs(ours - measured[i][j]) / measured[i][j], `${f.css} "${s}": ${ours} vs ${measured[i][j]}`).toBeLessThan(0.03);
      }),
    );
  });
});
