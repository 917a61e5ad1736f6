import { isStoreUrl } from '../util/paths.js';
import { UserError } from '../errors.js';
import type { OpenOptions, Store } from './contract.js';

/**
 * The store at a location: a database file path (SQLite) or a postgres:// URL. `mode: 'read'` never writes; `write`
 * creates what is missing (a new SQLite file, the tables) after checking that what is there is a regsweep store,
 * unless `mustExist` (a resumed run, a worker): only a run that starts a sweep makes a store.
 */
export async function openStore(location: string, options: OpenOptions & { mustExist?: boolean }): Promise<Store> {
  // Each implementation is loaded when it is first opened: node-postgres alone takes longer to load than a small sweep.
  if (isStoreUrl(location)) return (await import('./postgres/store.js')).PostgresStore.open(location, options.mode, { mustExist: options.mustExist ?? false, signal: options.signal, reconnectMs: options.reconnectMs });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new UserError(`${location}: not a store location (a database file path or a postgres:// URL)`);
  const { SqliteStore } = await import('./sqlite/store.js');
  return options.mode === 'read' ? SqliteStore.openReadOnly(location) : SqliteStore.openForWrite(location, options);
}
