// cv.glmnet's ways of measuring (type.measure): the curves of deviance, mse, mae, class and auc from the same trials
// as the loss, each equal to cv.glmnet's cvm and cvsd with the same folds, and the λ_min / λ_1se it picks by them —
// for binomial, multinomial, gaussian and poisson fits (tests/fixtures/make_glmnet_measures.R).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { bestTrials } from '../../src/results/best.js';
import { exportRows } from '../../src/results/export.js';
import { withResults } from '../../src/results/open.js';
import { METRICS, summarize } from '../../src/select/cv.js';
import { BIN, PYTHON, ROOT, readFixture, runTool, tempDir, writeFile } from '../helpers.js';

interface Measured {
  cvm: number[];
  cvsd: number[];
  lambda_min: number;
  lambda_1se: number;
}
type Case = { file: string; target: string; lambda: number[]; df: number[]; preval: number[] } & Record<string, Measured>;
const reference = readFixture<Record<string, Case>>('glmnet_measures.json');
const MEASURES = ['deviance', 'mse', 'mae', 'class', 'auc'];
const KIND: Record<string, string> = { binomial: 'logistic', multinomial: 'logistic', gaussian: 'linear', poisson: 'poisson' };

describe("cv.glmnet's type.measure from the same trials", () => {
  const dir = tempDir('regsweep-measures-');
  beforeAll(async () => {
    for (const [name, c] of Object.entries(reference)) {
      const lines = readFileSync(join(ROOT, c.file), 'utf8').trimEnd().split('\n');
      writeFile(dir, `${name}.csv`, [`${lines[0]},fold`, ...lines.slice(1).map((l, i) => `${l},${(i % 5) + 1}`)].join('\n') + '\n');
      // Classifiers clip probabilities at 1e-5 before the deviance, as cv.glmnet; the other measures do not clip.
      const clip = KIND[name] === 'logistic' ? ', clip_probabilities: 1e-5' : '';
      writeFile(
        dir,
        `${name}.yaml`,
        `name: ${name}\ndata: {path: ${name}.csv, target: ${c.target}}\nmodel: {kind: ${KIND[name]}, tol: 1e-12${clip}}\nvalidation: {kind: column, column: fold, keep: true}\nsweep: {kind: grid, penalty: [l1], lambda: [${c.lambda.join(', ')}], extend: 0}\nworkers: 2\noutput: ${name}.db\n`,
      );
      await runSweep(join(dir, `${name}.yaml`));
    }
  }, 180_000);

  for (const name of ['binomial', 'multinomial', 'gaussian', 'poisson'])
    it(`${name}: every measure's cvm and cvsd to 1e-6, and the same λ_min and λ_1se`, async () => {
      const c = reference[name];
      const measures = MEASURES.filter((m) => c[m]);
      expect(measures.length).toBeGreaterThanOrEqual(2);
      const trials = await withResults(join(dir, `${name}.db`), undefined, ({ store, sweep }) => store.trials(sweep.id));
      for (const m of measures) {
        const curve = summarize(trials, METRICS[m]).sort((a, b) => b.lambda - a.lambda);
        expect(curve.length, m).toBe(c.lambda.length);
        curve.forEach((point, l) => {
          expect(Math.abs(point.lambda - c.lambda[l]) / c.lambda[l]).toBeLessThan(1e-12);
          // class counts rows on the wrong side of 1/2: equal to the row, so to the round-off of a mean.
          expect(Math.abs(point.mean - c[m].cvm[l]), `${m} at λ ${c.lambda[l]}: ${point.mean} vs ${c[m].cvm[l]}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(c[m].cvm[l])));
          expect(Math.abs(point.se - c[m].cvsd[l]), `${m} se at λ ${c.lambda[l]}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(c[m].cvsd[l])));
        });
        const best = await bestTrials(join(dir, `${name}.db`), { metric: m });
        expect(best.selections).toHaveLength(1);
        expect(best.selections[0].lambdaMin, `${m} λ_min`).toBeCloseTo(c[m].lambda_min, 12);
        expect(best.selections[0].lambda1se, `${m} λ_1se`).toBeCloseTo(c[m].lambda_1se, 12);
      }
    });

  it("variables in the model counted as glmnet's df (multinomial: a feature nonzero in any class), and nothing at λ_max", async () => {
    for (const name of ['binomial', 'multinomial', 'gaussian', 'poisson']) {
      const c = reference[name];
      const trials = await withResults(join(dir, `${name}.db`), undefined, ({ store, sweep }) => store.trials(sweep.id, { fold: 'all' }));
      const fits = trials.sort((a, b) => b.lambda - a.lambda);
      expect(fits).toHaveLength(c.lambda.length);
      // At λ_max no coefficient is left over from round-off (a 1e-18 once counted as a nonzero).
      expect(fits[0].nnz, `${name} at λ_max`).toBe(0);
      const variables = fits.map((t) => t.metrics.nonzero_features ?? t.nnz);
      expect(variables, name).toEqual(c.df);
      if (name === 'multinomial') {
        expect(fits.every((t) => t.metrics.nonzero_features !== undefined)).toBe(true);
        // Coefficients outnumber features once some feature is in two classes' models.
        expect(fits.some((t) => t.nnz > t.metrics.nonzero_features!)).toBe(true);
      }
    }
    const table = spawnSync(process.execPath, [BIN, 'query', 'multinomial.db'], { cwd: dir, encoding: 'utf8' });
    expect(table.stdout.split('\n')[1]).toMatch(/^penalty\s+l1_ratio\s+lambda_min\s+val_loss\s+nnz\s+features\s+lambda_1se\s+nnz_1se\s+features_1se/);
  });

  it("keep: true stores the out-of-fold predictions, equal to cv.glmnet's fit.preval (export --table predictions)", async () => {
    for (const name of ['binomial', 'multinomial', 'gaussian', 'poisson']) {
      const c = reference[name];
      const rows = await exportRows(join(dir, `${name}.db`), { table: 'predictions' });
      const n = readFileSync(join(dir, `${name}.csv`), 'utf8').trimEnd().split('\n').length - 1;
      // Every data row once per λ (each row is in one validation fold).
      expect(rows, name).toHaveLength(n * c.lambda.length);
      const classes = name === 'multinomial' ? Object.keys(rows[0]).filter((k) => k.startsWith('probability:')) : [];
      const K = Math.max(1, classes.length);
      let worst = 0;
      [0, 5, 10].forEach((l, slot) => {
        const at = rows.filter((r) => Math.abs((r.lambda as number) - c.lambda[l]) <= 1e-12 * c.lambda[l]).sort((a, b) => (a.row as number) - (b.row as number));
        expect(at.map((r) => r.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        for (let i = 0; i < n; i++) {
          const glmnet = c.preval.slice((slot * n + i) * K, (slot * n + i + 1) * K);
          if (name === 'multinomial') {
            // Softmax probabilities: glmnet's class intercepts are fixed only up to a common shift.
            const top = Math.max(...glmnet);
            const sum = glmnet.reduce((s, v) => s + Math.exp(v - top), 0);
            classes.forEach((k, q) => expect(Math.abs((at[i][k] as number) - Math.exp(glmnet[q] - top) / sum), `${name} row ${i + 1} λ ${l}`).toBeLessThan(1e-6));
          } else {
            worst = Math.max(worst, Math.abs((at[i].link as number) - glmnet[0]) / Math.max(1, Math.abs(glmnet[0])));
          }
        }
      });
      // Two solvers' out-of-fold fits: glmnet's binomial stops its outer loop on the deviance, and near separation
      // (λ number 11 of the breast cancer lasso) the linear predictors agree to 5e-6 relative; the others to 1e-7.
      expect(worst, name).toBeLessThan(1e-5);
      if (name === 'binomial') expect(new Set(rows.map((r) => r.observed))).toEqual(new Set(['benign', 'malignant']));
    }
    // Without keep there are none, and the message says what to add.
    const plain = join(dir, 'plain.yaml');
    writeFile(dir, 'plain.yaml', `name: plain\ndata: {path: gaussian.csv, target: progression}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}, extend: 0}\nworkers: 1\noutput: plain.db\n`);
    await runSweep(plain);
    await expect(exportRows(join(dir, 'plain.db'), { table: 'predictions' })).rejects.toThrow('--table predictions: sweep "plain" was run without validation.keep: true');
  });

  it("the sweep keeps each feature's population sd (numpy's std), which the charts and near-zero counts use", async () => {
    const sweep = await withResults(join(dir, 'gaussian.db'), undefined, async ({ sweep }) => sweep);
    const numpy = JSON.parse(
      runTool(PYTHON, ['-c', `import json, numpy as np; d = np.genfromtxt('${join(dir, 'gaussian.csv')}', delimiter=',', names=True); print(json.dumps([float(np.std(d[c])) for c in d.dtype.names if c not in ('progression', 'fold')]))`], dir),
    ) as number[];
    expect(sweep.featureNames).toHaveLength(numpy.length);
    sweep.featureScales!.forEach((s, j) => expect(Math.abs(s - numpy[j]) / numpy[j], sweep.featureNames[j]).toBeLessThan(1e-12));
  });

  it('refused in one line naming the key, nothing written: keep for a network, a deviance axis without a null fit', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
    writeFile(dir, 'net-keep.yaml', 'name: net-keep\ndata: {synthetic: {kind: regression, n: 60, p: 4}}\nvalidation: {kind: kfold, folds: 3, keep: true}\nmodel: {kind: mlp, epochs: 2}\nsweep: {kind: grid, penalty: [l2], lambda: [0.1], extend: 0}\noutput: net-keep.db\n');
    const refused = run(['run', 'net-keep.yaml']);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^regsweep: net-keep\.yaml:3: validation\.keep: stores the out-of-fold predictions of penalized linear paths \(cv\.glmnet's keep\); model\.kind mlp keeps none — remove it$/);
    expect(existsSync(join(dir, 'net-keep.db'))).toBe(false);
    // A ridge-only sweep has no fit with every coefficient zero to measure deviance explained from.
    writeFile(dir, 'ridge.yaml', 'name: ridge\ndata: {synthetic: {kind: regression, n: 60, p: 4}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l2], lambda: {auto: 5}, extend: 0}\noutput: ridge.db\n');
    expect(run(['run', 'ridge.yaml', '--quiet']).status).toBe(0);
    const before = readFileSync(join(dir, 'ridge.db'));
    const axis = run(['report', 'ridge.db', '--path-x', 'deviance', '--no-png', '--out', 'ridge-report']);
    expect(axis.status).toBe(2);
    expect(axis.stderr.trim()).toBe('regsweep: --path-x deviance: no fit on all rows has every coefficient zero (the null model the deviance is measured from); the grid must reach λ_max of an l1 or elasticnet path');
    expect(existsSync(join(dir, 'ridge-report'))).toBe(false);
    expect(readFileSync(join(dir, 'ridge.db')).equals(before)).toBe(true);
  });

  it('the command line takes --metric (alias --type-measure) in query, report and predict, and names what it does not know', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
    const query = run(['query', 'binomial.db', '--best', '--type-measure', 'auc', '--json']);
    expect(query.status, query.stderr).toBe(0);
    const best = JSON.parse(query.stdout) as { metric: string; best: { lambda_min: number; lambda_1se: number }[] };
    expect(best.metric).toBe('auc');
    expect(best.best[0].lambda_min).toBeCloseTo(reference.binomial.auc.lambda_min, 12);
    const report = run(['report', 'binomial.db', '--metric', 'class', '--no-png', '--out', 'class-report']);
    expect(report.status, report.stderr).toBe(0);
    const html = readFileSync(join(dir, 'class-report', 'report.html'), 'utf8');
    expect(html).toContain('Best λ per penalty by misclassification error');
    expect(html).toContain('Under- vs overfitting: misclassification error vs λ');
    // predict picks the model at λ_1se by the measure asked for: the model card says which λ.
    const card = run(['export', 'binomial.db', '--model', '--metric', 'class', '--select', 'min']);
    expect(card.status, card.stderr).toBe(0);
    expect((JSON.parse(card.stdout) as { lambda: number }).lambda).toBeCloseTo(reference.binomial.class.lambda_min, 12);
    const unknown = run(['query', 'binomial.db', '--best', '--metric', 'rmse']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim()).toBe('regsweep: --metric: unknown metric "rmse" (metrics: val_loss, deviance, mse, mae, class, accuracy, auc, deviance_ungrouped, C)');
  });
});
