// PostgreSQL mode at its boundaries (issue 34, cases 5–7, 11–13, 15): a data cache changed on disk, two runs started
// together, leases that never end, connections cut under a statement, URLs that are wrong, a worker stopped while it
// holds work or while its server is gone — each with real processes on a real server.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, startCli, startServe, stopChild, tempDir, until, writeFile } from '../helpers.js';
import { freshPostgresDatabase, pgCtl, postgresUrl, sql, privateServerForThisFile, postgresTestable } from '../postgres.js';

const haveServer = postgresTestable();

const dir = tempDir('regsweep-pg-bounds-');
const cache = join(dir, 'cache');
const env = { ...process.env, XDG_CACHE_HOME: cache };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000, env });
const start = (args: string[]) => startCli(args, dir, env);
const tables = async (url: string) => (await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`))[0].n;
const oneLine = (r: { stderr: string }) => {
  expect(r.stderr).not.toMatch(/\n\s+at |internal error|Unhandled|Warning/);
  return r.stderr.trim().split('\n');
};
/** The trials of a sweep by point, without ids and times: the same sweep run anywhere gives the same map. */
async function trialsOf(url: string, name: string) {
  const rows = await sql<Record<string, unknown>>(
    url,
    `SELECT t.penalty, t.l1_ratio, t.lambda, t.fold, t.status, t.train_loss, t.val_loss, t.nnz FROM trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = $1 ORDER BY 1, 2, 3, 4`,
    [name],
  );
  return rows.map((r) => JSON.stringify(r));
}

// 24 logistic paths of 50 λ on a 1 000 × 100 problem: a fraction of a second each on one thread, long enough to act on.
const sweepYaml = (name: string) => `name: ${name}
data: {synthetic: {kind: classification, n: 1000, p: 100, nonzero: 10, rho: 0.5, seed: 3}}
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: logistic, tol: 1e-8}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 0.3], num: 50}, l1_ratio: [0.3, 0.7], extend: 0}
workers: 1
`;

/** GET /metrics of a `regsweep serve` on the URL. */
async function fetchMetrics(url: string): Promise<string> {
  const { child, url: served } = await startServe([url, '--port', '0'], dir);
  try {
    const r = await fetch(`${served}metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return await r.text();
  } finally {
    await stopChild(child);
  }
}

/** A sweep made by `run` on the URL and stopped (SIGINT) after its first task: the rest is left to workers. */
async function startedSweep(url: string, name: string, yaml = sweepYaml(name)): Promise<void> {
  writeFile(dir, `${name}.yaml`, yaml);
  const run = start(['run', `${name}.yaml`, '--store', url, '--quiet']);
  await until(async () => (await sql(url, `SELECT 1 FROM tasks t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = $1 AND t.status = 'done'`, [name])).length > 0);
  run.kill('SIGINT');
  expect(await run.exited, run.output()).toBe(130);
}

describe.runIf(haveServer)('PostgreSQL at its boundaries', () => {
  // This file stops and starts its server: one of its own, so that other files at work on the shared one go on.
  privateServerForThisFile();

  it('5. a cached copy of the data changed on disk is noticed, said, fetched again; the trials equal those fitted on the original data', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'cached.yaml', sweepYaml('cached'));
    expect(cli(['run', 'cached.yaml', '--store', url, '--quiet']).status).toBe(0);
    const original = await trialsOf(url, 'cached');
    expect(original.length).toBe(24 * 50);
    // Every task run again by a worker, which fits on the data as it fetched or cached them.
    const again = async () => {
      await sql(url, 'DELETE FROM trials');
      await sql(url, `UPDATE tasks SET status = 'pending', owner = NULL, lease_until = NULL, attempt = 0`);
      await sql(url, `UPDATE sweeps SET status = 'running'`);
      const r = cli(['worker', url, '--workers', '1']);
      expect(r.status, r.stderr).toBe(0);
      expect(await trialsOf(url, 'cached')).toEqual(original);
      return r;
    };
    expect((await again()).stderr).not.toMatch(/warning/);
    const datasets = join(cache, 'regsweep', 'datasets');
    const [file] = readdirSync(datasets).filter((f) => f.endsWith('.bin'));
    const size = statSync(join(datasets, file)).size;
    // 400 KB flipped inside the values, the size unchanged; and a temporary file left by a fetch that was killed.
    const bytes = readFileSync(join(datasets, file));
    for (let i = 100_000; i < 500_000; i++) bytes[i] ^= 0x5a;
    writeFileSync(join(datasets, file), bytes);
    const abandoned = join(datasets, `.${file}.999999.0badf00d.tmp`);
    writeFileSync(abandoned, 'half a fetch');
    expect((await again()).stderr).toMatch(new RegExp(`warning: .*${file}: its values do not match their checksum \\(the file changed on disk\\); fetching the sweep's data from postgres://\\S+ again`));
    expect(existsSync(abandoned)).toBe(false);
    expect(statSync(join(datasets, file)).size).toBe(size);
    // The cache holds the right values again: read without a word.
    expect((await again()).stderr).not.toMatch(/warning/);
  });

  it('6. two runs of one sweep file started together on an empty database make one sweep, and both finish it', { timeout: 300_000 }, async () => {
    writeFile(dir, 'twins.yaml', `name: twins\ndata: {synthetic: {kind: regression, n: 300, p: 20, nonzero: 4, seed: 2}}\nvalidation: {kind: kfold, folds: 4}\nsweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 20}, extend: 0}\nworkers: 1\n`);
    for (let attempt = 0; attempt < 5; attempt++) {
      const url = await freshPostgresDatabase();
      const runs = [start(['run', 'twins.yaml', '--store', url, '--quiet']), start(['run', 'twins.yaml', '--store', url, '--quiet'])];
      const codes = await Promise.all(runs.map((r) => r.exited));
      expect(codes, runs.map((r) => r.output()).join('\n')).toEqual([0, 0]);
      expect(await sql(url, 'SELECT name, status FROM sweeps')).toEqual([{ name: 'twins', status: 'done' }]);
      expect((await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM trials'))[0].n).toBe(5 * 2 * 20);
    }
  });

  it('7. --lease is bounded; a claim whose owner died shows in query --list, and run --retry-failed gives it back at once', { timeout: 300_000 }, async () => {
    for (const lease of ['1e9', '0.5', '-3', '3601']) {
      const r = cli(['worker', 'postgres://nobody@127.0.0.1:1/none', '--lease', lease]);
      expect(r.status, lease).toBe(2);
      expect(oneLine(r)).toEqual([`regsweep: --lease ${Number(lease)}: expected seconds from 2 to 3600 (a task of a worker that dies comes back after its lease)`]);
    }
    const url = await freshPostgresDatabase();
    writeFile(dir, 'stuck.yaml', sweepYaml('stuck'));
    // The only process on the sweep is killed while it holds tasks: they stay claimed until their lease (60 s) ends.
    const run = start(['run', 'stuck.yaml', '--store', url, '--quiet', '--lease', '60']);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'done'`)).length > 0 && (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running'`)).length > 0);
    run.kill('SIGKILL');
    await run.exited;
    const held = (await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM tasks WHERE status = 'running'`))[0].n;
    expect(held).toBeGreaterThan(0);
    // Two renewals (every 20 s) missed: stale after 40 s. The test waits less by asking the store as of 41 s later.
    await sql(url, `UPDATE tasks SET lease_until = lease_until - interval '41 seconds' WHERE status = 'running'`);
    const list = cli(['query', url, '--list']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^1 +stuck +(interrupted|running) .* ${held} +${held} `, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^note: sweep stuck \\(id 1\\): ${held} claimed task\\(s\\) whose owner stopped renewing its lease .*regsweep run <sweep file> --store postgres://\\S+ --retry-failed$`, 'm'));
    const json = JSON.parse(cli(['query', url, '--list', '--json']).stdout);
    expect(json[0]).toMatchObject({ name: 'stuck', claimed: held, stale: held });
    const again = cli(['run', 'stuck.yaml', '--store', url, '--retry-failed']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`${held} claimed task\\(s\\) whose owner stopped renewing its lease queued again`));
    expect(await sql(url, `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`)).toEqual([{ status: 'done', n: 24 }]);
    expect((await sql<{ n: number; d: number }>(url, 'SELECT count(*)::int AS n, count(DISTINCT (penalty, l1_ratio, lambda, fold))::int AS d FROM trials'))[0]).toEqual({ n: 1200, d: 1200 });
  });

  it('11. a connection cut under query --sql (pg_terminate_backend, a server stop) is one line, exit 1', { timeout: 120_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'small.yaml', `name: small\ndata: {synthetic: {kind: regression, n: 200, p: 10, seed: 1}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1], lambda: [1, 0.1], extend: 0}\n`);
    expect(cli(['run', 'small.yaml', '--store', url, '--quiet']).status).toBe(0);
    const statement = start(['query', url, '--sql', 'SELECT pg_sleep(30), count(*) FROM trials']);
    await until(async () => (await sql(url, `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'`)).length > 0);
    await sql(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()`);
    expect(await statement.exited).toBe(1);
    expect(oneLine({ stderr: statement.output() })).toEqual([expect.stringMatching(/^regsweep: postgres:\/\/postgres@\S+: lost the connection to PostgreSQL while the statement ran \(.*terminat.*\); nothing was changed, run it again$/)]);

    const stopped = start(['query', url, '--sql', 'SELECT pg_sleep(30)']);
    await until(async () => (await sql(url, `SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'`)).length > 0);
    pgCtl(['-m', 'fast', 'stop']);
    try {
      expect(await stopped.exited).toBe(1);
      expect(oneLine({ stderr: stopped.output() })).toEqual([expect.stringMatching(/lost the connection to PostgreSQL while the statement ran/)]);
      // A server that is down: refused at once, exit 1, said so.
      const refused = cli(['query', url, '--list']);
      expect(refused.status).toBe(1);
      expect(oneLine(refused)).toEqual([expect.stringMatching(/cannot connect to 127\.0\.0\.1:\d+ \(connection refused\); is PostgreSQL running/)]);
    } finally {
      pgCtl(['start']);
    }
    // A server that accepts and never answers: timed out (connect_timeout), exit 1.
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = cli(['query', `postgres://postgres@127.0.0.1:${port}/postgres?connect_timeout=1`, '--list']);
      expect(r.status).toBe(1);
      expect(oneLine(r)).toEqual([`regsweep: postgres://postgres@127.0.0.1:${port}/postgres?connect_timeout=1: cannot reach 127.0.0.1:${port} (timed out)`]);
    } finally {
      silent.close();
    }
  });

  it('12. URL parameters are checked, sslmode=require says what the server said in one line, and no part of a password is shown', async () => {
    const admin = new URL(postgresUrl()!);
    const secret = admin.password;
    const at = (query: string) => {
      const u = new URL(admin.toString());
      u.pathname = '/postgres';
      u.search = '';
      return `${u.toString()}${query}`;
    };
    const cases: [string, number, RegExp][] = [
      [at('?sslmode=require'), 1, /^regsweep: postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=require: SSL: The server does not support SSL connections$/],
      [at('?sslmode=bogus'), 2, /^regsweep: the PostgreSQL URL has sslmode=bogus; expected one of disable, allow, prefer, require, verify-ca, verify-full$/],
      [at('?sslmode=require&sslmode=disable'), 2, /gives the parameter "sslmode" twice/],
      [at('?frobnicate=1'), 2, /has the parameter "frobnicate", which regsweep does not take/],
      [at('?sslrootcert=/no/such/ca.pem&sslmode=verify-full'), 2, /names sslrootcert=\/no\/such\/ca\.pem, which cannot be read \(ENOENT\)/],
    ];
    for (const [url, status, message] of cases) {
      const r = cli(['query', url, '--list']);
      expect(r.status, r.stderr).toBe(status);
      expect(oneLine(r)).toEqual([expect.stringMatching(message)]);
      expect(r.stderr).not.toContain(secret);
    }
    // A password with an unencoded "@" and "/": where it ends cannot be told; nothing of it is shown.
    for (const password of ['Zq@Xw/Vy7', 'Kj/Lm@Np']) {
      const r = cli(['query', `postgres://someone:${password}@127.0.0.1:${admin.port}/postgres`, '--list']);
      expect(r.status).toBe(2);
      expect(oneLine(r)).toEqual([expect.stringMatching(/^regsweep: the PostgreSQL URL (has a path that is not a database name \(an unencoded "@" in the password\?\)|does not parse): percent-encode/)]);
      for (const part of password.split(/[@/]/)) expect(r.stderr).not.toContain(part);
    }
    // An unencoded "@" alone is read as part of the password (the last "@" ends it): such a role connects.
    const role = `tricky_${process.pid}`;
    await sql(postgresUrl()!, `DROP ROLE IF EXISTS ${role}`);
    await sql(postgresUrl()!, `CREATE ROLE ${role} LOGIN PASSWORD 'p@ss:w0rd'`);
    const url = await freshPostgresDatabase();
    writeFile(dir, 'role.yaml', `name: role\ndata: {synthetic: {kind: regression, n: 100, p: 5, seed: 1}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1], lambda: [1, 0.1], extend: 0}\n`);
    expect(cli(['run', 'role.yaml', '--store', url, '--quiet']).status).toBe(0);
    await sql(url, `GRANT USAGE ON SCHEMA regsweep TO ${role}`);
    await sql(url, `GRANT SELECT ON ALL TABLES IN SCHEMA regsweep TO ${role}`);
    const tricky = cli(['query', `postgres://${role}:p@ss:w0rd@127.0.0.1:${admin.port}${new URL(url).pathname}`, '--list']);
    expect(tricky.status, tricky.stderr).toBe(0);
    expect(tricky.stdout).toMatch(/^1 +role +done/m);
    const wrong = cli(['query', `postgres://${role}:n0t@it@127.0.0.1:${admin.port}${new URL(url).pathname}`, '--list']);
    expect(wrong.status).toBe(1);
    expect(oneLine(wrong)).toEqual([`regsweep: postgres://${role}@127.0.0.1:${admin.port}${new URL(url).pathname}: password authentication failed for user "${role}"`]);
  });

  it('13. a worker stopped by SIGTERM gives its claims back at once; one whose server is gone stops when told', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    await startedSweep(url, 'released');
    const worker = start(['worker', url, '--workers', '1']);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${worker.pid}:%`])).length > 0);
    worker.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(130);
    expect(worker.output()).toMatch(/stopping \(SIGTERM\): claimed tasks go back to the queue/);
    // Released, not left to the 30-second lease.
    expect(await sql(url, `SELECT task_id FROM tasks WHERE status = 'running'`)).toEqual([]);
    expect((await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM tasks WHERE status = 'pending' AND owner IS NULL`))[0].n).toBeGreaterThan(0);

    const stubborn = start(['worker', url, '--workers', '1']);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${stubborn.pid}:%`])).length > 0);
    pgCtl(['-m', 'immediate', 'stop']);
    try {
      await sleep(1500);
      const told = Date.now();
      stubborn.kill('SIGTERM');
      expect(await stubborn.exited, stubborn.output()).toBe(130);
      // Not the two minutes a lost connection is waited for; a fit in progress may finish first.
      expect(Date.now() - told).toBeLessThan(15_000);
      expect(stubborn.output()).toMatch(/^interrupted: postgres:\/\/postgres@\S+: lost the connection to PostgreSQL/m);
    } finally {
      pgCtl(['start']);
    }
    const finish = cli(['worker', url, '--workers', '1']);
    expect(finish.status, finish.stderr).toBe(0);
    expect(await sql(url, `SELECT status, count(*)::int AS n FROM tasks GROUP BY status`)).toEqual([{ status: 'done', n: 24 }]);
  });

  it('status and /metrics: each process with its host, pid, threads and counts; one killed falls silent; its tasks counted as taken over', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    // 128 tasks: long enough that the steady worker is still at work when the killed one has fallen silent.
    writeFile(dir, 'watched.yaml', sweepYaml('watched').replace('folds: 5', 'folds: 31'));
    const run = start(['run', 'watched.yaml', '--store', url, '--quiet', '--lease', '3']);
    await until(async () => (await sql(url, 'SELECT 1 FROM tasks LIMIT 1')).length > 0);
    const doomed = start(['worker', url, '--workers', '1', '--lease', '3']);
    const steady = start(['worker', url, '--workers', '1', '--lease', '3']);
    await until(async () => (await sql(url, `SELECT 1 FROM tasks WHERE status = 'running' AND owner LIKE $1`, [`%:${doomed.pid}:%`])).length > 0);
    // The other worker may still be starting (connecting, fetching the data) when the first has a task: every process's
    // first report is waited for.
    const status = () => JSON.parse(cli(['status', url, '--json']).stdout) as { name: string; tasks: { total: number }; processes: { pid: number; command: string; threads: number; state: string; silent: boolean }[] }[];
    await until(async () => [run, doomed, steady].every((child) => status()[0]?.processes.some((p) => p.pid === child.pid && p.state === 'working')));
    const working = status();
    expect(working).toHaveLength(1);
    expect(working[0].name).toBe('watched');
    const byPid = new Map(working[0].processes.map((p) => [p.pid, p]));
    for (const [child, command] of [[run, 'run'], [doomed, 'worker'], [steady, 'worker']] as const)
      expect(byPid.get(child.pid!), command).toMatchObject({ command, state: 'working', silent: false });
    doomed.kill('SIGKILL');
    await doomed.exited;
    // Two reports missed (every second at a lease of 3 s): silent.
    await until(async () => /silent/.test(cli(['status', url]).stdout), 30_000);
    const table = cli(['status', url]).stdout;
    expect(table).toMatch(new RegExp(`^sweep watched \\(id 1, running\\): \\d+ of 128 tasks done, \\d+ claimed`, 'm'));
    expect(table).toMatch(new RegExp(`^\\S+ +${doomed.pid} +worker +1 +silent `, 'm'));
    const metrics = await fetchMetrics(url);
    expect(metrics).toMatch(new RegExp(`^regsweep_process_up\\{sweep="watched",sweep_id="1",host="[^"]+",pid="${doomed.pid}",command="worker"\\} 0$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^regsweep_process_up\\{sweep="watched",sweep_id="1",host="[^"]+",pid="${steady.pid}",command="worker"\\} 1$`, 'm'));
    expect(metrics).toMatch(/^regsweep_tasks\{sweep="watched",sweep_id="1",state="pending"\} \d+$/m);
    expect(await Promise.all([run.exited, steady.exited])).toEqual([0, 0]);
    // After the sweep: every survivor reported its end; the tasks add up; the killed one's were taken over.
    const ended = JSON.parse(cli(['status', url, '--json']).stdout)[0] as { tasks: { done: number }; processes: { owner: string; pid: number; state: string; tasksDone: number; takenOver: number }[] };
    expect(ended.tasks.done).toBe(128);
    const states = new Map(ended.processes.map((p) => [p.pid, p.state]));
    expect([states.get(run.pid!), states.get(steady.pid!), states.get(doomed.pid!)]).toEqual(['done', 'done', 'working']);
    // A survivor's last report counts every task it recorded (the store says who recorded each); the killed one's
    // last report came before its last tasks, at most.
    const recordedBy = new Map((await sql<{ owner: string; n: number }>(url, `SELECT owner, count(*)::int AS n FROM tasks GROUP BY owner`)).map((r) => [r.owner, r.n]));
    for (const p of ended.processes) {
      if (p.pid === doomed.pid) expect(p.tasksDone).toBeLessThanOrEqual(recordedBy.get(p.owner) ?? 0);
      else expect(p.tasksDone, p.owner).toBe(recordedBy.get(p.owner) ?? 0);
    }
    expect(ended.processes.reduce((n, p) => n + p.takenOver, 0)).toBeGreaterThanOrEqual(1);
    expect(await fetchMetrics(url)).toMatch(/^regsweep_tasks\{sweep="watched",sweep_id="1",state="done"\} 128$/m);
  });

  it('a database made by an earlier version (foreign keys on a trial and its rows, indexes by sweep and by task) is brought up to date by the first process that writes; its sweeps read as before', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    writeFile(dir, 'older.yaml', `name: older
data: {synthetic: {kind: regression, n: 300, p: 8, nonzero: 3, seed: 2}}
validation: {kind: kfold, folds: 3, seed: 0}
sweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 12}, extend: 0}
`);
    expect(cli(['run', 'older.yaml', '--store', url, '--quiet']).status).toBe(0);
    const best = cli(['query', url, '--best']).stdout;
    const older = async () => ({
      keys: (
        await sql<{ conname: string }>(url, `SELECT conname FROM pg_constraint WHERE conname LIKE ANY (ARRAY['%trial_id_fkey', 'trials_sweep_id_fkey']) AND connamespace = 'regsweep'::regnamespace ORDER BY 1`)
      ).map((r) => r.conname),
      indexes: (await sql<{ relname: string }>(url, `SELECT relname FROM pg_class WHERE relname IN ('trials_by_sweep', 'trials_by_task') AND relnamespace = 'regsweep'::regnamespace ORDER BY 1`)).map((r) => r.relname),
    });
    expect(await older()).toEqual({ keys: [], indexes: [] });
    // What an earlier version made (and no note of the additions it ran).
    for (const table of ['coefficients', 'epochs', 'predictions'])
      await sql(url, `ALTER TABLE ${table} ADD CONSTRAINT ${table}_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES trials(id) ON DELETE CASCADE`);
    await sql(url, 'ALTER TABLE trials ADD CONSTRAINT trials_sweep_id_fkey FOREIGN KEY (sweep_id) REFERENCES sweeps(id) ON DELETE CASCADE');
    await sql(url, 'CREATE INDEX trials_by_sweep ON trials (sweep_id, id)');
    await sql(url, 'CREATE INDEX trials_by_task ON trials (sweep_id, task_id)');
    await sql(url, `DELETE FROM meta WHERE key = 'additions'`);
    const made = { keys: ['coefficients_trial_id_fkey', 'epochs_trial_id_fkey', 'predictions_trial_id_fkey', 'trials_sweep_id_fkey'], indexes: ['trials_by_sweep', 'trials_by_task'] };
    expect(await older()).toEqual(made);
    // A reader changes nothing; the first writer (here a run that finds its sweep complete) brings it up to date.
    expect(cli(['query', url, '--best']).stdout).toBe(best);
    expect(await older()).toEqual(made);
    expect(cli(['run', 'older.yaml', '--store', url, '--quiet']).status).toBe(0);
    expect(await older()).toEqual({ keys: [], indexes: [] });
    expect(await sql(url, `SELECT 1 FROM meta WHERE key = 'additions'`)).toHaveLength(1);
    expect(cli(['query', url, '--best']).stdout).toBe(best);
    // A new sweep in it records as in a new database.
    expect(cli(['run', 'older.yaml', '--store', url, '--quiet', '--new']).status).toBe(0);
    expect(await sql(url, `SELECT count(*)::int AS n FROM coefficients c JOIN trials t ON t.id = c.trial_id GROUP BY t.sweep_id ORDER BY t.sweep_id`)).toEqual([{ n: 96 }, { n: 96 }]);
  });

  it('15. worker --data with other data says so before reading it as the sweep\'s; only run makes the tables', { timeout: 300_000 }, async () => {
    const url = await freshPostgresDatabase();
    const cancer = join(FIXTURES, 'breast_cancer.csv');
    await startedSweep(
      url,
      'cancer',
      `name: cancer\ndata: {path: ${cancer}, target: diagnosis}\nvalidation: {kind: kfold, folds: 5, seed: 0}\nmodel: {kind: logistic}\nsweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {auto: 12, ratio: 0.05}, l1_ratio: [0.3, 0.7], extend: 0}\nworkers: 1\n`,
    );
    // A file of other data whose target column has many values: read as the sweep's data it would fail on its labels.
    for (const other of [join(FIXTURES, 'diabetes.csv'), join(FIXTURES, 'breast_cancer.parquet')]) {
      const r = cli(['worker', url, '--data', other]);
      expect(r.status).toBe(2);
      expect(oneLine(r)).toEqual([expect.stringMatching(new RegExp(`^regsweep: --data ${other.replace(/[.]/g, '\\.')}: not the data of sweep "cancer" \\(`))]);
    }
    const own = cli(['worker', url, '--data', cancer, '--workers', '1']);
    expect(own.status, own.stderr).toBe(0);
    // On an empty database nothing makes tables but run.
    const empty = await freshPostgresDatabase();
    for (const args of [['worker', empty], ['query', empty, '--list'], ['query', empty, '--best'], ['export', empty, '--table', 'trials'], ['report', empty], ['predict', empty, '--data', cancer]]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(oneLine(r)).toEqual([expect.stringMatching(/the database holds no sweep yet \(run one: regsweep run <config> --store /)]);
      expect(await tables(empty), args.join(' ')).toBe(0);
    }
    // A worker that waits (--wait) joins once a run has made the sweep, and finishes what the run left.
    const waiting = start(['worker', empty, '--wait', '--workers', '1']);
    await sleep(2500);
    expect(await tables(empty)).toBe(0);
    await startedSweep(empty, 'late');
    await until(async () => (await sql(empty, `SELECT status FROM sweeps`))[0]?.status === 'done', 120_000);
    expect(waiting.output()).toMatch(/sweep late \(id 1\): joining/);
    waiting.kill('SIGTERM');
    expect(await waiting.exited).toBe(130);
    expect(waiting.output()).not.toMatch(/holds no sweep yet|error/);
  });
});
