// Model settings as sweep dimensions (sweep.model): the seeds' comparison in one sweep, through the CLI — which
// combinations are planned, how they are stored and exported, chosen and drawn; and a database from before the
// settings column, read and resumed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvRows, ROOT, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
const ok = (args: string[], cwd: string) => {
  const r = cli(args, cwd);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};

let dir: string;
beforeAll(() => {
  dir = tempDir('regsweep-settings-');
  ok(['run', join(ROOT, 'sweeps', 'seeds-network.yaml'), '--out', 'seeds.db', '--quiet'], dir);
}, 300_000);

describe("sweeps/seeds-network.yaml: weight decay against explicit L1, subgradient against proximal, two learning rates", () => {
  it('plans only the combinations a penalty can use: l1 × l1_method × lr, l2 × l2_method × lr', () => {
    const trials = csvRows(ok(['export', 'seeds.db', '--table', 'trials'], dir).stdout);
    const groups = new Set(trials.map((t) => `${t.penalty}|${t.l1_method}|${t.l2_method}|${t.lr}`));
    expect([...groups].sort()).toEqual(
      ['l1|proximal||0.01', 'l1|proximal||0.03', 'l1|subgradient||0.01', 'l1|subgradient||0.03', 'l2||coupled|0.01', 'l2||coupled|0.03', 'l2||decoupled|0.01', 'l2||decoupled|0.03'].sort(),
    );
    // 13 λ per combination at least (an edge may extend a grid).
    for (const g of groups) expect(trials.filter((t) => `${t.penalty}|${t.l1_method}|${t.l2_method}|${t.lr}` === g).length).toBeGreaterThanOrEqual(13);
    // Each combination trained with its own settings: the learning rates give different losses at the same λ.
    const at = (lr: string) => trials.find((t) => t.penalty === 'l2' && t.l2_method === 'coupled' && t.lr === lr && Math.abs(Math.log(Number(t.lambda) / 1e-3)) < 1e-9)!;
    expect(at('0.01').val_loss).not.toBe(at('0.03').val_loss);
  });

  it('proximal L1 reaches exact zeros, the subgradient none; query --best has a row per combination, a holdout shows no se', () => {
    const trials = csvRows(ok(['export', 'seeds.db', '--table', 'trials'], dir).stdout);
    const zeros = (method: string) => Math.max(...trials.filter((t) => t.l1_method === method).map((t) => Number(t.zero_fraction)));
    expect(zeros('proximal')).toBeGreaterThan(0.5);
    expect(zeros('subgradient')).toBe(0);
    const best = JSON.parse(ok(['query', 'seeds.db', '--best', '--json'], dir).stdout) as { best: Record<string, unknown>[] };
    expect(best.best).toHaveLength(8);
    expect(best.best.every((b) => 'lr' in b && 'l1_method' in b && 'l2_method' in b)).toBe(true);
    const table = ok(['query', 'seeds.db', '--best'], dir).stdout;
    expect(table).toMatch(/l1_method=proximal, lr=0\.01/);
    expect(table).toMatch(/± —/);
    expect(table).not.toMatch(/± 0\b/);
  });

  it('the model is the best combination, and says so; the report draws the settings chart', () => {
    const card = JSON.parse(ok(['export', 'seeds.db', '--model'], dir).stdout) as { penalty: string; settings?: Record<string, unknown> };
    expect(card.settings).toBeDefined();
    expect(Object.keys(card.settings!).sort()).toEqual(card.penalty === 'l1' ? ['l1_method', 'lr'] : ['l2_method', 'lr']);
    const predicted = cli(['predict', 'seeds.db', '--data', 'nothing.csv'], dir);
    expect(predicted.stderr).not.toMatch(/internal error/);
    const report = ok(['report', 'seeds.db', '--out', 'report', '--no-png'], dir);
    expect(report.stdout).toMatch(/report\.html/);
    expect(existsSync(join(dir, 'report', 'methods.vl.json'))).toBe(true);
  }, 120_000);

  it('running the same sweep file again adds nothing', () => {
    const count = () => (new Database(join(dir, 'seeds.db'), { readonly: true }).prepare('SELECT count(*) AS n FROM trials').get() as { n: number }).n;
    const before = count();
    ok(['run', join(ROOT, 'sweeps', 'seeds-network.yaml'), '--out', 'seeds.db', '--quiet'], dir);
    expect(count()).toBe(before);
  }, 120_000);

  it('settings for a model without them, or a setting that does not exist, is one line naming the key, exit 2', () => {
    writeFile(dir, 'linear.yaml', 'name: lin\ndata: {synthetic: {kind: regression, n: 50, p: 3}}\nsweep: {kind: grid, lambda: [1], model: {lr: [0.1]}}\n');
    writeFile(dir, 'typo.yaml', 'name: typo\ndata: {synthetic: {kind: regression, n: 50, p: 3}}\nmodel: {kind: mlp}\nsweep: {kind: grid, lambda: [1], model: {l1_metod: [proximal]}}\n');
    for (const [file, message] of [
      ['linear.yaml', /linear.yaml:3: sweep.model: varies network settings .* model.kind linear has none/],
      ['typo.yaml', /typo.yaml:4: sweep.model.l1_metod: unknown key; did you mean l1_method\?/],
    ] as const) {
      const r = cli(['run', file, '--quiet'], dir);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('a database from before the settings column (schema 2)', () => {
  it('is read as it is and resumed: its trials get the empty settings, nothing runs twice', () => {
    const d = tempDir('regsweep-schema2-');
    writeFile(d, 's.yaml', 'name: old\ndata: {synthetic: {kind: regression, n: 80, p: 4, seed: 2}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1, l2], lambda: [1, 0.1], extend: 0}\nworkers: 1\n');
    ok(['run', 's.yaml', '--out', 'old.db', '--quiet'], d);
    // Back to schema 2: the tables as that version made them (no settings column, keys without it).
    const db = new Database(join(d, 'old.db'));
    db.pragma('foreign_keys = OFF');
    db.exec(`
      CREATE TABLE trials2 AS SELECT id, sweep_id, task_id, penalty, lambda, l1_ratio, fold, status, converged, error, train_loss, val_loss, n_train, n_val,
        nnz, zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds, metrics FROM trials;
      DROP TABLE trials; ALTER TABLE trials2 RENAME TO trials;
      CREATE TABLE summary2 AS SELECT sweep_id, penalty, l1_ratio, lambda, metric, folds, mean, se, train_mean, nnz_all FROM summary;
      DROP TABLE summary; ALTER TABLE summary2 RENAME TO summary;
      CREATE TABLE selections2 AS SELECT sweep_id, penalty, l1_ratio, metric, lambda_min, lambda_1se, mean_min, se_min, mean_1se, nnz_min, nnz_1se, edge FROM selections;
      DROP TABLE selections; ALTER TABLE selections2 RENAME TO selections;
      ALTER TABLE tasks DROP COLUMN settings;
      PRAGMA user_version = 2;
    `);
    const trials = (db.prepare('SELECT count(*) AS n FROM trials').get() as { n: number }).n;
    db.close();
    const best = JSON.parse(ok(['query', 'old.db', '--best', '--json'], d).stdout) as { best: { penalty: string }[] };
    expect(best.best.map((b) => b.penalty).sort()).toEqual(['l1', 'l2']);
    ok(['run', 's.yaml', '--out', 'old.db', '--quiet'], d);
    const after = new Database(join(d, 'old.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(3);
    expect((after.prepare("SELECT count(*) AS n FROM trials WHERE settings = ''").get() as { n: number }).n).toBe(trials);
    after.close();
  });
});

describe('a random network sweep with successive halving (sweep.prune)', () => {
  it('prunes trials at the rung epochs with their curves so far, leaves them out of the selection, and says how many', () => {
    const d = tempDir('regsweep-prune-');
    writeFile(
      d,
      'prune.yaml',
      `name: prune
data: {synthetic: {kind: regression, n: 400, p: 20, outputs: 2, seed: 1}}
validation: {kind: holdout, fraction: 0.25}
model: {kind: mlp, epochs: 27, batch: 32}
sweep:
  kind: random
  points: 40
  seed: 3
  penalty: [l1, l2]
  lambda: {log_uniform: [1e-4, 1]}
  model: {lr: {log_uniform: [1e-4, 1e-1]}}
  prune: {min_epochs: 3, reduction: 3}
workers: 2
`,
    );
    const run = ok(['run', 'prune.yaml', '--out', 'prune.db'], d);
    const trials = csvRows(ok(['export', 'prune.db', '--table', 'trials'], d).stdout);
    const pruned = trials.filter((t) => t.status === 'pruned');
    const kept = trials.filter((t) => t.status === 'ok' && t.fold !== 'all');
    expect(pruned.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    // Rungs at 3 and 9 epochs (27 is the end): a pruned trial stopped at one of them, its curve that long.
    for (const t of pruned) {
      expect(['3', '9']).toContain(t.pruned_epoch);
      expect(t.epochs_run).toBe(t.pruned_epoch);
    }
    for (const t of kept) expect(t.epochs_run).toBe('27');
    const db = new Database(join(d, 'prune.db'), { readonly: true });
    const curve = db.prepare("SELECT count(*) AS n FROM epochs e JOIN trials t ON t.id = e.trial_id WHERE t.status = 'pruned'").get() as { n: number };
    db.close();
    expect(curve.n).toBe(pruned.reduce((s, t) => s + Number(t.epochs_run), 0));
    expect(run.stderr + run.stdout).toMatch(new RegExp(`${pruned.length} pruned`));
    // The selection is made of trials that trained to the end.
    const best = JSON.parse(ok(['query', 'prune.db', '--best', '--json'], d).stdout) as { best: { lambda_min: number; penalty: string }[] };
    expect(best.best.length).toBeGreaterThan(0);
    for (const b of best.best) {
      const point = trials.filter((t) => t.penalty === b.penalty && Number(t.lambda) === b.lambda_min);
      expect(point.length).toBeGreaterThan(0);
      expect(point.every((t) => t.status === 'ok')).toBe(true);
    }
  }, 120_000);

  it('pruning a model without learning curves is one line, exit 2', () => {
    const d = tempDir('regsweep-prune-');
    writeFile(d, 'p.yaml', 'name: p\ndata: {synthetic: {kind: regression, n: 50, p: 3}}\nsweep: {kind: random, points: 3, lambda: {log_uniform: [0.01, 1]}, prune: {min_epochs: 2}}\n');
    const r = cli(['run', 'p.yaml', '--quiet'], d);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/p.yaml:3: sweep.prune: stops networks early by their learning curves; model.kind linear has none/);
  });
});
