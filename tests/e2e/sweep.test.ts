import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { runSweep } from '../../src/pool/coordinator.js';
import { bestTrials, runSql } from '../../src/results/best.js';
import { exportRows } from '../../src/results/export.js';
import { FIXTURES, readFixture, relativeError, tempDir, writeFile, type ReferenceFit } from '../helpers.js';

const lasso = readFixture<ReferenceFit[]>('glmnet_gaussian.json').find((f) => f.name === 'diabetes-lasso')!;

function diabetesConfig(dir: string, extra = ''): string {
  return writeFile(
    dir,
    'diabetes.yaml',
    `name: diabetes-lasso
data: {path: ${join(FIXTURES, 'diabetes.csv')}, target: progression, standardize: true}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: linear, tol: 1e-7}
sweep:
  kind: grid
  penalty: [l1, l2, elasticnet]
  lambda: [${lasso.lambda.join(', ')}]
  l1_ratio: [0.5]
workers: 2
output: results.db
${extra}`,
  );
}

function tableCounts(db: string) {
  const conn = new Database(db, { readonly: true });
  try {
    return Object.fromEntries(
      ['sweeps', 'tasks', 'trials', 'coefficients', 'summary', 'selections'].map((t) => [t, (conn.prepare(`SELECT count(*) c FROM ${t}`).get() as { c: number }).c]),
    );
  } finally {
    conn.close();
  }
}

describe('a sweep end to end on a real CSV', () => {
  const dir = tempDir();
  const config = diabetesConfig(dir);
  const db = join(dir, 'results.db');

  it('runs every trial, stores them and the CV summary', async () => {
    const result = await runSweep(config);
    expect(result.trials).toBe(3 * 20 * 6);
    expect(result.tasksRun).toBe(18);
    const counts = tableCounts(db);
    expect(counts).toMatchObject({ sweeps: 1, tasks: 18, trials: 360, coefficients: 360, summary: 60, selections: 3 });
    const mode = new Database(db, { readonly: true }).pragma('journal_mode', { simple: true });
    expect(mode).toBe('wal');
  });

  it('exports fold-all coefficients that match glmnet (standardize = TRUE) to 1e-6', async () => {
    const rows = (await exportRows(db, { table: 'coefficients', fold: 'all' })).filter((r) => r.penalty === 'l1');
    expect(Object.keys(rows[0])).toEqual(['sweep', 'penalty', 'lambda', 'l1_ratio', 'fold', 'intercept', 'age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']);
    expect(rows).toHaveLength(20);
    rows.forEach((row, l) => {
      expect(row.lambda).toBe(lasso.lambda[l]);
      const coefs = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'].map((c) => row[c] as number);
      expect(relativeError(coefs, lasso.coef[l])).toBeLessThan(1e-6);
      expect(Math.abs((row.intercept as number) - lasso.intercept[l]) / lasso.intercept[l]).toBeLessThan(1e-6);
    });
  });

  it('validation losses are the held-out MSE, training losses too, and train < validation at small λ', async () => {
    const trials = await exportRows(db, { table: 'trials' });
    const l1Small = trials.filter((t) => t.penalty === 'l1' && t.lambda === lasso.lambda[19] && t.fold !== 'all');
    expect(l1Small).toHaveLength(5);
    for (const t of l1Small) {
      expect(t.n_train as number).toBeGreaterThan(350);
      expect((t.n_val as number) + (t.n_train as number)).toBe(442);
    }
    const mean = (xs: unknown[]) => xs.reduce((a: number, b) => a + (b as number), 0) / xs.length;
    expect(mean(l1Small.map((t) => t.train_loss))).toBeLessThan(mean(l1Small.map((t) => t.val_loss)));
    // At λ_max the lasso is the intercept alone: its training MSE is the variance of y on the training rows.
    const all = trials.find((t) => t.penalty === 'l1' && t.lambda === lasso.lambda[0] && t.fold === 'all')!;
    expect(all.nnz).toBe(0);
    const y = readFileSync(join(FIXTURES, 'diabetes.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',').at(-1)));
    const ybar = y.reduce((a, b) => a + b, 0) / y.length;
    expect(all.train_loss as number).toBeCloseTo(y.reduce((s, v) => s + (v - ybar) ** 2, 0) / y.length, 8);
  });

  it('query --best gives λ_min and λ_1se per penalty with λ_1se ≥ λ_min', async () => {
    const best = await bestTrials(db);
    expect(best.selections.map((s) => s.penalty).sort()).toEqual(['elasticnet', 'l1', 'l2']);
    for (const s of best.selections) expect(s.lambda1se).toBeGreaterThanOrEqual(s.lambdaMin);
  });

  it('a second run finds everything done and changes nothing', async () => {
    const before = tableCounts(db);
    const again = await runSweep(config);
    expect(again.tasksRun).toBe(0);
    expect(again.tasksSkipped).toBe(18);
    expect(tableCounts(db)).toEqual(before);
  });

  it('a changed config is refused, the database as it was; --new starts a second sweep', async () => {
    const before = tableCounts(db);
    const changed = diabetesConfig(dir, 'near_zero: 0.01');
    await expect(runSweep(changed)).rejects.toThrow(/already holds sweep "diabetes-lasso" made from a different config; rerun with --new/);
    expect(tableCounts(db)).toEqual(before);
    const fresh = await runSweep(changed, { fresh: true });
    expect(fresh.sweep.id).toBe(2);
    expect(tableCounts(db).sweeps).toBe(2);
  });

  it('a write through --sql is refused and the database is unchanged', async () => {
    const before = tableCounts(db);
    await expect(runSql(db, 'DELETE FROM trials')).rejects.toThrow(UserError);
    await expect(runSql(db, 'DROP TABLE trials')).rejects.toThrow(/only statements that read/);
    expect(tableCounts(db)).toEqual(before);
    expect(await runSql(db, 'SELECT count(*) AS n FROM trials WHERE sweep_id = 1')).toEqual([{ n: 360 }]);
  });
});

describe('bad input leaves no database behind', () => {
  it('a CSV error stops before the database is created', async () => {
    const dir = tempDir();
    const csv = writeFile(dir, 'bad.csv', 'a,b,y\n1,2,3\n4,oops,6\n');
    const config = writeFile(dir, 'c.yaml', `name: bad\ndata: {path: bad.csv}\nsweep: {kind: grid, lambda: [1, 0.1]}\noutput: out.db\n`);
    await expect(runSweep(config)).rejects.toThrow(`${csv.replace(process.cwd() + '/', '')}:3:2: column "b": "oops" is not a number`);
    expect(existsSync(join(dir, 'out.db'))).toBe(false);
  });
});

describe('a logistic sweep end to end (naive mode in the workers)', () => {
  const dir = tempDir();
  const lassoLogit = readFixture<ReferenceFit[]>('glmnet_binomial.json').find((f) => f.name === 'breast-cancer-lasso')!;
  const config = writeFile(
    dir,
    'cancer.yaml',
    `name: cancer
data: {path: ${join(FIXTURES, 'breast_cancer.csv')}, target: diagnosis, standardize: true}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: logistic, tol: 1e-7}
sweep: {kind: grid, penalty: [l1], lambda: [${lassoLogit.lambda.join(', ')}]}
workers: 2
output: cancer.db
`,
  );
  const db = join(dir, 'cancer.db');

  it('stores fold-all coefficients equal to glmnet binomial to 1e-5, and the null log-loss at λ_max', async () => {
    const result = await runSweep(config);
    expect(result.trials).toBe(lassoLogit.lambda.length * 6);
    const rows = await exportRows(db, { table: 'coefficients', fold: 'all' });
    expect(rows).toHaveLength(lassoLogit.lambda.length);
    const names = Object.keys(rows[0]).slice(6);
    expect(names).toHaveLength(30);
    rows.forEach((row, l) => {
      expect(relativeError(names.map((c) => row[c] as number), lassoLogit.coef[l])).toBeLessThan(1e-5);
      expect(Math.abs((row.intercept as number) - lassoLogit.intercept[l]) / Math.max(1, Math.abs(lassoLogit.intercept[l]))).toBeLessThan(1e-5);
    });
    const trials = await exportRows(db, { table: 'trials' });
    expect(trials.every((t) => t.status === 'ok')).toBe(true);
    const labels = readFileSync(join(FIXTURES, 'breast_cancer.csv'), 'utf8').trim().split('\n').slice(1).map((line) => (line.endsWith('malignant') ? 1 : 0));
    const rate = labels.reduce((a: number, b) => a + b, 0) / labels.length;
    const nullLoss = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
    const first = trials.find((t) => t.fold === 'all' && t.lambda === lassoLogit.lambda[0])!;
    expect(first.train_loss as number).toBeCloseTo(nullLoss, 6);
    // Held-out folds: accuracy and AUC recorded, and a fitted model beats chance on its validation rows.
    const held = trials.filter((t) => t.fold !== 'all' && t.lambda === lassoLogit.lambda.at(-1));
    expect(held).toHaveLength(5);
    for (const t of held) {
      expect(t.val_auc as number).toBeGreaterThan(0.9);
      expect(t.val_accuracy as number).toBeGreaterThan(0.85);
    }
  });
});

describe('a network sweep end to end (the seeds case, small)', () => {
  const dir = tempDir();
  const config = writeFile(
    dir,
    'net.yaml',
    `name: net
data:
  synthetic: {kind: regression, n: 3000, p: 50, outputs: 20, nonzero: 10, rho: 0, noise_sd: 0.5, seed: 0}
  standardize: false
validation: {kind: holdout, fraction: 0.2, shuffle: false}
model: {kind: mlp, hidden: [], optimizer: adam, lr: 2e-2, batch: 64, epochs: 8, seed: 0, l2_method: coupled, l1_method: proximal}
sweep: {kind: grid, penalty: [none, l1], lambda: [1e-2, 1e-4]}
workers: 2
output: net.db
`,
  );
  const db = join(dir, 'net.db');

  it('stores learning curves and coefficients, and proximal L1 zeroes weights that no penalty leaves', async () => {
    const result = await runSweep(config);
    const trials = (await exportRows(db, { table: 'trials' })).filter((t) => t.fold !== 'all');
    expect(trials.length).toBeGreaterThanOrEqual(3);
    // Held-out MSE near the noise variance (0.25), far below the variance of the targets (about 11).
    expect(trials.every((t) => t.status === 'ok' && (t.val_loss as number) < 1)).toBe(true);
    expect(result.trials).toBeGreaterThanOrEqual(trials.length);
    const curves = (await runSql(db, 'SELECT count(*) AS c, max(epoch) AS last FROM epochs'))[0] as { c: number; last: number };
    expect(curves.last).toBe(8);
    expect(curves.c).toBe(8 * result.trials);
    const coefs = await exportRows(db, { table: 'coefficients' });
    const zeroFraction = (row: Record<string, unknown>) => {
      const values = Object.entries(row).filter(([k]) => k.includes('x')).map(([, v]) => v as number);
      return values.filter((v) => v === 0).length / values.length;
    };
    const strongL1 = coefs.find((r) => r.penalty === 'l1' && r.lambda === 0.01)!;
    const none = coefs.find((r) => r.penalty === 'none')!;
    expect(zeroFraction(strongL1)).toBeGreaterThan(0.1);
    expect(zeroFraction(none)).toBe(0);
  });
});

describe('a network sweep with early stopping', () => {
  const dir = tempDir();
  // 200 training rows for 1 000 weights: validation loss turns up, so trials stop early on the validation folds.
  const config = writeFile(
    dir,
    'early.yaml',
    `name: early
data:
  synthetic: {kind: regression, n: 250, p: 50, outputs: 20, nonzero: 10, rho: 0, noise_sd: 0.5, seed: 0}
  standardize: false
validation: {kind: holdout, fraction: 0.2, shuffle: false}
model: {kind: mlp, hidden: [], optimizer: adam, lr: 1e-2, batch: 16, epochs: 150, seed: 0, early_stopping: {patience: 4}}
sweep: {kind: grid, penalty: [none, l2], lambda: [1e-4], extend: 0}
workers: 1
output: early.db
`,
  );

  it('stores the epoch kept (best_epoch) and only the epochs trained; the fit on all rows trains every epoch', async () => {
    await runSweep(config);
    const db = join(dir, 'early.db');
    const trials = await exportRows(db, { table: 'trials' });
    const held = trials.filter((t) => t.fold !== 'all');
    expect(held.length).toBe(2);
    for (const t of held) {
      expect(t.epochs_run as number).toBeLessThan(150);
      expect(t.epochs_run).toBe((t.best_epoch as number) + 4);
      const curve = (await runSql(db, `SELECT epoch, val_loss FROM epochs WHERE trial_id = ${t.trial_id} ORDER BY epoch`)) as { epoch: number; val_loss: number }[];
      expect(curve).toHaveLength(t.epochs_run as number);
      const best = curve.reduce((a, b) => (b.val_loss < a.val_loss ? b : a));
      expect(best.epoch).toBe(t.best_epoch);
      expect(t.val_loss).toBe(best.val_loss);
    }
    for (const t of trials.filter((t) => t.fold === 'all')) expect(t.epochs_run).toBe(150);
  });
});

/** Every trial with its coefficients, as stored, in a fixed order: two databases that should agree bit for bit. */
function storedFits(db: string) {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT t.penalty, t.l1_ratio, t.lambda, t.fold, t.train_loss, t.val_loss, t.nnz, c.coef, c.intercept FROM trials t JOIN coefficients c ON c.trial_id = t.id ORDER BY t.penalty, t.l1_ratio, t.fold, t.lambda').all();
  } finally {
    conn.close();
  }
}

describe('a tiny sweep fits on the main thread', () => {
  // Starting worker threads takes longer than a few small fits (plan/schedule.fitsInline); the results must not depend
  // on where they were computed.
  const dir = tempDir();
  const config = (kind: 'linear' | 'logistic') =>
    writeFile(
      dir,
      `${kind}.yaml`,
      `name: tiny-${kind}
data: {path: ${join(FIXTURES, kind === 'linear' ? 'diabetes.csv' : 'breast_cancer.csv')}${kind === 'linear' ? ', target: progression' : ''}, standardize: true}
validation: {kind: kfold, folds: 3, seed: 1}
model: {kind: ${kind}}
sweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.5], lambda: {auto: 6}, extend: 0}
workers: 2
`,
    );
  it.each(['linear', 'logistic'] as const)('%s: the same trials and coefficients, bit for bit, as on worker threads', async (kind) => {
    const here = await runSweep(config(kind), { out: join(dir, `${kind}-inline.db`), inline: true });
    const threads = await runSweep(config(kind), { out: join(dir, `${kind}-threads.db`), inline: false });
    expect(here.counts.total).toBeGreaterThan(0);
    const a = storedFits(join(dir, `${kind}-inline.db`));
    expect(a.length).toBe(here.counts.total);
    expect(a).toEqual(storedFits(join(dir, `${kind}-threads.db`)));
  });
});

describe('a sweep on a Parquet file', () => {
  // tests/fixtures/breast_cancer_plain.parquet holds data/breast_cancer.csv's columns, written by DuckDB.
  const dir = tempDir();
  const config = (file: string, out: string) =>
    writeFile(
      dir,
      `${out}.yaml`,
      `name: from-file
data: {path: ${file}, target: diagnosis, standardize: true}
validation: {kind: kfold, folds: 3, seed: 2}
model: {kind: logistic}
sweep: {kind: grid, penalty: [l1], lambda: {auto: 8}, extend: 0}
output: ${out}.db
`,
    );
  it('gives the trials and coefficients of the same sweep on the CSV, bit for bit', async () => {
    const parquet = await runSweep(config(join(FIXTURES, 'breast_cancer_plain.parquet'), 'parquet'));
    await runSweep(config(join(FIXTURES, '..', '..', 'data', 'breast_cancer.csv'), 'csv'));
    expect(parquet.counts.total).toBe(4 * 8);
    expect(storedFits(join(dir, 'parquet.db'))).toEqual(storedFits(join(dir, 'csv.db')));
  });

  it('predict reads Parquet and Arrow files too: the same predictions as from the CSV', async () => {
    const { predict } = await import('../../src/model/predict.js');
    const predictions = async (data: string) => {
      let text = '';
      const r = await predict(join(dir, 'csv.db'), { data, keep: ['mean_radius'], output: (t: string) => void (text += t) });
      return { text, rows: r.rows };
    };
    const fromCsv = await predictions(join(FIXTURES, '..', '..', 'data', 'breast_cancer.csv'));
    expect(fromCsv.rows).toBe(569);
    expect(await predictions(join(FIXTURES, 'breast_cancer_plain.parquet'))).toEqual(fromCsv);
    // The Arrow fixture has three more columns (ignored) and the same 30 features.
    expect(await predictions(join(FIXTURES, 'breast_cancer.arrow'))).toEqual(fromCsv);
  });
});
