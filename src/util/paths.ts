import { isAbsolute, relative } from 'node:path';

/** Whether a location names a store by URL rather than a database file. */
export function isStoreUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * A URL without its password, for every message and log line. Everything up to the last "@" is user and password: a
 * password with an unencoded "@" or "/" (refused when connecting) shows no part of itself either.
 */
export function maskedLocation(url: string): string {
  const query = url.indexOf('?');
  const at = url.lastIndexOf('@', query < 0 ? url.length : query);
  const start = url.indexOf('//');
  if (start < 0 || at < start) return url;
  const user = url.slice(start + 2, at).split(':')[0];
  return `${url.slice(0, start + 2)}${user.includes('/') ? '' : user}${user && !user.includes('/') ? '@' : ''}${url.slice(at + 1)}`;
}

/** Shown path: relative to the working directory when that is shorter; a URL without its password. */
export function displayPath(path: string): string {
  if (/^[a-z]+:\/\//i.test(path)) return maskedLocation(path);
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
