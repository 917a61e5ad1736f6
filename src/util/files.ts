// Writing outputs so that no failure leaves a half-written file and no output replaces an input.
import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { UserError, errorCode, fileError } from '../errors.js';
import { isAlive } from './process.js';
import { isStoreUrl } from './paths.js';

/** The file's device and inode, or undefined when there is none (identity survives renames and other spellings). */
export function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The path with symbolic links resolved as far as it exists (an output may not exist yet). */
function canonical(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(canonical(parent), basename(absolute));
  }
}

/** A file the command reads or keeps, which no output may replace: `what` names it in the message ("the database"). */
export interface ProtectedFile {
  path: string;
  what: string;
}

/** The files of a store's location: an SQLite database's (below), none for a PostgreSQL URL. */
export function storeFiles(location: string): ProtectedFile[] {
  return isStoreUrl(location) ? [] : databaseFiles(location);
}

/** The database and the two files SQLite keeps beside it in WAL mode. */
export function databaseFiles(db: string): ProtectedFile[] {
  return [
    { path: db, what: 'the database' },
    { path: `${db}-wal`, what: "the database's write-ahead log" },
    { path: `${db}-shm`, what: "the database's shared-memory file" },
  ];
}

/**
 * Refuses an output path that is one of the protected files (same path after resolving links, or the same inode):
 * `export --out results.db` must not replace the database. `option` names the flag or key in the message.
 */
export function refuseProtectedOutput(output: string, protectedFiles: ProtectedFile[], option: string, shown = output): void {
  const out = canonical(output);
  const outId = fileIdentity(output);
  for (const f of protectedFiles) {
    const id = fileIdentity(f.path);
    if (canonical(f.path) === out || (id && outId && id.dev === outId.dev && id.ino === outId.ino))
      throw new UserError(`${option} ${shown}: that is ${f.what}; choose another path (nothing was written)`);
  }
}

/** Creates the folder (and its parents) an output goes into; one clear line when a file stands in the way. */
export function ensureFolder(dir: string, option: string, shown = dir): void {
  const s = statOrUndefined(dir);
  if (s) {
    if (!s.isDirectory()) throw new UserError(`${option} ${shown}: is a file, not a folder`);
    return;
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fileError(shown, realCause(dir, e), 'create the folder');
  }
}

/**
 * The cause of a failed recursive mkdir, which says ENOENT on a read-only file system: the deepest existing parent
 * is asked whether it can be written.
 */
function realCause(dir: string, e: unknown): unknown {
  if (errorCode(e) !== 'ENOENT') return e;
  let parent = dirname(resolve(dir));
  while (!statOrUndefined(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    accessSync(parent, constants.W_OK);
  } catch (cause) {
    return cause;
  }
  return e;
}

/** Refuses a database path whose file or folder cannot be written (a read-only file system, no permission). */
export function requireWritable(path: string, shown = path): void {
  const target = statOrUndefined(path) ? path : dirname(resolve(path));
  try {
    accessSync(target, constants.W_OK);
    // WAL mode makes two files beside the database.
    if (target === path) accessSync(dirname(resolve(path)), constants.W_OK);
  } catch (e) {
    throw fileError(shown, e, 'write the database');
  }
}

/** Checks an output file's path before anything is computed: its folder can be made, and it is not a folder itself. */
function checkOutputFile(path: string, option: string): void {
  const s = statOrUndefined(path);
  if (s && s.isDirectory()) throw new UserError(`${option} ${path}: is a folder; give a file name`);
  if (s && !s.isFile()) throw new UserError(`${option} ${path}: is not a regular file (a device or pipe); give a file name`);
  ensureFolder(dirname(resolve(path)), option, dirname(path));
}

/** A file written beside its place and renamed into it on commit: readers never see half of it. */
export interface AtomicFile {
  write(part: string | Uint8Array): void;
  /** Flushes to disk and renames into place. */
  commit(): void;
  /** Removes the temporary file; the old file stays as it was. */
  abort(): void;
}

/** The name of a temporary file or folder beside `target`: hidden, with the writer's pid (see removeAbandonedTemporaries). */
function temporaryBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Removes the temporary files and folders (temporaryBeside) in a folder whose writer is gone: a process of this machine
 * that is no longer running, or one nobody has written to for a day (another machine's, on a shared folder).
 */
export function removeAbandonedTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    const path = join(dir, name);
    try {
      if (!isAlive({ pid: Number(m[1]), host: hostname(), started: null }) || Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * Writes a folder of outputs (a report) into a temporary folder beside `dir`, then moves it into place: a failure on
 * the way (disk full) leaves `dir` as it was and no temporary folder. An existing folder keeps its other files; only
 * the files written replace theirs, each by a rename.
 */
export async function writeFolderAtomic(dir: string, option: string, shown: string, fill: (write: (name: string, content: string | Uint8Array) => void) => Promise<void>): Promise<string[]> {
  const target = resolve(dir);
  ensureFolder(dirname(target), option, dirname(shown));
  removeAbandonedTemporaries(dirname(target));
  const s = statOrUndefined(target);
  if (s && !s.isDirectory()) throw new UserError(`${option} ${shown}: is a file, not a folder`);
  const temp = temporaryBeside(target);
  const names: string[] = [];
  let doing = 'create the folder';
  try {
    mkdirSync(temp);
    doing = 'write it';
    await fill((name, content) => {
      writeFileSync(join(temp, name), content);
      names.push(name);
    });
    doing = 'move the files into it';
    if (!s) renameSync(temp, target);
    else {
      for (const name of names) renameSync(join(temp, name), join(target, name));
      rmSync(temp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e instanceof UserError || errorCode(e) === undefined ? e : fileError(shown, e, doing);
  }
  return names.map((name) => join(target, name));
}

/** Opens a temporary file beside `path` for an output that is written in parts (a large export, predictions). */
export function openAtomicFile(path: string, option = '--out'): AtomicFile {
  checkOutputFile(path, option);
  const target = resolve(path);
  // Outputs of processes killed while writing (kill -9, a crash) are not left to pile up beside their place.
  removeAbandonedTemporaries(dirname(target));
  const temp = temporaryBeside(target);
  let fd: number | undefined;
  const abort = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    try {
      unlinkSync(temp);
    } catch {
      // Never created, or gone already.
    }
  };
  const guard = <T>(step: () => T): T => {
    try {
      return step();
    } catch (e) {
      abort();
      throw fileError(path, e, 'write');
    }
  };
  fd = guard(() => openSync(temp, 'wx', 0o644));
  return {
    write(part) {
      guard(() => {
        const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
        for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd!, bytes, offset, bytes.length - offset);
      });
    },
    commit() {
      guard(() => {
        fsyncSync(fd!);
        closeSync(fd!);
        fd = undefined;
        renameSync(temp, target);
      });
    },
    abort,
  };
}

/**
 * Writes `content` to a temporary file beside `path`, flushes it to disk and renames it into place: a reader sees
 * the old file or the whole new one, and a failed write (disk full, read-only) leaves the old file as it was.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array | Iterable<string | Uint8Array>, option = '--out'): void {
  const file = openAtomicFile(path, option);
  try {
    const parts = typeof content === 'string' || content instanceof Uint8Array ? [content] : content;
    for (const part of parts) file.write(part);
  } catch (e) {
    file.abort();
    throw e;
  }
  file.commit();
}

/** Refuses anything but a regular file as input (a FIFO or /dev/zero would be read forever). */
export function requireRegularFile(path: string, shownAs: string, what: string): Stats {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (e) {
    throw new UserError(`${shownAs}: cannot read the ${what} (${errorCode(e) === 'ENOENT' ? 'no such file' : (errorCode(e) ?? String(e))})`);
  }
  if (s.isDirectory()) throw new UserError(`${shownAs}: is a folder, not a ${what}`);
  if (!s.isFile()) throw new UserError(`${shownAs}: is not a regular file (a device, pipe or socket); give the ${what} as a file`);
  return s;
}

/** SHA-256 of a file's bytes, read as a stream. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
