import { isStoreUrl } from '../util/paths.js';
import { UserError } from '../errors.js';
import type { OpenOptions, Store } from './contract.js';
import { SqliteStore } from './sqlite/store.js';

/**
 * The store at a location: a database file path (SQLite) or a postgres:// URL. `mode: 'read'` never writes; `write`
 * creates what is missing (a new SQLite file, the tables) after checking that what is there is a regsweep store.
 */
export async function openStore(location: string, options: OpenOptions & { mustExist?: boolean }): Promise<Store> {
  if (isStoreUrl(location)) throw new UserError(`${location}: PostgreSQL stores are not available in this version`);
  return options.mode === 'read' ? SqliteStore.openReadOnly(location) : SqliteStore.openForWrite(location, options);
}
