import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file of the package, found from its root (the folder with package.json above this module). */
export function packagePath(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, relative);
}

/** Where a built file under dist/ is, found from the package root so that tests of src/ use it too. */
export function builtPath(relative: string): string {
  return packagePath(join('dist', relative));
}

/** A built module under dist/ (worker threads need JavaScript); an error that says how to build it when missing. */
export function builtFile(relative: string): string {
  const file = builtPath(relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return file;
}

/** The package's version, as package.json says ("unknown" if it cannot be read). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
