import { describe, expect, it } from 'vitest';
import { FitStatus } from '../../src/domain.js';
import { createKernelContext } from '../../workers/kernelContext.js';
import { coefsAt, expectPathEqualsSingleFits, fixtureData, pathProblem, readFixture, relativeError, solve, type ReferenceFit } from '../helpers.js';

describe('a logistic regression small enough to solve on paper', () => {
  it('one 0/1 feature, no penalty: the intercept is logit(p0) and the coefficient logit(p1) − logit(p0)', () => {
    // x = 0 for four rows with one positive (p0 = 1/4), x = 1 for four with three (p1 = 3/4): the maximum-likelihood
    // fit is b0 = log(1/3), b1 = log 3 − log(1/3) = 2 log 3, whatever the standardization (reported on x's scale).
    const toy = { X: Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1), n: 8, p: 1, y: Float64Array.of(1, 0, 0, 0, 1, 1, 1, 0) };
    for (const standardize of [true, false]) {
      for (const fit of [solve.binomial, solve.fistaBinomial].map((f) => f(pathProblem(toy, { standardize, lambdas: [0], tol: 1e-12 })))) {
        expect(fit.status[0]).toBe(FitStatus.converged);
        expect(fit.intercepts[0]).toBeCloseTo(Math.log(1 / 3), 9);
        expect(fit.coefs[0]).toBeCloseTo(2 * Math.log(3), 9);
      }
    }
  });
});

describe('logistic regression against glmnet family = "binomial" (polished to KKT 1e-10)', () => {
  for (const ref of readFixture<ReferenceFit[]>('glmnet_binomial.json')) {
    it(`${ref.name}: coefficients within 1e-5 relative on every λ`, async () => {
      const data = await fixtureData(ref.file, true);
      const fit = solve.binomial(pathProblem(data, { l1Ratio: ref.alpha, lambdas: ref.lambda, tol: 1e-7, maxIter: 1e5 }));
      ref.lambda.forEach((_, l) => {
        expect(fit.status[l]).toBe(FitStatus.converged);
        expect(relativeError(coefsAt(fit, l, data.p), ref.coef[l])).toBeLessThan(1e-5);
        expect(Math.abs(fit.intercepts[l] - ref.intercept[l]) / Math.max(1, Math.abs(ref.intercept[l]))).toBeLessThan(1e-5);
      });
      expect(ref.coef.at(-1)!.filter((b) => b !== 0).length).toBeGreaterThan(3);
    });
  }

  it('warm starts extrapolated along the path: an uneven or repeated λ grid gives each λ fitted alone', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_binomial.json')[0];
    const data = await fixtureData(ref.file, true);
    const last = ref.lambda.length - 1;
    const grid = [2, 9, 9, 10, last - 1, last].map((k) => ref.lambda[k]);
    expectPathEqualsSingleFits((lambdas) => solve.binomial(pathProblem(data, { l1Ratio: ref.alpha, lambdas, maxIter: 1e5 })), grid, data.p);
  });

  it('separable data at tiny λ ends with a status instead of hanging', async () => {
    const n = 40;
    const X = Float64Array.from({ length: n }, (_, i) => i - n / 2 + 0.5);
    const y = Float64Array.from({ length: n }, (_, i) => (i >= n / 2 ? 1 : 0));
    const fit = solve.binomial(pathProblem({ X, n, p: 1, y }, { lambdas: [0.1, 1e-3, 1e-8, 1e-12], tol: 1e-7, maxIter: 2000 }));
    // A penalized fit exists at the larger λ; at λ → 0 the maximum is at infinity: the coefficients keep growing and
    // the Newton steps stop at their cap, before the pass limit.
    expect(Array.from(fit.status)).toEqual([FitStatus.converged, FitStatus.converged, FitStatus.maxIter, FitStatus.maxIter]);
    expect(fit.coefs[0]).toBeGreaterThan(0);
    expect(fit.coefs[3]).toBeGreaterThan(fit.coefs[1]);
    expect(Math.max(...fit.iterations)).toBeLessThan(2000);
  });
});

describe('naive updates with strong rules agree with covariance updates', () => {
  for (const file of ['diabetes.csv', 'wide.csv']) {
    it(`${file}: same path to 1e-6 for l1_ratio 1 and 0.3`, async () => {
      const data = await fixtureData(file);
      for (const l1Ratio of [1, 0.3]) {
        const lambdas = Float64Array.from({ length: 25 }, (_, k) => 30 * Math.pow(0.7, k));
        const problem = pathProblem(data, { l1Ratio, lambdas });
        const a = solve.covariance(problem);
        const b = solve.naive(problem);
        for (let l = 0; l < lambdas.length; l++) expect(relativeError(coefsAt(b, l, data.p), coefsAt(a, l, data.p), 1e-6)).toBeLessThan(1e-6);
      }
    });
  }
  it('wide.csv: naive path matches the glmnet fixture', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_gaussian.json').find((r) => r.name === 'wide-lasso')!;
    const data = await fixtureData(ref.file);
    const fit = solve.naive(pathProblem(data, { lambdas: ref.lambda }));
    ref.lambda.forEach((_, l) => expect(relativeError(coefsAt(fit, l, data.p), ref.coef[l])).toBeLessThan(1e-6));
  });
});

describe('training columns in a bounded cache', () => {
  it('with room for 3 of the columns, evicting and copying again, the path is identical to the bit', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_binomial.json')[0];
    const data = await fixtureData(ref.file, true);
    // A fold with rows left out, so the copies gather a subset of rows.
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 4 === 1 ? 0 : 1));
    const problem = pathProblem(data, { weights, l1Ratio: 0.5, lambdas: ref.lambda.slice(0, 12), tol: 1e-7, maxIter: 1e5 });
    const full = solve.binomial(problem);
    const small = solve.binomial(problem, createKernelContext({ limits: { columnCacheBytes: 3 * 8 * weights.filter((w) => w !== 0).length } }));
    expect(Array.from(small.coefs)).toEqual(Array.from(full.coefs));
    expect(Array.from(small.intercepts)).toEqual(Array.from(full.intercepts));
    expect(full.coefs.subarray(11 * data.p).filter((b) => b !== 0).length).toBeGreaterThan(3);
  });
});
