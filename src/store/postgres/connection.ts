// Connecting to PostgreSQL: where (the URL, checked here; the PG* variables and ~/.pgpass for what it leaves out, as
// node-postgres reads them), how a location is shown (never any part of its password), and which errors are a user's,
// a passing fault, or lasting.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { nodePostgres } from './driver.js';
import { OutsideError, StoreUnavailableError, UserError, errorCode } from '../../errors.js';
import { maskedLocation } from '../../util/paths.js';

export { maskedLocation };

/** Errors that mean the server could not be reached or went away: worth waiting for. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '08P01']);

export function isConnectionError(e: unknown): boolean {
  const code = errorCode(e);
  if (code && CONNECTION_CODES.has(code)) return true;
  // The last ones are PgBouncer's words for a server connection it lost or could not get.
  return (
    e instanceof Error &&
    /Connection terminated|connection error|Client has encountered a connection error|terminating connection|timeout expired|timeout exceeded when trying to connect|server conn crashed|server closed the connection|query_wait_timeout|no more connections allowed|pgbouncer cannot connect/i.test(e.message)
  );
}

/** libpq's sslmode values; node-postgres cannot fall back from SSL, so allow and prefer connect without it. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
/** The URL parameters regsweep takes (libpq's names); anything else is refused rather than ignored. */
const PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'connect_timeout', 'host', 'port', 'user', 'dbname', 'pgbouncer'];

/** A URL that is not understood: said without the URL, which may hold a password. */
function badUrl(why: string): UserError {
  return new UserError(`the PostgreSQL URL ${why}`);
}

/**
 * The connection settings of a postgres:// URL, checked: user, password (percent-decoded), host, port, database, and
 * sslmode with its certificate files. What the URL leaves out comes from the PG* variables and ~/.pgpass.
 */
export function connectionConfig(url: string): pg.ClientConfig {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl('does not parse: percent-encode the special characters of the user name and password (@ as %40, / as %2F, # as %23, ? as %3F, : as %3A)');
  }
  // An "@" after the host means the password held an unencoded "@" followed by a "/" (user:p@s/s@host): where the
  // password ends cannot be told.
  if (u.pathname.includes('@') || u.pathname.slice(1).includes('/'))
    throw badUrl(`has a path that is not a database name (${u.pathname.includes('@') ? 'an unencoded "@" in the password?' : 'more than one "/"'}): percent-encode the special characters of the password (@ as %40, / as %2F)`);
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw badUrl(`has a ${what} that is not valid percent-encoding`);
    }
  };
  const params = u.searchParams;
  for (const key of new Set(params.keys())) {
    if (!PARAMETERS.includes(key)) throw badUrl(`has the parameter "${key}", which regsweep does not take (it takes ${PARAMETERS.join(', ')})`);
    if (params.getAll(key).length > 1) throw badUrl(`gives the parameter "${key}" twice`);
  }
  const sslmode = params.get('sslmode') ?? undefined;
  if (sslmode !== undefined && !(SSL_MODES as readonly string[]).includes(sslmode)) throw badUrl(`has sslmode=${sslmode}; expected one of ${SSL_MODES.join(', ')}`);
  const port = params.get('port') ?? (u.port || undefined);
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) > 0 && Number(port) < 65536)) throw badUrl(`has the port "${port}", not a port number`);
  const pooler = params.get('pgbouncer');
  if (pooler !== null && pooler !== 'transaction' && pooler !== 'session') throw badUrl(`has pgbouncer=${pooler}; expected transaction or session (the pool mode of the PgBouncer in between)`);
  const timeout = params.get('connect_timeout');
  if (timeout !== null && !(/^\d+$/.test(timeout) && Number(timeout) > 0)) throw badUrl(`has connect_timeout=${timeout}; expected whole seconds`);
  const file = (key: string) => {
    const path = params.get(key);
    if (path === null) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw badUrl(`names ${key}=${path}, which cannot be read (${errorCode(e) ?? (e as Error).message})`);
    }
  };
  const ca = file('sslrootcert');
  const cert = file('sslcert');
  const key = file('sslkey');
  // Without sslmode, node-postgres reads PGSSLMODE.
  let ssl: undefined | false | ConnectionOptions = sslmode === undefined ? undefined : false;
  if (sslmode === 'require') ssl = ca ? { ca, cert, key, checkServerIdentity: () => undefined } : { rejectUnauthorized: false, cert, key };
  else if (sslmode === 'verify-ca') ssl = { ca, cert, key, checkServerIdentity: () => undefined };
  else if (sslmode === 'verify-full') ssl = { ca, cert, key };
  const database = decode(u.pathname.slice(1), 'database name') || (params.get('dbname') ?? undefined);
  return {
    user: decode(u.username, 'user name') || (params.get('user') ?? undefined),
    password: u.password ? decode(u.password, 'password') : undefined,
    host: params.get('host') ?? (u.hostname.replace(/^\[(.*)\]$/, '$1') || undefined),
    port: port === undefined ? undefined : Number(port),
    database,
    ssl,
    application_name: params.get('application_name') ?? 'regsweep',
    connectionTimeoutMillis: timeout !== null ? Number(timeout) * 1000 : 10_000,
  };
}

/** Whether the URL goes through a pooler that hands a connection to others between transactions (no LISTEN then). */
export function behindTransactionPooler(url: string): boolean {
  return new URL(url).searchParams.get('pgbouncer') === 'transaction';
}

/**
 * An error met while opening. Whose it is decides the exit code: a location that is wrong (no such database or host,
 * no permission) is the user's (UserError, exit 2); a server that refuses, does not answer, turns the credentials
 * down or is shutting down is an outside failure (OutsideError, exit 1). One line, never with the password.
 */
export function openingError(location: string, e: unknown, config?: pg.ClientConfig): Error {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const where = `${config?.host ?? process.env.PGHOST ?? 'localhost'}:${config?.port ?? process.env.PGPORT ?? 5432}`;
  const user = config?.user ?? process.env.PGUSER;
  if (code === 'ECONNREFUSED') return new StoreUnavailableError(`${location}: cannot connect to ${where} (connection refused); is PostgreSQL running and listening there?`);
  if (code === 'ENOTFOUND') return new UserError(`${location}: cannot resolve the host "${config?.host ?? where}"`);
  if (code === 'EAI_AGAIN') return new StoreUnavailableError(`${location}: cannot resolve the host "${config?.host ?? where}" now (the name server did not answer)`);
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timeout/i.test(message))
    return new StoreUnavailableError(`${location}: cannot reach ${where} (${code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? 'no route to the host' : 'timed out'})`);
  if (code === '28P01' || code === '28000') return new OutsideError(`${location}: ${code === '28P01' ? 'password authentication failed' : 'the server refused the connection (pg_hba.conf)'}${user ? ` for user "${user}"` : ''}`);
  if (code === '57P01' || code === '57P02' || code === '57P03') return new StoreUnavailableError(`${location}: the server is ${code === '57P03' ? 'starting up' : 'shutting down'}; try again in a moment`);
  if (code === '3D000') return new UserError(`${location}: ${message} (make it first: createdb ${config?.database ?? ''})`);
  if (code === '42501') return new UserError(`${location}: permission denied (${message})`);
  if (/SSL|ssl|certificate/.test(message)) return new OutsideError(`${location}: SSL: ${message}`);
  if (isConnectionError(e)) return new StoreUnavailableError(`${location}: lost the connection while opening (${message})`);
  return new UserError(`${location}: ${message}`);
}

/** Lock waits that ended (lock_timeout, a deadlock, a serialization failure): the transaction is tried again. */
const CONTENTION_CODES = new Set(['55P03', '40P01', '40001']);

export function isContention(e: unknown): boolean {
  return CONTENTION_CODES.has(errorCode(e) ?? '');
}

/** A lock held by another process past every retry: an outside failure (exit 1), finished work kept. */
export function contended(location: string, e: unknown, waitedMs: number): OutsideError {
  return new OutsideError(`${location}: a lock in the database was held by another session for ${Math.round(waitedMs / 1000)} s (${e instanceof Error ? e.message : String(e)}); finished work is kept, run again to resume`);
}

/** A connection lost for good while working: an outside failure (exit 1), finished work kept. */
export function lostConnection(location: string, e: unknown, waitedMs: number): OutsideError {
  return new OutsideError(`${location}: lost the connection to PostgreSQL (${e instanceof Error ? e.message : String(e)}; retried for ${Math.round(waitedMs / 1000)} s); finished work is kept, run again to resume`);
}

/**
 * A pool of one connection: a process's work loop, reads and writes share it (a fleet of processes stays within
 * max_connections). No session state: names are schema-qualified and settings are SET LOCAL, so a transaction pooler
 * (PgBouncer in transaction mode) may hand the connection to others between transactions.
 */
export function makePool(config: pg.ClientConfig): pg.Pool {
  const pool = new nodePostgres.Pool({ ...config, max: 1 });
  // An idle client whose server went away reports it here; the next query reconnects.
  pool.on('error', () => undefined);
  // So does a client in use: its query fails with the error (and is retried or reported); without a listener the
  // 'error' event would end the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
