import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { loadCsv } from '../src/data/csv.js';
import { FitStatus, type PathSolution } from '../src/kernels/types.js';

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

/**
 * Fits `grid` as one warm-started path and every λ of it on its own: each must converge to the same solution
 * (coefficients 1e-6 relative, intercept 1e-6), whatever the path's extrapolated warm starts did on the grid.
 */
export function expectPathEqualsSingleFits(fit: (lambdas: Float64Array) => PathSolution, grid: number[], p: number): void {
  const path = fit(Float64Array.from(grid));
  grid.forEach((lambda, l) => {
    const alone = fit(Float64Array.of(lambda));
    expect(path.status[l]).toBe(FitStatus.converged);
    expect(relativeError(path.coefs.subarray(l * p, (l + 1) * p), Array.from(alone.coefs))).toBeLessThan(1e-6);
    expect(Math.abs(path.intercepts[l] - alone.intercepts[0])).toBeLessThan(1e-6);
  });
}
