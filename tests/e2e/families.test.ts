// The families glmnet users fit (multinomial, several outputs, Poisson), folds a user controls and λ grids that fit
// each penalty — through the CLI as a user runs them. Fitted numbers are checked against R glmnet in
// tests/unit/families.test.ts; here: the example sweeps run, every command reads them, predictions reproduce the stored
// losses, the exported scripts (Debian's scikit-learn and R glmnet) predict as regsweep does and refit to its
// coefficients, folds equal scikit-learn's, and the best λ lands inside the grid.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { csvRows, FIXTURES, PYTHON, readFixture, ROOT, runTool, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
const run = runTool;
const rows = csvRows;
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const ok = (args: string[], cwd: string) => {
  const r = cli(args, cwd);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};

interface Best {
  penalty: string;
  l1_ratio: number;
  lambda_min: number;
  edge: string | null;
}
const best = (db: string, cwd: string) => (JSON.parse(ok(['query', db, '--best', '--json'], cwd).stdout) as { best: Best[] }).best;

function sql<T>(path: string, query: string, ...args: unknown[]): T[] {
  const conn = new Database(path, { readonly: true });
  try {
    return conn.prepare(query).all(...args) as T[];
  } finally {
    conn.close();
  }
}

const EXAMPLES = {
  wine: { sweep: 'wine-multinomial', data: 'wine.csv', family: 'multinomial' },
  linnerud: { sweep: 'linnerud-mgaussian', data: 'linnerud.csv', family: 'mgaussian' },
  quakes: { sweep: 'quakes-poisson', data: 'quakes.csv', family: 'poisson' },
} as const;

let dir: string;
beforeAll(() => {
  dir = tempDir('regsweep-families-');
  for (const { sweep, data } of Object.values(EXAMPLES)) {
    copyFileSync(join(ROOT, 'data', data), join(dir, data));
    // The example as shipped, with a tolerance tight enough for the 1e-6 comparisons with the refits below.
    const config = parseDocument(readFileSync(join(ROOT, 'sweeps', `${sweep}.yaml`), 'utf8'));
    config.setIn(['data', 'path'], data);
    config.setIn(['model', 'tol'], 1e-9);
    writeFile(dir, `${sweep}.yaml`, config.toString());
    ok(['run', `${sweep}.yaml`, '--out', `${sweep}.db`, '--quiet'], dir);
  }
}, 300_000);

describe('the example sweeps of each family', () => {
  it('wine (three cultivars) is multinomial: per-class coefficients, accuracy and per-class counts, every penalty', () => {
    const b = best('wine-multinomial.db', dir);
    expect(b.map((s) => s.penalty).sort()).toEqual(['elasticnet', 'l1', 'l2']);
    const header = ok(['export', 'wine-multinomial.db', '--table', 'coefficients'], dir).stdout.split('\n')[0].split(',');
    for (const cultivar of ['barbera', 'barolo', 'grignolino']) {
      expect(header).toContain(`intercept:${cultivar}`);
      expect(header).toContain(`${cultivar}:flavanoids`);
    }
    const trials = rows(ok(['export', 'wine-multinomial.db', '--table', 'trials'], dir).stdout);
    const validated = trials.filter((t) => t.fold !== 'all');
    expect(validated.length).toBeGreaterThan(0);
    for (const t of validated) {
      expect(Number(t.val_accuracy)).toBeGreaterThanOrEqual(0);
      expect(Number(t.val_accuracy)).toBeLessThanOrEqual(1);
    }
    // Accuracy near the best λ as scikit-learn's and glmnet's users see on wine: above 0.95.
    const top = Math.max(...validated.map((t) => Number(t.val_accuracy)));
    expect(top).toBeGreaterThan(0.95);
    // The confusion counts (true class t, predicted p) of a trial add up to its validation rows, and their diagonal to
    // its accuracy.
    for (const t of validated) {
      const cells = Object.keys(t).filter((c) => c.startsWith('val_confusion_'));
      expect(cells).toHaveLength(9);
      const total = cells.reduce((s, c) => s + Number(t[c]), 0);
      const diagonal = cells.filter((c) => /_(\d)_\1$/.test(c)).reduce((s, c) => s + Number(t[c]), 0);
      expect(total).toBe(Number(t.n_val));
      expect(Math.abs(diagonal / total - Number(t.val_accuracy))).toBeLessThan(1e-12);
    }
  });

  it('linnerud (three targets) is mgaussian: a coefficient column per target and feature, repeated folds', () => {
    const header = ok(['export', 'linnerud-mgaussian.db', '--table', 'coefficients'], dir).stdout.split('\n')[0].split(',');
    for (const target of ['weight', 'waist', 'pulse']) {
      expect(header).toContain(`intercept:${target}`);
      for (const feature of ['chins', 'situps', 'jumps']) expect(header).toContain(`${target}:${feature}`);
    }
    const folds = rows(ok(['export', 'linnerud-mgaussian.db', '--table', 'folds'], dir).stdout);
    expect(folds.length).toBe(20 * 5);
    // Each repeat puts every row in exactly one of its five folds, four rows each.
    for (let r = 1; r <= 5; r++) {
      const counts = new Map<string, number>();
      for (const f of folds.filter((row) => row.repeat === String(r))) counts.set(f.fold, (counts.get(f.fold) ?? 0) + 1);
      expect([...counts.values()]).toEqual([4, 4, 4, 4, 4]);
      expect([...counts.keys()].map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4].map((k) => k + 5 * (r - 1)));
    }
  });

  it('the report draws one coefficient-path panel per class and per target', () => {
    for (const [sweep, outputs] of [
      ['wine-multinomial', ['barbera', 'barolo', 'grignolino']],
      ['linnerud-mgaussian', ['weight', 'waist', 'pulse']],
    ] as const) {
      ok(['report', `${sweep}.db`, '--out', `${sweep}-report`], dir);
      const spec = JSON.parse(readFileSync(join(dir, `${sweep}-report`, 'paths.vl.json'), 'utf8')) as { concat: { title: string }[] };
      // A row of panels per class or target: "class barbera · l1", "response weight · l2", …
      for (const output of outputs) for (const penalty of ['l1', 'l2']) expect(spec.concat.map((p) => p.title)).toContain(`${sweep.startsWith('wine') ? 'class' : 'response'} ${output} · ${penalty}`);
    }
  }, 120_000);

  it('predict on the training rows reproduces the stored training loss of the chosen fit', () => {
    for (const { sweep, data, family } of Object.values(EXAMPLES))
      for (const penalty of ['l1', 'l2', 'elasticnet']) {
        const chosen = JSON.parse(ok(['export', `${sweep}.db`, '--model', '--penalty', penalty, '--select', 'min'], dir).stdout) as { fit: { trial_id: number } };
        const [trial] = sql<{ train_loss: number; fold: string }>(join(dir, `${sweep}.db`), 'SELECT train_loss, fold FROM trials WHERE id = ?', chosen.fit.trial_id);
        expect(trial.fold).toBe('all');
        const predicted = rows(ok(['predict', `${sweep}.db`, '--data', data, '--penalty', penalty, '--select', 'min'], dir).stdout);
        const observed = rows(readFileSync(join(dir, data), 'utf8'));
        let loss = 0;
        observed.forEach((row, i) => {
          const p = predicted[i];
          if (family === 'multinomial') {
            const sum = ['barbera', 'barolo', 'grignolino'].reduce((s, c) => s + Number(p[`probability:${c}`]), 0);
            expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
            loss -= Math.log(Number(p[`probability:${row.cultivar}`]));
          } else if (family === 'mgaussian') {
            for (const t of ['weight', 'waist', 'pulse']) loss += (Number(row[t]) - Number(p[`prediction:${t}`])) ** 2;
          } else {
            const y = Number(row.stations);
            const mu = Number(p.prediction);
            loss += 2 * ((y > 0 ? y * Math.log(y / mu) : 0) - (y - mu));
          }
        });
        loss /= observed.length;
        expect(relative(loss, trial.train_loss), `${sweep} ${penalty}`).toBeLessThan(1e-10);
      }
  }, 120_000);

  for (const [name, { sweep, data }] of Object.entries(EXAMPLES))
    for (const penalty of ['l1', 'l2', 'elasticnet'])
      it(`${name} ${penalty}: model.py and model.R predict as regsweep does (1e-10); their refits land on its coefficients (1e-6)`, () => {
        const ours = rows(ok(['predict', `${sweep}.db`, '--data', data, '--penalty', penalty], dir).stdout);
        for (const format of ['sklearn', 'glmnet'] as const) {
          const file = `${name}-${penalty}.${format === 'sklearn' ? 'py' : 'R'}`;
          ok(['export', `${sweep}.db`, '--model', '--format', format, '--penalty', penalty, '--out', file], dir);
          const cmd = format === 'sklearn' ? PYTHON : 'Rscript';
          const theirs = rows(run(cmd, [file, data], dir));
          expect(Object.keys(theirs[0])).toEqual(Object.keys(ours[0]));
          expect(theirs.length).toBe(ours.length);
          theirs.forEach((row, i) => {
            for (const column of Object.keys(row))
              if (column === 'label') expect(row[column]).toBe(ours[i][column]);
              else expect(relative(Number(row[column]), Number(ours[i][column])), `${file} row ${i} ${column}`).toBeLessThan(1e-10);
          });
          // scikit-learn has no L1 Poisson: its script says so (mgaussian is MultiTaskElasticNet).
          const refit = spawnSync(cmd, [file, '--refit', data], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
          if (format === 'sklearn' && name === 'quakes' && penalty !== 'l2') {
            expect(refit.status).not.toBe(0);
            expect(refit.stderr).toMatch(/PoissonRegressor has only the L2 penalty; refit with glmnet/);
            continue;
          }
          expect(refit.status, refit.stderr).toBe(0);
          const terms = rows(refit.stdout);
          const scale = Math.max(1, ...terms.map((t) => Math.abs(Number(t.model))));
          const worst = Math.max(...terms.map((t) => Math.abs(Number(t.refit) - Number(t.model))));
          expect(worst / scale, `${file} --refit`).toBeLessThan(1e-6);
        }
      }, 240_000);
});

describe('folds a user controls', () => {
  const folds = readFixture<Record<string, Record<string, number[]>>>('sklearn_folds.json');
  const wineSweep = (name: string, validation: string, file = 'wine.csv') => `name: ${name}
data: {path: ${file}, target: cultivar}
validation: ${validation}
model: {kind: logistic}
sweep: {kind: grid, penalty: [l2], lambda: {auto: 8, ratio: 1e-2}, extend: 0}
`;

  it('stratify: true without shuffling gives scikit-learn StratifiedKFold folds; shuffle: false gives KFold folds', () => {
    writeFile(dir, 'strat.yaml', wineSweep('strat', '{kind: kfold, folds: 5, stratify: true, shuffle: false}'));
    writeFile(dir, 'plain.yaml', wineSweep('plain', '{kind: kfold, folds: 5, shuffle: false}'));
    for (const [config, expected] of [
      ['strat', folds.wine.stratified_5],
      ['plain', folds.wine.kfold_5],
    ] as const) {
      ok(['run', `${config}.yaml`, '--out', `${config}.db`, '--quiet'], dir);
      const exported = rows(ok(['export', `${config}.db`, '--table', 'folds'], dir).stdout);
      expect(exported.map((r) => Number(r.fold))).toEqual(expected);
    }
  }, 120_000);

  it('stratify: true with shuffling keeps every class within one row of its share in every fold', () => {
    writeFile(dir, 'shuffled.yaml', wineSweep('shuffled', '{kind: kfold, folds: 5, stratify: true, seed: 3}'));
    ok(['run', 'shuffled.yaml', '--out', 'shuffled.db', '--quiet'], dir);
    const labels = rows(readFileSync(join(dir, 'wine.csv'), 'utf8')).map((r) => r.cultivar);
    const exported = rows(ok(['export', 'shuffled.db', '--table', 'folds'], dir).stdout).map((r) => Number(r.fold));
    for (const cultivar of new Set(labels)) {
      const ofClass = exported.filter((_, i) => labels[i] === cultivar);
      for (let k = 0; k < 5; k++) expect(Math.abs(ofClass.filter((f) => f === k).length - ofClass.length / 5)).toBeLessThan(1);
    }
  }, 120_000);

  it('validation kind column uses a CSV column as the folds (not as a feature), and export --table folds gives it back', () => {
    const text = readFileSync(join(dir, 'wine.csv'), 'utf8').trim().split('\n');
    const assigned = folds.wine.stratified_shuffled_5.map((k) => `part-${k}`);
    writeFile(dir, 'wine-folds.csv', [`${text[0]},fold`, ...text.slice(1).map((line, i) => `${line},${assigned[i]}`)].join('\n') + '\n');
    writeFile(dir, 'column.yaml', wineSweep('column', '{kind: column, column: fold}', 'wine-folds.csv'));
    ok(['run', 'column.yaml', '--out', 'column.db', '--quiet'], dir);
    const exported = rows(ok(['export', 'column.db', '--table', 'folds'], dir).stdout);
    expect(exported.map((r) => r.fold_label)).toEqual(assigned);
    // Rows with one label share one fold id.
    const idOf = new Map<string, string>();
    exported.forEach((r) => {
      expect(idOf.get(r.fold_label) ?? r.fold).toBe(r.fold);
      idOf.set(r.fold_label, r.fold);
    });
    expect(idOf.size).toBe(5);
    const header = ok(['export', 'column.db', '--table', 'coefficients'], dir).stdout.split('\n')[0];
    expect(header).not.toMatch(/:fold\b/);
  }, 120_000);

  it('bad fold and solver settings are one line naming the key, exit 2', () => {
    writeFile(dir, 'missing.yaml', wineSweep('missing', '{kind: column, column: nope}'));
    writeFile(dir, 'toomany.yaml', wineSweep('toomany', '{kind: kfold, folds: 72, stratify: true}'));
    writeFile(dir, 'fista.yaml', wineSweep('fista', '{kind: kfold}').replace('model: {kind: logistic}', 'model: {kind: logistic, solver: fista}'));
    for (const [config, message] of [
      ['missing.yaml', /nope/],
      ['fista.yaml', /fista.yaml:4: model.solver: fista fits one linear or two-class logistic output; this sweep is multinomial/],
      ['toomany.yaml', /toomany.yaml:3: validation.folds: 72 stratified folds, but the largest class \("grignolino"\) has 71 rows/],
    ] as const) {
      const r = cli(['run', config, '--out', `${config}.db`, '--quiet'], dir);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(dir, `${config}.db`))).toBe(false);
    }
  });
});

describe('λ grids that fit each penalty', () => {
  it('the automatic ridge grid has its best λ inside on five data sets (no edge), with the default extension', () => {
    const cases = [
      ['diabetes', `path: ${join(FIXTURES, 'diabetes.csv')}, target: progression`, 'linear'],
      ['cancer', `path: ${join(FIXTURES, 'breast_cancer.csv')}, target: diagnosis`, 'logistic'],
      ['wide_binary', `path: ${join(FIXTURES, 'wide_binary.csv')}, target: label`, 'logistic'],
      ['wine', `path: wine.csv, target: cultivar`, 'logistic'],
      ['synthetic', 'synthetic: {kind: regression, n: 2000, p: 60, rho: 0.9, seed: 4}', 'linear'],
    ] as const;
    for (const [name, data, kind] of cases) {
      writeFile(dir, `ridge-${name}.yaml`, `name: ridge-${name}
data: {${data}}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: ${kind}}
sweep: {kind: grid, penalty: [l2], lambda: {auto: 30}}
`);
      ok(['run', `ridge-${name}.yaml`, '--out', `ridge-${name}.db`, '--quiet'], dir);
      const [ridge] = best(`ridge-${name}.db`, dir);
      expect(ridge.edge, name).toBeNull();
      const lambdas = sql<{ lambda: number }>(join(dir, `ridge-${name}.db`), 'SELECT DISTINCT lambda FROM trials ORDER BY lambda').map((t) => t.lambda);
      expect(ridge.lambda_min, name).toBeGreaterThan(lambdas[0]);
      expect(ridge.lambda_min, name).toBeLessThan(lambdas[lambdas.length - 1]);
    }
  }, 300_000);

  it('each penalty its own grid: lambda: {l1: …, l2: …}', () => {
    writeFile(dir, 'per-penalty.yaml', `name: per-penalty
data: {path: ${join(FIXTURES, 'diabetes.csv')}, target: progression}
validation: {kind: kfold, folds: 3, seed: 0}
model: {kind: linear}
sweep: {kind: grid, penalty: [l1, l2], lambda: {l1: {auto: 7, ratio: 1e-2}, l2: [1, 10, 100]}, extend: 0}
`);
    ok(['run', 'per-penalty.yaml', '--out', 'per-penalty.db', '--quiet'], dir);
    const grid = sql<{ penalty: string; lambda: number }>(join(dir, 'per-penalty.db'), "SELECT DISTINCT penalty, lambda FROM trials ORDER BY penalty, lambda DESC");
    const l1 = grid.filter((g) => g.penalty === 'l1').map((g) => g.lambda);
    expect(grid.filter((g) => g.penalty === 'l2').map((g) => g.lambda)).toEqual([100, 10, 1]);
    expect(l1).toHaveLength(7);
    expect(relative(l1[6], l1[0] * 1e-2)).toBeLessThan(1e-12);
    // λ_max of the lasso on standardized features: max_j |x_j·(y − ȳ)| / n, computed here from the CSV.
    const data = rows(readFileSync(join(FIXTURES, 'diabetes.csv'), 'utf8'));
    const y = data.map((r) => Number(r.progression));
    const ybar = y.reduce((a, b) => a + b, 0) / y.length;
    let lambdaMax = 0;
    for (const feature of Object.keys(data[0]).filter((c) => c !== 'progression')) {
      const x = data.map((r) => Number(r[feature]));
      const mean = x.reduce((a, b) => a + b, 0) / x.length;
      const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
      lambdaMax = Math.max(lambdaMax, Math.abs(x.reduce((s, v, i) => s + ((v - mean) / sd) * (y[i] - ybar), 0)) / x.length);
    }
    expect(relative(l1[0], lambdaMax)).toBeLessThan(1e-9);
  }, 120_000);

  it('a best λ on the edge extends the grid by a decade at a time (extend rounds); extend: 0 only warns', () => {
    const config = (name: string, extend: number) => `name: ${name}
data: {path: ${join(FIXTURES, 'diabetes.csv')}, target: progression}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: linear, tol: 1e-9}
sweep: {kind: grid, penalty: [l1], lambda: {log_range: [10, 1000], num: 9}, extend: ${extend}}
`;
    writeFile(dir, 'edge.yaml', config('edge', 2));
    writeFile(dir, 'edge0.yaml', config('edge0', 0));
    const extended = ok(['run', 'edge.yaml', '--out', 'edge.db'], dir);
    expect(extended.stderr + extended.stdout).toMatch(/lower edge of the grid; extending it to 1\.0+ \(4 new λ, extension 1\)/);
    expect(extended.stderr + extended.stdout).toMatch(/extension 2\)/);
    const tasks = sql<{ task_id: string }>(join(dir, 'edge.db'), 'SELECT DISTINCT task_id FROM trials').map((t) => t.task_id);
    expect(tasks.filter((t) => t.endsWith('/ext=1'))).toHaveLength(6);
    expect(tasks.filter((t) => t.endsWith('/ext=2'))).toHaveLength(6);
    const lambdas = sql<{ lambda: number }>(join(dir, 'edge.db'), 'SELECT DISTINCT lambda FROM trials ORDER BY lambda').map((t) => t.lambda);
    expect(relative(lambdas[0], 0.1)).toBeLessThan(1e-9);
    // The extended paths continue the grid: the same results as one path run over the whole range at once.
    writeFile(dir, 'whole.yaml', config('whole', 0).replace('log_range: [10, 1000], num: 9', 'log_range: [0.1, 1000], num: 17'));
    ok(['run', 'whole.yaml', '--out', 'whole.db', '--quiet'], dir);
    const loss = (db: string) => sql<{ lambda: number; fold: string; val_loss: number }>(join(dir, db), "SELECT lambda, fold, val_loss FROM trials WHERE fold != 'all' ORDER BY lambda, fold");
    const a = loss('edge.db');
    const b = loss('whole.db');
    expect(a.length).toBe(b.length);
    a.forEach((t, i) => {
      expect(relative(t.lambda, b[i].lambda)).toBeLessThan(1e-9);
      expect(relative(t.val_loss, b[i].val_loss)).toBeLessThan(1e-6);
    });

    const warned = ok(['run', 'edge0.yaml', '--out', 'edge0.db'], dir);
    expect(warned.stderr + warned.stdout).toMatch(/lower edge/);
    expect(sql<{ n: number }>(join(dir, 'edge0.db'), "SELECT COUNT(*) AS n FROM trials WHERE task_id LIKE '%/ext=%'")[0].n).toBe(0);
  }, 120_000);
});
