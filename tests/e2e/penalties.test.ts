// Per-feature penalty factors and coefficient bounds (issue 31: model.penalty_factor, model.limits, model.nonnegative)
// against R glmnet's penalty.factor, lower.limits and upper.limits on real data (tests/fixtures/make_glmnet_penalties.R),
// and observation weights (data.weights) against glmnet's weights and cv.glmnet's weighted curve
// (tests/fixtures/make_glmnet_weights.R).
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { openStore } from '../../src/store/open.js';
import { csvRows, FIXTURES, readFixture, ROOT, runTool, tempDir, writeFile } from '../helpers.js';

interface PenaltyFit {
  name: string;
  file: string;
  target: string;
  family: 'gaussian' | 'binomial' | 'poisson';
  factors: Record<string, number>;
  lower: Record<string, number>;
  upper: Record<string, number>;
  lambda: number[];
  intercept: number[];
  coef: number[][];
}

const fits = readFixture<PenaltyFit[]>('glmnet_penalties.json');
const dir = tempDir('regsweep-penalties-');
const BIN = join(ROOT, 'bin', 'regsweep.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
const kinds = { gaussian: 'linear', binomial: 'logistic', poisson: 'poisson' };

/** The model block of a sweep file giving glmnet's factors and bounds. */
function modelBlock(fit: PenaltyFit, extra = ''): string {
  const limits = [...new Set([...Object.keys(fit.lower), ...Object.keys(fit.upper)])].map((f) => `${f}: [${fit.lower[f] ?? 'null'}, ${fit.upper[f] ?? 'null'}]`);
  const factors = Object.entries(fit.factors).map(([f, v]) => `${f}: ${v}`);
  return `model: {kind: ${kinds[fit.family]}, tol: 1e-13, penalty_factor: {${factors.join(', ')}}, limits: {${limits.join(', ')}}${extra}}`;
}

function copyData(fit: PenaltyFit): void {
  copyFileSync(fit.file === 'quakes.csv' ? join(ROOT, 'data', fit.file) : join(FIXTURES, fit.file), join(dir, fit.file));
}

describe('penalty factors and bounds against glmnet', () => {
  for (const fit of fits)
    it(`${fit.name}: every coefficient at glmnet's 15 λ to 1e-6, and the automatic grid starts at glmnet's λ_max`, async () => {
      copyData(fit);
      const config = writeFile(
        dir,
        `${fit.name}.yaml`,
        `name: ${fit.name}\ndata: {path: ${fit.file}, target: ${fit.target}}\n${modelBlock(fit)}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [elasticnet], l1_ratio: [0.5], lambda: [${fit.lambda.join(', ')}], extend: 0}\nworkers: 1\n`,
      );
      const result = await runSweep(config, { out: join(dir, `${fit.name}.db`) });
      const store = await openStore(join(dir, `${fit.name}.db`), { mode: 'read' });
      try {
        const stored = (await store.coefficients(result.sweep.id, { fold: 'all' })).sort((a, b) => b.lambda - a.lambda);
        expect(stored.length).toBe(fit.lambda.length);
        let worst = 0;
        stored.forEach((c, l) => {
          expect(c.lambda).toBe(fit.lambda[l]);
          worst = Math.max(worst, Math.abs(c.intercept[0] - fit.intercept[l]) / Math.max(1, Math.abs(fit.intercept[l])));
          c.coefs.forEach((b, j) => (worst = Math.max(worst, Math.abs(b - fit.coef[l][j]) / Math.max(1, Math.abs(fit.coef[l][j])))));
        });
        expect(worst).toBeLessThan(1e-6);
        // The bounds hold exactly, and some bind (the test could fail if they did nothing).
        const names = result.sweep.featureNames;
        let binding = 0;
        for (const c of stored)
          names.forEach((f, j) => {
            if (f in fit.lower) expect(c.coefs[j]).toBeGreaterThanOrEqual(fit.lower[f]);
            if (f in fit.upper) expect(c.coefs[j]).toBeLessThanOrEqual(fit.upper[f]);
            if (c.coefs[j] !== 0 && (c.coefs[j] === fit.lower[f] || c.coefs[j] === fit.upper[f])) binding++;
          });
        expect(binding).toBeGreaterThan(0);
        // An unpenalized feature is in the model from the first λ on.
        const free = Object.keys(fit.factors).find((f) => fit.factors[f] === 0)!;
        expect(stored[0].coefs[names.indexOf(free)]).not.toBe(0);
      } finally {
        await store.close();
      }
      // λ_max of the automatic grid, with the unpenalized features fitted first, as glmnet's first λ.
      const auto = writeFile(
        dir,
        `${fit.name}-auto.yaml`,
        `name: auto\ndata: {path: ${fit.file}, target: ${fit.target}}\n${modelBlock(fit)}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [elasticnet], l1_ratio: [0.5], lambda: {auto: 15, ratio: 0.01}, extend: 0}\nworkers: 1\n`,
      );
      const grid = await runSweep(auto, { out: join(dir, `${fit.name}-auto.db`) });
      const storeAuto = await openStore(join(dir, `${fit.name}-auto.db`), { mode: 'read' });
      try {
        const lambdas = (await storeAuto.trials(grid.sweep.id)).map((t) => t.lambda).sort((a, b) => b - a);
        expect(Math.abs(lambdas[0] - fit.lambda[0]) / fit.lambda[0]).toBeLessThan(1e-9);
        expect(Math.abs(lambdas.at(-1)! - fit.lambda.at(-1)!) / fit.lambda.at(-1)!).toBeLessThan(1e-9);
      } finally {
        await storeAuto.close();
      }
    }, 120_000);

  it('the exported R script refits the same coefficients with glmnet (penalty.factor, limits); scikit-learn says it cannot', () => {
    const fit = fits[0];
    expect(cli(['export', `${fit.name}.db`, '--model', '--select', `lambda=${fit.lambda[8]}`, '--format', 'glmnet', '--out', 'pen.R']).status).toBe(0);
    const out = csvRows(runTool('Rscript', ['pen.R', '--refit', fit.file], dir));
    expect(out.length).toBe(11);
    for (const r of out) expect(Math.abs(Number(r.refit) - Number(r.model)), r.term).toBeLessThan(1e-6 * Math.max(1, Math.abs(Number(r.model))));
    expect(cli(['export', `${fit.name}.db`, '--model', '--select', `lambda=${fit.lambda[8]}`, '--format', 'sklearn', '--out', 'pen.py']).status).toBe(0);
    const py = spawnSync('/usr/bin/python3', ['pen.py', '--refit', fit.file], { cwd: dir, encoding: 'utf8' });
    expect(py.status).toBe(1);
    expect(py.stderr.trim()).toMatch(/scikit-learn has no per-feature penalty factors or coefficient bounds/);
  }, 120_000);
});

describe('a categorical column named in penalty_factor stands for all its indicators', () => {
  it('island unpenalized: its indicators are in the model at λ_max, every other coefficient is zero there', async () => {
    copyFileSync(join(FIXTURES, 'penguins.csv'), join(dir, 'penguins.csv'));
    const config = writeFile(
      dir,
      'island.yaml',
      'name: island\ndata: {path: penguins.csv, target: sex, missing: drop}\nmodel: {kind: logistic, tol: 1e-12, penalty_factor: {island: 0}, nonnegative: true}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 10}, extend: 0}\nworkers: 1\n',
    );
    const result = await runSweep(config, { out: join(dir, 'island.db') });
    const store = await openStore(join(dir, 'island.db'), { mode: 'read' });
    try {
      const first = (await store.coefficients(result.sweep.id, { fold: 'all' })).sort((a, b) => b.lambda - a.lambda)[0];
      const names = result.sweep.featureNames;
      names.forEach((f, j) => {
        if (f.startsWith('island=')) expect(first.coefs[j], f).toBeGreaterThanOrEqual(0);
        // λ_max is computed apart from the path (an unpenalized fit by Newton): round-off may leave 1e-18 there.
        else expect(Math.abs(first.coefs[j]), f).toBeLessThan(1e-12);
      });
      expect(names.filter((f, j) => f.startsWith('island=') && first.coefs[j] > 0).length).toBeGreaterThan(0);
      // nonnegative: no coefficient below 0 anywhere on the path.
      for (const c of await store.coefficients(result.sweep.id)) for (const b of c.coefs) expect(b).toBeGreaterThanOrEqual(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('bad penalties give one line and exit 2', () => {
  const cases: [string, string, string, RegExp][] = [
    ['an unknown feature', 'linear', 'penalty_factor: {agee: 0}', /^regsweep: p\.yaml:3: model\.penalty_factor: "agee" is not a feature \(features: age, sex, bmi,/],
    ['a negative factor', 'linear', 'penalty_factor: {age: -1}', /^regsweep: p\.yaml:3: model\.penalty_factor\.age: expected a non-negative number/],
    ['every factor zero', 'linear', 'penalty_factor: {age: 0, sex: 0, bmi: 0, bp: 0, s1: 0, s2: 0, s3: 0, s4: 0, s5: 0, s6: 0}', /^regsweep: p\.yaml:3: model\.penalty_factor: every factor is 0, so nothing is penalized/],
    ['lower above upper (and above 0)', 'linear', 'limits: {age: [1, 2]}', /^regsweep: p\.yaml:3: model\.limits\.age: lower must be at most 0 and upper at least 0 \(as glmnet\), e\.g\. \[0, null\]/],
    ['an unknown feature in limits', 'linear', 'limits: {bmii: [0, null]}', /^regsweep: p\.yaml:3: model\.limits: "bmii" is not a feature/],
    ['fista', 'linear', 'solver: fista, nonnegative: true', /^regsweep: p\.yaml:3: model\.nonnegative: needs solver cd/],
  ];
  for (const [what, kind, model, message] of cases)
    it(what, () => {
      copyFileSync(join(FIXTURES, 'diabetes.csv'), join(dir, 'diabetes.csv'));
      writeFile(dir, 'p.yaml', `name: p\ndata: {path: diabetes.csv, target: progression}\nmodel: {kind: ${kind}, ${model}}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n`);
      const r = cli(['run', 'p.yaml', '--out', 'p.db']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
      expect(r.stderr.trim()).toMatch(message);
    });

  it('a multinomial model', () => {
    copyFileSync(join(ROOT, 'data', 'wine.csv'), join(dir, 'wine.csv'));
    writeFile(dir, 'w.yaml', 'name: w\ndata: {path: wine.csv, target: cultivar}\nmodel: {kind: logistic, penalty_factor: {alcohol: 0}}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n');
    const r = cli(['run', 'w.yaml', '--out', 'w.db']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^regsweep: w\.yaml:3: model\.penalty_factor: applies to models with one linear predictor \(linear with one target, logistic with two classes, poisson\); this sweep fits multinomial$/);
  });
});

interface WeightedFit {
  name: string;
  file: string;
  target: string;
  family: 'gaussian' | 'binomial';
  alpha: number;
  lambda: number[];
  intercept: number[];
  coef: number[][];
  cvm: number[];
  cvsd: number[];
}

describe('observation weights against glmnet and cv.glmnet', () => {
  for (const fit of readFixture<WeightedFit[]>('glmnet_weights.json'))
    it(`${fit.name}: coefficients at every λ, the weighted cv curve and its se, and λ_max, to 1e-6`, async () => {
      copyFileSync(join(FIXTURES, fit.file), join(dir, fit.file));
      const penalty = fit.alpha === 1 ? 'penalty: [l1]' : `penalty: [elasticnet], l1_ratio: [${fit.alpha}]`;
      const yaml = (lambda: string) =>
        `name: ${fit.name}\ndata: {path: ${fit.file}, target: ${fit.target}, weights: w}\nmodel: {kind: ${kinds[fit.family]}, tol: 1e-13}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, ${penalty}, lambda: ${lambda}, extend: 0}\nworkers: 2\n`;
      const result = await runSweep(writeFile(dir, `${fit.name}.yaml`, yaml(`[${fit.lambda.join(', ')}]`)), { out: join(dir, `${fit.name}.db`) });
      const store = await openStore(join(dir, `${fit.name}.db`), { mode: 'read' });
      try {
        expect(result.sweep.featureNames).not.toContain('w');
        const stored = (await store.coefficients(result.sweep.id, { fold: 'all' })).sort((a, b) => b.lambda - a.lambda);
        let worst = 0;
        stored.forEach((c, l) => {
          worst = Math.max(worst, Math.abs(c.intercept[0] - fit.intercept[l]) / Math.max(1, Math.abs(fit.intercept[l])));
          c.coefs.forEach((b, j) => (worst = Math.max(worst, Math.abs(b - fit.coef[l][j]) / Math.max(1, Math.abs(fit.coef[l][j])))));
        });
        expect(worst).toBeLessThan(1e-6);
        const points = (await store.summary(result.sweep.id)).sort((a, b) => b.lambda - a.lambda);
        expect(points.length).toBe(fit.lambda.length);
        points.forEach((point, l) => {
          expect(Math.abs(point.mean - fit.cvm[l]) / Math.max(1, fit.cvm[l]), `λ ${point.lambda}`).toBeLessThan(1e-6);
          expect(Math.abs(point.se - fit.cvsd[l]) / Math.max(1, fit.cvsd[l]), `λ ${point.lambda}`).toBeLessThan(1e-6);
        });
      } finally {
        await store.close();
      }
      // Both scripts refit with the weights column: glmnet's weights, scikit-learn's sample_weight.
      for (const [format, script, cmd] of [['glmnet', `${fit.name}.R`, 'Rscript'], ['sklearn', `${fit.name}.py`, '/usr/bin/python3']]) {
        expect(cli(['export', `${fit.name}.db`, '--model', '--select', 'min', '--format', format, '--out', script]).status).toBe(0);
        const refit = csvRows(runTool(cmd, [script, '--refit', fit.file], dir));
        expect(refit.length).toBe(fit.coef[0].length + 1);
        for (const r of refit) expect(Math.abs(Number(r.refit) - Number(r.model)), `${script} ${r.term}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(Number(r.model))));
      }
      const auto = await runSweep(writeFile(dir, `${fit.name}-auto.yaml`, yaml('{auto: 15, ratio: 0.01}')), { out: join(dir, `${fit.name}-auto.db`) });
      const storeAuto = await openStore(join(dir, `${fit.name}-auto.db`), { mode: 'read' });
      try {
        const top = Math.max(...(await storeAuto.trials(auto.sweep.id)).map((t) => t.lambda));
        expect(Math.abs(top - fit.lambda[0]) / fit.lambda[0]).toBeLessThan(1e-9);
      } finally {
        await storeAuto.close();
      }
    }, 120_000);

  const bad: [string, string, RegExp][] = [
    ['a negative weight', 'w\n1\n-2\n3', /^regsweep: weighted\.csv:3:3: column "w": -2 is negative; an observation weight \(data\.weights\) is 0 or more$/],
    ['a missing weight', 'w\n1\nNA\n3', /^regsweep: weighted\.csv:3:3: column "w": missing weight \("NA"\)/],
    ['every weight 0', 'w\n0\n0\n0', /^regsweep: weighted\.csv: column "w" \(data\.weights\): every weight is 0, so no row is fitted$/],
    ['no such column', 'v\n1\n1\n1', /^regsweep: weighted\.csv:1: weights \(data\.weights\) column "w" is not in the header/],
  ];
  for (const [what, column, message] of bad)
    it(what, () => {
      const cells = column.split('\n');
      writeFile(dir, 'weighted.csv', cells.map((c, i) => (i === 0 ? `a,y,${c}` : `${i},${i % 2},${c}`)).join('\n') + '\n');
      writeFile(dir, 'wt.yaml', 'name: wt\ndata: {path: weighted.csv, target: y, weights: w}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: [0.1]}\n');
      const r = cli(['run', 'wt.yaml', '--out', 'wt.db']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
    });
});
