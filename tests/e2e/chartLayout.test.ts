// The charts as chromium draws them, read from their SVG on the reports of five sweeps (gaussian with three l1 ratios,
// binomial, multinomial, a random search, a compare page): no two pieces of text on top of each other, no panel
// without marks, every chart of several colours with a legend or names on it, no SI prefix on an axis, and the
// coefficient-path names inside their panels.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { compareSweeps } from '../../src/results/compare.js';
import { writeCompareReport } from '../../src/report/compare.js';
import { writeReport } from '../../src/report/write.js';
import { FIXTURES, ROOT, tempDir, writeFile } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM) || process.env.CI === 'true';

/** What the page's script reports of one chart's SVG. */
interface ChartLayout {
  id: string;
  overlaps: string[];
  emptyPanels: string[];
  panels: number;
  colours: number;
  named: boolean;
  axisLabels: string[];
  labelsOutside: string[];
  pathLabels: number;
}

const SWEEPS: Record<string, string> = {
  gaussian: `data: {path: ${join(FIXTURES, 'diabetes.csv')}, target: progression}
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {auto: 30, ratio: 1e-3}, l1_ratio: [0.2, 0.5, 0.8], extend: 0}
`,
  binomial: `data: {path: ${join(FIXTURES, 'breast_cancer.csv')}, target: diagnosis}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: logistic}
sweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 25, ratio: 1e-3}, extend: 0}
`,
  multinomial: `data: {path: ${join(ROOT, 'data', 'wine.csv')}, target: cultivar}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: logistic}
sweep: {kind: grid, penalty: [l1, elasticnet], lambda: {auto: 25, ratio: 1e-3}, l1_ratio: [0.5], extend: 0}
`,
  random: `data: {synthetic: {kind: regression, n: 200, p: 30, nonzero: 5, seed: 5}}
validation: {kind: kfold, folds: 3, seed: 0}
sweep: {kind: random, points: 80, seed: 1, penalty: [l1, l2, elasticnet], lambda: {log_uniform: [1e-3, 10]}, l1_ratio: {uniform: [0.05, 0.95]}}
`,
  unstandardized: `data: {path: ${join(FIXTURES, 'diabetes.csv')}, target: progression, standardize: false}
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 30, ratio: 1e-3}, extend: 0}
`,
};

/** Runs in the page: the layout facts of every chart on it. */
function readLayouts(): ChartLayout[] {
  const SI = /^[−-]?\d+(\.\d+)?[yzafpnµμmkMGTPEZY]$/;
  const boxOf = (el: Element) => el.getBoundingClientRect();
  const overlap = (a: DOMRect, b: DOMRect) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  return [...document.querySelectorAll('.chart')].map((chart) => {
    const svg = chart.querySelector('svg')!;
    const texts = [...svg.querySelectorAll('text')].filter((t) => (t.textContent ?? '').trim() !== '' && t.getAttribute('opacity') !== '0');
    const overlaps: string[] = [];
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++) if (overlap(boxOf(texts[i]), boxOf(texts[j]))) overlaps.push(`"${texts[i].textContent}" on "${texts[j].textContent}"`);
    // Panels: the innermost scopes (a facet cell, a concatenated view) with an axis of their own or in their cell.
    const inner = [...svg.querySelectorAll('g.role-scope')].filter((g) => !g.closest('g.role-legend') && !g.querySelector('g.role-scope'));
    // A single view has no scope of its own: it is one panel.
    const scopes: Element[] = inner.length ? inner : [svg];
    const marksIn = (g: Element) => g.querySelectorAll('g.role-mark > *').length;
    const colours = new Set<string>();
    for (const item of svg.querySelectorAll('g.role-mark > *')) {
      for (const attr of ['stroke', 'fill']) {
        const c = item.getAttribute(attr);
        if (c && c !== 'none' && c !== 'transparent' && !/^#(000|333|222|555|fff|ffffff)$/i.test(c) && c !== 'black' && c !== 'white') colours.add(c.toLowerCase());
      }
    }
    const named = svg.querySelector('g.role-legend') !== null || svg.querySelector('g.mark-text.role-mark text') !== null || svg.querySelector('g.role-row-header text, g.role-column-header text') !== null;
    const axisLabels = [...svg.querySelectorAll('g.role-axis-label text')].map((t) => (t.textContent ?? '').trim());
    // Names drawn as marks (the coefficient paths' labels) against their panel's plot area.
    const labelsOutside: string[] = [];
    let pathLabels = 0;
    for (const scope of svg.querySelectorAll('g.role-scope')) {
      const area = scope.querySelector(':scope > g > path.background');
      if (!area) continue;
      const frame = boxOf(area);
      for (const t of scope.querySelectorAll(':scope > g > g > g.mark-text.role-mark text, :scope > g > g.mark-text.role-mark text')) {
        pathLabels++;
        const b = boxOf(t);
        if (b.left < frame.left - 1 || b.right > frame.right + 1 || b.top < frame.top - 1 || b.bottom > frame.bottom + 1) labelsOutside.push(t.textContent ?? '');
      }
    }
    return {
      id: chart.getAttribute('data-chart') ?? '',
      overlaps,
      emptyPanels: scopes.filter((g) => marksIn(g) === 0).map((g) => `${g.getAttribute('class')} ${(g.textContent ?? '').slice(0, 60)}`),
      panels: scopes.length,
      colours: colours.size,
      named,
      axisLabels: axisLabels.filter((t) => SI.test(t)),
      labelsOutside,
      pathLabels,
    };
  });
}

describe.runIf(haveBrowser)('the charts as chromium draws them, on the reports of five sweeps', () => {
  let browser: Browser;
  const dir = tempDir('regsweep-layout-');
  const pages: Record<string, string> = {};

  beforeAll(async () => {
    for (const [name, yaml] of Object.entries(SWEEPS)) {
      await runSweep(writeFile(dir, `${name}.yaml`, `name: ${name}\n${yaml}workers: 2\noutput: ${name}.db\n`));
      if (name === 'unstandardized') continue;
      await writeReport(join(dir, `${name}.db`), { outDir: join(dir, `${name}-report`), png: false });
      pages[name] = pathToFileURL(join(dir, `${name}-report`, 'report.html')).href;
    }
    const comparison = await compareSweeps(join(dir, 'gaussian.db'), join(dir, 'unstandardized.db'));
    pages.compare = pathToFileURL(await writeCompareReport(comparison, join(dir, 'compare'), [join(dir, 'gaussian.db'), join(dir, 'unstandardized.db')], false)).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  }, 240_000);
  afterAll(async () => browser?.close());

  const layouts = async (name: string): Promise<ChartLayout[]> => {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await tab.goto(pages[name]);
      await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts.then(() => true));
      return await tab.evaluate(readLayouts);
    } finally {
      await tab.close();
    }
  };

  for (const name of ['gaussian', 'binomial', 'multinomial', 'random', 'compare'])
    it(`${name}: text apart, panels with marks, colours named, no SI prefix, path names inside their panels`, async () => {
      const charts = await layouts(name);
      const expected: Record<string, string[]> = {
        gaussian: ['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda'],
        binomial: ['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda'],
        multinomial: ['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda'],
        random: ['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda'],
        compare: ['compare-fit'],
      };
      expect(charts.map((c) => c.id)).toEqual(expected[name]);
      for (const c of charts) {
        expect(c.overlaps, `${name} ${c.id}`).toEqual([]);
        expect(c.panels, `${name} ${c.id}`).toBeGreaterThan(0);
        expect(c.emptyPanels, `${name} ${c.id}`).toEqual([]);
        if (c.colours > 1) expect(c.named, `${name} ${c.id}: ${c.colours} colours`).toBe(true);
        expect(c.axisLabels, `${name} ${c.id}`).toEqual([]);
        expect(c.labelsOutside, `${name} ${c.id}`).toEqual([]);
      }
      if (name === 'compare') {
        // Which colour is which sweep, and that λ means different things in a standardized and an unstandardized fit.
        const tab = await browser.newPage();
        await tab.goto(pages.compare);
        await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts.then(() => true));
        const legend = await tab.$$eval('.chart svg g.role-legend text', (els) => els.map((e) => e.textContent));
        expect(legend).toEqual(expect.arrayContaining(['A: gaussian', 'B: unstandardized']));
        expect(await tab.$eval('.chart svg', (el) => el.textContent)).toContain('λ is not comparable: A standardizes its features, B does not standardize');
        await tab.close();
      }
      const paths = charts.find((c) => c.id === 'paths');
      if (paths) expect(paths.pathLabels, name).toBeGreaterThanOrEqual(name === 'multinomial' ? 6 : 4);
    });
});
