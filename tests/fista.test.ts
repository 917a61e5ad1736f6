import { describe, expect, it } from 'vitest';
import { fistaPath } from '../src/kernels/fista.js';
import { gaussianPath } from '../src/kernels/gaussian.js';
import { gaussianNaivePath, logisticPath } from '../src/kernels/naive.js';
import { FitStatus } from '../src/kernels/types.js';
import { fixtureData, relativeError } from './helpers.js';

const ones = (n: number) => new Float64Array(n).fill(1);

describe('FISTA agrees with coordinate descent to 1e-6', () => {
  it.each([
    ['diabetes.csv', 1, [40, 10, 3, 1, 0.3, 0.1]],
    ['diabetes.csv', 0.4, [40, 10, 3, 1, 0.3]],
    ['wide.csv', 1, [0.8, 0.4, 0.2, 0.1]],
  ] as const)('linear: %s, α = %s', async (file, alpha, lambdaList) => {
    const data = await fixtureData(file);
    const lambdas = Float64Array.from(lambdaList);
    const args = { design: { X: data.X, n: data.n, p: data.p }, y: data.y, weights: ones(data.n), standardize: true, alpha, lambdas, tol: 1e-11, maxIter: 500_000 };
    const cd = data.n > data.p ? gaussianPath(args) : gaussianNaivePath(args);
    const fista = fistaPath(args, 'gaussian');
    for (let l = 0; l < lambdas.length; l++) {
      expect(fista.status[l]).toBe(FitStatus.converged);
      expect(relativeError(fista.coefs.subarray(l * data.p, (l + 1) * data.p), cd.coefs.subarray(l * data.p, (l + 1) * data.p))).toBeLessThan(1e-6);
      expect(Math.abs(fista.intercepts[l] - cd.intercepts[l]) / Math.max(1, Math.abs(cd.intercepts[l]))).toBeLessThan(1e-6);
    }
  });

  it.each([1, 0.5])('logistic: breast cancer, α = %s', async (alpha) => {
    const data = await fixtureData('breast_cancer.csv', true);
    const lambdas = Float64Array.of(0.1, 0.03, 0.01);
    const args = { design: { X: data.X, n: data.n, p: data.p }, y: data.y, weights: ones(data.n), standardize: true, alpha, lambdas, tol: 1e-11, maxIter: 500_000 };
    const cd = logisticPath(args);
    const fista = fistaPath(args, 'binomial');
    for (let l = 0; l < lambdas.length; l++) {
      expect(fista.status[l]).toBe(FitStatus.converged);
      expect(relativeError(fista.coefs.subarray(l * data.p, (l + 1) * data.p), cd.coefs.subarray(l * data.p, (l + 1) * data.p))).toBeLessThan(1e-6);
    }
  });
});
