// The test PostgreSQL server (scripts/test-postgres.sh starts one; .ci/run does in CI): its URL, a fresh database per
// test, and pg_ctl to stop and start it under a running sweep.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server's admin URL, or undefined when none is set up. */
export function postgresUrl(): string | undefined {
  return process.env.REGSWEEP_TEST_PG_URL || undefined;
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
  const command = process.env.REGSWEEP_TEST_PG_CTL;
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
