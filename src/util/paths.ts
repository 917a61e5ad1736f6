import { isAbsolute, relative } from 'node:path';

/** Whether a location names a store by URL rather than a database file. */
export function isStoreUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A URL without its password, for every message and log line. */
export function maskedLocation(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1@');
  }
}

/** Shown path: relative to the working directory when that is shorter; a URL without its password. */
export function displayPath(path: string): string {
  if (/^[a-z]+:\/\//i.test(path)) return maskedLocation(path);
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
