import { isAbsolute, relative } from 'node:path';

/** Whether a location names a store by URL rather than a database file. */
export function isStoreUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** Shown path: relative to the working directory when that is shorter; a URL as it is. */
export function displayPath(path: string): string {
  if (/^[a-z]+:\/\//i.test(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
