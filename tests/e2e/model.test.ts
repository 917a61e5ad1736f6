// Using the chosen model: predict, export --model (json, scikit-learn, R) and compare, through the CLI. The scripts
// are run with Debian's scikit-learn and R glmnet (.ci/run installs them); their predictions must equal regsweep's and
// their refits must land on regsweep's coefficients.
import { spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvRows, FIXTURES, PYTHON, ROOT, runTool, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const cli = (args: string[], cwd: string, nodeArgs: string[] = []) =>
  spawnSync(process.execPath, [...nodeArgs, BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
const run = runTool;
const rows = csvRows;

const sweep = (name: string, data: string, target: string, model: string, extra = '') => `name: ${name}
data: {path: ${data}, target: ${target}${extra}}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: ${model}, tol: 1e-14}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {auto: 25, ratio: 1e-3}, l1_ratio: [0.5]}
workers: 2
`;

let dir: string;
beforeAll(() => {
  dir = tempDir('regsweep-model-');
  copyFileSync(join(FIXTURES, 'diabetes.csv'), join(dir, 'diabetes.csv'));
  copyFileSync(join(FIXTURES, 'breast_cancer.csv'), join(dir, 'breast_cancer.csv'));
  writeFile(dir, 'diabetes.yaml', sweep('diabetes', 'diabetes.csv', 'progression', 'linear'));
  writeFile(dir, 'cancer.yaml', sweep('cancer', 'breast_cancer.csv', 'diagnosis', 'logistic', ', classes: [benign, malignant]'));
  for (const [config, db] of [['diabetes.yaml', 'diabetes.db'], ['cancer.yaml', 'cancer.db']]) {
    const r = cli(['run', config, '--out', db, '--quiet'], dir);
    expect(r.status, r.stderr).toBe(0);
  }
  // New rows as a user would have them: columns in another order, an id column, the target absent.
  const d = rows(readFileSync(join(dir, 'diabetes.csv'), 'utf8'));
  const order = ['s6', 'bmi', 'id', 'age', 's1', 's2', 's3', 's4', 's5', 'bp', 'sex'];
  writeFile(dir, 'new-diabetes.csv', [order.join(','), ...d.map((r, i) => order.map((c) => (c === 'id' ? `p${i}` : r[c])).join(','))].join('\n') + '\n');
}, 300_000);

/** The stored trial a model was chosen from, read with SQL (independent of the code under test). */
function storedTrial(db: string, id: number) {
  const conn = new Database(join(dir, db), { readonly: true });
  try {
    return conn.prepare('SELECT penalty, lambda, l1_ratio, fold, train_loss, n_train FROM trials WHERE id = ?').get(id) as { penalty: string; lambda: number; l1_ratio: number; fold: string; train_loss: number; n_train: number };
  } finally {
    conn.close();
  }
}

function card(db: string, args: string[] = []) {
  const r = cli(['export', db, '--model', ...args], dir);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { penalty: string; lambda: number; l1_ratio: number; intercept: number; coefficients: Record<string, number>; fit: { trial_id: number }; selection: { rule: string; lambda_1se: number; lambda_min: number; cv_mean: number }; nonzero: number };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('predict', () => {
  it('on the training CSV reproduces the stored training loss of the selected trial (linear: mean squared error)', () => {
    for (const penalty of ['l1', 'l2', 'elasticnet']) {
      const r = cli(['predict', 'diabetes.db', '--data', 'diabetes.csv', '--penalty', penalty, '--select', 'min'], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/column "progression" is the model's target; predictions do not read it/);
      const y = rows(readFileSync(join(dir, 'diabetes.csv'), 'utf8')).map((row) => Number(row.progression));
      const predicted = rows(r.stdout).map((row) => Number(row.prediction));
      expect(predicted.length).toBe(442);
      const mse = predicted.reduce((s, v, i) => s + (y[i] - v) ** 2, 0) / y.length;
      const trial = storedTrial('diabetes.db', card('diabetes.db', ['--penalty', penalty, '--select', 'min']).fit.trial_id);
      expect([trial.fold, trial.penalty]).toEqual(['all', penalty]);
      expect(relative(mse, trial.train_loss)).toBeLessThan(1e-12);
    }
  });

  it('on the training CSV reproduces the stored training loss of the selected trial (logistic: mean log loss), labels in the original strings', () => {
    const r = cli(['predict', 'cancer.db', '--data', 'breast_cancer.csv', '--keep', 'diagnosis'], dir);
    expect(r.status, r.stderr).toBe(0);
    const out = rows(r.stdout);
    expect(Object.keys(out[0])).toEqual(['diagnosis', 'probability', 'label']);
    let loss = 0;
    for (const row of out) {
      const p = Number(row.probability);
      loss -= row.diagnosis === 'malignant' ? Math.log(p) : Math.log1p(-p);
      expect(row.label).toBe(p > 0.5 ? 'malignant' : 'benign');
    }
    loss /= out.length;
    const trial = storedTrial('cancer.db', card('cancer.db').fit.trial_id);
    expect(relative(loss, trial.train_loss)).toBeLessThan(1e-12);
    expect(out.filter((row) => row.label === row.diagnosis).length / out.length).toBeGreaterThan(0.9);
  });

  it('finds features by name in any order, keeps an id column, lists ignored columns once, and writes --out atomically', () => {
    const base = rows(cli(['predict', 'diabetes.db', '--data', 'diabetes.csv'], dir).stdout);
    const r = cli(['predict', 'diabetes.db', '--data', 'new-diabetes.csv', '--keep', 'id', '--out', 'pred.csv'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/predictions: 442 rows → pred.csv/);
    const out = rows(readFileSync(join(dir, 'pred.csv'), 'utf8'));
    expect(out.map((row) => row.id)).toEqual(base.map((_, i) => `p${i}`));
    // Each prediction sums the same products in another order: equal to rounding.
    out.forEach((row, i) => expect(relative(Number(row.prediction), Number(base[i].prediction))).toBeLessThan(1e-12));
    const extra = cli(['predict', 'diabetes.db', '--data', 'new-diabetes.csv'], dir);
    expect(extra.stderr.match(/ignored 1 column that the model does not use: id/g)).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('streams: a file far larger than the heap it is given is predicted chunk by chunk', async () => {
    const big = join(dir, 'big.csv');
    const source = readFileSync(join(dir, 'diabetes.csv'), 'utf8').trim().split('\n');
    const out = createWriteStream(big);
    out.write(source[0] + '\n');
    const body = source.slice(1).join('\n') + '\n';
    // 442 rows × 1500 ≈ 660 000 rows, about 28 MB of CSV in and 12 MB out, under a 24 MB heap.
    for (let k = 0; k < 1500; k++) if (!out.write(body)) await new Promise((r) => out.once('drain', r));
    await new Promise((r) => out.end(r));
    expect(statSync(big).size).toBeGreaterThan(25e6);
    const r = cli(['predict', 'diabetes.db', '--data', 'big.csv', '--out', 'big-pred.csv'], dir, ['--max-old-space-size=24']);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'big-pred.csv'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(1 + 442 * 1500);
    const first = rows(cli(['predict', 'diabetes.db', '--data', 'diabetes.csv'], dir).stdout).map((row) => row.prediction);
    expect(lines[1 + 442 * 777 + 5]).toBe(first[5]);
  }, 180_000);

  it('bad inputs: one clear line each, exit 2, no output file', () => {
    writeFile(dir, 'missing.csv', 'age,sex,bmi\n1,2,3\n');
    writeFile(dir, 'text.csv', 'age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n1,2,3,4,5,6,7,8,9,10\n1,2,three,4,5,6,7,8,9,10\n');
    const cases: [string[], RegExp][] = [
      [['predict', 'diabetes.db', '--data', 'missing.csv', '--out', 'x.csv'], /missing.csv:1: the model's features "bp", "s1", .*"s6" are not a column/],
      [['predict', 'diabetes.db', '--data', 'text.csv', '--out', 'x.csv'], /text.csv:3:3: column "bmi": "three" is not a number/],
      [['predict', 'diabetes.db', '--data', 'diabetes.csv', '--select', 'lambda=1e6', '--out', 'x.csv'], /--select lambda=1000000: outside the grid of .* which runs from λ/],
      [['predict', 'diabetes.db', '--data', 'diabetes.csv', '--select', 'lambda=abc'], /--select lambda=abc: expected lambda=VALUE with a non-negative number/],
      [['predict', 'diabetes.db', '--data', 'diabetes.csv', '--penalty', 'l3'], /--penalty l3: expected one of none, l1, l2, elasticnet/],
      [['predict', 'diabetes.db', '--data', 'diabetes.csv', '--keep', 'nope'], /--keep nope: not a column of diabetes.csv/],
      [['predict', 'diabetes.db', '--data', 'diabetes.csv', '--out', 'diabetes.db'], /--out diabetes.db: that is the database/],
      [['predict', 'diabetes.db', '--data', 'diabetes.csv', '--out', 'diabetes.csv'], /--out diabetes.csv: that is the data file/],
    ];
    for (const [args, expected] of cases) {
      const r = cli(args, dir);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(expected);
    }
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
    expect(statSync(join(dir, 'diabetes.csv')).size).toBeGreaterThan(10_000);
  });

  it('logistic: the label column may be absent (fine) or present (ignored, said once)', () => {
    const withLabel = cli(['predict', 'cancer.db', '--data', 'breast_cancer.csv'], dir);
    expect(withLabel.status).toBe(0);
    expect(withLabel.stderr.match(/column "diagnosis" is the model's target/g)).toHaveLength(1);
    const text = readFileSync(join(dir, 'breast_cancer.csv'), 'utf8').trim().split('\n');
    const drop = text[0].split(',').indexOf('diagnosis');
    writeFile(dir, 'unlabelled.csv', text.map((line) => line.split(',').filter((_, j) => j !== drop).join(',')).join('\n') + '\n');
    const without = cli(['predict', 'cancer.db', '--data', 'unlabelled.csv'], dir);
    expect(without.status, without.stderr).toBe(0);
    expect(without.stderr).toBe('');
    expect(rows(without.stdout).map((r) => r.probability)).toEqual(rows(withLabel.stdout).map((r) => r.probability));
  });

  it('a sweep with no finished fit on all rows at the chosen λ: one line, exit 2', () => {
    copyFileSync(join(dir, 'diabetes.db'), join(dir, 'broken.db'));
    const conn = new Database(join(dir, 'broken.db'));
    conn.prepare(`UPDATE trials SET status = 'failed', error = 'worker crashed' WHERE fold = 'all'`).run();
    conn.close();
    const r = cli(['predict', 'broken.db', '--data', 'diabetes.csv'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/the fit on all rows of .* at λ .* failed \(worker crashed\); run the sweep again/);
  });
});

describe('export --model', () => {
  it('json: the model card names the choice, and its coefficients and intercept reproduce predict', () => {
    const m = card('diabetes.db', ['--select', '1se']);
    const best = JSON.parse(cli(['query', 'diabetes.db', '--best', '--json'], dir).stdout) as { best: { penalty: string; l1_ratio: number; lambda_1se: number; mean_min: number }[] };
    const top = best.best.reduce((a, b) => (b.mean_min < a.mean_min ? b : a));
    expect([m.penalty, m.l1_ratio, m.lambda]).toEqual([top.penalty, top.l1_ratio, top.lambda_1se]);
    expect(m.selection.rule).toBe('1se');
    expect(m.nonzero).toBe(Object.values(m.coefficients).filter((v) => v !== 0).length);
    const data = rows(readFileSync(join(dir, 'diabetes.csv'), 'utf8'));
    const predicted = rows(cli(['predict', 'diabetes.db', '--data', 'diabetes.csv'], dir).stdout);
    for (const i of [0, 100, 441]) {
      const eta = m.intercept + Object.entries(m.coefficients).reduce((s, [f, b]) => s + b * Number(data[i][f]), 0);
      expect(relative(eta, Number(predicted[i].prediction))).toBeLessThan(1e-12);
    }
    const stated = cli(['export', 'diabetes.db', '--model', '--penalty', 'l1', '--select', `lambda=${m.selection.lambda_min * 1.01}`], dir);
    expect(stated.stderr).toMatch(/the nearest grid λ is/);
  });

  for (const [db, data, label] of [
    ['diabetes.db', 'new-diabetes.csv', 'linear'],
    ['cancer.db', 'breast_cancer.csv', 'logistic'],
  ] as const) {
    for (const penalty of ['l1', 'l2', 'elasticnet']) {
      it(`${label} ${penalty}: model.py and model.R predict as regsweep does (1e-10), and their refits land on its coefficients (1e-6)`, () => {
        const keep = data === 'new-diabetes.csv' ? ['--keep', 'id'] : [];
        const ours = rows(cli(['predict', db, '--data', data, '--penalty', penalty, ...keep], dir).stdout);
        const stem = `${label}-${penalty}`;
        for (const [format, file] of [['sklearn', `${stem}.py`], ['glmnet', `${stem}.R`]] as const) {
          const e = cli(['export', db, '--model', '--format', format, '--penalty', penalty, '--out', file], dir);
          expect(e.status, e.stderr).toBe(0);
          const [cmd, args] = format === 'sklearn' ? [PYTHON, [file]] : ['Rscript', [file]];
          const theirs = rows(run(cmd, [...args, data, ...keep], dir));
          expect(Object.keys(theirs[0])).toEqual(Object.keys(ours[0]));
          expect(theirs.length).toBe(ours.length);
          theirs.forEach((row, i) => {
            for (const column of Object.keys(row)) {
              if (column === 'label' || column === 'id') expect(row[column]).toBe(ours[i][column]);
              else expect(relative(Number(row[column]), Number(ours[i][column])), `${file} row ${i} ${column}`).toBeLessThan(1e-10);
            }
          });
          // The refit from scratch, with the call the script shows, against regsweep's coefficients.
          const train = label === 'linear' ? 'diabetes.csv' : 'breast_cancer.csv';
          const terms = rows(run(cmd, [...args, '--refit', train], dir));
          const model = terms.map((t) => Number(t.model));
          const scale = Math.max(1, ...model.map(Math.abs));
          const worst = Math.max(...terms.map((t) => Math.abs(Number(t.refit) - Number(t.model))));
          expect(worst / scale, `${file} --refit`).toBeLessThan(1e-6);
        }
      }, 120_000);
    }
  }

  it('refuses what it cannot write, in one line', () => {
    const cases: [string[], RegExp][] = [
      [['export', 'diabetes.db'], /export: give --table NAME or --model/],
      [['export', 'diabetes.db', '--model', '--table', 'trials'], /export: give --table NAME or --model/],
      [['export', 'diabetes.db', '--model', '--format', 'csv'], /--model --format csv: a model is written as json, sklearn/],
      [['export', 'diabetes.db', '--table', 'trials', '--format', 'sklearn'], /--format sklearn: applies to --model/],
      [['export', 'diabetes.db', '--table', 'trials', '--select', 'min'], /--penalty, --l1-ratio and --select choose a model/],
    ];
    for (const [args, expected] of cases) {
      const r = cli(args, dir);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(expected);
    }
  });
});

describe('compare', () => {
  it('two sweeps of one database, or two databases: the best per penalty side by side, a report with the curves overlaid', () => {
    writeFile(dir, 'diabetes-l1.yaml', sweep('diabetes-l1', 'diabetes.csv', 'progression', 'linear').replace('l1_ratio: [0.5]', 'l1_ratio: [0.9]'));
    expect(cli(['run', 'diabetes-l1.yaml', '--out', 'diabetes.db', '--quiet'], dir).status).toBe(0);
    const r = cli(['compare', 'diabetes.db', '--json', '--out', 'cmp'], dir);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as { same_data: boolean; sweeps: { name: string }[]; best: { penalty: string; A: { lambda_min: number; l1_ratio: number } | null; B: { l1_ratio: number } | null }[]; notes: string[] };
    expect(c.sweeps.map((s) => s.name)).toEqual(['diabetes', 'diabetes-l1']);
    expect(c.same_data).toBe(true);
    expect(c.best.map((b) => b.penalty)).toEqual(['elasticnet', 'l1', 'l2']);
    expect(c.best[0].A!.l1_ratio).toBe(0.5);
    expect(c.best[0].B!.l1_ratio).toBe(0.9);
    // The same figures query --best gives for sweep A.
    const a = JSON.parse(cli(['query', 'diabetes.db', '--best', '--json', '--sweep', 'diabetes'], dir).stdout) as { best: { penalty: string; lambda_min: number }[] };
    expect(c.best.find((b) => b.penalty === 'l1')!.A!.lambda_min).toBe(a.best.find((b) => b.penalty === 'l1')!.lambda_min);
    for (const f of ['compare.html', 'compare-fit.vl.json', 'compare-fit.svg', 'compare-fit.png']) expect(existsSync(join(dir, 'cmp', f)), f).toBe(true);
    const spec = JSON.parse(readFileSync(join(dir, 'cmp', 'compare-fit.vl.json'), 'utf8')) as { data: { values: { sweep: string; penalty: string }[] } };
    expect(new Set(spec.data.values.map((v) => v.sweep))).toEqual(new Set(['A: diabetes', 'B: diabetes-l1']));

    const text = cli(['compare', 'diabetes.db', 'cancer.db', '--no-report'], dir);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/A: sweep diabetes-l1 .*\nB: sweep cancer/);
    expect(text.stdout).toMatch(/note: no verdict: A fits linear \(mean squared error\) and B logistic \(log-loss\): their val_loss are not on one scale/);
    const named = cli(['compare', 'diabetes.db', '--sweep', 'diabetes-l1', '--sweep', 'diabetes', '--json', '--no-report'], dir);
    expect((JSON.parse(named.stdout) as { sweeps: { name: string }[] }).sweeps.map((s) => s.name)).toEqual(['diabetes-l1', 'diabetes']);
  });

  it('says what is missing when there is nothing to compare', () => {
    const r = cli(['compare', 'cancer.db'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cancer.db holds 1 sweep; compare needs two/);
  });
});
