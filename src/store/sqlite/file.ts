// Opening a database file: every check happens before anything is written, so a wrong path leaves its file as it was.
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutsideError, UserError, errorCode, fileError } from '../../errors.js';
import { ensureFolder, requireWritable } from '../../util/files.js';
import { ADDED_TABLES, REGSWEEP_TABLES, SCHEMA_VERSION, applySchema } from './schema.js';

const HEADER = 'SQLite format 3\u0000';
const isBusy = (e: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(errorCode(e) ?? '');

/** A database error as one line naming the file and its cause; whose it is decides the class (and the exit code). */
export function sqliteError(path: string, e: unknown, doing = 'use the database'): Error {
  if (e instanceof UserError || e instanceof OutsideError) return e;
  const code = errorCode(e) ?? '';
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_FULL') return new OutsideError(`${path}: the disk is full; finished work is kept, free some space and run again`);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new OutsideError(`${path}: the database is locked by another process`);
  // A stored value that does not parse (JSON that was cut or bit-flipped) is damage SQLite's checks cannot see.
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB' || e instanceof SyntaxError)
    return new UserError(`${path}: database disk image is malformed; to save what can be saved: sqlite3 ${path} ".recover" | sqlite3 recovered.db`);
  if (code.startsWith('SQLITE_READONLY')) return new UserError(`${path}: cannot ${doing}: the file or its folder is read-only`);
  if (code.startsWith('SQLITE_IOERR')) return new OutsideError(`${path}: input/output error while trying to ${doing} (${message})`);
  if (code === 'SQLITE_CANTOPEN') return new UserError(`${path}: cannot open the database (${message})`);
  return e instanceof Error ? e : new Error(message);
}

/** The first bytes of a file, to tell an SQLite database from anything else without opening it. */
function head(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** What a path holds: nothing yet, an empty file, or an SQLite database; anything else is refused with one line. */
function inspect(path: string): 'absent' | 'empty' | 'sqlite' {
  let s;
  try {
    s = statSync(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return 'absent';
    throw fileError(path, e, 'open it');
  }
  if (s.isDirectory()) throw new UserError(`${path}: is a folder, not a database file`);
  if (!s.isFile()) throw new UserError(`${path}: is not a regular file (a device, pipe or socket), not a database`);
  if (s.size === 0) return 'empty';
  let bytes: Buffer;
  try {
    bytes = head(path, 100);
  } catch (e) {
    throw new UserError(`${path}: cannot read it (${errorCode(e) ?? e})`);
  }
  if (bytes.subarray(0, 16).toString('latin1') !== HEADER) {
    const text = bytes.toString('utf8').replace(/[^\x20-\x7e]/g, ' ').trim().slice(0, 30);
    throw new UserError(`${path}: is not an SQLite database${text ? ` (it starts with "${text}")` : ''}; give a new file or a regsweep database`);
  }
  return 'sqlite';
}

/** The schema version of an open database, refusing one that holds other tables than regsweep's. */
function regsweepVersion(db: Database.Database, path: string): number {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((t) => t.name);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (tables.length === 0) return 0;
  if (!tables.includes('sweeps') || !tables.includes('trials') || version === 0) {
    const foreign = tables.filter((t) => !REGSWEEP_TABLES.includes(t));
    throw new UserError(`${path}: is an SQLite database, but not regsweep's (tables: ${(foreign.length ? foreign : tables).slice(0, 6).join(', ')}); give a new file`);
  }
  if (version > SCHEMA_VERSION) throw new UserError(`${path}: made by a newer regsweep (schema ${version}; this one reads up to ${SCHEMA_VERSION}); upgrade regsweep`);
  return version;
}

/**
 * Opens an existing regsweep database without writing to it. On a read-only file system SQLite cannot make the
 * shared-memory file a WAL database needs, and an older schema cannot be migrated in place: the file is then read
 * into memory (its WAL flag cleared) and used from there.
 */
export function openForReading(path: string): Database.Database {
  if (inspect(path) === 'absent') throw new UserError(`${path}: no such database (run a sweep first: regsweep run <config>)`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get();
  } catch (e) {
    if (errorCode(e) !== 'SQLITE_CANTOPEN') throw sqliteError(path, e, 'read the database');
    db = inMemoryCopy(path);
  }
  try {
    const version = regsweepVersion(db, path);
    if (version === 0) throw new UserError(`${path}: an empty database, not a regsweep one (run a sweep first)`);
    if (version < SCHEMA_VERSION) {
      if (db.memory) applySchema(db, version);
      else {
        db.close();
        db = inMemoryCopy(path);
        applySchema(db, version);
      }
    }
    return db;
  } catch (e) {
    if (db.open) db.close();
    throw sqliteError(path, e, 'read the database');
  }
}

function inMemoryCopy(path: string): Database.Database {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read it (${errorCode(e) ?? e})`);
  }
  // Bytes 18 and 19 say "WAL" (2); an in-memory database must be in rollback-journal mode (1).
  bytes[18] = 1;
  bytes[19] = 1;
  try {
    return new Database(bytes);
  } catch (e) {
    throw sqliteError(path, e, 'read the database');
  }
}

/**
 * Opens (creating when absent) a database to write sweeps into. What is there is checked first with a read-only
 * connection — a folder, a text file, the data CSV, someone else's SQLite file are refused with their bytes unchanged —
 * and only then is the file switched to WAL and given regsweep's tables.
 */
export function openForWriting(path: string, busyTimeoutMs: number, options: { mustExist?: boolean } = {}): Database.Database {
  const found = inspect(path);
  if (found === 'absent' && options.mustExist) throw new UserError(`${path}: no such database; nothing to resume (run without --resume to start the sweep)`);
  if (found === 'sqlite') {
    let probe: Database.Database | undefined;
    try {
      probe = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
      regsweepVersion(probe, path);
    } catch (e) {
      // A lock is waited for by the caller, up to --lock-timeout (better-sqlite3's own wait would be 5 s).
      if (isBusy(e)) throw e;
      if (errorCode(e) !== 'SQLITE_CANTOPEN') throw sqliteError(path, e, 'open the database');
    } finally {
      probe?.close();
    }
  }
  if (found === 'absent') ensureFolder(dirname(path), 'output');
  requireWritable(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: found !== 'absent', timeout: busyTimeoutMs });
    // 8 KB pages (a new file only): a trial's coefficients (8 bytes × p) spill into fewer overflow pages.
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    applySchema(db, regsweepVersion(db, path));
    db.exec(ADDED_TABLES);
    addColumns(db);
    return db;
  } catch (e) {
    db?.close();
    // A file this call created and could not finish is removed again.
    if (found === 'absent') for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    throw isBusy(e) ? e : sqliteError(path, e, 'write the database');
  }
}

/** Columns added without a new schema version (SQLite has no ADD COLUMN IF NOT EXISTS). */
function addColumns(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(tasks)').all() as { name: string }[]).map((c) => c.name);
  if (!columns.includes('warm_from')) db.exec('ALTER TABLE tasks ADD COLUMN warm_from REAL');
  const sweepColumns = (db.prepare('PRAGMA table_info(sweeps)').all() as { name: string }[]).map((c) => c.name);
  if (!sweepColumns.includes('encoding')) db.exec('ALTER TABLE sweeps ADD COLUMN encoding TEXT');
  if (!sweepColumns.includes('feature_scales')) db.exec('ALTER TABLE sweeps ADD COLUMN feature_scales TEXT');
  const coefficientColumns = (db.prepare('PRAGMA table_info(coefficients)').all() as { name: string }[]).map((c) => c.name);
  if (!coefficientColumns.includes('baseline')) db.exec('ALTER TABLE coefficients ADD COLUMN baseline BLOB');
}
