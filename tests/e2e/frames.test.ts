// Data frames as a user has them (issue 31): text factors and NA strings as R writes them, gaps filled from each
// fold's training rows, and the encoding carried into predict, model.py and model.R. The cross-validation curve is
// checked against cv.glmnet on the full indicator matrix (tests/fixtures/make_glmnet_frames.R).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { fillGroups, fillValue } from '../../src/data/imputation.js';
import { fitTask } from '../../src/fitting/fitTask.js';
import { runSweep, sharedData } from '../../src/pool/coordinator.js';
import { openStore } from '../../src/store/open.js';
import { assignFolds } from '../../src/plan/folds.js';
import { csvRows, FIXTURES, kernels, PYTHON, readFixture, ROOT, runTool, startCli, storedTrialSet, tempDir, until, writeFile } from '../helpers.js';
import { freshPostgresDatabase, sql, postgresTestable } from '../postgres.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

interface FrameReference {
  rows: number;
  features: string[];
  lambda: number[];
  cvm: number[];
  cvsd: number[];
}

let dir: string;
beforeAll(() => {
  dir = tempDir('regsweep-frames-');
  copyFileSync(join(FIXTURES, 'penguins.csv'), join(dir, 'penguins.csv'));
});

describe('a data frame as R writes it', () => {
  it('runs with data.missing: drop and nothing else: factors become named indicators, the NA rows are dropped and said', () => {
    writeFile(dir, 'penguins.yaml', 'name: penguins\ndata: {path: penguins.csv, target: species, missing: drop}\nmodel: {kind: logistic}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 20, ratio: 0.01}, extend: 0}\nworkers: 2\n');
    const r = cli(['run', 'penguins.yaml'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('penguins.csv: 11 rows with a missing value dropped (data.missing: drop); 333 left');
    expect(r.stderr).toContain('2 categorical columns, one indicator per level: island (3 levels), sex (2 levels)');
    const card = cli(['export', 'results/penguins.db', '--model'], dir);
    expect(card.status, card.stderr).toBe(0);
    const coefficients = JSON.parse(card.stdout).coefficients as Record<string, Record<string, number>>;
    expect(Object.keys(coefficients.Adelie)).toEqual([
      'island=Biscoe', 'island=Dream', 'island=Torgersen', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex=female', 'sex=male', 'year',
    ]);
  });

  it("gives cv.glmnet's curve on the full indicator matrix with the same folds (multinomial), to 1e-7", async () => {
    const reference = readFixture<FrameReference>('glmnet_frames.json');
    // The reference's folds, as a column of the file: (row − 1) mod 5 + 1 over the rows as written.
    const lines = readFileSync(join(FIXTURES, 'penguins.csv'), 'utf8').trimEnd().split('\n');
    writeFile(dir, 'folded.csv', [`${lines[0]},"fold"`, ...lines.slice(1).map((l, i) => `${l},${(i % 5) + 1}`)].join('\n') + '\n');
    const config = writeFile(
      dir,
      'folded.yaml',
      `name: folded\ndata: {path: folded.csv, target: species, missing: drop}\nmodel: {kind: logistic, tol: 1e-12}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, penalty: [l1], lambda: [${reference.lambda.join(', ')}], extend: 0}\nworkers: 2\n`,
    );
    const result = await runSweep(config, { out: join(dir, 'folded.db') });
    expect(result.sweep.n).toBe(reference.rows);
    expect(result.sweep.featureNames.map((f) => f.replace('=', ''))).toEqual(reference.features);
    const curve = async (db: string) => {
      const store = await openStore(join(dir, db), { mode: 'read' });
      try {
        return (await store.summary((await store.findSweep()).id)).sort((a, b) => b.lambda - a.lambda);
      } finally {
        await store.close();
      }
    };
    const points = await curve('folded.db');
    // 1e-7, not tighter: glmnet's fit and ours differ in the last digits whatever either's threshold.
    expect(points.length).toBe(reference.lambda.length);
    points.forEach((point, l) => {
      expect(point.lambda).toBe(reference.lambda[l]);
      expect(Math.abs(point.mean - reference.cvm[l]), `λ ${point.lambda}`).toBeLessThan(1e-7);
      expect(Math.abs(point.se - reference.cvsd[l]), `λ ${point.lambda}`).toBeLessThan(1e-7);
    });
  }, 300_000);
});

/** A frame with a factor, a numeric column and gaps in both (the classic tips-like shape), as text. */
function gappyFrame(rows: number, seed: number, weights = false): string {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const days = ['Fri', 'Sat', 'Sun', 'Thur'];
  const lines = [`bill,day,size,smoker,tip${weights ? ',w' : ''}`];
  for (let i = 0; i < rows; i++) {
    const bill = 5 + 45 * random();
    const day = days[Math.floor(random() * 4)];
    const size = 1 + Math.floor(random() * 5);
    const smoker = random() < 0.4 ? 'yes' : 'no';
    const tip = 0.15 * bill + (day === 'Sat' ? 0.8 : day === 'Sun' ? 0.4 : 0) + 0.2 * size + (random() - 0.5);
    const gap = random();
    lines.push([gap < 0.08 ? 'NA' : bill.toFixed(2), gap > 0.93 ? 'NA' : day, gap > 0.5 && gap < 0.55 ? '' : String(size), smoker, tip.toFixed(3), ...(weights ? [String(i % 3)] : [])].join(','));
  }
  return lines.join('\n') + '\n';
}

describe("cv.glmnet's clipped deviance (model.clip_probabilities)", () => {
  it('near-separable binomial data: without the clip the unclipped curve, with 1e-5 cv.glmnet\'s own, each to 1e-5', async () => {
    const reference = readFixture<{ lambda: number[]; cvm: number[]; cvsd: number[]; cvm_clipped: number[]; cvsd_clipped: number[] }>('glmnet_clip.json');
    const lines = readFileSync(join(FIXTURES, 'breast_cancer.csv'), 'utf8').trimEnd().split('\n');
    writeFile(dir, 'cancer-folds.csv', [`${lines[0]},fold`, ...lines.slice(1).map((l, i) => `${l},${(i % 5) + 1}`)].join('\n') + '\n');
    const sweep = (name: string, clip: string) =>
      writeFile(
        dir,
        `${name}.yaml`,
        `name: ${name}\ndata: {path: cancer-folds.csv, target: diagnosis}\nmodel: {kind: logistic, tol: 1e-12${clip}}\nvalidation: {kind: column, column: fold}\nsweep: {kind: grid, penalty: [l1], lambda: [${reference.lambda.join(', ')}], extend: 0}\nworkers: 2\n`,
      );
    const curve = async (name: string, clip: string) => {
      await runSweep(sweep(name, clip), { out: join(dir, `${name}.db`) });
      const store = await openStore(join(dir, `${name}.db`), { mode: 'read' });
      try {
        return (await store.summary((await store.findSweep()).id)).sort((a, b) => b.lambda - a.lambda);
      } finally {
        await store.close();
      }
    };
    // 1e-5: near separation the two solvers' out-of-fold probabilities agree only to about 1e-6.
    const close = (a: number, b: number) => Math.abs(a - b) / b < 1e-5;
    const plain = await curve('unclipped', '');
    const clipped = await curve('clipped', ', clip_probabilities: 1e-5');
    let moved = 0;
    reference.lambda.forEach((lambda, l) => {
      expect(close(plain[l].mean, reference.cvm[l]), `λ ${lambda}: ${plain[l].mean} vs ${reference.cvm[l]}`).toBe(true);
      expect(Math.abs(plain[l].se - reference.cvsd[l]), `λ ${lambda} se`).toBeLessThan(1e-6);
      expect(close(clipped[l].mean, reference.cvm_clipped[l]), `λ ${lambda}: ${clipped[l].mean} vs ${reference.cvm_clipped[l]}`).toBe(true);
      expect(Math.abs(clipped[l].se - reference.cvsd_clipped[l]), `λ ${lambda} se`).toBeLessThan(1e-6);
      if (Math.abs(reference.cvm[l] - reference.cvm_clipped[l]) / reference.cvm[l] > 1e-2) moved++;
    });
    // The clip moves the curve at the smallest λ by far more than the tolerance, so the test tells the two apart there.
    expect(moved).toBeGreaterThanOrEqual(1);
    expect(Math.abs(plain.at(-1)!.mean - clipped.at(-1)!.mean) / clipped.at(-1)!.mean).toBeGreaterThan(0.04);
  }, 120_000);
});

describe('columns left out (data.ignore)', () => {
  it('an id column of text and a year are read past: not features, not in the model, not needed by predict', () => {
    const lines = readFileSync(join(FIXTURES, 'penguins.csv'), 'utf8').trimEnd().split('\n');
    writeFile(dir, 'with-id.csv', [`"id",${lines[0]}`, ...lines.slice(1).map((l, i) => `"p${i}",${l}`)].join('\n') + '\n');
    writeFile(dir, 'ids.yaml', 'name: ids\ndata: {path: with-id.csv, target: species, missing: drop, ignore: [id, year]}\nmodel: {kind: logistic}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 8}, extend: 0}\nworkers: 1\n');
    const r = cli(['run', 'ids.yaml', '--out', 'ids.db', '--quiet'], dir);
    expect(r.status, r.stderr).toBe(0);
    const card = JSON.parse(cli(['export', 'ids.db', '--model'], dir).stdout);
    expect(Object.keys(card.coefficients.Adelie)).toEqual(['island=Biscoe', 'island=Dream', 'island=Torgersen', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex=female', 'sex=male']);
    // Without data.ignore the id column (344 levels) is refused with what to do.
    writeFile(dir, 'ids2.yaml', 'name: ids2\ndata: {path: with-id.csv, target: species, missing: drop}\nmodel: {kind: logistic}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 8}}\n');
    const refused = cli(['run', 'ids2.yaml', '--out', 'ids2.db'], dir);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toBe('regsweep: with-id.csv: column "id" has 333 levels, more than data.max_levels (100); raise it, or leave the column out (data.ignore)');
  }, 60_000);
});

describe('gaps filled from training rows only', () => {
  it("a fold's fill values do not move when its validation rows change, and do when its training rows change", async () => {
    writeFile(dir, 'gappy.csv', gappyFrame(200, 7));
    const data = await loadCsv(join(dir, 'gappy.csv'), { target: 'tip', missing: 'mean', missingIndicator: true });
    const folds = assignFolds(data.n, { kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 1, seed: 0 });
    const shared = sharedData(data, folds, { kind: 'linear' });
    expect(shared.fills.map((g) => g.kind)).toEqual(['numeric', 'categorical', 'numeric']);
    const train = (fold: number) => Float64Array.from({ length: data.n }, (_, i) => (folds.foldOf[i] === fold ? 0 : 1));
    const fills = (X: Float64Array, fold: number) => shared.fills.map((g) => fillValue(g, X, data.n, train(fold)));

    // The bill column's gaps: the mean of the fold's training rows, computed here plainly.
    const bill = shared.fills[0];
    const j = bill.columns[0];
    let sum = 0;
    let count = 0;
    for (let i = 0; i < data.n; i++)
      if (folds.foldOf[i] !== 0 && !Number.isNaN(data.X[j * data.n + i])) {
        sum += data.X[j * data.n + i];
        count++;
      }
    expect(fills(data.X, 0)[0]).toBeCloseTo(sum / count, 12);
    expect(fills(data.X, 0)[0]).not.toBe(fills(data.X, 1)[0]);

    // Change every present bill of fold 0's validation rows: fold 0 fills the same, fold 1 (which trains on them) not.
    const moved = Float64Array.from(data.X);
    for (let i = 0; i < data.n; i++) if (folds.foldOf[i] === 0 && !Number.isNaN(moved[j * data.n + i])) moved[j * data.n + i] += 1000;
    expect(fills(moved, 0)).toEqual(fills(data.X, 0));
    expect(fills(moved, 1)[0]).not.toBe(fills(data.X, 1)[0]);

    // And the fit of fold 0 on the moved data: the same coefficients bit for bit wherever its training rows decide them.
    const task = { id: 't', penalty: 'l2' as const, l1Ratio: 0, fold: 0, lambdas: [0.1, 0.01] };
    const settings = { model: { kind: 'linear' as const, tol: 1e-10, max_iter: 100000, solver: 'cd' as const }, standardize: true, nearZero: 1e-3 };
    const before = fitTask(kernels, shared, task, settings);
    const after = fitTask(kernels, { ...shared, X: moved }, task, settings);
    expect(Array.from(after.coefficients.bytes)).toEqual(Array.from(before.coefficients.bytes));
    expect(after.trials[0].trainLoss).toBe(before.trials[0].trainLoss);
    expect(after.trials[0].valLoss).not.toBe(before.trials[0].valLoss);
    // The final model's fill is the all-rows mean, the one predict uses.
    expect(fillValue(bill, data.X, data.n, null)).toBeCloseTo(data.encoding!.columns.find((c) => c.name === 'bill')!.fill as number, 12);
    expect(fillGroups(data.encoding, data.X, data.n).map((g) => g.rows.length)).toEqual(shared.fills.map((g) => g.rows.length));
  });
});

describe('the model carries the encoding', () => {
  beforeAll(() => {
    writeFile(dir, 'tips.csv', gappyFrame(300, 11));
    writeFile(dir, 'held.csv', gappyFrame(60, 99));
    writeFile(
      dir,
      'tips.yaml',
      'name: tips\ndata: {path: tips.csv, target: tip, missing: mean, missing_indicator: true, drop: first, categorical: [day, smoker, size]}\nmodel: {kind: linear, tol: 1e-12}\nsweep: {kind: grid, penalty: [elasticnet], l1_ratio: [0.5], lambda: {auto: 20, ratio: 0.01}, extend: 0}\nworkers: 2\n',
    );
    const r = cli(['run', 'tips.yaml', '--out', 'tips.db', '--quiet'], dir);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);

  it('names every encoded column: levels after the first (drop: first), integer codes as levels in numeric order, gap indicators', () => {
    const card = JSON.parse(cli(['export', 'tips.db', '--model'], dir).stdout);
    expect(Object.keys(card.coefficients)).toEqual(['bill', 'bill=NA', 'day=Sat', 'day=Sun', 'day=Thur', 'day=NA', 'size=2', 'size=3', 'size=4', 'size=5', 'size=NA', 'smoker=yes']);
  });

  it('predict, model.py and model.R give the same predictions on a held-out frame with factors and gaps, to 1e-10', () => {
    const ours = cli(['predict', 'tips.db', '--data', 'held.csv'], dir);
    expect(ours.status, ours.stderr).toBe(0);
    for (const format of ['sklearn', 'glmnet']) {
      const script = format === 'sklearn' ? 'model.py' : 'model.R';
      expect(cli(['export', 'tips.db', '--model', '--format', format, '--out', script], dir).status).toBe(0);
    }
    const predicted = (csv: string) => csvRows(csv).map((r) => Number(r.prediction));
    const expected = predicted(ours.stdout);
    expect(expected.length).toBe(60);
    for (const out of [runTool(PYTHON, ['model.py', 'held.csv'], dir), runTool('Rscript', ['model.R', 'held.csv'], dir)]) {
      const got = predicted(out);
      expect(got.length).toBe(60);
      got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-10 * Math.max(1, Math.abs(expected[i]))));
    }
    // By hand for one row with gaps: the stored fills and the coefficients, from the card.
    const card = JSON.parse(cli(['export', 'tips.db', '--model'], dir).stdout);
    const held = csvRows(readFileSync(join(dir, 'held.csv'), 'utf8'));
    const i = held.findIndex((r) => r.bill === 'NA');
    expect(i).toBeGreaterThanOrEqual(0);
    const encoding = card.encoding as { columns: { name: string; fill: number | string }[] };
    const billFill = encoding.columns.find((c) => c.name === 'bill')!.fill as number;
    const b = card.coefficients as Record<string, number>;
    const row = held[i];
    const level = (column: string, value: string) => (row[column] === 'NA' || row[column] === '' ? String(encoding.columns.find((c) => c.name === column)!.fill) : row[column]) === value ? 1 : 0;
    let eta = card.intercept + b.bill * billFill + b['bill=NA'];
    for (const d of ['Sat', 'Sun', 'Thur']) eta += b[`day=${d}`] * level('day', d);
    eta += b['day=NA'] * (row.day === 'NA' ? 1 : 0);
    for (const s of ['2', '3', '4', '5']) eta += b[`size=${s}`] * level('size', s);
    eta += b['size=NA'] * (row.size === '' ? 1 : 0) + b['smoker=yes'] * level('smoker', 'yes');
    expect(Math.abs(expected[i] - eta)).toBeLessThan(1e-10);
  }, 120_000);

  it('a level not seen in training: one line naming column and level, or all zeros with --unknown-level zero (all three)', () => {
    writeFile(dir, 'unseen.csv', 'bill,day,size,smoker\n20,Mon,2,no\n');
    const refused = cli(['predict', 'tips.db', '--data', 'unseen.csv'], dir);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toBe('regsweep: unseen.csv:2:2: column "day": level "Mon" was not seen in training (levels: Fri, Sat, Sun, Thur); --unknown-level zero encodes it as all zeros');
    const zero = Number(csvRows(cli(['predict', 'tips.db', '--data', 'unseen.csv', '--unknown-level', 'zero'], dir).stdout)[0].prediction);
    writeFile(dir, 'friday.csv', 'bill,day,size,smoker\n20,Fri,2,no\n');
    // Fri is the dropped first level: all zeros, the same row as an unseen level.
    expect(zero).toBe(Number(csvRows(cli(['predict', 'tips.db', '--data', 'friday.csv'], dir).stdout)[0].prediction));
    const py = spawnSync(PYTHON, ['model.py', 'unseen.csv'], { cwd: dir, encoding: 'utf8' });
    expect(py.status).toBe(1);
    expect(py.stderr.trim()).toBe('unseen.csv:2:2: column "day": level "Mon" was not seen in training (levels: Fri, Sat, Sun, Thur); --unknown-level zero encodes it as all zeros');
    const R = spawnSync('Rscript', ['model.R', 'unseen.csv'], { cwd: dir, encoding: 'utf8' });
    expect(R.status).toBe(1);
    expect(R.stderr.trim()).toBe(py.stderr.trim());
    for (const out of [runTool(PYTHON, ['model.py', 'unseen.csv', '--unknown-level', 'zero'], dir), runTool('Rscript', ['model.R', 'unseen.csv', '--unknown-level', 'zero'], dir)])
      expect(Math.abs(Number(csvRows(out)[0].prediction) - zero)).toBeLessThan(1e-10);
  }, 60_000);

  it('the scripts refit to the stored coefficients (glmnet to 1e-6; scikit-learn, an elastic net, to 1e-4)', () => {
    for (const [cmd, script, tolerance] of [['Rscript', 'model.R', 1e-6], [PYTHON, 'model.py', 1e-4]] as const) {
      const out = csvRows(runTool(cmd, [script, '--refit', 'tips.csv'], dir));
      expect(out.length).toBe(13);
      for (const r of out) expect(Math.abs(Number(r.refit) - Number(r.model)), `${script} ${r.term}`).toBeLessThan(tolerance * Math.max(1, Math.abs(Number(r.model))));
    }
  }, 120_000);
});

describe('columnar frames', () => {
  it('an Arrow file with a string column and nulls: the same design as the CSV with NA cells', async () => {
    const day = ['Sat', null, 'Sun', 'Sat', 'Fri', 'Sun'];
    const bill = [10, 20, null, 40, 50, 60];
    const tip = [1, 2, 3, 4, 5, 6];
    writeFileSync(join(dir, 'small.arrow'), tableToIPC(tableFromArrays({ day, bill: Float64Array.from(bill, (v) => (v === null ? NaN : v)), tip: Float64Array.from(tip) }), 'file'));
    writeFile(dir, 'small.csv', ['day,bill,tip', ...day.map((d, i) => `${d ?? 'NA'},${bill[i] ?? 'NA'},${tip[i]}`)].join('\n') + '\n');
    const options = { target: 'tip', missing: 'median' as const };
    const { loadDataFile } = await import('../../src/data/load.js');
    const fromArrow = await loadDataFile(join(dir, 'small.arrow'), options);
    const fromCsv = await loadCsv(join(dir, 'small.csv'), options);
    expect(fromArrow.featureNames).toEqual(['day=Fri', 'day=Sat', 'day=Sun', 'bill']);
    expect(fromArrow.featureNames).toEqual(fromCsv.featureNames);
    expect(Array.from(fromArrow.X)).toEqual(Array.from(fromCsv.X));
    expect(fromArrow.encoding).toEqual(fromCsv.encoding);
    expect(fromArrow.encoding!.columns[1].fill).toBe(40);
  });
});

describe('bad frames give one line and exit 2', () => {
  const cases: [string, string, string, RegExp][] = [
    ['unknown categorical column', 'data: {path: penguins.csv, target: species, missing: drop, categorical: [isle]}', 'logistic', /^regsweep: penguins\.csv:1: data\.categorical names "isle", which is not a column \(columns: species, island,/],
    ['categorical target for linear', 'data: {path: penguins.csv, target: species, missing: drop}', 'linear', /^regsweep: penguins\.csv:2:1: column "species": "Adelie" is not a number: the target holds labels, a categorical target, which a linear model cannot fit \(model\.kind logistic or multinomial fits labels\)$/],
    ['too many levels', 'data: {path: penguins.csv, target: species, missing: drop, max_levels: 2}', 'logistic', /^regsweep: penguins\.csv: column "island" has 3 levels, more than data\.max_levels \(2\); raise it, or leave the column out \(data\.ignore\)$/],
    ['a gap by default', 'data: {path: penguins.csv, target: species}', 'logistic', /^regsweep: penguins\.csv:5:3: column "bill_length_mm": missing value \("NA"\); set data\.missing to drop \(drop such rows\), or mean, median or most_frequent \(fill a feature's gaps\)$/],
    ['a gap in the target with a fill rule', 'data: {path: penguins.csv, target: sex, missing: mean}', 'logistic', /^regsweep: penguins\.csv:5:7: column "sex": missing label \("NA"\); data\.missing: drop drops such rows \(a gap is filled only in a feature\)$/],
    ['text with categorical none', 'data: {path: penguins.csv, target: species, missing: drop, categorical: none}', 'logistic', /^regsweep: penguins\.csv:2:2: column "island": "Torgersen" is not a number \(data\.categorical is none: auto reads text columns as categories\)$/],
    ['an unknown column in ignore', 'data: {path: penguins.csv, target: species, missing: drop, ignore: [yaer]}', 'logistic', /^regsweep: penguins\.csv:1: data\.ignore names "yaer", which is not a column \(columns: species, island,/],
    ['a bad missing rule', 'data: {path: penguins.csv, target: species, missing: impute}', 'logistic', /^regsweep: bad\.yaml:2: data\.missing: expected error, drop, mean, median or most_frequent, found the string "impute"$/],
  ];
  for (const [what, data, kind, message] of cases)
    it(what, () => {
      writeFile(dir, 'bad.yaml', `name: bad\n${data}\nmodel: {kind: ${kind}}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}}\n`);
      const r = cli(['run', 'bad.yaml', '--out', 'bad.db'], dir);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
      expect(r.stderr.trim()).toMatch(message);
    });
});

describe.runIf(postgresTestable())('a frame on PostgreSQL', () => {
  it("workers fill each fold's gaps and weigh the rows from the store's copy (and from --data) as one process does in SQLite, bit for bit", { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    // With observation weights (some 0): the store keeps them with the data, and the workers fit with them.
    writeFile(dir, 'gappy-pg.csv', gappyFrame(20_000, 3, true));
    writeFile(dir, 'held-pg.csv', gappyFrame(50, 5));
    writeFile(
      dir,
      'gappy-pg.yaml',
      'name: gappy\ndata: {path: gappy-pg.csv, target: tip, weights: w, missing: median, missing_indicator: true}\nvalidation: {kind: kfold, folds: 10, repeats: 4}\nmodel: {kind: linear, tol: 1e-12, solver: cd}\nsweep: {kind: grid, penalty: [l1, elasticnet], l1_ratio: [0.2, 0.4, 0.6, 0.8], lambda: {auto: 100, ratio: 1e-4}, extend: 0}\nworkers: 1\n',
    );
    const run = startCli(['run', 'gappy-pg.yaml', '--store', url, '--quiet'], dir);
    await until(async () => (await sql(url, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
    const workers = [startCli(['worker', url, '--workers', '1'], dir), startCli(['worker', url, '--workers', '1', '--data', 'gappy-pg.csv'], dir)];
    const codes = await Promise.all([run.exited, ...workers.map((w) => w.exited)]);
    expect(codes, run.output() + workers.map((w) => w.output()).join('')).toEqual([0, 0, 0]);
    const owners = await sql<{ owner: string }>(url, 'SELECT DISTINCT owner FROM tasks');
    expect(owners.length, JSON.stringify(owners)).toBe(3);
    expect(cli(['run', 'gappy-pg.yaml', '--out', 'gappy-pg.db', '--quiet'], dir).status).toBe(0);
    const [fromPg, fromSqlite] = await Promise.all([storedTrialSet(url), storedTrialSet(join(dir, 'gappy-pg.db'))]);
    expect(fromPg.size).toBeGreaterThan(0);
    expect(fromPg).toEqual(fromSqlite);
    // The model from the store carries the encoding as the file's does.
    const fromStore = cli(['predict', url, '--data', 'held-pg.csv'], dir);
    expect(fromStore.status, fromStore.stderr).toBe(0);
    expect(fromStore.stdout).toBe(cli(['predict', 'gappy-pg.db', '--data', 'held-pg.csv'], dir).stdout);
  });
});
