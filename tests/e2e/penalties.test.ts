// Per-feature penalty factors and coefficient bounds (issue 31: model.penalty_factor, model.limits, model.nonnegative)
// against R glmnet's penalty.factor, lower.limits and upper.limits on real data (tests/fixtures/make_glmnet_penalties.R),
// and observation weights (data.weights) against glmnet's weights and cv.glmnet's weighted curve
// (tests/fixtures/make_glmnet_weights.R).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { runSweep } from '../../src/pool/coordinator.js';
import { openStore } from '../../src/store/open.js';
import { columnMoments, csvRows, FIXTURES, readFixture, ROOT, runTool, tempDir, writeFile } from '../helpers.js';

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
        // λ_max comes from a fit apart from the path (Newton in the planner): round-off may leave a speck there.
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

describe('factors as groups (model.group_categorical): the group lasso', () => {
  /**
   * The largest violation of the group lasso's KKT conditions, computed here from the data and the stored
   * coefficients: on standardized features, with g the gradient (1/n)·X̃ᵀ(y − μ), a group with β_G ≠ 0 has
   * g_G = λ(1−r)β_G + λr√|G|·β_G/‖β_G‖, and a zero group ‖g_G‖ ≤ λr√|G| (single features: |G| = 1).
   */
  function kktViolation(X: Float64Array, y: Float64Array, n: number, p: number, groups: number[][], b0: number, b: Float64Array, lambda: number, r: number, logistic: boolean): number {
    const { mean, sd } = columnMoments(X, n, p);
    const residual = new Float64Array(n);
    let interceptGradient = 0;
    for (let i = 0; i < n; i++) {
      let eta = b0;
      for (let j = 0; j < p; j++) eta += X[j * n + i] * b[j];
      residual[i] = y[i] - (logistic ? 1 / (1 + Math.exp(-eta)) : eta);
      interceptGradient += residual[i] / n;
    }
    const g = Float64Array.from({ length: p }, (_, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += ((X[j * n + i] - mean[j]) / sd[j]) * residual[i];
      return s / n;
    });
    const beta = Float64Array.from(b, (v, j) => v * sd[j]);
    let worst = Math.abs(interceptGradient);
    const grouped = new Set(groups.flat());
    const all = [...groups, ...Array.from({ length: p }, (_, j) => j).filter((j) => !grouped.has(j)).map((j) => [j])];
    for (const G of all) {
      const norm = Math.sqrt(G.reduce((s, j) => s + beta[j] ** 2, 0));
      const scale = lambda * r * Math.sqrt(G.length);
      if (norm > 0) {
        const v = Math.sqrt(G.reduce((s, j) => s + (g[j] - lambda * (1 - r) * beta[j] - (scale * beta[j]) / norm) ** 2, 0));
        worst = Math.max(worst, v);
      } else worst = Math.max(worst, Math.sqrt(G.reduce((s, j) => s + g[j] ** 2, 0)) - scale);
    }
    return worst;
  }

  for (const [family, target, kind] of [['gaussian', 'body_mass_g', 'linear'], ['binomial', 'sex', 'logistic']] as const)
    it(`${family}: the KKT conditions hold to 1e-8 at every λ, and each factor enters or leaves whole`, async () => {
      copyFileSync(join(FIXTURES, 'penguins.csv'), join(dir, 'penguins.csv'));
      const config = writeFile(
        dir,
        `groups-${family}.yaml`,
        `name: groups\ndata: {path: penguins.csv, target: ${target}, missing: drop}\nmodel: {kind: ${kind}, tol: 1e-13, group_categorical: true}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [elasticnet], l1_ratio: [0.7], lambda: {auto: 25, ratio: 0.001}, extend: 0}\nworkers: 1\n`,
      );
      const result = await runSweep(config, { out: join(dir, `groups-${family}.db`) });
      const data = await loadCsv(join(dir, 'penguins.csv'), { target, classification: family === 'binomial', missing: 'drop' });
      const names = result.sweep.featureNames;
      expect(names).toEqual(data.featureNames);
      const factors = family === 'gaussian' ? ['island', 'sex', 'species'] : ['island', 'species'];
      const groups = factors.map((factor) => names.flatMap((f, j) => (f.startsWith(`${factor}=`) ? [j] : [])));
      expect(groups.every((G) => G.length >= 2)).toBe(true);
      const store = await openStore(join(dir, `groups-${family}.db`), { mode: 'read' });
      try {
        const path = (await store.coefficients(result.sweep.id, { fold: 'all' })).sort((a, b) => b.lambda - a.lambda);
        expect(path.length).toBe(25);
        let worst = 0;
        const seen = new Set<string>();
        for (const c of path) {
          worst = Math.max(worst, kktViolation(data.X, data.y, data.n, data.p, groups, c.intercept[0], c.coefs, c.lambda, 0.7, family === 'binomial'));
          for (const G of groups) {
            const nonzero = G.filter((j) => c.coefs[j] !== 0).length;
            // Whole: every indicator nonzero, or none.
            expect([0, G.length]).toContain(nonzero);
            seen.add(`${G[0]}:${nonzero > 0}`);
          }
        }
        expect(worst).toBeLessThan(1e-8);
        // The island factor is out at the start of the path and in at its end.
        expect(seen.has(`${groups[0][0]}:false`) && seen.has(`${groups[0][0]}:true`)).toBe(true);
      } finally {
        await store.close();
      }
    }, 120_000);

  it('the scripts say they cannot refit a grouped model; a sweep with nothing to group is refused', async () => {
    const store = await openStore(join(dir, 'groups-gaussian.db'), { mode: 'read' });
    const lambdas = [...new Set((await store.trials((await store.findSweep()).id)).map((t) => t.lambda))].sort((a, b) => b - a);
    await store.close();
    // The coefficient-path chart draws each factor as one line, its group norm.
    const report = cli(['report', 'groups-gaussian.db', '--out', 'groups-report', '--no-png']);
    expect(report.status, report.stderr).toBe(0);
    const panels = JSON.parse(readFileSync(join(dir, 'groups-report', 'paths.vl.json'), 'utf8')) as { concat: { data: { values: { feature: string; coef: number; part: string }[] } }[] };
    const values = panels.concat.flatMap((p) => p.data.values.filter((v) => v.part === 'path'));
    const lines = new Set(values.map((v) => v.feature));
    expect([...lines].filter((f) => f.includes('='))).toEqual([]);
    for (const factor of ['island', 'sex', 'species']) expect(lines.has(`${factor} (group norm)`)).toBe(true);
    expect(values.filter((v) => v.feature.endsWith('(group norm)')).every((v) => v.coef >= 0)).toBe(true);
    const exported = cli(['export', 'groups-gaussian.db', '--model', '--select', `lambda=${lambdas[10]}`, '--format', 'glmnet', '--out', 'groups.R']);
    expect(exported.status, exported.stderr).toBe(0);
    const refit = spawnSync('Rscript', ['groups.R', '--refit', 'penguins.csv'], { cwd: dir, encoding: 'utf8' });
    expect(refit.status).toBe(1);
    expect(refit.stderr.trim()).toMatch(/no group lasso over a category's indicators \(model\.group_categorical\)/);
    copyFileSync(join(FIXTURES, 'diabetes.csv'), join(dir, 'diabetes.csv'));
    writeFile(dir, 'ng.yaml', 'name: ng\ndata: {path: diabetes.csv, target: progression}\nmodel: {kind: linear, group_categorical: true}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n');
    const r = cli(['run', 'ng.yaml', '--out', 'ng.db']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('regsweep: ng.yaml:3: model.group_categorical: no categorical column has two or more indicator columns to group');
  }, 60_000);
});
