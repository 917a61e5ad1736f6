import { describe, expect, it } from 'vitest';
import { logisticPath, gaussianNaivePath } from '../src/kernels/naive.js';
import { gaussianPath } from '../src/kernels/gaussian.js';
import { FitStatus } from '../src/kernels/types.js';
import { expectPathEqualsSingleFits, fixtureData, readFixture, relativeError, type ReferenceFit } from './helpers.js';

const ones = (n: number) => new Float64Array(n).fill(1);

describe('logistic regression against glmnet family = "binomial" (polished to KKT 1e-10)', () => {
  for (const ref of readFixture<ReferenceFit[]>('glmnet_binomial.json')) {
    it(`${ref.name}: coefficients within 1e-5 relative on every λ`, async () => {
      const data = await fixtureData(ref.file, true);
      const fit = logisticPath({ design: { X: data.X, n: data.n, p: data.p }, y: data.y, weights: ones(data.n), standardize: true, alpha: ref.alpha, lambdas: Float64Array.from(ref.lambda), tol: 1e-7, maxIter: 1e5 });
      ref.lambda.forEach((_, l) => {
        expect(fit.status[l]).toBe(FitStatus.converged);
        expect(relativeError(fit.coefs.subarray(l * data.p, (l + 1) * data.p), ref.coef[l])).toBeLessThan(1e-5);
        expect(Math.abs(fit.intercepts[l] - ref.intercept[l]) / Math.max(1, Math.abs(ref.intercept[l]))).toBeLessThan(1e-5);
      });
      expect(ref.coef.at(-1)!.filter((b) => b !== 0).length).toBeGreaterThan(3);
    });
  }

  it('warm starts extrapolated along the path: an uneven or repeated λ grid gives each λ fitted alone', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_binomial.json')[0];
    const data = await fixtureData(ref.file, true);
    const base = { design: { X: data.X, n: data.n, p: data.p }, y: data.y, weights: ones(data.n), standardize: true, alpha: ref.alpha, tol: 1e-9, maxIter: 1e5 };
    const last = ref.lambda.length - 1;
    const grid = [2, 9, 9, 10, last - 1, last].map((k) => ref.lambda[k]);
    expectPathEqualsSingleFits((lambdas) => logisticPath({ ...base, lambdas }), grid, data.p);
  });

  it('separable data at tiny λ ends with a status instead of hanging', async () => {
    const n = 40;
    const X = Float64Array.from({ length: n }, (_, i) => i - n / 2 + 0.5);
    const y = Float64Array.from({ length: n }, (_, i) => (i >= n / 2 ? 1 : 0));
    const fit = logisticPath({ design: { X, n, p: 1 }, y, weights: ones(n), standardize: true, alpha: 1, lambdas: Float64Array.of(0.1, 1e-3, 1e-8, 1e-12), tol: 1e-7, maxIter: 2000 });
    expect(fit.status[0]).toBe(FitStatus.converged);
    expect(fit.coefs[0]).toBeGreaterThan(0);
    expect(fit.coefs[3]).toBeGreaterThan(fit.coefs[1]);
    expect(Array.from(fit.status).every((s) => s === FitStatus.converged || s === FitStatus.maxIter || s === FitStatus.diverged)).toBe(true);
    expect(Array.from(fit.iterations).every((it) => it <= 2000)).toBe(true);
  });
});

describe('naive updates with strong rules agree with covariance updates', () => {
  for (const file of ['diabetes.csv', 'wide.csv']) {
    it(`${file}: same path to 1e-6 for α = 1 and α = 0.3`, async () => {
      const data = await fixtureData(file);
      const design = { X: data.X, n: data.n, p: data.p };
      for (const alpha of [1, 0.3]) {
        const lambdas = Float64Array.from({ length: 25 }, (_, k) => 30 * Math.pow(0.7, k));
        const args = { design, y: data.y, weights: ones(data.n), standardize: true, alpha, lambdas, tol: 1e-9, maxIter: 1e6 };
        const a = gaussianPath(args);
        const b = gaussianNaivePath(args);
        for (let l = 0; l < lambdas.length; l++) {
          expect(relativeError(b.coefs.subarray(l * data.p, (l + 1) * data.p), a.coefs.subarray(l * data.p, (l + 1) * data.p), 1e-6)).toBeLessThan(1e-6);
        }
      }
    });
  }
  it('wide.csv: naive path matches the glmnet fixture', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_gaussian.json').find((r) => r.name === 'wide-lasso')!;
    const data = await fixtureData(ref.file);
    const fit = gaussianNaivePath({ design: { X: data.X, n: data.n, p: data.p }, y: data.y, weights: ones(data.n), standardize: true, alpha: 1, lambdas: Float64Array.from(ref.lambda), tol: 1e-9, maxIter: 1e6 });
    ref.lambda.forEach((_, l) => expect(relativeError(fit.coefs.subarray(l * data.p, (l + 1) * data.p), ref.coef[l])).toBeLessThan(1e-6));
  });
});

describe('training columns in a bounded cache', () => {
  it('with room for 3 of the columns, evicting and copying again, the path is identical to the bit', async () => {
    const { columnCacheSettings } = await import('../src/kernels/columnCache.js');
    const ref = readFixture<ReferenceFit[]>('glmnet_binomial.json')[0];
    const data = await fixtureData(ref.file, true);
    // A fold with rows left out, so the copies gather a subset of rows.
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 4 === 1 ? 0 : 1));
    const problem = { design: { X: data.X, n: data.n, p: data.p }, y: data.y, weights, standardize: true, alpha: 0.5, lambdas: Float64Array.from(ref.lambda.slice(0, 12)), tol: 1e-7, maxIter: 1e5 };
    const full = logisticPath(problem);
    const saved = columnCacheSettings.bytes;
    columnCacheSettings.bytes = 3 * 8 * weights.filter((w) => w !== 0).length;
    try {
      const small = logisticPath(problem);
      expect(Array.from(small.coefs)).toEqual(Array.from(full.coefs));
      expect(Array.from(small.intercepts)).toEqual(Array.from(full.intercepts));
    } finally {
      columnCacheSettings.bytes = saved;
    }
    expect(full.coefs.subarray(11 * data.p).filter((b) => b !== 0).length).toBeGreaterThan(3);
  });
});
