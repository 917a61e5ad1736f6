import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Papa from 'papaparse';
import { expect } from 'vitest';
import { loadCsv } from '../src/data/csv.js';
import { FitStatus } from '../src/domain.js';
import type { KernelContext } from '../src/fitting/context.js';
import type { PathProblem, PathSolution } from '../src/fitting/path/types.js';
import { binomialPath } from '../src/fitting/solvers/glm.js';
import { fistaPath } from '../src/fitting/solvers/fista.js';
import { gaussianCovariancePath } from '../src/fitting/solvers/gaussianCovariance.js';
import { gaussianNaivePath } from '../src/fitting/solvers/gaussianNaive.js';
import { createKernelContext } from '../workers/kernelContext.js';

export const FIXTURES = resolve(__dirname, 'fixtures');
export const ROOT = resolve(__dirname, '..');

/** The kernel context of this test file's thread (tests that change limits or helpers make their own). */
export const kernels: KernelContext = createKernelContext();

/** Column means and population standard deviations of a column-major n × p matrix, computed plainly (a reference). */
export function columnMoments(X: Float64Array, n: number, p: number): { mean: Float64Array; sd: Float64Array } {
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) mean[j] += X[j * n + i] / n;
    for (let i = 0; i < n; i++) sd[j] += (X[j * n + i] - mean[j]) ** 2 / n;
    sd[j] = Math.sqrt(sd[j]);
  }
  return { mean, sd };
}

/** Debian's python3 has scikit-learn; a python3 earlier on PATH (pyenv) may not. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Runs an outside program (python3, Rscript) that must succeed; its standard output. */
export function runTool(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exit ${r.status}: ${r.stderr || r.error}`);
  return r.stdout;
}

/** A CSV with a header, as rows of strings by column name. */
export function csvRows(csv: string): Record<string, string>[] {
  return Papa.parse<Record<string, string>>(csv.trim(), { header: true }).data;
}

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

/** Data a path is fitted on: a column-major design and a response. */
export interface PathData {
  X: Float64Array;
  n: number;
  p: number;
  y: Float64Array;
}

/**
 * The problem every path test starts from: all rows with weight 1, standardized features, the lasso, a tight tol
 * (1e-9) and room for every pass; a test states only what it changes.
 */
export function pathProblem(data: PathData, o: Partial<Omit<PathProblem, 'lambdas' | 'design' | 'y'>> & { lambdas: ArrayLike<number> }): PathProblem {
  return {
    design: { X: data.X, n: data.n, p: data.p },
    y: data.y,
    weights: o.weights ?? new Float64Array(data.n).fill(1),
    standardize: o.standardize ?? true,
    l1Ratio: o.l1Ratio ?? 1,
    lambdas: Float64Array.from(o.lambdas),
    tol: o.tol ?? 1e-9,
    maxIter: o.maxIter ?? 1e6,
  };
}

/** Every path solver by name, on this file's kernel context unless another is given. */
export const solve = {
  covariance: (problem: PathProblem, context = kernels) => gaussianCovariancePath(context, problem),
  naive: (problem: PathProblem, context = kernels) => gaussianNaivePath(context, problem),
  binomial: (problem: PathProblem, context = kernels) => binomialPath(context, problem),
  fistaGaussian: (problem: PathProblem) => fistaPath(problem, 'gaussian'),
  fistaBinomial: (problem: PathProblem) => fistaPath(problem, 'binomial'),
};

/** Row l of a path's coefficients. */
export function coefsAt(solution: PathSolution, l: number, p: number): Float64Array {
  return solution.coefs.subarray(l * p, (l + 1) * p);
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
    expect(relativeError(coefsAt(path, l, p), Array.from(alone.coefs))).toBeLessThan(1e-6);
    expect(Math.abs(path.intercepts[l] - alone.intercepts[0])).toBeLessThan(1e-6);
  });
}

/** The built command line. */
export const BIN = join(ROOT, 'bin', 'regsweep.js');

/** A running `regsweep ARGS` in `cwd`: its output so far (stdout and stderr) and its exit code when it ends. */
export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return Object.assign(child, { output: () => output, exited });
}

/** Waits until `done` resolves true (a rejection counts as not yet), polling every 50 ms. */
export async function until(done: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting');
}

/** Starts `regsweep serve ARGS` and resolves with the process and the URL it prints. */
export function startServe(args: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^regsweep: serving .* at (http:\/\/\S+)$/m.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** Stops a child process with SIGTERM and waits for it to end. */
export function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Every trial's figures and coefficients of a store's latest sweep by (penalty, l1 ratio, λ, fold), without ids, task
 * ids and times: the same sweep run anywhere, by any processes, gives the same map.
 */
export async function storedTrialSet(location: string): Promise<Map<string, string>> {
  const { openStore } = await import('../src/store/open.js');
  const store = await openStore(location, { mode: 'read' });
  try {
    const sweep = await store.findSweep();
    const key = (t: { penalty: string; l1Ratio: number; lambda: number; fold: string }) => `${t.penalty}/${t.l1Ratio}/${t.lambda}/${t.fold}`;
    const set = new Map((await store.trials(sweep.id)).map(({ id: _i, sweepId: _s, seconds: _t, taskId: _k, ...t }) => [key(t), JSON.stringify(t)]));
    for (const c of await store.coefficients(sweep.id)) set.set(`${key(c)}:coef`, Buffer.from(c.coefs.buffer).toString('base64') + JSON.stringify(c.intercept));
    return set;
  } finally {
    await store.close();
  }
}

/** The CLI run in a folder (`cli`), and the same expecting exit 0 (`ok`: the failure shows its stderr). */
export function cliIn(dir: () => string) {
  const cli = (args: string[], cwd = dir()) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  const ok = (args: string[], cwd = dir()) => {
    const r = cli(args, cwd);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  return { cli, ok };
}

/** |a − b| within `tolerance` of b's size (at least 1): a comparison to a reference to so many digits. */
export const closeTo = (a: number, b: number, tolerance = 1e-6) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));
