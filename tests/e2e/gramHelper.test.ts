import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../src/data/synthetic.js';
import type { KernelHelper } from '../../src/fitting/kernels/gramShare.js';
import { lambdaMaxFor, lassoLambdaMax } from '../../src/plan/grid.js';
import { runSweep } from '../../src/pool/coordinator.js';
import { startGramHelper } from '../../workers/gramHelper.js';
import { createKernelContext } from '../../workers/kernelContext.js';
import { pathProblem, solve, tempDir, writeFile } from '../helpers.js';

// 2 250 training rows: two row chunks of the Gram kernel, so a block computed ahead runs over both.
const data = syntheticDataset({ kind: 'regression', n: 3000, p: 160, nonzero: 8, rho: 0.5, snr: 3, outputs: 1, seed: 11 });

describe('Gram blocks split with a helper thread', () => {
  const context = createKernelContext();
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ stop } = await startGramHelper(context));
  });
  afterAll(async () => stop());

  it('give the same path to the bit as one thread; the helper takes shares and computes blocks ahead', () => {
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 4 === 1 ? 0 : 1));
    const lmax = lambdaMaxFor(lassoLambdaMax(data, data.y, true, weights), 0.8);
    const lambdas = Float64Array.from({ length: 30 }, (_, k) => lmax * Math.pow(1e-3, k / 29));
    const problem = pathProblem(data, { weights, l1Ratio: 0.8, lambdas, tol: 1e-8 });
    const helper = context.helper!;
    // Shares of a block this thread needs now (one chunk) and blocks computed ahead (every chunk). The helper computes
    // ahead whenever it is free, so the shares of a needed block are seen with a helper that takes no block ahead.
    let split = 0;
    let ahead = 0;
    const counting = (takesAhead: boolean): KernelHelper => ({
      start: (share) => {
        if (share.chunks > 1 && !takesAhead) return false;
        const started = helper.start(share);
        if (started && share.chunks > 1) ahead++;
        else if (started) split++;
        return started;
      },
      wait: () => helper.wait(),
      done: () => helper.done(),
    });
    // The path with the given helper (none: one thread), the started one put back after.
    const fitWith = (h: KernelHelper | undefined) => {
      context.helper = h;
      try {
        return solve.covariance(problem, context);
      } finally {
        context.helper = helper;
      }
    };
    const two = fitWith(counting(true));
    expect(ahead).toBeGreaterThan(0);
    const shared = fitWith(counting(false));
    expect(split).toBeGreaterThan(0);
    const one = fitWith(undefined);
    for (const other of [two, shared]) {
      expect(Array.from(other.coefs)).toEqual(Array.from(one.coefs));
      expect(Array.from(other.intercepts)).toEqual(Array.from(one.intercepts));
    }
    expect(one.coefs.subarray(29 * data.p).filter((b) => b !== 0).length).toBeGreaterThan(100);
  });
});

describe('a sweep with fewer paths than workers', () => {
  const dir = tempDir();
  const header = [...data.featureNames, ...data.targetNames].join(',');
  const lines = Array.from({ length: data.n }, (_, i) => [...Array.from({ length: data.p }, (_, j) => data.X[j * data.n + i]), data.y[i]].join(','));
  const csv = writeFile(dir, 'data.csv', [header, ...lines].join('\n') + '\n');
  const config = (workers: number, validation: string) =>
    writeFile(
      dir,
      `w${workers}.yaml`,
      `name: helper
data: {path: ${csv}, standardize: true}
validation: ${validation}
model: {kind: linear, tol: 1e-8}
sweep: {kind: grid, penalty: [elasticnet], lambda: {auto: 25, ratio: 1e-3}, l1_ratio: [0.8]}
workers: ${workers}
output: w${workers}.db
`,
    );
  const coefficients = (db: string) => {
    const conn = new Database(db, { readonly: true });
    try {
      return conn.prepare('SELECT t.lambda, c.coef FROM trials t JOIN coefficients c ON c.trial_id = t.id ORDER BY t.lambda DESC').all();
    } finally {
      conn.close();
    }
  };

  it('splits the Gram with a helper when a core would idle, with the same results as one worker', async () => {
    const two = await runSweep(config(2, '{kind: none}'));
    const one = await runSweep(config(1, '{kind: none}'));
    expect(two.gramHelper).toBe(true);
    expect(one.gramHelper).toBe(false);
    expect(coefficients(join(dir, 'w2.db'))).toEqual(coefficients(join(dir, 'w1.db')));
    // A 5-fold sweep keeps both workers busy: no helper.
    const cv = await runSweep(config(2, '{kind: kfold, folds: 5, seed: 0}'), { fresh: true, out: join(dir, 'cv.db') });
    expect(cv.gramHelper).toBe(false);
  });
});
