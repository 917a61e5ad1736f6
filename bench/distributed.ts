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

async function hasTasks(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`SELECT 1 FROM regsweep.tasks LIMIT 1`)).rowCount! > 0;
  } finally {
    await client.end();
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
    const twoPostgres = await timed([['run', 'scale.yaml', '--store', two], ['worker', two, '--workers', '1']], root, dir, () => hasTasks(two));
    const claims = await claimStress(await database(admin, 'regsweep_bench_claims'), quick ? 1000 : 3000, 48);
    return { sqlite, onePostgres, twoPostgres, twoIndependent, claims };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (cluster) spawnSync('bash', [join(root, 'scripts', 'test-postgres.sh'), 'stop', cluster]);
  }
}
