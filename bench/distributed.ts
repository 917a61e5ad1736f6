// `npm run bench -- distributed`: the scale workload through one PostgreSQL — one process, then two processes (run and
// a worker) — against the same sweep in SQLite, and the work queue's claim throughput with 48 claimers. Uses the
// server of REGSWEEP_TEST_PG_URL, else starts one with scripts/test-postgres.sh (Debian's postgresql).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { claimStress } from './claims.js';

export interface DistributedFigures {
  sqlite: number;
  onePostgres: number;
  twoPostgres: number;
  /** Two independent copies of the SQLite run at once: what this machine gives two processes, the speed-up's ceiling. */
  twoIndependent: number;
  claims: Awaited<ReturnType<typeof claimStress>>;
  /** 4 000 tiny tasks: SQLite with 2 threads; PostgreSQL, one process with 2 threads; one run and three workers. */
  tiny: { sqlite: number; onePostgres: number; fleet: number; statements: string[] };
  /** Completions per second of claimers whose tasks sleep in the database (no CPU here): 1 and 4 of them. */
  sleeping: { one: Awaited<ReturnType<typeof claimStress>>; four: Awaited<ReturnType<typeof claimStress>> };
}

// 4 000 paths of 10 λ, a few milliseconds each: what the queue costs per task, not what the fits cost.
const tinyYaml = () => `name: tiny
data: {synthetic: {kind: regression, n: 8000, p: 60, nonzero: 5, seed: 1}}
validation: {kind: kfold, folds: 9, seed: 0}
sweep: {kind: grid, penalty: [elasticnet], lambda: {auto: 10}, l1_ratio: [${Array.from({ length: 400 }, (_, i) => (0.0025 * i + 0.00125).toFixed(5)).join(', ')}], extend: 0}
`;

/** The statements that took the most time on the server in a database, from pg_stat_statements (if it is loaded). */
async function topStatements(url: string, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = (
      await client.query(
        `SELECT calls, round(total_exec_time)::int AS ms, round(mean_exec_time::numeric, 2)::float AS mean, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) AS q
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT $1`,
        [count],
      )
    ).rows;
    return rows.map((r) => `${r.calls} calls, ${r.ms} ms (${r.mean} ms each): ${r.q}`);
  } catch (e) {
    return [`pg_stat_statements not available (${(e as Error).message}); scripts/test-postgres.sh loads it`];
  } finally {
    await client.end();
  }
}

async function withStatements(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => undefined);
  await client.query('SELECT pg_stat_statements_reset()').catch(() => undefined);
  await client.end();
  return url;
}

const scaleYaml = (lambdas: number) => `name: distributed
data:
  synthetic: {kind: regression, n: 20000, p: 2000, nonzero: 100, rho: 0.5, snr: 3, seed: 1}
  standardize: false
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [elasticnet], lambda: {auto: ${lambdas}, ratio: 1e-3}, l1_ratio: [0.1, 0.5, 0.9, 1]}
workers: 1
`;

async function database(admin: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name}`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs the first command, then (once `ready` says the sweep's tasks are there) the others; the wall time of all. */
async function timed(args: string[][], root: string, cwd: string, ready: () => Promise<boolean> = async () => true): Promise<number> {
  const bin = join(root, 'bin', 'regsweep.js');
  const started = performance.now();
  const launch = (a: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...a, '--quiet'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b) => (err += b));
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`regsweep ${a[0]} exit ${code}: ${err.trim().split('\n').at(-1)}`))));
    });
  const first = launch(args[0]);
  if (args.length > 1) {
    while (!(await ready().catch(() => false))) await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all([first, ...args.slice(1).map(launch)]);
  return (performance.now() - started) / 1000;
}

/**
 * Whether the sweep's tasks are there, asked on one connection kept between calls: a new connection for each poll
 * (every 100 ms while the run starts) took the server's CPU from the processes being timed.
 */
function tasksThere(url: string): { ready: () => Promise<boolean>; end: () => Promise<void> } {
  let client: pg.Client | undefined;
  return {
    ready: async () => {
      if (!client) {
        client = new pg.Client({ connectionString: url });
        await client.connect();
      }
      return (await client.query(`SELECT 1 FROM regsweep.tasks LIMIT 1`).catch(() => ({ rowCount: 0 }))).rowCount! > 0;
    },
    end: async () => void (await client?.end()),
  };
}

async function timedFleet(args: string[][], root: string, cwd: string, url: string): Promise<number> {
  const poll = tasksThere(url);
  try {
    return await timed(args, root, cwd, poll.ready);
  } finally {
    await poll.end();
  }
}

export async function distributedWorkload(root: string, quick: boolean): Promise<DistributedFigures | { skipped: string }> {
  let admin = process.env.REGSWEEP_TEST_PG_URL;
  let cluster: string | undefined;
  if (!admin) {
    cluster = mkdtempSync(join(tmpdir(), 'regsweep-bench-pg-'));
    const started = spawnSync('bash', [join(root, 'scripts', 'test-postgres.sh'), 'start', cluster], { encoding: 'utf8' });
    if (started.status !== 0) return { skipped: `no PostgreSQL (${started.stderr.trim().split('\n').at(-1) ?? 'scripts/test-postgres.sh failed'})` };
    admin = /REGSWEEP_TEST_PG_URL=(\S+)/.exec(started.stdout)![1];
  }
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-bench-dist-'));
  try {
    writeFileSync(join(dir, 'scale.yaml'), scaleYaml(quick ? 10 : 20));
    const sqlite = await timed([['run', 'scale.yaml', '--out', join(dir, 'scale.db')]], root, dir);
    const twoIndependent = await timed([['run', 'scale.yaml', '--out', join(dir, 'a.db')], ['run', 'scale.yaml', '--out', join(dir, 'b.db')]], root, dir);
    const one = await database(admin, 'regsweep_bench_one');
    const onePostgres = await timed([['run', 'scale.yaml', '--store', one]], root, dir);
    const two = await database(admin, 'regsweep_bench_two');
    const twoPostgres = await timedFleet([['run', 'scale.yaml', '--store', two], ['worker', two, '--workers', '1']], root, dir, two);
    const claims = await claimStress(await database(admin, 'regsweep_bench_claims'), quick ? 1000 : 3000, 48);
    writeFileSync(join(dir, 'tiny.yaml'), tinyYaml());
    const tinySqlite = await timed([['run', 'tiny.yaml', '--out', join(dir, 'tiny.db'), '--workers', '2']], root, dir);
    const tinyOne = await timed([['run', 'tiny.yaml', '--store', await database(admin, 'regsweep_bench_tiny_one'), '--workers', '2']], root, dir);
    const fleetUrl = await withStatements(await database(admin, 'regsweep_bench_tiny_fleet'));
    const fleet = await timedFleet([['run', 'tiny.yaml', '--store', fleetUrl, '--workers', '1'], ...[0, 1, 2].map(() => ['worker', fleetUrl, '--workers', '1'])], root, dir, fleetUrl);
    const statements = await topStatements(fleetUrl, 8);
    const sleepingTasks = quick ? 200 : 400;
    const sleepOne = await claimStress(await database(admin, 'regsweep_bench_sleep_one'), sleepingTasks, 1, 20);
    const sleepFour = await claimStress(await database(admin, 'regsweep_bench_sleep_four'), sleepingTasks, 4, 20);
    return { sqlite, onePostgres, twoPostgres, twoIndependent, claims, tiny: { sqlite: tinySqlite, onePostgres: tinyOne, fleet, statements }, sleeping: { one: sleepOne, four: sleepFour } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (cluster) spawnSync('bash', [join(root, 'scripts', 'test-postgres.sh'), 'stop', cluster]);
  }
}
