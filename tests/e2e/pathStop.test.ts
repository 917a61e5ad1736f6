// glmnet's rules for ending an automatic path (sweep.lambda fdev 1e-5, devmax 0.999, after 5 λ): the path on all rows
// ends at the λ glmnet's does for every family, the rules turn off, a list of λ is fitted whole, and with folds the CV
// curve ends where every path reached (cv.glmnet's rule) without the grid being extended past it.
// Fixture: tests/fixtures/make_glmnet_stops.R.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { readReportData } from '../../src/report/data.js';
import { openStore } from '../../src/store/open.js';
import { spawnSync } from 'node:child_process';
import { BIN, FIXTURES, readFixture, ROOT, storedTrialSet, tempDir, writeFile } from '../helpers.js';
import { freshPostgresDatabase, postgresTestable } from '../postgres.js';

interface StopReference {
  name: string;
  file: string;
  target: string;
  kind: string;
  alpha: number;
  lambdas: number;
  last_lambda: number;
  dev_ratio: number;
}

const references = readFixture<StopReference[]>('glmnet_stops.json');

let dir: string;
beforeAll(() => {
  dir = tempDir('regsweep-path-stop-');
});

async function trialsOf(yaml: string, name: string) {
  const out = join(dir, `${name}.db`);
  const result = await runSweep(writeFile(dir, `${name}.yaml`, yaml), { out });
  const store = await openStore(out, { mode: 'read' });
  try {
    const sweep = await store.findSweep();
    return { result, trials: await store.trials(sweep.id), summary: await store.summary(sweep.id), report: await readReportData(store, sweep, null) };
  } finally {
    await store.close();
  }
}

const penaltyOf = (alpha: number) => (alpha === 1 ? 'penalty: [l1]' : `penalty: [elasticnet], l1_ratio: [${alpha}]`);

describe("the path on all rows ends where glmnet's does", () => {
  it.each(references)('$name: as many λ as glmnet, the last one marked with its rule and deviance explained', async (ref) => {
    const yaml = `name: ${ref.name}\ndata: {path: ${join(ROOT, ref.file)}, target: ${ref.target}}\nmodel: {kind: ${ref.kind}, tol: 1e-9}\nvalidation: {kind: none}\nsweep: {kind: grid, ${penaltyOf(ref.alpha)}, lambda: {auto: 100, ratio: 1e-4}, extend: 0}\nworkers: 1\n`;
    const { trials } = await trialsOf(yaml, ref.name);
    expect(trials).toHaveLength(ref.lambdas);
    const last = trials.reduce((a, b) => (b.lambda < a.lambda ? b : a));
    expect(Math.abs(last.lambda - ref.last_lambda) / ref.last_lambda).toBeLessThan(1e-12);
    if (ref.lambdas < 100) {
      // 2 (devmax) when glmnet's last fit explains more than 0.999 of the deviance, else 1 (fdev).
      expect(last.metrics.path_stop).toBe(ref.dev_ratio > 0.999 ? 2 : 1);
      expect(Math.abs(last.metrics.dev_ratio - ref.dev_ratio)).toBeLessThan(1e-7);
    } else expect(trials.every((t) => t.metrics.path_stop === undefined)).toBe(true);
  }, 60_000);
});

describe('turning the rules off, and grids that are not automatic', () => {
  it('fdev: 0 and devmax: 1 fit every λ; a list of λ is fitted whole', async () => {
    const poisson = references.find((r) => r.name === 'poisson')!;
    const data = `data: {path: ${join(ROOT, poisson.file)}, target: ${poisson.target}}\nmodel: {kind: poisson}\nvalidation: {kind: none}\n`;
    const off = await trialsOf(`name: off\n${data}sweep: {kind: grid, penalty: [l1], lambda: {auto: 100, ratio: 1e-4, fdev: 0, devmax: 1}, extend: 0}\nworkers: 1\n`, 'off');
    expect(off.trials).toHaveLength(100);
    const lambdas = off.trials.map((t) => t.lambda);
    const list = await trialsOf(`name: list\n${data}sweep: {kind: grid, penalty: [l1], lambda: [${lambdas.join(', ')}], extend: 0}\nworkers: 1\n`, 'list');
    expect(list.trials).toHaveLength(100);
    // Only fdev on: the poisson path ends where glmnet's does (fdev, 61 λ), devmax plays no part there.
    const fdevOnly = await trialsOf(`name: fdev\n${data}sweep: {kind: grid, penalty: [l1], lambda: {auto: 100, ratio: 1e-4, devmax: 1}, extend: 0}\nworkers: 1\n`, 'fdev');
    expect(fdevOnly.trials).toHaveLength(poisson.lambdas);
  }, 60_000);
});

describe('with folds: the CV curve ends where every path reached', () => {
  it('near-separable data: fold paths end by devmax, the curve stops at the largest such λ, no extension, a note says where and why', async () => {
    const lines = (await import('node:fs')).readFileSync(join(FIXTURES, 'separable.csv'), 'utf8').trimEnd().split('\n');
    writeFile(dir, 'separable.csv', [`${lines[0]},fold`, ...lines.slice(1).map((l, i) => `${l},${((i + 1) % 10) + 1}`)].join('\n') + '\n');
    // extend left at its default (2): a best λ at the curve's end must not extend the grid past where paths ended.
    const yaml = 'name: folds\ndata: {path: separable.csv, target: y}\nmodel: {kind: logistic}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 100, ratio: 1e-4}}\nworkers: 2\n';
    const { result, trials, summary, report } = await trialsOf(yaml, 'folds');
    const ends = trials.filter((t) => t.metrics.path_stop !== undefined);
    // Every path ended (each fold and the one on all rows), each at its own last trial.
    expect(new Set(ends.map((t) => t.fold)).size).toBe(11);
    for (const end of ends) expect(Math.min(...trials.filter((t) => t.fold === end.fold).map((t) => t.lambda))).toBe(end.lambda);
    const curveEnd = Math.max(...ends.map((t) => t.lambda));
    const points = summary.filter((p) => p.metric === 'val_loss');
    expect(Math.min(...points.map((p) => p.lambda))).toBe(curveEnd);
    // Points at every λ down to there, each averaged over all ten folds.
    expect(points.every((p) => p.folds === 10)).toBe(true);
    expect(trials.some((t) => t.taskId.includes('/ext='))).toBe(false);
    const note = result.notes.find((n) => n.includes("glmnet's rules"));
    expect(note).toMatch(/^l1: paths ended early by glmnet's rules \(sweep\.lambda fdev, devmax\): the path on all rows at λ \S+ after 95 λ \(deviance explained 0\.999\d+ over devmax\), 10 fold path\(s\) at λ \S+ … \S+; the CV curve ends at λ \S+, the smallest every path reached$/);
    expect(result.notes.some((n) => n.includes('edge'))).toBe(false);
    // The report says it once (the run's note and the one made again from the trials are the same).
    expect(report.notes.filter((n) => n.includes('paths ended early'))).toEqual([note]);
  }, 120_000);
});

const haveServer = postgresTestable();

describe.runIf(haveServer)('paths that end early, on PostgreSQL', () => {
  it('the same trials, coefficients, out-of-fold predictions and curve as in SQLite (fewer trials than planned, by COPY)', async () => {
    const lines = (await import('node:fs')).readFileSync(join(FIXTURES, 'separable.csv'), 'utf8').trimEnd().split('\n');
    writeFile(dir, 'separable-pg.csv', [`${lines[0]},fold`, ...lines.slice(1).map((l, i) => `${l},${((i + 1) % 10) + 1}`)].join('\n') + '\n');
    writeFile(dir, 'pg.yaml', 'name: pg\ndata: {path: separable-pg.csv, target: y}\nmodel: {kind: logistic}\nvalidation: {kind: column, column: fold, keep: true}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 100, ratio: 1e-4}}\nworkers: 2\n');
    const url = await freshPostgresDatabase();
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    for (const args of [['run', 'pg.yaml', '--store', url, '--quiet'], ['run', 'pg.yaml', '--out', 'pg.db', '--quiet']]) {
      const r = cli(args);
      expect(r.status, r.stderr).toBe(0);
    }
    const [fromPg, fromSqlite] = await Promise.all([storedTrialSet(url), storedTrialSet(join(dir, 'pg.db'))]);
    expect(fromPg).toEqual(fromSqlite);
    // 11 paths of 100 λ planned; each ended before its 100th.
    const trials = [...fromPg.keys()].filter((k) => !k.endsWith(':coef'));
    expect(trials.length).toBeLessThan(1100);
    expect(trials.length).toBeGreaterThan(1000);
    const read = async (location: string) => {
      const store = await openStore(location, { mode: 'read' });
      try {
        const sweep = await store.findSweep();
        return { summary: (await store.summary(sweep.id)).sort((a, b) => b.lambda - a.lambda), predictions: await store.predictions(sweep.id), notes: sweep.notes };
      } finally {
        await store.close();
      }
    };
    const [pg, lite] = await Promise.all([read(url), read(join(dir, 'pg.db'))]);
    expect(pg.summary).toEqual(lite.summary);
    // A prediction per validation trial, truncated with its path.
    expect(pg.predictions.length).toBe(trials.filter((k) => !k.endsWith('/all')).length);
    expect(pg.predictions.length).toBe(lite.predictions.length);
    expect(pg.notes.filter((n) => n.includes('paths ended early'))).toHaveLength(1);
  }, 180_000);
});
