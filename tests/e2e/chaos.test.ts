// The fleet under faults (issue 27): one run and three workers on one PostgreSQL sweep; while they work, the server is
// restarted, every regsweep connection is terminated twice, a worker is killed with SIGKILL and another is paused past
// its lease. Every process that was not killed ends by itself with exit 0, nobody starts a replacement, and the
// sweep holds every trial once, equal to the same sweep run into SQLite. Once directly, once through PgBouncer in
// transaction mode.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startCli, storedTrialSet, tempDir, until, writeFile } from '../helpers.js';
import { freshPostgresDatabase, pgCtl, postgresUrl, sql, startPgBouncer, privateServerForThisFile, postgresTestable } from '../postgres.js';

const haveServer = postgresTestable();
const haveBouncer = spawnSync('pgbouncer', ['--version']).status === 0;
if (!haveBouncer && process.env.CI) throw new Error('pgbouncer is not installed: the fleet through PgBouncer is not tested (.ci/run installs it)');

const dir = tempDir('regsweep-chaos-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEASE_S = 3;
// 52 logistic paths of 50 λ on a 1 500 × 150 problem, one thread per process: long enough for every fault below.
const SWEEP = `name: chaos
data: {synthetic: {kind: classification, n: 1500, p: 150, nonzero: 15, rho: 0.5, seed: 3}}
validation: {kind: kfold, folds: 12, seed: 0}
model: {kind: logistic, tol: 1e-8}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 0.3], num: 50}, l1_ratio: [0.3, 0.7], extend: 0}
workers: 1
`;
const TASKS = 4 * 13;
const TRIALS = TASKS * 50;

/** Ends every connection to the sweep's database (a pooler's server connections too), from the admin database. */
async function terminateAll(database: string): Promise<number> {
  const name = new URL(database).pathname.slice(1);
  const rows = await sql<{ n: number }>(postgresUrl()!, `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
  return rows[0].n;
}

let reference: Map<string, string>;
beforeAll(async () => {
  if (!haveServer) return;
  writeFile(dir, 'chaos.yaml', SWEEP);
  const r = spawnSync(process.execPath, [BIN, 'run', 'chaos.yaml', '--out', 'reference.db', '--workers', '2', '--quiet'], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
  expect(r.status, r.stderr).toBe(0);
  reference = await storedTrialSet(join(dir, 'reference.db'));
  expect(reference.size).toBe(2 * TRIALS);
}, 600_000);

/** The faults, on a sweep at `url` (a database of the test server, directly or through a pooler at `via`). */
async function underFaults(database: string, via: string): Promise<void> {
  const faults: string[] = [];
  const open = async () => Number((await sql<{ n: number }>(database, `SELECT count(*)::int AS n FROM tasks WHERE status IN ('pending', 'running')`))[0]?.n ?? 0);
  /** A fault is only worth its name while the sweep has work left. */
  const fault = async (name: string, act: () => Promise<unknown>) => {
    expect(await open(), `the sweep ended before: ${name}`).toBeGreaterThan(4);
    await act();
    faults.push(name);
  };
  const args = ['--lease', String(LEASE_S), '--reconnect-timeout', '120'];
  const run = startCli(['run', 'chaos.yaml', '--store', via, '--quiet', ...args], dir);
  await until(async () => (await sql(database, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
  const workers = [0, 1, 2].map(() => startCli(['worker', via, '--workers', '1', '--quiet', ...args], dir));
  const [killed, paused, steady] = workers;
  const holding = (p: { pid?: number }) => async () => (await sql(database, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${p.pid}:%`])).length > 0;
  await until(async () => Number((await sql<{ n: number }>(database, `SELECT count(*)::int AS n FROM tasks WHERE status = 'done'`))[0].n) >= 3);

  await fault('every connection terminated (1)', async () => expect(await terminateAll(database)).toBeGreaterThan(0));
  await until(holding(killed));
  await fault('a worker killed with SIGKILL while it holds a task', async () => {
    killed.kill('SIGKILL');
    await killed.exited;
  });
  await until(holding(paused));
  await fault(`a worker paused (SIGSTOP) past its lease of ${LEASE_S} s`, async () => {
    paused.kill('SIGSTOP');
    await sleep((LEASE_S + 3) * 1000);
    paused.kill('SIGCONT');
  });
  await fault('the server stopped and started again', async () => {
    pgCtl(['-m', 'fast', 'stop']);
    await sleep(1500);
    pgCtl(['start']);
  });
  await sleep(1000);
  await fault('every connection terminated (2)', async () => terminateAll(database));

  const codes = await Promise.all([run, paused, steady].map((p) => p.exited));
  expect(codes, [run, paused, steady].map((p) => p.output()).join('\n---\n')).toEqual([0, 0, 0]);
  expect(faults).toHaveLength(5);
  expect(await sql(database, 'SELECT status FROM sweeps')).toEqual([{ status: 'done' }]);
  expect(await sql(database, `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`)).toEqual([{ status: 'done', n: TASKS }]);
  expect((await sql<{ n: number; d: number }>(database, 'SELECT count(*)::int AS n, count(DISTINCT (penalty, l1_ratio, lambda, fold))::int AS d FROM trials'))[0]).toEqual({ n: TRIALS, d: TRIALS });
  // The killed worker's task was taken over; the paused one's late result was fenced off or its task finished by another.
  expect(await storedTrialSet(database)).toEqual(reference);
}

describe.runIf(haveServer)('a fleet under faults', () => {
  // This file stops and starts its server: one of its own, so that other files at work on the shared one go on.
  privateServerForThisFile();

  it('directly on the server: no trial lost or doubled, every survivor exits 0 by itself', { timeout: 600_000 }, async () => {
    const database = await freshPostgresDatabase();
    await underFaults(database, database);
  });

  describe.runIf(haveBouncer)('through PgBouncer in transaction mode', () => {
    let bouncer: Awaited<ReturnType<typeof startPgBouncer>>;
    beforeAll(async () => {
      bouncer = await startPgBouncer();
    });
    afterAll(async () => {
      await bouncer?.stop();
    });

    it('the same faults through a transaction pooler: the same sweep', { timeout: 600_000 }, async () => {
      const database = await freshPostgresDatabase();
      await underFaults(database, bouncer.url(new URL(database).pathname.slice(1)));
    });
  });
});
