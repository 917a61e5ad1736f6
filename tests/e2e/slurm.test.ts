// The Slurm recipe (deploy/slurm/regsweep-worker.sbatch) on a real one-node Slurm cluster (Debian's slurm-wlm and
// munge, started by scripts/test-slurm.sh): an array of workers completes a sweep on PostgreSQL; one array task is
// cancelled while it holds a task (scancel: SIGTERM), its work goes back to the queue and the others finish the sweep,
// which equals the same sweep run into SQLite. Nothing is resubmitted.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, startCli, storedTrialSet, tempDir, until, writeFile } from '../helpers.js';
import { freshPostgresDatabase, postgresUrl, sql } from '../postgres.js';

const haveSlurm = existsSync('/usr/sbin/slurmctld') && existsSync('/usr/sbin/munged') && process.getuid?.() === 0;
if (!haveSlurm && process.env.CI) throw new Error('slurm-wlm and munge are not installed (or not as root): the Slurm recipe is not tested (.ci/run installs them)');
if (!postgresUrl() && process.env.CI) throw new Error('REGSWEEP_TEST_PG_URL is not set: PostgreSQL is not tested (see scripts/test-postgres.sh)');

const dir = tempDir('regsweep-slurm-');
// Beside the test's folder, not in it: munged (the munge user) must reach its files.
const cluster = join(tmpdir(), `regsweep-slurm-cluster-${process.pid}`);
let env: NodeJS.ProcessEnv = process.env;
const slurm = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: 'utf8', cwd: dir });

const SWEEP = `name: arrayed
data: {synthetic: {kind: classification, n: 1000, p: 100, nonzero: 10, rho: 0.5, seed: 3}}
validation: {kind: kfold, folds: 9, seed: 0}
model: {kind: logistic, tol: 1e-8}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 0.3], num: 50}, l1_ratio: [0.3, 0.7], extend: 0}
workers: 1
`;
const TASKS = 4 * 10;

describe.runIf(haveSlurm && postgresUrl())('regsweep workers as a Slurm job array', () => {
  beforeAll(() => {
    const started = spawnSync('bash', [join(ROOT, 'scripts', 'test-slurm.sh'), 'start', cluster], { encoding: 'utf8' });
    if (started.status !== 0) throw new Error(`cannot start the Slurm cluster: ${started.stderr}`);
    env = { ...process.env, SLURM_CONF: /SLURM_CONF='([^']+)'/.exec(started.stdout)![1] };
  }, 60_000);
  afterAll(() => {
    spawnSync('bash', [join(ROOT, 'scripts', 'test-slurm.sh'), 'stop', cluster]);
  });

  it('an array of workers finishes the sweep; the array task cancelled mid-task gives its work back', { timeout: 300_000 }, async () => {
    writeFile(dir, 'arrayed.yaml', SWEEP);
    const reference = spawnSync(process.execPath, [BIN, 'run', 'arrayed.yaml', '--out', 'reference.db', '--quiet'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    expect(reference.status, reference.stderr).toBe(0);
    const url = await freshPostgresDatabase();
    // The sweep is made by run, which is stopped after its first task: the rest is the array's.
    const run = startCli(['run', 'arrayed.yaml', '--store', url, '--quiet'], dir);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'done'`)).length > 0);
    run.kill('SIGINT');
    expect(await run.exited).toBe(130);

    const submitted = slurm('sbatch', [
      '--parsable', '--array=1-3', '--cpus-per-task=1', `--output=${join(dir, 'w-%a.out')}`, `--chdir=${dir}`,
      `--export=ALL,REGSWEEP_STORE=${url},REGSWEEP=${process.execPath} ${BIN}`,
      join(ROOT, 'deploy', 'slurm', 'regsweep-worker.sbatch'),
    ]).trim();
    const job = submitted.split(';')[0];
    // Array task 1's worker (the batch script execs it: its pid is the script's) holding a task: cancelled then.
    const out = (k: number) => (existsSync(join(dir, `w-${k}.out`)) ? readFileSync(join(dir, `w-${k}.out`), 'utf8') : '');
    let pid = 0;
    await until(async () => {
      pid = Number(/ pid (\d+),/.exec(out(1))?.[1] ?? 0);
      return pid > 0 && (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${pid}:%`])).length > 0;
    });
    slurm('scancel', [`${job}_1`]);
    await until(async () => /stopping \(SIGTERM\): claimed tasks go back to the queue/.test(out(1)), 60_000);
    // The line is written when the signal comes, the claims given back just after: within 5 s, far inside the 30 s
    // lease after which the others would take them over anyway.
    const stopped = Date.now();
    await until(async () => (await sql(url, `SELECT task_id FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${pid}:%`])).length === 0, 5_000);
    expect(Date.now() - stopped).toBeLessThan(5_000);

    // The other two finish the sweep by themselves and leave the queue, exit 0 (one that starts when no task is left
    // says so and ends too); the cancelled one ended as Slurm cancels.
    await until(async () => slurm('squeue', ['-h', '-j', job]).trim() === '', 240_000);
    const ended = (k: number) => /JobState=(\S+).*ExitCode=(\S+)/s.exec(slurm('scontrol', ['show', 'job', `${job}_${k}`]))!.slice(1);
    for (const k of [2, 3]) {
      expect(ended(k), `array task ${k}: ${out(k)}`).toEqual(['COMPLETED', '0:0']);
      expect(out(k), `array task ${k}`).toMatch(/sweep arrayed \(id 1\): (complete|done)|no sweep with tasks left to run/);
    }
    expect(ended(1)[0]).toBe('CANCELLED');
    expect(`${out(2)}${out(3)}`).toMatch(/this worker recorded [1-9]\d* task/);
    expect(await sql(url, 'SELECT status FROM sweeps')).toEqual([{ status: 'done' }]);
    expect(await sql(url, `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`)).toEqual([{ status: 'done', n: TASKS }]);
    expect(await storedTrialSet(url)).toEqual(await storedTrialSet(join(dir, 'reference.db')));
  });
});
