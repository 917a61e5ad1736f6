// Connecting to PostgreSQL: where (the URL, PG* variables, ~/.pgpass — node-postgres reads them), how a location is
// shown (never with its password), and which errors are a user's, a passing fault, or lasting.
import pg from 'pg';
import { OutsideError, UserError, errorCode } from '../../errors.js';

export { maskedLocation } from '../../util/paths.js';

/** Errors that mean the server could not be reached or went away: worth waiting for. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

export function isConnectionError(e: unknown): boolean {
  const code = errorCode(e);
  if (code && CONNECTION_CODES.has(code)) return true;
  return e instanceof Error && /Connection terminated|connection error|Client has encountered a connection error|terminating connection/i.test(e.message);
}

/** An error met while opening: the location is wrong (UserError, exit 2), said in one line without the password. */
export function openingError(location: string, e: unknown): Error {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const u = safeUrl(location);
  const where = u ? `${u.hostname}:${u.port || 5432}` : location;
  if (code === 'ECONNREFUSED') return new UserError(`${location}: cannot connect to ${where} (connection refused); is PostgreSQL running and listening there?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`${location}: cannot resolve the host "${u?.hostname ?? where}"`);
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new UserError(`${location}: cannot reach ${where} (${code})`);
  if (code === '28P01' || code === '28000') return new UserError(`${location}: ${message.replace(/password.*/, 'password authentication failed')}${u?.username ? ` for user "${decodeURIComponent(u.username)}"` : ''}`);
  if (code === '3D000') return new UserError(`${location}: ${message} (make it first: createdb ${u?.pathname.slice(1) ?? ''})`);
  if (code === '42501') return new UserError(`${location}: permission denied (${message})`);
  if (/SSL|ssl/.test(message)) return new UserError(`${location}: ${message}`);
  return new UserError(`${location}: ${message}`);
}

/** A connection lost for good while working: an outside failure (exit 1), finished work kept. */
export function lostConnection(location: string, e: unknown, waitedMs: number): OutsideError {
  return new OutsideError(`${location}: lost the connection to PostgreSQL (${e instanceof Error ? e.message : String(e)}; retried for ${Math.round(waitedMs / 1000)} s); finished work is kept, run again to resume`);
}

function safeUrl(location: string): URL | undefined {
  try {
    return new URL(location);
  } catch {
    return undefined;
  }
}

/** A pool on the URL; `readOnly` makes every transaction read-only on the server's side. */
export function makePool(url: string, readOnly: boolean): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: 10_000,
    options: `-c search_path=regsweep${readOnly ? ' -c default_transaction_read_only=on' : ''}`,
  });
  // An idle client whose server went away reports it here; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}
