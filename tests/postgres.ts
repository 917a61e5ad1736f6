// The test PostgreSQL server (scripts/test-postgres.sh starts one; .ci/run does in CI): its URL, a fresh database per
// test, and pg_ctl to stop and start it under a running sweep.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

/** A server of a test file's own (usePrivateServer), in place of the shared one. */
let own: { url: string; dir: string } | undefined;

/** The server's admin URL, or undefined when none is set up. */
export function postgresUrl(): string | undefined {
  return own?.url ?? (process.env.REGSWEEP_TEST_PG_URL || undefined);
}

/**
 * Whether a file's PostgreSQL tests run: they need the server of REGSWEEP_TEST_PG_URL. Without one they are skipped
 * (a fresh clone's `npm test`), except in CI, where a missing server fails the run.
 */
export function postgresTestable(): boolean {
  const there = postgresUrl() !== undefined;
  if (!there && process.env.CI) throw new Error('REGSWEEP_TEST_PG_URL is not set: PostgreSQL is not tested (see scripts/test-postgres.sh)');
  return there;
}

/**
 * Gives the calling test file a PostgreSQL server of its own (scripts/test-postgres.sh in a fresh folder), for tests
 * that stop and start the server: the other files, running at the same time on the shared server, are not disturbed.
 * Call in beforeAll; the returned function stops and removes it (afterAll).
 */
function usePrivateServer(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-pg-own-'));
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'test-postgres.sh');
  const started = spawnSync('bash', [script, 'start', dir], { encoding: 'utf8', timeout: 120_000 });
  if (started.status !== 0) throw new Error(`cannot start a PostgreSQL server for this file: ${started.stderr}`);
  own = { url: /REGSWEEP_TEST_PG_URL=(\S+)/.exec(started.stdout)![1], dir };
  return () => {
    spawnSync('bash', [script, 'stop', dir], { timeout: 60_000 });
    own = undefined;
  };
}

/** A new, empty database on the test server; its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  const admin = postgresUrl();
  if (!admin) throw new Error('REGSWEEP_TEST_PG_URL is not set');
  const name = `regsweep_test_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** pg_ctl on the test server (`stop -m immediate`, `start`), through the command the setup script printed. */
export function pgCtl(args: string[]): void {
  const command = own ? `${join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'test-postgres.sh')} ctl ${own.dir}` : process.env.REGSWEEP_TEST_PG_CTL;
  if (!command) throw new Error('REGSWEEP_TEST_PG_CTL is not set');
  const r = spawnSync('bash', ['-c', `${command} ${args.join(' ')}`], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

/** Runs a statement on a database of the test server, regsweep's schema first on the search path; its rows. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, options: '-c search_path=regsweep' });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A PgBouncer in transaction mode in front of the test server (Debian's pgbouncer), for the fleet's tests. */
export async function startPgBouncer(): Promise<{ url: (database: string) => string; stop: () => Promise<void> }> {
  const admin = new URL(postgresUrl()!);
  const dir = mkdtempSync(join(tmpdir(), 'regsweep-pgbouncer-'));
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  writeFileSync(join(dir, 'userlist.txt'), `"${decodeURIComponent(admin.username)}" "${decodeURIComponent(admin.password)}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    `[databases]
* = host=127.0.0.1 port=${admin.port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${join(dir, 'userlist.txt')}
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
server_reset_query =
logfile = ${join(dir, 'pgbouncer.log')}
`,
  );
  // pgbouncer refuses to run as root: as the postgres user then (the files are made its).
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? { uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout) } : {};
  if (asRoot) spawnSync('chown', ['-R', 'postgres', dir]);
  const child = spawn('pgbouncer', [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...user });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`pgbouncer did not start: ${readFileSync(join(dir, 'pgbouncer.log'), 'utf8').slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: (database) => {
      const u = new URL(admin.toString());
      u.port = String(port);
      u.pathname = `/${database}`;
      u.search = '?pgbouncer=transaction';
      return u.toString();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        // SIGTERM: pgbouncer's immediate shutdown (SIGINT would wait for its clients).
        child.kill('SIGTERM');
      }),
  };
}

/** usePrivateServer for the whole of the calling file (or describe block): started before its tests, stopped after. */
export function privateServerForThisFile(): void {
  let stop: (() => void) | undefined;
  beforeAll(() => {
    stop = usePrivateServer();
  }, 120_000);
  afterAll(() => stop?.());
}
