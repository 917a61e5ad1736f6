import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { compile } from 'vega-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { withResults } from '../../src/results/open.js';
import { readReportData } from '../../src/report/data.js';
import { buildCharts } from '../../src/report/specs.js';
import { writeReport } from '../../src/report/write.js';
import { tempDir, writeFile, ROOT } from '../helpers.js';

const XSS = '<img src=x onerror=alert(1)>';
const dir = tempDir();
const db = join(dir, 'r.db');
const outDir = join(dir, 'report');

beforeAll(async () => {
  // A CSV with a hostile column name, an elastic-net grid over two α, 3-fold CV.
  const rows = ['a,b,' + JSON.stringify(XSS).slice(1, -1) + ',d,y'];
  let s = 7;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  for (let i = 0; i < 120; i++) {
    const x = [rand(), rand(), rand(), rand()];
    rows.push([...x, 3 * x[0] - 2 * x[2] + 0.3 * rand()].join(','));
  }
  writeFile(dir, 'x.csv', rows.join('\n') + '\n');
  const config = writeFile(dir, 'r.yaml', `name: xss-${XSS.replace(/[^a-z]/g, '')}
data: {path: x.csv}
validation: {kind: kfold, folds: 3, seed: 0}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-3, 3], num: 12}, l1_ratio: [0.2, 0.8]}
workers: 2
output: r.db
`);
  await runSweep(config);
  await writeReport(db, { outDir });
});

describe('report specs', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'node_modules/vega-lite/build/vega-lite-schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false, allowUnionTypes: true }).compile(schema);

  it('every chart validates against the Vega-Lite schema and compiles to Vega', async () => {
    const charts = buildCharts(await withResults(db, undefined, ({ store, sweep }) => readReportData(store, sweep)));
    expect(charts.map((c) => c.id)).toEqual(['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda']);
    for (const c of charts) {
      expect(validate(c.spec), `${c.id}: ${JSON.stringify(validate.errors?.slice(0, 2))}`).toBe(true);
      expect(compile(c.spec).spec.marks?.length).toBeGreaterThan(0);
    }
  });

  it('the λ_min and λ_1se marked on the fit chart are the database’s', async () => {
    const selections = await withResults(db, undefined, ({ store, sweep }) => store.selections(sweep.id));
    const spec = JSON.parse(readFileSync(join(outDir, 'fit.vl.json'), 'utf8'));
    const marked = spec.data.values.filter((r: { series: string }) => r.series === 'λ_min' || r.series === 'λ_1se');
    expect(selections).toHaveLength(4);
    for (const s of selections) {
      const group = s.penalty === 'elasticnet' ? `elasticnet l1_ratio=${s.l1Ratio}` : s.penalty;
      expect(marked.find((r: { group: string; series: string }) => r.group === group && r.series === 'λ_min').lambda).toBe(s.lambdaMin);
      expect(marked.find((r: { group: string; series: string }) => r.group === group && r.series === 'λ_1se').lambda).toBe(s.lambda1se);
    }
  });

  it('writes .vl.json, .svg and .png per chart and an offline page', () => {
    for (const id of ['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda']) {
      expect(readFileSync(join(outDir, `${id}.svg`), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
      expect(readFileSync(join(outDir, `${id}.png`)).subarray(1, 4).toString()).toBe('PNG');
      expect(existsSync(join(outDir, `${id}.vl.json`))).toBe(true);
    }
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|fastly)/);
    expect(html).not.toContain(XSS);
    expect(html).toContain('vegaEmbed');
  });
});
