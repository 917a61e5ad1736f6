// The Cox proportional-hazards model (model.kind cox) on the Mayo Clinic PBC data against R glmnet and the survival
// package (tests/fixtures/make_glmnet_cox.R): coefficients on glmnet's paths (lasso, elastic net, observation weights),
// cv.glmnet's grouped and ungrouped deviance and Harrell's C with the same foldid, the Breslow survival curve,
// concordance with ties; then what a user does with the sweep — query, export, predict, report, the scripts, bad input.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { bestTrials } from '../../src/results/best.js';
import { withResults } from '../../src/results/open.js';
import { METRICS, summarize } from '../../src/select/cv.js';
import { coxDeviance, harrellC } from '../../src/fitting/shared/cox.js';
import { cliIn, closeTo, csvRows, PYTHON, readFixture, ROOT, runTool, storedTrialSet, tempDir, writeFile } from '../helpers.js';
import { freshPostgresDatabase, postgresTestable } from '../postgres.js';

interface Path {
  lambda: number[];
  dev_ratio: number[];
  coef: number[][];
}
interface Cv {
  lambda: number[];
  cvm: number[];
  cvsd: number[];
  lambda_min: number;
  lambda_1se: number;
}
interface Reference {
  foldid: number[];
  weights: number[];
  lasso: Path;
  enet: Path;
  weighted: Path;
  cv_deviance: Cv;
  cv_ungrouped: Cv;
  cv_C: Cv;
  cv_weighted: Cv;
  survival: { lambda: number; times: number[]; eta: number[]; surv: number[][] };
  cindex: { pred: number[]; plain: number; weighted: number };
  deviance: { eta: number[]; value: number };
}
const reference = readFixture<Reference>('glmnet_cox.json');
const lines = readFileSync(join(ROOT, 'data', 'pbc.csv'), 'utf8').trimEnd().split('\n');
const header = lines[0].split(',');
const FEATURES = header.slice(0, 17);
const column = (name: string) => lines.slice(1).map((l) => Number(l.split(',')[header.indexOf(name)]));
const time = Float64Array.from(column('time'));
const status = Float64Array.from(column('status'));
const ones = new Float64Array(time.length).fill(1);

let dir: string;
const sweepFile = (name: string, body: string) => writeFile(dir, `${name}.yaml`, `name: ${name}\n${body}\noutput: ${name}.db\n`);

beforeAll(async () => {
  dir = tempDir('regsweep-cox-');
  writeFile(dir, 'pbc.csv', lines.join('\n') + '\n');
  writeFile(dir, 'pbc_folds.csv', [`${lines[0]},fold,w`, ...lines.slice(1).map((l, i) => `${l},${reference.foldid[i]},${reference.weights[i]}`)].join('\n') + '\n');
  const paths: [string, Path, number, string][] = [
    ['lasso', reference.lasso, 1, ''],
    ['enet', reference.enet, 0.5, ''],
    ['weighted', reference.weighted, 1, 'w'],
  ];
  for (const [name, path, alpha, weights] of paths) {
    sweepFile(
      name,
      `data: {path: pbc_folds.csv, time: time, status: status, ${weights ? 'ignore: [fold], weights: w' : 'ignore: [fold, w]'}}\nvalidation: {kind: none}\nmodel: {kind: cox, tol: 1e-9}\n` +
        `sweep: {kind: grid, penalty: [${alpha === 1 ? 'l1' : 'elasticnet'}], l1_ratio: [${alpha}], lambda: [${path.lambda.join(', ')}]}`,
    );
    await runSweep(join(dir, `${name}.yaml`));
  }
  // cv.glmnet's curves on the lasso's λ; the automatic grid on its own (the path on all rows is glmnet's).
  const cvSweeps: [string, string, string][] = [
    ['cv', ', ignore: [w]', `[${reference.lasso.lambda.join(', ')}]`],
    ['cv_weighted', ', weights: w', `[${reference.weighted.lambda.join(', ')}]`],
    ['auto', ', ignore: [w]', '{auto: 100, ratio: 1e-4}'],
  ];
  for (const [name, weights, lambda] of cvSweeps) {
    sweepFile(
      name,
      `data: {path: pbc_folds.csv, time: time, status: status${weights}}\nvalidation: {kind: column, column: fold}\nmodel: {kind: cox, tol: 1e-9}\n` +
        `sweep: {kind: grid, penalty: [l1], lambda: ${lambda}, extend: 0}\nworkers: 2`,
    );
    await runSweep(join(dir, `${name}.yaml`));
  }
}, 240_000);

const trialsOf = (name: string, fold?: string) => withResults(join(dir, `${name}.db`), undefined, ({ store, sweep }) => store.trials(sweep.id, fold ? { fold } : {}));
const { cli, ok } = cliIn(() => dir);
const close = closeTo;
const coefficientsOf = (name: string) => withResults(join(dir, `${name}.db`), undefined, ({ store, sweep }) => store.coefficients(sweep.id, { fold: 'all' }));

describe('the Cox model against R glmnet on the PBC data', () => {
  for (const name of ['lasso', 'enet', 'weighted'] as const)
    it(`${name}: coefficients at every λ of glmnet's path to 1e-6 (tol 1e-9), no intercept`, async () => {
      const path = reference[name];
      const fits = (await coefficientsOf(name)).sort((a, b) => b.lambda - a.lambda);
      expect(fits).toHaveLength(path.lambda.length);
      fits.forEach((fit, l) => {
        expect(fit.lambda).toBe(path.lambda[l]);
        expect(fit.intercept).toEqual([0]);
        FEATURES.forEach((feature, j) => expect(Math.abs(fit.coefs[j] - path.coef[l][j]), `${feature} at λ ${fit.lambda}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(path.coef[l][j]))));
      });
    });

  it("the automatic grid is glmnet's: the same λ_max, and the path ends where coxnet's rule ends it", async () => {
    const fits = (await trialsOf('auto', 'all')).sort((a, b) => b.lambda - a.lambda);
    expect(fits).toHaveLength(reference.lasso.lambda.length);
    // glmnet's Fortran takes the grid's step as a single-precision power: the λ agree to 1e-9, the first exactly.
    expect(Math.abs(fits[0].lambda - reference.lasso.lambda[0]) / fits[0].lambda).toBeLessThan(1e-14);
    fits.forEach((t, l) => expect(Math.abs(t.lambda - reference.lasso.lambda[l]) / t.lambda).toBeLessThan(1e-8));
    const last = fits[fits.length - 1];
    expect(last.metrics.path_stop).toBe(1);
    expect(last.metrics.dev_ratio).toBeCloseTo(reference.lasso.dev_ratio[reference.lasso.dev_ratio.length - 1], 8);
  });

  const measures: [string, keyof Reference, string][] = [
    ['deviance', 'cv_deviance', 'cv'],
    ['deviance_ungrouped', 'cv_ungrouped', 'cv'],
    ['C', 'cv_C', 'cv'],
    ['deviance', 'cv_weighted', 'cv_weighted'],
  ];
  for (const [metric, key, sweep] of measures)
    it(`cv.glmnet's ${key.replace('cv_', '')} curve (type.measure ${metric}): cvm and cvsd to 1e-6, the same λ_min and λ_1se`, async () => {
      const expected = reference[key] as Cv;
      const curve = summarize(await trialsOf(sweep), METRICS[metric]).sort((a, b) => b.lambda - a.lambda);
      expect(curve.length).toBe(expected.lambda.length);
      curve.forEach((point, l) => {
        expect(Math.abs(point.mean - expected.cvm[l]), `cvm at λ ${point.lambda}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected.cvm[l])));
        expect(Math.abs(point.se - expected.cvsd[l]), `cvsd at λ ${point.lambda}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected.cvsd[l])));
      });
      const best = await bestTrials(join(dir, `${sweep}.db`), { metric });
      const at = (lambda: number) => expected.lambda.findIndex((x) => Math.abs(x - lambda) < 1e-9 * x);
      expect(at(best.selections[0].lambdaMin), 'λ_min').toBe(at(expected.lambda_min));
      expect(at(best.selections[0].lambda1se!), 'λ_1se').toBe(at(expected.lambda_1se));
    });

  it("glmnet's deviance (coxnet.deviance) and survival's concordance, ties in times and scores, with weights", () => {
    const { deviance } = coxDeviance(time, status, reference.deviance.eta, ones);
    expect(Math.abs(deviance - reference.deviance.value) / reference.deviance.value).toBeLessThan(1e-12);
    const pred = Float64Array.from(reference.cindex.pred);
    expect(harrellC(time, status, pred, ones)).toBeCloseTo(reference.cindex.plain, 12);
    expect(harrellC(time, status, pred, Float64Array.from(reference.weights))).toBeCloseTo(reference.cindex.weighted, 12);
  });
});

describe('using the model', () => {
  it("predict: the linear predictor and, with --times, survival's Breslow curve at λ_min to 1e-6 (survfit on coxph, ties = breslow)", () => {
    const { survival } = reference;
    writeFile(dir, 'first5.csv', lines.slice(0, 6).join('\n') + '\n');
    const out = csvRows(ok(['predict', 'cv.db', '--data', 'first5.csv', '--select', 'min', '--keep', 'time', '--times', survival.times.join(',')]).stdout);
    expect(Object.keys(out[0])).toEqual(['time', 'linear_predictor', 'relative_risk', ...survival.times.map((t) => `survival:${t}`)]);
    out.forEach((row, i) => {
      expect(close(Number(row.linear_predictor), survival.eta[i]), `η of row ${i + 1}`).toBe(true);
      expect(Number(row.relative_risk)).toBeCloseTo(Math.exp(Number(row.linear_predictor)), 12);
      survival.times.forEach((t, k) => expect(close(Number(row[`survival:${t}`]), survival.surv[i][k]), `S(${t}) of row ${i + 1}`).toBe(true));
    });
    // Without --times: the linear predictor and the relative risk; --times on a model without a baseline is refused.
    expect(ok(['predict', 'cv.db', '--data', 'first5.csv']).stdout.split('\n')[0]).toBe('linear_predictor,relative_risk');
    const bad = cli(['predict', 'cv.db', '--data', 'first5.csv', '--times', '100,-3']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--times: "-3" is not a time ≥ 0/);
  });

  it('the model card carries the baseline hazard and no intercept; query and report read the sweep in Cox words', () => {
    const card = JSON.parse(ok(['export', 'cv.db', '--model', '--format', 'json', '--select', 'min']).stdout) as Record<string, unknown>;
    expect(card.family).toBe('cox');
    expect(card.target).toEqual({ time: 'time', status: 'status' });
    expect(card).not.toHaveProperty('intercept');
    const baseline = card.baseline_hazard as { method: string; times: number[]; cumulative_hazard: number[] };
    expect(baseline.method).toBe('breslow');
    // One step per distinct death time (111 deaths, two times tied), increasing.
    expect(baseline.times).toHaveLength(109);
    for (let k = 1; k < baseline.times.length; k++) expect(baseline.cumulative_hazard[k]).toBeGreaterThan(baseline.cumulative_hazard[k - 1]);
    expect(String(card.objective)).toMatch(/log partial likelihood \(Breslow ties\).*no intercept/);
    const best = JSON.parse(ok(['query', 'cv.db', '--best', '--json', '--metric', 'C']).stdout) as { best: { lambda_min: number }[] };
    expect(best.best[0].lambda_min).toBeCloseTo(reference.cv_C.lambda_min, 12);
    ok(['report', 'cv.db', '--out', 'cox-report', '--metric', 'C']);
    const html = readFileSync(join(dir, 'cox-report', 'report.html'), 'utf8');
    expect(html).toMatch(/log partial likelihood of the proportional-hazards model/);
    expect(html).toMatch(/log hazard ratios; no intercept/);
    expect(html).toMatch(/--times 365,730/);
    expect(readFileSync(join(dir, 'cox-report', 'fit.svg'), 'utf8')).toMatch(/Harrell(&#x27;|'|&#39;)s C/);
  });

  it('model.R predicts as regsweep does and refits with glmnet to the same coefficients; model.py predicts and says why it cannot refit', () => {
    ok(['export', 'lasso.db', '--model', '--format', 'glmnet', '--out', 'cox.R', '--select', 'lambda=' + reference.lasso.lambda[20]]);
    ok(['export', 'lasso.db', '--model', '--format', 'sklearn', '--out', 'cox.py', '--select', 'lambda=' + reference.lasso.lambda[20]]);
    const ours = ok(['predict', 'lasso.db', '--data', 'pbc.csv', '--select', 'lambda=' + reference.lasso.lambda[20]]).stdout;
    const fromR = runTool('Rscript', ['cox.R', 'pbc.csv'], dir);
    const fromPython = runTool(PYTHON, ['cox.py', 'pbc.csv'], dir);
    const rows = (text: string) => csvRows(text).map((r) => [Number(r.linear_predictor), Number(r.relative_risk)]);
    const expected = rows(ours);
    expect(expected).toHaveLength(276);
    for (const other of [rows(fromR), rows(fromPython)]) other.forEach((r, i) => r.forEach((v, k) => expect(close(v, expected[i][k], 1e-12), `row ${i + 1}`).toBe(true)));
    const refit = csvRows(runTool('Rscript', ['cox.R', '--refit', 'pbc_folds.csv'], dir));
    expect(refit[0].term).toBe('(intercept)');
    expect(Number(refit[0].refit)).toBe(0);
    for (const term of refit.slice(1)) expect(close(Number(term.refit), Number(term.model)), term.term).toBe(true);
    const py = spawnSync(PYTHON, ['cox.py', '--refit', 'pbc.csv'], { cwd: dir, encoding: 'utf8' });
    expect(py.status).toBe(1);
    expect(py.stderr).toMatch(/scikit-learn has no Cox model; refit with glmnet/);
  }, 60_000);

  it('the shipped example sweeps/pbc-cox.yaml runs: bilirubin, albumin, age and edema in the model at λ_min with the signs medicine knows', () => {
    const sub = tempDir('regsweep-cox-example-');
    ok(['run', join(ROOT, 'sweeps', 'pbc-cox.yaml'), '--out', join(sub, 'pbc.db'), '--quiet'], sub);
    const card = JSON.parse(ok(['export', join(sub, 'pbc.db'), '--model', '--format', 'json', '--penalty', 'l1', '--select', 'min'], sub).stdout) as { coefficients: Record<string, number> };
    // Higher bilirubin, edema and age raise the hazard; higher albumin lowers it (the Mayo risk score's signs).
    expect(card.coefficients.bili).toBeGreaterThan(0);
    expect(card.coefficients.edema).toBeGreaterThan(0);
    expect(card.coefficients.age).toBeGreaterThan(0);
    expect(card.coefficients.albumin).toBeLessThan(0);
  }, 60_000);
});

describe('folds', () => {
  it("keep the share of deaths in every fold unless the file says stratify: false (then scikit-learn's KFold)", async () => {
    const deathsPerFold = async (stratify: string) => {
      const name = `folds${stratify ? 'plain' : 'strat'}`;
      writeFile(dir, `${name}.yaml`, `name: ${name}\ndata: {path: pbc.csv, time: time, status: status}\nmodel: {kind: cox}\nvalidation: {kind: kfold, folds: 5, seed: 3${stratify}}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\noutput: ${name}.db\n`);
      await runSweep(join(dir, `${name}.yaml`));
      const folds = csvRows(ok(['export', `${name}.db`, '--table', 'folds']).stdout);
      const counts = new Array<number>(5).fill(0);
      folds.forEach((row, i) => (counts[Number(row.fold)] += status[i]));
      return counts;
    };
    const stratified = await deathsPerFold('');
    expect(stratified.reduce((a, b) => a + b, 0)).toBe(111);
    expect(Math.max(...stratified) - Math.min(...stratified)).toBeLessThanOrEqual(1);
    const plain = await deathsPerFold(', stratify: false');
    expect(plain.reduce((a, b) => a + b, 0)).toBe(111);
    expect(plain).not.toEqual(stratified);
  }, 60_000);
});

describe.runIf(postgresTestable())('on PostgreSQL', () => {
  it('a Cox sweep queued by run and finished by a worker: the same trials, coefficients and survival predictions as SQLite', async () => {
    const url = await freshPostgresDatabase();
    const yaml = `name: pg-cox\ndata: {path: pbc.csv, time: time, status: status}\nmodel: {kind: cox, tol: 1e-9}\nvalidation: {kind: kfold, folds: 5, stratify: true, seed: 2}\nsweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.5], lambda: {auto: 20, ratio: 0.05}, extend: 0}\nworkers: 1\n`;
    writeFile(dir, 'pg-cox.yaml', yaml + 'output: pg-cox-local.db\n');
    await runSweep(join(dir, 'pg-cox.yaml'));
    const stop = new AbortController();
    await runSweep(join(dir, 'pg-cox.yaml'), { out: url, log: () => undefined, signal: stop.signal, onStart: () => stop.abort() }).catch(() => undefined);
    ok(['worker', url, '--sweep', 'pg-cox', '--workers', '1', '--quiet']);
    const [fromPg, fromSqlite] = await Promise.all([storedTrialSet(url), storedTrialSet(join(dir, 'pg-cox-local.db'))]);
    expect(fromPg.size).toBe(fromSqlite.size);
    expect(fromPg).toEqual(fromSqlite);
    const predict = (db: string) => ok(['predict', db, '--data', 'pbc.csv', '--times', '1000,4000']).stdout;
    expect(predict(url)).toBe(predict('pg-cox-local.db'));
  }, 120_000);
});

describe('bad Cox input: one line naming the file and key, exit 2, nothing written', () => {
  const base = (data: string, model = 'cox') => `name: bad\ndata: {path: pbc.csv${data}}\nmodel: {kind: ${model}}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n`;
  const cases: [string, string, RegExp, string?][] = [
    ['no status column named', base(', time: time'), /bad\.yaml:2: data\.status: a cox model needs the column of its statuses \(1 death, 0 censored\)/],
    ['a target instead', base(', target: time, time: time, status: status'), /bad\.yaml:2: data\.target: a cox model reads data\.time and data\.status instead/],
    ['a time column that is not a column', base(', time: days, status: status'), /pbc\.csv.*days/],
    ['a time of 0', base(', time: time, status: status'), /bad\.yaml:2: data\.time: column "time", data row 2: 0 is not a time > 0/, 'zero'],
    ['a status of 2', base(', time: time, status: status'), /bad\.yaml:2: data\.status: column "status", data row 1: 2 is not 1 \(death\) or 0 \(censored\)/, 'two'],
    ['no deaths', base(', time: time, status: status'), /data\.status: column "status" has no death \(1\), so there is nothing to fit/, 'censored'],
    ['data.time on a linear model', base(', target: bili, time: time', 'linear'), /bad\.yaml:2: data\.time: applies to cox models \(model\.kind is linear\)/],
    ['penalty factors', base(', time: time, status: status').replace('model: {kind: cox}', 'model: {kind: cox, penalty_factor: {age: 0}}'), /model\.penalty_factor: not built for cox models yet/],
  ];
  it.each(cases)('%s', (_what, yaml, message, variant) => {
    const sub = tempDir('regsweep-cox-bad-');
    let data = lines;
    if (variant === 'zero') data = lines.map((l, i) => (i === 2 ? l.replace(/,\d+,(\d)$/, ',0,$1') : l));
    if (variant === 'two') data = lines.map((l, i) => (i === 1 ? l.replace(/,\d$/, ',2') : l));
    if (variant === 'censored') data = lines.map((l, i) => (i === 0 ? l : l.replace(/,\d$/, ',0')));
    writeFile(sub, 'pbc.csv', data.join('\n') + '\n');
    writeFile(sub, 'bad.yaml', yaml);
    const before = readdirSync(sub).sort();
    const r = cli(['run', 'bad.yaml'], sub);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(sub).sort()).toEqual(before);
  });

  it('--times on a model that is not Cox is refused with the family it fits', () => {
    const sub = tempDir('regsweep-cox-times-');
    writeFile(sub, 'pbc.csv', lines.join('\n') + '\n');
    writeFile(sub, 'lin.yaml', 'name: lin\ndata: {path: pbc.csv, target: bili, ignore: [time, status]}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\noutput: lin.db\n');
    ok(['run', 'lin.yaml', '--quiet'], sub);
    const r = cli(['predict', 'lin.db', '--data', 'pbc.csv', '--times', '100'], sub);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--times: survival probabilities come from a cox model; sweep "lin" fits gaussian/);
  });
});
