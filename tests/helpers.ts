import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCsv } from '../src/data/csv.js';

export const FIXTURES = resolve(__dirname, 'fixtures');
export const ROOT = resolve(__dirname, '..');

export function tempDir(prefix = 'regsweep-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export interface ReferenceFit {
  name: string;
  file: string;
  alpha: number;
  lambda: number[];
  intercept: number[];
  coef: number[][];
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export async function fixtureData(file: string, classification = false) {
  return loadCsv(join(FIXTURES, file), { classification });
}

/** max |a − b| / max(|b|∞, floor): the relative error we promise against references. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-8): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, floor);
}
