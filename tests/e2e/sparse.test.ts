// Sparse designs (svmlight, Matrix Market) fitted on their compressed columns: glmnet's own paths on its dgCMatrix to
// 1e-6 (gaussian, elastic net, binomial, poisson), cv.glmnet's λ_min / λ_1se with the same foldid, the same sweep read
// dense and sparse giving the same numbers, predict on a sparse file, the PostgreSQL store, and every bad input one
// line with exit 2. Fixture: tests/fixtures/make_glmnet_sparse.R.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/pool/coordinator.js';
import { openStore } from '../../src/store/open.js';
import { BIN, csvRows, FIXTURES, PYTHON, readFixture, ROOT, storedTrialSet, tempDir, writeFile } from '../helpers.js';
import { freshPostgresDatabase, postgresTestable } from '../postgres.js';

interface PathReference {
  name: string;
  alpha: number;
  lambda: number[];
  intercept: number[];
  coef: number[][];
}
interface SparseReference {
  example: { lasso: PathReference; enet: PathReference };
  text: { nnz: number; binomial: PathReference; poisson: PathReference; multinomial: { lambda: number[]; intercept: number[][]; coef: number[][][] }; cv: { lambda: number[]; cvm: number[]; cvsd: number[]; lambda_min: number; lambda_1se: number } };
}

const reference = readFixture<SparseReference>('glmnet_sparse.json');
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

let dir: string;
beforeAll(() => {
  dir = tempDir('regsweep-sparse-');
});

async function fitted(yaml: string, name: string, out = join(dir, `${name}.db`), log: (line: string) => void = () => undefined) {
  await runSweep(writeFile(dir, `${name}.yaml`, yaml), { out, log });
  const store = await openStore(out, { mode: 'read' });
  try {
    const sweep = await store.findSweep();
    return { sweep, coefficients: await store.coefficients(sweep.id, { fold: 'all' }), summary: await store.selections(sweep.id), trials: await store.trials(sweep.id) };
  } finally {
    await store.close();
  }
}

/** The largest difference from glmnet's coefficients (and intercept) over the path, relative to the largest coefficient there. */
function pathError(coefficients: { lambda: number; intercept: number[]; coefs: Float64Array }[], ref: PathReference): number {
  let worst = 0;
  ref.lambda.forEach((lambda, l) => {
    const mine = coefficients.find((c) => Math.abs(c.lambda - lambda) <= 1e-12 * lambda);
    expect(mine, `λ ${lambda}`).toBeDefined();
    const scale = Math.max(1, ...ref.coef[l].map(Math.abs));
    worst = Math.max(worst, Math.abs(mine!.intercept[0] - ref.intercept[l]) / scale);
    ref.coef[l].forEach((b, j) => (worst = Math.max(worst, Math.abs(mine!.coefs[j] - b) / scale)));
  });
  return worst;
}

const lambdaList = (ref: PathReference) => `[${ref.lambda.map((l) => l.toPrecision(17)).join(', ')}]`;
const penaltyOf = (alpha: number) => (alpha === 1 ? 'penalty: [l1]' : `penalty: [elasticnet], l1_ratio: [${alpha}]`);

describe("glmnet's paths on its dgCMatrix", () => {
  it.each(['lasso', 'enet'] as const)('SparseExample (Matrix Market, target in a side file), %s: coefficients to 1e-6 at tol 1e-9', async (which) => {
    const ref = reference.example[which];
    const yaml = `name: example-${which}\ndata: {path: ${join(FIXTURES, 'sparse_example.mtx')}, target_path: ${join(FIXTURES, 'sparse_example_y.csv')}, target: y}\nmodel: {kind: linear, tol: 1e-9}\nvalidation: {kind: none}\nsweep: {kind: grid, ${penaltyOf(ref.alpha)}, lambda: ${lambdaList(ref)}, extend: 0}\nworkers: 1\n`;
    const { coefficients, sweep } = await fitted(yaml, `example-${which}`);
    expect(sweep.p).toBe(20);
    expect(sweep.featureNames.slice(0, 3)).toEqual(['f1', 'f2', 'f3']);
    expect(coefficients).toHaveLength(ref.lambda.length);
    expect(pathError(coefficients, ref)).toBeLessThan(1e-6);
  }, 60_000);

  it.each(['binomial', 'poisson'] as const)('a text-like svmlight file (1 000 × 300), $0 lasso: coefficients to 1e-6, feature names from a file', async (family) => {
    const ref = reference.text[family];
    const file = family === 'binomial' ? 'sparse_text.svm' : 'sparse_text_counts.svm';
    const kind = family === 'binomial' ? 'logistic' : 'poisson';
    const yaml = `name: text-${family}\ndata: {path: ${join(FIXTURES, file)}, feature_names: ${join(FIXTURES, 'sparse_text_names.txt')}}\nmodel: {kind: ${kind}, tol: 1e-9}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: ${lambdaList(ref)}, extend: 0}\nworkers: 1\n`;
    const { coefficients, sweep } = await fitted(yaml, `text-${family}`);
    expect(sweep.p).toBe(300);
    expect(sweep.featureNames[0]).toBe('word1');
    expect(sweep.featureNames[299]).toBe('word300');
    expect(pathError(coefficients, ref)).toBeLessThan(1e-6);
  }, 60_000);
});

describe("glmnet's multinomial on its dgCMatrix", () => {
  it('three classes (svmlight labels 0, 1, 2), the ungrouped lasso: every class\'s coefficients and intercept to 1e-6 along 20 λ', async () => {
    const ref = reference.text.multinomial;
    const yaml = `name: text-multinomial\ndata: {path: ${join(FIXTURES, 'sparse_text_classes.svm')}}\nmodel: {kind: multinomial, tol: 1e-9}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: [${ref.lambda.map((l) => l.toPrecision(17)).join(', ')}], extend: 0}\nworkers: 1\n`;
    const { coefficients, sweep } = await fitted(yaml, 'text-multinomial');
    expect(sweep.classes).toEqual(['0', '1', '2']);
    expect(coefficients).toHaveLength(ref.lambda.length);
    let worst = 0;
    ref.lambda.forEach((lambda, l) => {
      const mine = coefficients.find((c) => Math.abs(c.lambda - lambda) <= 1e-12 * lambda)!;
      const scale = Math.max(1, ...ref.coef[l].flat().map(Math.abs));
      for (let k = 0; k < 3; k++) {
        worst = Math.max(worst, Math.abs(mine.intercept[k] - ref.intercept[l][k]) / scale);
        ref.coef[l][k].forEach((b, j) => (worst = Math.max(worst, Math.abs(mine.coefs[k * 300 + j] - b) / scale)));
      }
    });
    expect(worst).toBeLessThan(1e-6);
  }, 120_000);
});

/** The text data as a Matrix Market file with a side file holding the label, the counts and glmnet's foldid. */
function textAsMatrixMarket(): void {
  const lines = readFileSync(join(FIXTURES, 'sparse_text.svm'), 'utf8').trimEnd().split('\n');
  const counts = readFileSync(join(FIXTURES, 'sparse_text_counts.svm'), 'utf8').trimEnd().split('\n');
  const entries: string[] = [];
  lines.forEach((line, i) => {
    for (const pair of line.split(' ').slice(1)) {
      const [j, v] = pair.split(':');
      entries.push(`${i + 1} ${j} ${v}`);
    }
  });
  writeFile(dir, 'text.mtx', `%%MatrixMarket matrix coordinate real general\n% written by the test\n${lines.length} 300 ${entries.length}\n${entries.join('\n')}\n`);
  writeFile(dir, 'text_y.csv', `label,count,fold\n${lines.map((l, i) => `${l.split(' ')[0]},${counts[i].split(' ')[0]},${((i + 1) % 5) + 1}`).join('\n')}\n`);
}

describe('cross-validation on a sparse design', () => {
  it("cv.glmnet's λ_min and λ_1se with the same foldid (Matrix Market, folds from the side file); the svmlight and Matrix Market readers agree", async () => {
    textAsMatrixMarket();
    const ref = reference.text;
    expect(ref.nnz).toBe(readFileSync(join(dir, 'text.mtx'), 'utf8').trimEnd().split('\n').length - 3);
    const yaml = `name: text-cv\ndata: {path: text.mtx, target_path: text_y.csv, target: label}\nmodel: {kind: logistic, tol: 1e-9}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, penalty: [l1], lambda: ${lambdaList(ref.binomial)}, extend: 0}\nworkers: 2\n`;
    const { summary, coefficients } = await fitted(yaml, 'text-cv');
    const l1 = summary.find((s) => s.penalty === 'l1')!;
    expect(Math.abs(l1.lambdaMin - ref.cv.lambda_min) / ref.cv.lambda_min).toBeLessThan(1e-12);
    expect(Math.abs(l1.lambda1se - ref.cv.lambda_1se) / ref.cv.lambda_1se).toBeLessThan(1e-12);
    // The fits on all rows are those of the svmlight file.
    expect(pathError(coefficients, ref.binomial)).toBeLessThan(1e-6);
  }, 120_000);

  it('the same data read dense (CSV) and sparse (svmlight) give the same curve and coefficients', async () => {
    const lines = readFileSync(join(FIXTURES, 'sparse_text.svm'), 'utf8').trimEnd().split('\n');
    const dense = lines.map((line) => {
      const row = new Array<number>(300).fill(0);
      for (const pair of line.split(' ').slice(1)) {
        const [j, v] = pair.split(':');
        row[Number(j) - 1] = Number(v);
      }
      return [...row, line.split(' ')[0]].join(',');
    });
    writeFile(dir, 'text.csv', `${Array.from({ length: 300 }, (_, j) => `word${j + 1}`).join(',')},label\n${dense.join('\n')}\n`);
    const body = `model: {kind: logistic, tol: 1e-9}\nvalidation: {kind: kfold, folds: 5, seed: 3}\nsweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.5], lambda: {auto: 30, ratio: 0.02}, extend: 0}\nworkers: 2\n`;
    // 2% nonzero: kept on its dense columns here, so that the dense kernels are what is compared.
    const a = await fitted(`name: dense\ndata: {path: text.csv, target: label, compress_columns: never}\n${body}`, 'dense');
    const b = await fitted(`name: sparse\ndata: {path: ${join(FIXTURES, 'sparse_text.svm')}, feature_names: ${join(FIXTURES, 'sparse_text_names.txt')}}\n${body}`, 'sparse');
    expect(b.trials).toHaveLength(a.trials.length);
    // λ_max is a sum over rows in another order: the grids agree to rounding.
    const same = (x: number, y: number) => Math.abs(x - y) <= 1e-12 * Math.abs(y);
    for (const s of a.summary) {
      const t = b.summary.find((x) => x.penalty === s.penalty)!;
      expect(same(t.lambdaMin, s.lambdaMin)).toBe(true);
      expect(same(t.lambda1se, s.lambda1se)).toBe(true);
      expect(Math.abs(t.meanMin - s.meanMin)).toBeLessThan(1e-8);
    }
    let worst = 0;
    for (const c of a.coefficients) {
      const d = b.coefficients.find((x) => x.penalty === c.penalty && same(x.lambda, c.lambda))!;
      c.coefs.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - d.coefs[j]))));
    }
    expect(worst).toBeLessThan(1e-6);
  }, 180_000);

  it('a dense file of 2% nonzeros is fitted on its compressed columns (the run says so) as its svmlight file is; never keeps the dense columns', async () => {
    // text.csv from the test above: the svmlight fixture written out dense.
    const body = `model: {kind: logistic}\nvalidation: {kind: kfold, folds: 5, seed: 3}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 20, ratio: 0.02}, extend: 0}\nworkers: 1\n`;
    const said: string[] = [];
    const auto = await fitted(`name: auto\ndata: {path: text.csv, target: label}\n${body}`, 'auto', join(dir, 'auto.db'), (line) => said.push(line));
    expect(said.join('\n')).toMatch(/text\.csv: 2\.2% of the design's 1000 × 300 values are nonzero: fitted on its compressed columns, as a sparse file is/);
    const sparse = await fitted(`name: svm\ndata: {path: ${join(FIXTURES, 'sparse_text.svm')}}\n${body}`, 'svm');
    const denseSaid: string[] = [];
    const dense = await fitted(`name: never\ndata: {path: text.csv, target: label, compress_columns: never}\n${body}`, 'never', join(dir, 'never.db'), (line) => denseSaid.push(line));
    expect(denseSaid.join('\n')).not.toMatch(/compressed columns/);
    // The same kernels as the svmlight file: the same passes at every λ, the losses to rounding (λ_max is summed in
    // another order); the dense kernels sum in other orders, so their losses differ in the last bits.
    const key = (t: { fold: string; lambda: number }) => `${t.fold}/${t.lambda.toPrecision(12)}`;
    const bySparse = new Map(sparse.trials.map((t) => [key(t), t]));
    expect(auto.trials).toHaveLength(sparse.trials.length);
    for (const t of auto.trials) {
      const u = bySparse.get(key(t))!;
      expect(t.passes).toBe(u.passes);
      expect(Math.abs(t.valLoss! - u.valLoss!)).toBeLessThan(1e-12);
    }
    expect(dense.trials.map(key)).toEqual(auto.trials.map(key));
    expect(auto.trials.some((t, k) => t.valLoss !== dense.trials[k].valLoss)).toBe(true);
    expect(Math.abs(auto.summary[0].meanMin - dense.summary[0].meanMin)).toBeLessThan(1e-6);
    expect(auto.summary[0].lambdaMin).toBe(dense.summary[0].lambdaMin);
  }, 180_000);
});

describe('predict on a sparse file', () => {
  it('equals the predictions of the same rows as a CSV', () => {
    const db = join(dir, 'sparse.db');
    expect(existsSync(db)).toBe(true);
    const fromSparse = cli(['predict', db, '--data', join(FIXTURES, 'sparse_text.svm')], dir);
    expect(fromSparse.status, fromSparse.stderr).toBe(0);
    const fromCsv = cli(['predict', db, '--data', join(dir, 'text.csv')], dir);
    expect(fromCsv.status, fromCsv.stderr).toBe(0);
    const a = csvRows(fromSparse.stdout);
    const b = csvRows(fromCsv.stdout);
    expect(a).toHaveLength(1000);
    expect(a).toEqual(b);
  }, 60_000);

  it("the exported model.py (scikit-learn on load_svmlight_file's CSR) and model.R (a dgCMatrix) predict a sparse file as regsweep does", () => {
    const db = join(dir, 'sparse.db');
    const ours = csvRows(cli(['predict', db, '--data', join(FIXTURES, 'sparse_text.svm')], dir).stdout);
    for (const [format, file, command] of [['sklearn', 'model.py', PYTHON], ['glmnet', 'model.R', 'Rscript']] as const) {
      const exported = cli(['export', db, '--model', '--format', format, '--out', join(dir, file)], dir);
      expect(exported.status, exported.stderr).toBe(0);
      for (const data of [join(FIXTURES, 'sparse_text.svm'), join(dir, 'text.mtx')]) {
        const r = spawnSync(command, [join(dir, file), data], { encoding: 'utf8', timeout: 120_000 });
        expect(r.status, `${file} ${data}: ${r.stderr}`).toBe(0);
        const theirs = csvRows(r.stdout);
        expect(theirs).toHaveLength(ours.length);
        const column = Object.keys(ours[0])[0];
        let worst = 0;
        ours.forEach((row, i) => (worst = Math.max(worst, Math.abs(Number(row[column]) - Number(theirs[i][column])))));
        expect(worst, `${file} on ${data}`).toBeLessThan(1e-12);
        expect(theirs.map((t) => t[Object.keys(t)[1]])).toEqual(ours.map((o) => o[Object.keys(o)[1]]));
      }
    }
  }, 120_000);
});

describe.runIf(postgresTestable())('on PostgreSQL', () => {
  it('a sparse sweep stores its data once; a worker fetches it and finishes the sweep; the trials are those of SQLite', async () => {
    const url = await freshPostgresDatabase();
    const yaml = `name: pg-sparse\ndata: {path: ${join(FIXTURES, 'sparse_text_counts.svm')}}\nmodel: {kind: poisson, tol: 1e-9}\nvalidation: {kind: kfold, folds: 4, seed: 1}\nsweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.3, 0.7], lambda: {auto: 20, ratio: 0.05}, extend: 0}\nworkers: 1\n`;
    await fitted(yaml, 'pg-sparse-local');
    // The run stops as soon as its tasks are queued; the worker does the rest from the stored data.
    const stop = new AbortController();
    await runSweep(writeFile(dir, 'pg-sparse.yaml', yaml), { out: url, log: () => undefined, signal: stop.signal, onStart: () => stop.abort() }).catch(() => undefined);
    const store = await openStore(url, { mode: 'read' });
    try {
      const sweep = await store.findSweep();
      const stored = await store.loadDataset(sweep.dataHash);
      expect(stored?.nnz).toBe(reference.text.nnz);
      expect(stored?.X.length).toBe(2 * reference.text.nnz + 301);
    } finally {
      await store.close();
    }
    const worker = cli(['worker', url, '--sweep', 'pg-sparse', '--workers', '1', '--quiet'], dir);
    expect(worker.status, worker.stderr).toBe(0);
    const [fromPg, fromSqlite] = await Promise.all([storedTrialSet(url), storedTrialSet(join(dir, 'pg-sparse-local.db'))]);
    expect(fromPg.size).toBe(fromSqlite.size);
    expect(fromPg).toEqual(fromSqlite);
  }, 120_000);
});

describe('the command line', () => {
  it('the run says the design is sparse, its size and density; query and report read the sweep', () => {
    const sub = tempDir('regsweep-sparse-cli-');
    writeFile(sub, 'sweep.yaml', `name: cli\ndata: {path: ${join(FIXTURES, 'sparse_example.mtx')}, target_path: ${join(FIXTURES, 'sparse_example_y.csv')}, target: y}\nmodel: {kind: linear}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.5], lambda: {auto: 30}}\n`);
    const r = cli(['run', 'sweep.yaml'], sub);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/sparse_example\.mtx: a sparse design, 100 × 20 with 322 nonzeros \(16\.1%\), fitted on its compressed columns/);
    const best = cli(['query', join(sub, 'results', 'cli.db'), '--best'], sub);
    expect(best.status, best.stderr).toBe(0);
    expect(best.stdout).toMatch(/^l1 /m);
    // A row per nonzero coefficient (and the intercept) of each fit, the same numbers as the wide table's columns.
    const wide = csvRows(cli(['export', join(sub, 'results', 'cli.db'), '--table', 'coefficients', '--fold', 'all'], sub).stdout);
    const long = csvRows(cli(['export', join(sub, 'results', 'cli.db'), '--table', 'coefficients', '--fold', 'all', '--layout', 'long'], sub).stdout);
    const features = Array.from({ length: 20 }, (_, j) => `f${j + 1}`);
    expect(long).toHaveLength(wide.reduce((count, row) => count + 1 + features.filter((f) => Number(row[f]) !== 0).length, 0));
    for (const row of long) {
      const fit = wide.find((w) => w.penalty === row.penalty && w.lambda === row.lambda && w.l1_ratio === row.l1_ratio)!;
      expect(Number(row.value)).toBe(Number(fit[row.term]));
    }
    expect(cli(['export', join(sub, 'results', 'cli.db'), '--table', 'trials', '--layout', 'long'], sub).stderr).toMatch(/--layout: applies to --table coefficients \(not trials\)/);
    const report = cli(['report', join(sub, 'results', 'cli.db'), '--out', join(sub, 'report')], sub);
    expect(report.status, report.stderr).toBe(0);
    const html = readFileSync(join(sub, 'report', 'report.html'), 'utf8');
    expect(html).toContain('f1');
  }, 60_000);
});

describe('the shipped example', () => {
  it('sweeps/text-sparse.yaml runs as shipped: the eight words of the true model are in the fit at λ_1se with their signs, and few others', () => {
    const sub = tempDir('regsweep-sparse-example-');
    const r = cli(['run', join(ROOT, 'sweeps', 'text-sparse.yaml'), '--out', join(sub, 'text.db'), '--quiet'], sub);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^l1 /m);
    const model = cli(['export', join(sub, 'text.db'), '--model', '--format', 'json', '--penalty', 'l1', '--select', '1se'], sub);
    expect(model.status, model.stderr).toBe(0);
    const card = JSON.parse(model.stdout) as { features: string[]; coefficients: Record<string, number> };
    expect(card.features).toHaveLength(300);
    // make_glmnet_sparse.R's true model: words 1, 2, 3, 5, 8, 13, 21, 34 with effects ±0.7 … 1.2; each is in the fit
    // with the sign of its effect, and the fit keeps fewer than a fifth of the words.
    const truth: Record<string, number> = { word1: 1.2, word2: -1, word3: 0.8, word5: -0.9, word8: 1.1, word13: -0.7, word21: 0.9, word34: 1 };
    for (const [word, effect] of Object.entries(truth)) expect(Math.sign(card.coefficients[word]), word).toBe(Math.sign(effect));
    expect(Object.values(card.coefficients).filter((b) => b !== 0).length).toBeLessThan(60);
  }, 120_000);
});

describe('bad sparse input: one line naming the file and line, exit 2, nothing written', () => {
  const cases: [string, string, string, RegExp][] = [
    ['an index beyond the size line', 'bad.mtx', '%%MatrixMarket matrix coordinate real general\n3 2 2\n1 1 1.5\n2 3 2\n', /bad\.mtx:4: column 3 is outside 1 … 2 \(the size line 2\)/],
    ['a value that is not a number', 'bad.svm', '1 1:0.5 2:abc\n0 1:1\n', /bad\.svm:1: "2:abc": "abc" is not a number/],
    ['an index twice on a line', 'twice.svm', '1 1:0.5 3:1 3:2\n0 1:1\n', /twice\.svm:1: index 3 appears twice on the line/],
    ['indices out of order', 'order.svm', '1 3:0.5 1:1\n0 1:1\n', /order\.svm:1: index 1 after 3: indices on a line are increasing/],
    ['an empty file', 'empty.svm', '', /empty\.svm: the file is empty/],
    ['a qid', 'qid.svm', '1 qid:3 1:0.5\n0 qid:3 1:1\n', /qid\.svm:1: qid \(a ranking query id\) is not read/],
    ['an entry twice', 'dup.mtx', '%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 1\n1 1 3\n', /dup\.mtx: lines 3 and 5 both give row 1, column 1/],
    ['fewer entries than the size line', 'short.mtx', '%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n', /short\.mtx: 1 entries, but the size line 2 gives 3/],
    ['a dense Matrix Market file', 'array.mtx', '%%MatrixMarket matrix array real general\n2 1\n1\n2\n', /array\.mtx:1: a Matrix Market "array" file/],
  ];
  it.each(cases)('%s', (_what, file, content, message) => {
    const sub = tempDir('regsweep-sparse-bad-');
    writeFile(sub, file, content);
    writeFile(sub, 'y.csv', 'y\n1\n0\n1\n');
    const side = file.endsWith('.mtx') ? ', target_path: y.csv' : '';
    writeFile(sub, 'sweep.yaml', `name: bad\ndata: {path: ${file}${side}}\nmodel: {kind: linear}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n`);
    const before = readdirSync(sub).sort();
    const r = cli(['run', 'sweep.yaml'], sub);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(sub).sort()).toEqual(before);
  });

  it('side files: the target file has another row count, names of another count, no target file, a network', () => {
    const sub = tempDir('regsweep-sparse-side-');
    writeFile(sub, 'x.mtx', '%%MatrixMarket matrix coordinate real general\n3 2 2\n1 1 1.5\n2 2 2\n');
    writeFile(sub, 'y.csv', 'y\n1\n0\n');
    writeFile(sub, 'names.txt', 'a\nb\nc\n');
    writeFile(sub, 'x.svm', '1 1:1 2:1\n0 1:1\n1 2:3\n');
    const run = (data: string, model = 'linear') => {
      writeFile(sub, 'sweep.yaml', `name: side\ndata: {${data}}\nmodel: {kind: ${model}}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n`);
      const r = cli(['run', 'sweep.yaml'], sub);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      return r.stderr;
    };
    expect(run('path: x.mtx, target_path: y.csv')).toMatch(/y\.csv: 2 rows, but the matrix .*x\.mtx has 3/);
    expect(run('path: x.mtx')).toMatch(/x\.mtx: a Matrix Market file holds the features only; give the target's file as data.target_path/);
    expect(run('path: x.svm, feature_names: names.txt')).toMatch(/names\.txt: 3 names for the 2 columns of the matrix/);
    expect(run('path: x.svm', 'mlp')).toMatch(/sweep\.yaml:\d+: model\.kind: a network \(mlp\) takes a dense design/);
    expect(existsSync(join(sub, 'results'))).toBe(false);
  });
});
