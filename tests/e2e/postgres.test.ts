// Many processes, one sweep, a real PostgreSQL (REGSWEEP_TEST_PG_URL; .ci/run starts one): the same answers as SQLite,
// take-over after a worker dies, fencing of a worker paused past its lease, a server restart, a claim stress test, and
// bad locations in one line each.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimStress } from '../../bench/claims.js';
import { BIN, ROOT, startCli, storedTrialSet, tempDir, until, writeFile } from '../helpers.js';
import { freshPostgresDatabase, pgCtl, postgresUrl, sql, privateServerForThisFile, postgresTestable } from '../postgres.js';

const haveServer = postgresTestable();

const dir = tempDir('regsweep-pg-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
const start = (args: string[]) => startCli(args, dir);

// 24 logistic paths of 50 λ on a 2 000 × 200 problem: about half a second each on one thread, long enough to act on.
const sweepYaml = (name: string) => `name: ${name}
data: {synthetic: {kind: classification, n: 2000, p: 200, nonzero: 20, rho: 0.5, seed: 3}}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: logistic, tol: 1e-8}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 0.3], num: 50}, l1_ratio: [0.3, 0.7]}
workers: 1
`;
const TRIALS = 24 * 50;

describe.runIf(haveServer)('PostgreSQL: many processes, one sweep', () => {
  // This file stops and starts its server: one of its own, so that other files at work on the shared one go on.
  privateServerForThisFile();

  it('run and two workers store the same trial set, bit for bit, as one process into SQLite', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'same.yaml', sweepYaml('same'));
    const run = start(['run', 'same.yaml', '--store', url, '--quiet']);
    await until(async () => (await sql(url, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
    const workers = [start(['worker', url, '--workers', '1']), start(['worker', url, '--workers', '1'])];
    const codes = await Promise.all([run.exited, ...workers.map((w) => w.exited)]);
    expect(codes, run.output() + workers.map((w) => w.output()).join('')).toEqual([0, 0, 0]);
    const owners = await sql<{ owner: string; n: string }>(url, 'SELECT owner, count(*) AS n FROM tasks GROUP BY owner');
    expect(owners.length).toBeGreaterThanOrEqual(2);
    expect(cli(['run', 'same.yaml', '--out', join(dir, 'same.db'), '--quiet']).status).toBe(0);
    const [fromPg, fromSqlite] = await Promise.all([storedTrialSet(url), storedTrialSet(join(dir, 'same.db'))]);
    expect(fromPg.size).toBe(2 * TRIALS);
    expect(fromPg).toEqual(fromSqlite);
    // Summarized once, and query works on the URL as on a file.
    expect(await sql(url, 'SELECT status FROM sweeps')).toEqual([{ status: 'done' }]);
    expect(cli(['query', url, '--best']).stdout).toMatch(/^sweep same \(id 1, done\)/);
  });

  it('a worker killed with SIGKILL mid-task: its tasks are taken over when the lease runs out; none missing or doubled', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'killed.yaml', sweepYaml('killed'));
    const run = start(['run', 'killed.yaml', '--store', url, '--quiet', '--lease', '2']);
    await until(async () => (await sql(url, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
    const doomed = start(['worker', url, '--workers', '1', '--lease', '2']);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${doomed.pid}:%`])).length > 0);
    const held = await sql<{ task_id: string }>(url, `SELECT task_id FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${doomed.pid}:%`]);
    doomed.kill('SIGKILL');
    expect(await run.exited, run.output()).toBe(0);
    const tasks = await sql<{ status: string; n: string }>(url, 'SELECT status, count(*) AS n FROM tasks GROUP BY status');
    expect(tasks).toEqual([{ status: 'done', n: '24' }]);
    // The killed worker's tasks were claimed again (attempt 2) and finished by the run.
    const retaken = await sql<{ attempt: number }>(url, 'SELECT attempt FROM tasks WHERE task_id = ANY($1)', [held.map((h) => h.task_id)]);
    expect(retaken.every((r) => r.attempt >= 2)).toBe(true);
    const counts = await sql<{ n: string; distinct: string }>(url, 'SELECT count(*) AS n, count(DISTINCT (penalty, l1_ratio, lambda, fold)) AS distinct FROM trials');
    expect(counts).toEqual([{ n: String(TRIALS), distinct: String(TRIALS) }]);
  });

  it('a worker paused past its lease: another finishes its task, its late result is fenced off, and it goes on', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'paused.yaml', sweepYaml('paused'));
    const run = start(['run', 'paused.yaml', '--store', url, '--quiet', '--lease', '2']);
    await until(async () => (await sql(url, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
    const sleeper = start(['worker', url, '--workers', '1', '--lease', '2']);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${sleeper.pid}:%`])).length > 0);
    const [held] = await sql<{ task_id: string }>(url, `SELECT task_id FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${sleeper.pid}:%`]);
    sleeper.kill('SIGSTOP');
    // The run takes the paused worker's task over once its lease runs out, and finishes it.
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE task_id = $1 AND status = 'done'`, [held.task_id])).length > 0);
    sleeper.kill('SIGCONT');
    expect(await run.exited, run.output()).toBe(0);
    expect(await sleeper.exited, sleeper.output()).toBe(0);
    expect(sleeper.output()).toMatch(new RegExp(`task ${held.task_id.replace(/[/=.]/g, '.')}: its lease ran out and another process took it over; this result was not recorded`));
    const counts = await sql<{ n: string; distinct: string }>(url, 'SELECT count(*) AS n, count(DISTINCT (penalty, l1_ratio, lambda, fold)) AS distinct FROM trials');
    expect(counts).toEqual([{ n: String(TRIALS), distinct: String(TRIALS) }]);
  });

  it('the server stopped (immediate) and started again during a sweep: the processes reconnect and finish; nothing lost', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'restart.yaml', sweepYaml('restart'));
    const run = start(['run', 'restart.yaml', '--store', url, '--quiet']);
    // A worker joins once the run has made the sweep (a worker makes no tables).
    await until(async () => (await sql(url, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
    const worker = start(['worker', url, '--workers', '1']);
    await until(async () => Number((await sql<{ n: string }>(url, `SELECT count(*) AS n FROM tasks WHERE status = 'done'`))[0].n) >= 3);
    pgCtl(['-m', 'immediate', 'stop']);
    await sleep(1500);
    pgCtl(['start']);
    const codes = await Promise.all([run.exited, worker.exited]);
    expect(codes, run.output() + worker.output()).toEqual([0, 0]);
    const counts = await sql<{ n: string; distinct: string }>(url, 'SELECT count(*) AS n, count(DISTINCT (penalty, l1_ratio, lambda, fold)) AS distinct FROM trials');
    expect(counts).toEqual([{ n: String(TRIALS), distinct: String(TRIALS) }]);
    expect(await sql(url, 'SELECT status FROM sweeps')).toEqual([{ status: 'done' }]);
  });

  it('48 concurrent claimers on 3 000 one-λ tasks: each task recorded exactly once', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    const stress = await claimStress(url, 3000, 48);
    expect(stress).toMatchObject({ recorded: 3000, doubled: 0, lost: 0, trialRows: 3000 });
    expect(stress.throughput).toBeGreaterThan(0);
  });

  it('output: postgres://… in the sweep file is the same as --store, and the password stays out of the database and the output', async () => {
    const url = await freshPostgresDatabase();
    const secret = new URL(url).password;
    writeFile(dir, 'inside.yaml', `name: inside\ndata: {synthetic: {kind: regression, n: 200, p: 10, seed: 1}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1], lambda: [1, 0.1], extend: 0}\noutput: ${url}\n`);
    const r = cli(['run', 'inside.yaml']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout).toMatch(/^results: postgres:\/\/postgres@127\.0\.0\.1:\d+\/regsweep_test_/m);
    const [row] = await sql<{ config_json: string }>(url, 'SELECT config_json FROM sweeps');
    expect(row.config_json).toContain('"output":"postgres://postgres@127.0.0.1');
    expect(row.config_json).not.toContain(secret);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM trials')).toEqual([{ n: 8 }]);
  });

  it('serve on a PostgreSQL URL: the sweep list and a sweep state read from the server, read-only, the password not shown', async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'served.yaml', `name: served\ndata: {synthetic: {kind: regression, n: 200, p: 10, seed: 1}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1, l2], lambda: [1, 0.1, 0.01], extend: 0}\noutput: ${url}\n`);
    expect(cli(['run', 'served.yaml', '--quiet']).status).toBe(0);
    const server = start(['serve', url, '--port', '0']);
    await until(async () => /at http:/.test(server.output()), 30_000);
    const printed = /serving (\S+) at (http:\/\/\S+)/.exec(server.output())!;
    expect(printed[1]).not.toContain(new URL(url).password);
    const origin = new URL(printed[2]).origin;
    const list = (await (await fetch(`${origin}/api/sweeps`)).json()) as { name: string; trials_done: number; trials_total: number }[];
    expect(list).toEqual([expect.objectContaining({ name: 'served', trials_done: 24, trials_total: 24 })]);
    const state = (await (await fetch(`${origin}/api/sweeps/1`)).json()) as { progress: { done: number }; charts: { id: string }[]; sweep: { status: string } };
    expect(state.progress.done).toBe(24);
    expect(state.sweep.status).toBe('done');
    expect(state.charts.map((c) => c.id)).toContain('fit');
    expect(await sql(url, 'SELECT count(*)::int AS n FROM trials')).toEqual([{ n: 24 }]);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('bad locations: one line each, the password never shown; a server that refuses is an outside failure (exit 1), a wrong location bad input (exit 2)', async () => {
    const admin = new URL(postgresUrl()!);
    const secret = admin.password;
    const wrong = new URL(admin.toString());
    wrong.password = 'not-the-password';
    const closed = new URL(admin.toString());
    closed.port = '1';
    const foreign = await freshPostgresDatabase();
    await sql(foreign, 'CREATE TABLE public.users (id int)');
    const empty = await freshPostgresDatabase();
    const cases: [string[], number, RegExp][] = [
      [['query', closed.toString(), '--best'], 1, /cannot connect to 127\.0\.0\.1:1 \(connection refused\)/],
      [['query', wrong.toString(), '--best'], 1, /password authentication failed for user "postgres"/],
      [['run', join(ROOT, 'sweeps', 'quickstart.yaml'), '--store', foreign], 2, /not a regsweep database \(it has tables: public\.users\)/],
      [['query', empty, '--best'], 2, /the database holds no sweep yet/],
      [['worker', empty, '--sweep', 'nope'], 2, /the database holds no sweep yet/],
    ];
    for (const [args, status, message] of cases) {
      const r = cli(args);
      expect(r.status, r.stderr).toBe(status);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr + r.stdout).not.toContain(secret);
      expect(r.stderr + r.stdout).not.toContain('not-the-password');
    }
  });
});
