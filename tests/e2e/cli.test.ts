import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const cli = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

const heavy = (name: string, output: string) => `name: ${name}
data: {synthetic: {kind: regression, n: 1500, p: 150, nonzero: 15, rho: 0.6, snr: 2, seed: 4}}
validation: {kind: kfold, folds: 10, seed: 1}
model: {kind: linear}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 10], num: 40}, l1_ratio: [0.3, 0.7]}
workers: 1
output: ${output}
`;

type Row = { penalty: string; l1_ratio: number; lambda: number; fold: string; val_loss: number | null; train_loss: number };
function trialSet(db: string): Row[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT penalty, l1_ratio, lambda, fold, val_loss, train_loss FROM trials ORDER BY penalty, l1_ratio, lambda, fold').all() as Row[];
  } finally {
    conn.close();
  }
}
function doneTasks(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const conn = new Database(db, { readonly: true, timeout: 1000 });
    try {
      return (conn.prepare(`SELECT count(*) c FROM tasks WHERE status = 'done'`).get() as { c: number }).c;
    } finally {
      conn.close();
    }
  } catch {
    return 0; // not created yet
  }
}

describe('regsweep CLI', () => {
  it('a sweep killed with SIGKILL and resumed gives the same trial set as an uninterrupted run, no duplicates', async () => {
    const dir = tempDir();
    const killedDb = join(dir, 'killed.db');
    const config = writeFile(dir, 'killed.yaml', heavy('resume-check', 'killed.db'));
    const child = spawn(process.execPath, [BIN, 'run', config, '--quiet'], { cwd: dir, stdio: 'ignore' });
    const totalTasks = 4 * 11;
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      seen = doneTasks(killedDb);
      if (seen >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const atKill = doneTasks(killedDb);
    expect(atKill).toBeGreaterThanOrEqual(3);
    expect(atKill).toBeLessThan(totalTasks);
    // Trials are written with their task in one transaction: no half-written task.
    expect(trialSet(killedDb).length).toBe(atKill * 40);

    const resumed = cli(['run', config, '--quiet'], dir);
    expect(resumed.status).toBe(0);
    const fullConfig = writeFile(dir, 'full.yaml', heavy('resume-check', 'full.db'));
    expect(cli(['run', fullConfig, '--quiet'], dir).status).toBe(0);

    const a = trialSet(killedDb);
    const b = trialSet(join(dir, 'full.db'));
    expect(a.length).toBe(4 * 40 * 11);
    expect(new Set(a.map((r) => `${r.penalty}/${r.l1_ratio}/${r.lambda}/${r.fold}`)).size).toBe(a.length);
    expect(a).toEqual(b);
  });

  it('Ctrl-C (SIGINT) stops with exit 130, marks the sweep interrupted, reports what is there, and a rerun finishes it', async () => {
    const dir = tempDir();
    const db = join(dir, 'int.db');
    const config = writeFile(dir, 'int.yaml', heavy('interrupt-check', 'int.db'));
    const child = spawn(process.execPath, [BIN, 'run', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && doneTasks(db) < 2) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(130);
    expect(stderr).toMatch(/rerun to resume/);
    const conn = new Database(db, { readonly: true });
    const status = (conn.prepare('SELECT status FROM sweeps').get() as { status: string }).status;
    conn.close();
    expect(status).toBe('interrupted');
    const partial = doneTasks(db);
    expect(partial).toBeLessThan(44);

    // The report of a sweep that is not finished says so.
    const report = cli(['report', db, '--out', join(dir, 'rep'), '--no-png']);
    expect(report.status).toBe(0);
    expect(report.stdout).toMatch(new RegExp(`note: sweep "interrupt-check" is interrupted: ${partial * 40} of ${44 * 40} trials recorded`));
    expect(report.stderr).toBe('');
    expect(readFileSync(join(dir, 'rep', 'report.html'), 'utf8')).toContain(`${partial * 40} of ${44 * 40} trials recorded`);

    const resumed = cli(['run', config, '--quiet'], dir);
    expect(resumed.status).toBe(0);
    expect(doneTasks(db)).toBe(44);
    expect(trialSet(db)).toHaveLength(44 * 40);
  });

  it('query --sql refuses a DELETE with exit 2 and leaves the database unchanged', () => {
    const dir = tempDir();
    const config = writeFile(dir, 'q.yaml', `name: q\ndata: {path: ${join(FIXTURES, 'diabetes.csv')}}\nsweep: {kind: grid, penalty: [l1], lambda: [10, 1, 0.1], extend: 0}\nworkers: 1\noutput: q.db\n`);
    expect(cli(['run', config, '--quiet'], dir).status).toBe(0);
    const db = join(dir, 'q.db');
    const before = readFileSync(db);
    const count = () => cli(['query', db, '--sql', 'SELECT count(*) AS n FROM trials', '--json']);
    expect(JSON.parse(count().stdout)).toEqual([{ n: 18 }]);
    const del = cli(['query', db, '--sql', 'DELETE FROM trials']);
    expect(del.status).toBe(2);
    expect(del.stderr).toMatch(/only statements that read/);
    expect(JSON.parse(count().stdout)).toEqual([{ n: 18 }]);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('a sweep fitted at the old default tol (1e-7) is not resumed silently at the new one: the message says how', () => {
    const dir = tempDir();
    const body = (tol: string) => `name: t\ndata: {path: ${join(FIXTURES, 'diabetes.csv')}}\nmodel: {kind: linear${tol}}\nsweep: {kind: grid, penalty: [l1], lambda: [1, 0.1], extend: 0}\nworkers: 1\noutput: t.db\n`;
    writeFile(dir, 't.yaml', body(', tol: 1e-7'));
    expect(cli(['run', 't.yaml', '--quiet'], dir).status).toBe(0);
    writeFile(dir, 't.yaml', body(''));
    const r = cli(['run', 't.yaml', '--quiet'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already holds sweep "t" fitted at model.tol 1e-7, the default before this version \(now 0.00001\); add tol: 1e-7 under model: in the sweep file to resume it, or rerun with --new/);
  });

  it('--quiet hides the progress but not the results; query with no option shows the best λ (as --best)', () => {
    const dir = tempDir();
    const config = writeFile(dir, 'q.yaml', `name: q\ndata: {path: ${join(FIXTURES, 'diabetes.csv')}}\nsweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 12}, extend: 0}\nworkers: 1\noutput: q.db\n`);
    const run = cli(['run', config, '--quiet'], dir);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^results: q\.db\npenalty +l1_ratio +lambda_min +val_loss/);
    expect(run.stdout.split('\n').filter((l) => /^l[12] /.test(l))).toHaveLength(2);
    const plain = cli(['query', join(dir, 'q.db')]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^sweep q \(id 1, done\), metric val_loss\n/);
    expect(plain.stdout).toBe(cli(['query', join(dir, 'q.db'), '--best']).stdout);
  });

  it('export writes the coefficients CSV with the data header names', () => {
    const dir = tempDir();
    const config = writeFile(dir, 'e.yaml', `name: e\ndata: {path: ${join(FIXTURES, 'diabetes.csv')}}\nsweep: {kind: grid, penalty: [l1, l2], lambda: [1, 0.1], extend: 0}\nworkers: 1\noutput: e.db\n`);
    expect(cli(['run', config, '--quiet'], dir).status).toBe(0);
    const out = cli(['export', join(dir, 'e.db'), '--table', 'coefficients', '--fold', 'all', '--format', 'csv']);
    expect(out.status).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe('sweep,penalty,lambda,l1_ratio,fold,intercept,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6');
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).every((l) => l.split(',')[4] === 'all')).toBe(true);
    const json = JSON.parse(cli(['export', join(dir, 'e.db'), '--table', 'summary', '--format', 'json']).stdout);
    expect(json).toHaveLength(4);
    expect(json[0]).toHaveProperty('mean');
  });

  it('bad input: exit 2 and one message naming the file and key', () => {
    const dir = tempDir();
    const config = writeFile(dir, 'bad.yaml', 'name: bad\ndata: {synthetic: {kind: regression, n: 50, p: 3}}\nsweep: {kind: grid, lambda: {log_range: [1e-3, 1], num: 0}}\n');
    const r = cli(['run', config], dir);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`regsweep: ${config}:3: sweep.lambda.num: expected a positive integer, found 0`);
    expect(cli(['query', join(dir, 'missing.db'), '--best']).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
  });
});
