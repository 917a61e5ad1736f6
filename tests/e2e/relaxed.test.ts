// The relaxed lasso (sweep.gamma) against R glmnet's relax = TRUE (tests/fixtures/make_glmnet_relaxed.R): the blended
// coefficients at every λ and γ for the gaussian, binomial and Cox families, cv.glmnet's curves per γ and its joint
// choice of λ and γ; then the sweep as a user has it — predict, the scripts, the report, PostgreSQL, bad input.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { withResults } from '../../src/results/open.js';
import { METRICS, relaxedGamma, summarize } from '../../src/select/cv.js';
import { cliIn, closeTo, csvRows, PYTHON, readFixture, ROOT, runTool, storedTrialSet, tempDir, writeFile } from '../helpers.js';
import { freshPostgresDatabase, postgresTestable } from '../postgres.js';

interface Relaxed {
  file: string;
  alpha: number;
  lambda: number[];
  intercept: boolean;
  /** Per γ, per λ: the intercept (where the family has one), then the coefficients. */
  coef: Record<string, number[][]>;
}
interface Reference {
  gammas: number[];
  gaussian: Relaxed;
  binomial: Relaxed;
  cox: Relaxed;
  cv: { foldid: number[]; lambda: number[]; curves: Record<string, { cvm: number[]; cvsd: number[] }>; lambda_min: number; gamma_min: number; lambda_1se: number; gamma_1se: number };
}
const reference = readFixture<Reference>('glmnet_relaxed.json');
/** glmnet blends with γ raised to 1e-5 at least: its γ = 0 is this blend. */
const GLMNET_FLOOR = 1e-5;
const TARGET: Record<string, string> = {
  gaussian: 'target: progression}\nmodel: {kind: linear, tol: 1e-10}',
  binomial: 'target: diagnosis, classes: [benign, malignant]}\nmodel: {kind: logistic, tol: 1e-10}',
  cox: 'time: time, status: status}\nmodel: {kind: cox, tol: 1e-10}',
};

let dir: string;
const { cli, ok } = cliIn(() => dir);
const close = closeTo;

beforeAll(async () => {
  dir = tempDir('regsweep-relaxed-');
  for (const name of ['gaussian', 'binomial', 'cox'] as const) {
    const r = reference[name];
    const file = r.file.split('/')[1];
    writeFile(dir, file, readFileSync(join(ROOT, r.file), 'utf8'));
    writeFile(dir, `${name}.yaml`, `name: ${name}\ndata: {path: ${file}, ${TARGET[name]}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: [${r.lambda.join(', ')}], gamma: [0, 0.25, 0.5, 0.75], extend: 0}\noutput: ${name}.db\n`);
    await runSweep(join(dir, `${name}.yaml`));
  }
  const lines = readFileSync(join(ROOT, 'data', 'diabetes.csv'), 'utf8').trimEnd().split('\n');
  writeFile(dir, 'folds.csv', [`${lines[0]},fold`, ...lines.slice(1).map((l, i) => `${l},${reference.cv.foldid[i]}`)].join('\n') + '\n');
  // cv.glmnet's γ = 0 is its blend at 1e-5: the CV sweep asks for that γ to compare curves.
  writeFile(dir, 'cv.yaml', `name: cv\ndata: {path: folds.csv, target: progression}\nvalidation: {kind: column, column: fold}\nmodel: {kind: linear, tol: 1e-10}\nsweep: {kind: grid, penalty: [l1], lambda: [${reference.cv.lambda.join(', ')}], gamma: [${GLMNET_FLOOR}, 0.25, 0.5, 0.75], extend: 0}\nworkers: 2\noutput: cv.db\n`);
  await runSweep(join(dir, 'cv.yaml'));
}, 240_000);

describe("the relaxed lasso against glmnet's relax = TRUE", () => {
  for (const name of ['gaussian', 'binomial', 'cox'] as const)
    it(`${name}: the blend at every λ and γ to 1e-6 (γ = 0: the unpenalized refit on the active set)`, async () => {
      const r = reference[name];
      const fits = await withResults(join(dir, `${name}.db`), undefined, ({ store, sweep }) => store.coefficients(sweep.id));
      for (const gamma of reference.gammas) {
        const mine = fits.filter((c) => (relaxedGamma(c.settings) ?? 1) === gamma).sort((a, b) => b.lambda - a.lambda);
        expect(mine, `γ ${gamma}`).toHaveLength(r.lambda.length);
        mine.forEach((fit, l) => {
          const ours = r.intercept ? [fit.intercept[0], ...fit.coefs] : Array.from(fit.coefs);
          // glmnet's γ = 0 is 1e-5·lasso + (1 − 1e-5)·refit: the refit alone is taken back out of it.
          const theirs = gamma === 0 ? r.coef['0'][l].map((b, j) => (b - GLMNET_FLOOR * r.coef['1'][l][j]) / (1 - GLMNET_FLOOR)) : r.coef[String(gamma)][l];
          ours.forEach((b, j) => expect(close(b, theirs[j]), `${name} γ ${gamma} λ ${fit.lambda} term ${j}`).toBe(true));
        });
      }
    });

  it("cv.glmnet(relax = TRUE): each γ's curve to 1e-6, and λ and γ chosen together as glmnet chooses them", async () => {
    const { cv } = reference;
    const trials = await withResults(join(dir, 'cv.db'), undefined, ({ store, sweep }) => store.trials(sweep.id));
    const points = summarize(trials, METRICS.val_loss);
    for (const [gamma, curve] of Object.entries(cv.curves)) {
      const ours = points.filter((p) => (relaxedGamma(p.settings) ?? 1) === (gamma === '0' ? GLMNET_FLOOR : Number(gamma))).sort((a, b) => b.lambda - a.lambda);
      expect(ours).toHaveLength(cv.lambda.length);
      ours.forEach((p, l) => {
        expect(close(p.mean, curve.cvm[l]), `γ ${gamma} cvm at λ ${p.lambda}`).toBe(true);
        expect(close(p.se, curve.cvsd[l]), `γ ${gamma} cvsd at λ ${p.lambda}`).toBe(true);
      });
    }
    const best = JSON.parse(ok(['query', 'cv.db', '--best', '--json']).stdout) as { relaxed: { lambda_min: number; gamma_min: number; lambda_1se: number; gamma_1se: number }[]; notes: string[] };
    expect(best.relaxed).toHaveLength(1);
    const [choice] = best.relaxed;
    expect(choice.lambda_min).toBeCloseTo(cv.lambda_min, 10);
    expect(choice.gamma_min).toBe(cv.gamma_min === 0 ? GLMNET_FLOOR : cv.gamma_min);
    expect(choice.lambda_1se).toBeCloseTo(cv.lambda_1se, 10);
    expect(choice.gamma_1se).toBe(cv.gamma_1se);
    expect(best.notes.join('\n')).toMatch(/l1 relaxed, λ and γ chosen together \(cv\.glmnet relax = TRUE\): λ_min \S+ with γ \S+, λ_1se \S+ with γ 0\.25/);
    // The model predict and export use is that choice (λ_1se by default): its γ and λ.
    const card = JSON.parse(ok(['export', 'cv.db', '--model', '--format', 'json']).stdout) as { lambda: number; settings: { gamma: number }; notes: string[] };
    expect(card.settings.gamma).toBe(cv.gamma_1se);
    expect(card.lambda).toBeCloseTo(cv.lambda_1se, 10);
    expect(card.notes.join('\n')).toMatch(/relaxed lasso: λ and γ chosen together by cross-validation/);
  });
});

describe('using a relaxed model', () => {
  it("predict gives the blend's predictions; model.R predicts the same and refits it exactly; model.py predicts and says why it cannot refit", () => {
    ok(['export', 'cv.db', '--model', '--format', 'glmnet', '--select', 'min', '--out', 'relaxed.R']);
    ok(['export', 'cv.db', '--model', '--format', 'sklearn', '--select', 'min', '--out', 'relaxed.py']);
    const ours = csvRows(ok(['predict', 'cv.db', '--data', 'folds.csv', '--select', 'min']).stdout).map((r) => Number(r.prediction));
    for (const script of [runTool('Rscript', ['relaxed.R', 'folds.csv'], dir), runTool(PYTHON, ['relaxed.py', 'folds.csv'], dir)]) {
      const theirs = csvRows(script).map((r) => Number(r.prediction));
      expect(theirs).toHaveLength(442);
      theirs.forEach((v, i) => expect(close(v, ours[i], 1e-12), `row ${i + 1}`).toBe(true));
    }
    const refit = csvRows(runTool('Rscript', ['relaxed.R', '--refit', 'folds.csv'], dir));
    for (const term of refit) expect(close(Number(term.refit), Number(term.model)), term.term).toBe(true);
    expect(readFileSync(join(dir, 'relaxed.R'), 'utf8')).toMatch(/relax = TRUE/);
    const py = spawnSync(PYTHON, ['relaxed.py', '--refit', 'folds.csv'], { cwd: dir, encoding: 'utf8' });
    expect(py.status).toBe(1);
    expect(py.stderr).toMatch(/scikit-learn has no relaxed lasso/);
  }, 60_000);

  it("the report draws glmnet's plot(cv.relaxed): one line per γ, the joint choice in words; exports carry a gamma column", () => {
    ok(['report', 'cv.db', '--out', 'relaxed-report']);
    const files = readdirSync(join(dir, 'relaxed-report'));
    expect(files).toContain('relaxed.svg');
    expect(files).not.toContain('methods.svg');
    const html = readFileSync(join(dir, 'relaxed-report', 'report.html'), 'utf8');
    expect(html).toMatch(/The relaxed lasso: validation MSE vs λ for each γ/);
    expect(html).toMatch(/λ and γ are chosen together, as cv\.glmnet with relax = TRUE: l1: λ_min \S+ with γ \S+, λ_1se \S+ with γ 0\.25/);
    const svg = readFileSync(join(dir, 'relaxed-report', 'relaxed.svg'), 'utf8');
    for (const gamma of ['0.25', '0.5', '0.75', '1']) expect(svg).toContain(`>${gamma}<`);
    const trials = csvRows(ok(['export', 'cv.db', '--table', 'trials']).stdout);
    expect(new Set(trials.map((t) => t.gamma))).toEqual(new Set([String(GLMNET_FLOOR), '0.25', '0.5', '0.75', '1']));
  });

  it('the shipped example sweeps/diabetes-relaxed.yaml runs and chooses a blend that beats the plain lasso at its own λ_min', () => {
    const sub = tempDir('regsweep-relaxed-example-');
    ok(['run', join(ROOT, 'sweeps', 'diabetes-relaxed.yaml'), '--out', join(sub, 'd.db'), '--quiet'], sub);
    const best = JSON.parse(ok(['query', join(sub, 'd.db'), '--best', '--json'], sub).stdout) as { best: { gamma: number; mean_min: number }[]; relaxed: { gamma_min: number }[] };
    expect(best.best.map((b) => b.gamma)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const plain = best.best.find((b) => b.gamma === 1)!;
    expect(Math.min(...best.best.map((b) => b.mean_min))).toBeLessThan(plain.mean_min);
    expect(best.relaxed[0].gamma_min).toBeLessThan(1);
    // The path's early end is told once (for γ = 1: every γ shares the path).
    const notes = ok(['query', join(sub, 'd.db'), '--best'], sub).stdout.split('\n').filter((l) => l.includes('paths ended early'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^note: l1 \(gamma=1\): paths ended early/);
  }, 60_000);

  it.runIf(postgresTestable())('on PostgreSQL: the same trials and coefficients as in SQLite', async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'pg.yaml', `name: pg-relaxed\ndata: {path: folds.csv, target: progression}\nvalidation: {kind: kfold, folds: 4, seed: 5}\nmodel: {kind: linear, tol: 1e-9}\nsweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.5], lambda: {auto: 15}, gamma: [0, 0.5], extend: 0}\nworkers: 2\noutput: pg-local.db\n`);
    await runSweep(join(dir, 'pg.yaml'));
    await runSweep(join(dir, 'pg.yaml'), { out: url, log: () => undefined });
    const [fromPg, fromSqlite] = await Promise.all([storedTrialSet(url), storedTrialSet(join(dir, 'pg-local.db'))]);
    expect(fromPg.size).toBe(fromSqlite.size);
    expect(fromPg).toEqual(fromSqlite);
  }, 120_000);
});

describe('bad relaxed sweeps: one line naming the key, exit 2, nothing written', () => {
  const cases: [string, string, RegExp][] = [
    ['a network', 'model: {kind: mlp}\nsweep: {kind: grid, penalty: [l1], lambda: [0.1], gamma: [0]}', /sweep\.gamma: the relaxed lasso refits a penalized path; a network \(mlp\) has none/],
    ['several targets', 'data: {path: d.csv, target: [progression, bmi]}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}, gamma: [0]}', /sweep\.gamma: the relaxed lasso is built for one linear predictor .* this sweep fits mgaussian/],
    ['only ridge', 'sweep: {kind: grid, penalty: [l2], lambda: {auto: 5}, gamma: [0]}', /sweep\.gamma: relaxes the l1 and elasticnet paths; this sweep has l2/],
    ['fista', 'model: {kind: linear, solver: fista}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}, gamma: [0]}', /sweep\.gamma: needs solver cd/],
    ['a γ above 1', 'sweep: {kind: grid, penalty: [l1], lambda: {auto: 5}, gamma: [0, 1.5]}', /sweep\.gamma/],
  ];
  it.each(cases)('%s', (_what, body, message) => {
    const sub = tempDir('regsweep-relaxed-bad-');
    writeFile(sub, 'd.csv', readFileSync(join(ROOT, 'data', 'diabetes.csv'), 'utf8'));
    const data = body.startsWith('data:') ? '' : 'data: {path: d.csv, target: progression}\n';
    writeFile(sub, 'bad.yaml', `name: bad\n${data}${body}\nvalidation: {kind: kfold, folds: 3}\n`);
    const before = readdirSync(sub).sort();
    const r = cli(['run', 'bad.yaml'], sub);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^regsweep: bad\.yaml:\d+/);
    expect(readdirSync(sub).sort()).toEqual(before);
  });
});
