import { describe, expect, it } from 'vitest';
import { FitStatus } from '../../src/domain.js';
import { coefsAt, fixtureData, pathProblem, relativeError, solve } from '../helpers.js';

describe('FISTA agrees with coordinate descent to 1e-6', () => {
  it.each([
    ['diabetes.csv', 1, [40, 10, 3, 1, 0.3, 0.1]],
    ['diabetes.csv', 0.4, [40, 10, 3, 1, 0.3]],
    ['wide.csv', 1, [0.8, 0.4, 0.2, 0.1]],
  ] as const)('linear: %s, l1_ratio %s', async (file, l1Ratio, lambdas) => {
    const data = await fixtureData(file);
    const problem = pathProblem(data, { l1Ratio, lambdas, tol: 1e-11, maxIter: 500_000 });
    const cd = data.n > data.p ? solve.covariance(problem) : solve.naive(problem);
    const fista = solve.fistaGaussian(problem);
    for (let l = 0; l < lambdas.length; l++) {
      expect(fista.status[l]).toBe(FitStatus.converged);
      expect(relativeError(coefsAt(fista, l, data.p), coefsAt(cd, l, data.p))).toBeLessThan(1e-6);
      expect(Math.abs(fista.intercepts[l] - cd.intercepts[l]) / Math.max(1, Math.abs(cd.intercepts[l]))).toBeLessThan(1e-6);
    }
  });

  it.each([1, 0.5])('logistic: breast cancer, l1_ratio %s', async (l1Ratio) => {
    const data = await fixtureData('breast_cancer.csv', true);
    const lambdas = [0.1, 0.03, 0.01];
    const problem = pathProblem(data, { l1Ratio, lambdas, tol: 1e-11, maxIter: 500_000 });
    const cd = solve.binomial(problem);
    const fista = solve.fistaBinomial(problem);
    for (let l = 0; l < lambdas.length; l++) {
      expect(fista.status[l]).toBe(FitStatus.converged);
      expect(relativeError(coefsAt(fista, l, data.p), coefsAt(cd, l, data.p))).toBeLessThan(1e-6);
    }
  });
});
