// TPE sweeps (sweep.kind tpe) as a user runs them: the seeds' network tuned over λ, learning rate and L1 method, the
// points proposed in batches after a random startup, deterministic for a seed, resumed where they stopped, the same on
// PostgreSQL, and the report's history and importance charts. The sampler itself is tested in tests/unit/tpe.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { runWorker, type WorkerResult } from '../../src/pool/worker.js';
import { withResults } from '../../src/results/open.js';
import { pointLosses, pointNumber } from '../../src/select/points.js';
import { BIN, cliIn, csvRows, PYTHON, ROOT, runTool, startCli, tempDir, writeFile } from '../helpers.js';
import { freshPostgresDatabase, postgresTestable } from '../postgres.js';
import { spawnSync } from 'node:child_process';

const SWEEP = `data:
  synthetic: {kind: regression, n: 240, p: 20, outputs: 5, nonzero: 6, rho: 0, noise_sd: 0.5, seed: 1}
  standardize: false
validation: {kind: kfold, folds: 3, seed: 0}
model: {kind: mlp, hidden: [], optimizer: adam, batch: 32, epochs: 15, seed: 0}
sweep:
  kind: tpe
  points: 14
  startup: 6
  batch: 3
  seed: 4
  penalty: [l1, l2]
  lambda: {log_uniform: [1e-5, 1e-1]}
  model: {lr: {log_uniform: [1e-3, 1e-1]}, l1_method: [subgradient, proximal]}
workers: 2
`;

const dir = tempDir('regsweep-tpe-');
const pointsOf = (db: string) =>
  withResults(db.includes('://') ? db : join(dir, db), undefined, async ({ store, sweep }) => {
    const trials = await store.trials(sweep.id);
    const byPoint = new Map<number, string>();
    for (const t of trials) if (t.fold === 'all') byPoint.set(pointNumber(t.taskId)!, `${t.penalty} ${t.lambda} ${t.settings}`);
    return { trials, sweep, byPoint };
  });

describe('a TPE sweep', () => {
  it('runs its startup at random and the rest in batches proposed from the points finished, each point on every fold', async () => {
    writeFile(dir, 'tpe.yaml', `name: tpe\n${SWEEP}output: tpe.db\n`);
    const result = await runSweep(join(dir, 'tpe.yaml'));
    expect(result.sweep.status).toBe('done');
    const { trials, byPoint } = await pointsOf('tpe.db');
    expect([...byPoint.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, k) => k + 1));
    // Every point fitted on all rows and on each of 3 folds: 14 × 4 trials, the total the sweep planned.
    expect(trials).toHaveLength(56);
    expect(result.sweep.totalTrials).toBe(56);
    const losses = pointLosses(trials);
    expect([...losses.values()].every((l) => l > 0)).toBe(true);
    // The proposals learn: the median loss of the points TPE proposed is below that of the random startup.
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const startup = [...losses].filter(([k]) => k <= 6).map(([, l]) => l);
    const proposed = [...losses].filter(([k]) => k > 6).map(([, l]) => l);
    expect(median(proposed)).toBeLessThan(median(startup));
  }, 120_000);

  it('is deterministic for its seed, and an interrupted sweep resumes to the same points', async () => {
    writeFile(dir, 'again.yaml', `name: tpe\n${SWEEP}output: again.db\n`);
    await runSweep(join(dir, 'again.yaml'));
    expect((await pointsOf('again.db')).byPoint).toEqual((await pointsOf('tpe.db')).byPoint);
    // Stopped once 7 points' trials are in (a batch under way), then run again: the same 14 points.
    writeFile(dir, 'stopped.yaml', `name: tpe\n${SWEEP}output: stopped.db\n`);
    const stop = new AbortController();
    await runSweep(join(dir, 'stopped.yaml'), { signal: stop.signal, onProgress: ({ done }) => done >= 28 && stop.abort() }).catch(() => undefined);
    const partial = await pointsOf('stopped.db');
    expect(partial.byPoint.size).toBeLessThan(14);
    await runSweep(join(dir, 'stopped.yaml'));
    expect((await pointsOf('stopped.db')).byPoint).toEqual((await pointsOf('tpe.db')).byPoint);
    // multivariate: false (Optuna's default sampler) starts from the same random points and proposes others after them.
    writeFile(dir, 'independent.yaml', `name: tpe\n${SWEEP.replace('  batch: 3\n', '  batch: 3\n  multivariate: false\n')}output: independent.db\n`);
    await runSweep(join(dir, 'independent.yaml'));
    const [independent, joint] = [(await pointsOf('independent.db')).byPoint, (await pointsOf('tpe.db')).byPoint];
    for (let k = 1; k <= 6; k++) expect(independent.get(k)).toBe(joint.get(k));
    expect([7, 8, 9].map((k) => independent.get(k))).not.toEqual([7, 8, 9].map((k) => joint.get(k)));
  }, 180_000);

  it.runIf(postgresTestable())('on PostgreSQL, two runs of the sweep at once: one proposal per batch, the same points and trials as in SQLite', async () => {
    const url = await freshPostgresDatabase();
    // Both wait until every point so far has finished and propose from the same trials: the same batch, stored once.
    const runs = [startCli(['run', 'tpe.yaml', '--out', url, '--quiet'], dir), startCli(['run', 'tpe.yaml', '--out', url, '--quiet'], dir)];
    expect(await Promise.all(runs.map((r) => r.exited))).toEqual([0, 0]);
    // Trials by their point and fold, with what they measured (a network's seconds per epoch is a timing, left out).
    const measured = async (location: string) =>
      withResults(location, undefined, async ({ store, sweep }) =>
        new Map(
          (await store.trials(sweep.id)).map((t) => {
            const { seconds_per_epoch: _timing, ...metrics } = t.metrics;
            return [`${t.taskId}`, JSON.stringify([t.lambda, t.settings, t.status, t.trainLoss, t.valLoss, t.nnz, t.epochsRun, metrics])];
          }),
        ),
      );
    const [fromPg, fromSqlite] = await Promise.all([measured(url), measured(join(dir, 'tpe.db'))]);
    expect(fromPg.size).toBe(56);
    expect(fromPg).toEqual(fromSqlite);
  }, 120_000);

  it('the report draws the optimization history and the parameter importances, and says how they are made', () => {
    const r = spawnSync(process.execPath, [BIN, 'report', 'tpe.db', '--out', 'tpe-report'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(join(dir, 'tpe-report'));
    expect(files).toEqual(expect.arrayContaining(['history.svg', 'importance.svg']));
    const html = readFileSync(join(dir, 'tpe-report', 'report.html'), 'utf8');
    expect(html).toMatch(/Optimization history: validation loss by point/);
    expect(html).toMatch(/the first 6 drawn at random, the rest by TPE from those finished before, the parameters seen together drawn jointly\), and the best so far: \S+, first reached at point \d+ of 14/);
    expect(html).toMatch(/the correlation ratio η², a simpler stand-in for Optuna(&#39;|'|&#x27;)s fANOVA\)\. Most important here: (lr|λ|l1_method|penalty)/);
    const svg = readFileSync(join(dir, 'tpe-report', 'importance.svg'), 'utf8');
    for (const parameter of ['lr', 'penalty', 'λ']) expect(svg).toContain(`>${parameter}<`);
  });

  it.runIf(postgresTestable())('on PostgreSQL, a run and a worker share the batches, and the sweep is summarized only once its last point is in', async () => {
    writeFile(dir, 'shared.yaml', `name: shared\n${SWEEP.replace('epochs: 15', 'epochs: 60').replace('points: 14', 'points: 20')}`);
    await runSweep(join(dir, 'shared.yaml'), { out: join(dir, 'shared.db') });
    const url = await freshPostgresDatabase();
    // Either proposes the next batch when it finds the last one finished (the same batch, stored once).
    // The worker (in this process, so that it joins at once) starts when the run has made the sweep.
    let worker: Promise<WorkerResult> | undefined;
    await runSweep(join(dir, 'shared.yaml'), { out: url, workers: 1, onStart: () => void (worker = runWorker(url, { sweep: { name: 'shared' }, workers: 1 })) });
    const joined = await worker!;
    expect(joined.results).toHaveLength(1);
    expect(joined.results[0].tasksRun).toBeGreaterThan(0);
    const [pg, sqlite] = await Promise.all([url, join(dir, 'shared.db')].map((at) => withResults(at, undefined, async ({ store, sweep }) => ({ sweep, trials: await store.trials(sweep.id), selections: await store.selections(sweep.id) }))));
    expect(pg.trials).toHaveLength(80);
    expect(pg.sweep.status).toBe('done');
    const byPoint = (trials: typeof pg.trials) => new Map(trials.filter((t) => t.fold === 'all').map((t) => [pointNumber(t.taskId), `${t.penalty} ${t.lambda} ${t.settings}`]));
    expect(byPoint(pg.trials)).toEqual(byPoint(sqlite.trials));
    const chosen = (selections: typeof pg.selections) => selections.map((x) => JSON.stringify([x.penalty, x.settings, x.metric, x.lambdaMin, x.meanMin])).sort();
    expect(chosen(pg.selections)).toEqual(chosen(sqlite.selections));
    // A worker told to wait for this sweep when it is already complete has nothing to wait for (it waited forever).
    const late = startCli(['worker', url, '--sweep', 'shared', '--wait'], dir);
    expect(await late.exited).toBe(0);
    expect(late.output()).toMatch(/no task left to run in that sweep/);
  }, 120_000);

  it.runIf(postgresTestable())('on PostgreSQL, a worker alone goes on with a sweep whose run stopped during its startup: it proposes the rest', async () => {
    // Before, such a worker ran what was queued and then summarized the sweep as done, with the points of the startup only.
    const url = await freshPostgresDatabase();
    const stop = new AbortController();
    await runSweep(join(dir, 'tpe.yaml'), { out: url, signal: stop.signal, onProgress: ({ done }) => done >= 12 && stop.abort() }).catch(() => undefined);
    const partial = await withResults(url, undefined, async ({ store, sweep }) => ({ sweep, trials: await store.trials(sweep.id) }));
    expect(partial.sweep.status).not.toBe('done');
    expect(new Set(partial.trials.map((t) => pointNumber(t.taskId))).size).toBeLessThan(14);
    const worker = startCli(['worker', url, '--workers', '1', '--quiet'], dir);
    expect(await worker.exited).toBe(0);
    const after = await pointsOf(url);
    expect(after.sweep.status).toBe('done');
    expect(after.trials).toHaveLength(56);
    expect(after.byPoint).toEqual((await pointsOf('tpe.db')).byPoint);
  }, 120_000);

  it.runIf(postgresTestable())('a logistic TPE sweep on a CSV: query, export, predict and the scikit-learn script give the same answers from SQLite and PostgreSQL', async () => {
    const { ok } = cliIn(() => dir);
    writeFile(dir, 'bc.yaml', `name: bc-tpe\ndata: {path: ${join(ROOT, 'data', 'breast_cancer.csv')}, target: diagnosis}\nvalidation: {kind: kfold, folds: 5, seed: 0}\nmodel: {kind: logistic}\nsweep:\n  kind: tpe\n  points: 24\n  seed: 1\n  penalty: [l1, elasticnet]\n  lambda: {log_uniform: [1e-4, 1]}\nworkers: 2\n`);
    const url = await freshPostgresDatabase();
    ok(['run', 'bc.yaml', '--out', 'bc.db', '--quiet']);
    ok(['run', 'bc.yaml', '--out', url, '--quiet']);
    const answers = (at: string) => {
      const best = JSON.parse(ok(['query', at, '--best', '--json']).stdout) as { best: { penalty: string; lambda_min: number; mean_min: number }[] };
      const card = JSON.parse(ok(['export', at, '--model', '--format', 'json']).stdout) as { penalty: string; lambda: number; coefficients: Record<string, number> };
      const predictions = ok(['predict', at, '--data', join(ROOT, 'data', 'breast_cancer.csv')]).stdout;
      return { best: best.best, card: [card.penalty, card.lambda, card.coefficients], predictions };
    };
    const [sqlite, pg] = [answers('bc.db'), answers(url)];
    expect(pg).toEqual(sqlite);
    // The choice is the point of least cross-validated loss among the 24 (each point its own λ).
    expect(sqlite.best).toHaveLength(2);
    const chosen = sqlite.best.reduce((a, b) => (b.mean_min < a.mean_min ? b : a));
    expect(sqlite.card[0]).toBe(chosen.penalty);
    expect(sqlite.card[1]).toBe(chosen.lambda_min);
    const rows = csvRows(sqlite.predictions);
    expect(rows).toHaveLength(569);
    expect(new Set(rows.map((r) => r.label))).toEqual(new Set(['benign', 'malignant']));
    // Each trial carries its point's number (Optuna's trial number): 24 points, each on all rows and 5 folds.
    const exported = csvRows(ok(['export', 'bc.db', '--table', 'trials']).stdout);
    expect(exported).toHaveLength(24 * 6);
    expect(new Set(exported.map((r) => Number(r.point)))).toEqual(new Set(Array.from({ length: 24 }, (_, k) => k + 1)));
    for (const r of exported) expect(r.task_id.endsWith(`/point=${r.point}`)).toBe(true);
    // The exported scikit-learn script refits at the chosen point and predicts the same labels.
    ok(['export', 'bc.db', '--model', '--format', 'sklearn', '--out', 'bc.py']);
    const theirs = csvRows(runTool(PYTHON, ['bc.py', join(ROOT, 'data', 'breast_cancer.csv')], dir));
    expect(theirs.map((r) => r.label)).toEqual(rows.map((r) => r.label));
  }, 180_000);

  it('refuses a TPE sweep without validation: one line naming the key, exit 2', () => {
    writeFile(dir, 'none.yaml', `name: none\n${SWEEP.replace('validation: {kind: kfold, folds: 3, seed: 0}', 'validation: {kind: none}')}`);
    const r = spawnSync(process.execPath, [BIN, 'run', 'none.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^regsweep: none\.yaml:\d+: sweep\.kind: tpe learns from validation losses; validation kind none holds out no rows \(use kfold or holdout\)$/);
  });
});
