/** A problem with what the user gave us (config, data, arguments, an output path): exit code 2, message shown as is. */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * A failure outside the user's input — disk full, a lock held by another process, a lost connection, a database
 * deleted under a running sweep: exit code 1, finished work kept, message shown as is.
 */
export class OutsideError extends Error {
  override name = 'OutsideError';
}

/** A shared store's server that cannot be reached now (refused, not answering, starting up or shutting down). */
export class StoreUnavailableError extends OutsideError {
  override name = 'StoreUnavailableError';
}

/** A store location that holds no sweep yet (opened by a command that does not make one): a worker with --wait waits. */
export class EmptyStoreError extends UserError {
  override name = 'EmptyStoreError';
}

/** Exit codes shared by the CLI and the tests. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

/** The errno code of a Node or SQLite error, if any. */
export function errorCode(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
}

/**
 * A filesystem error on `path` as one line a user can act on; the error class says whose it is: the path the user
 * chose (not a folder, read-only, no permission: UserError) or the machine (disk full, I/O error: OutsideError).
 */
export function fileError(path: string, e: unknown, doing: string): UserError | OutsideError {
  const code = errorCode(e);
  const reason: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is used up',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder',
    ENOENT: 'no such file or folder',
    EEXIST: 'it exists already',
    ENAMETOOLONG: 'the name is too long',
    EIO: 'input/output error',
    EFBIG: 'the file would be too large',
  };
  const message = `${path}: cannot ${doing}: ${code && reason[code] ? reason[code] : e instanceof Error ? e.message : String(e)}`;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO' || code === 'EFBIG' ? new OutsideError(message) : new UserError(message);
}
