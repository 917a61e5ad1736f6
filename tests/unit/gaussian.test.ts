import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../src/data/synthetic.js';
import { FitStatus } from '../../src/domain.js';
import { gaussianCovariancePath } from '../../src/fitting/solvers/gaussianCovariance.js';
import { gaussianNaivePath } from '../../src/fitting/solvers/gaussianNaive.js';
import { releasePathCoefficients } from '../../src/fitting/path/driver.js';
import { gaussianRidgeDualPath, ridgeDualApplies } from '../../src/fitting/solvers/gaussianRidgeDual.js';
import { LazyGram } from '../../src/fitting/shared/lazyGram.js';
import { columnStats } from '../../src/fitting/shared/columnStats.js';
import { linearPredictor, meanSquaredError } from '../../src/fitting/shared/metrics.js';
import { lambdaMaxFor, lassoLambdaMax } from '../../src/plan/grid.js';
import { createKernelContext } from '../../workers/kernelContext.js';
import { coefsAt, columnMoments, expectPathEqualsSingleFits, fixtureData, kernels, pathProblem, readFixture, type ReferenceFit, relativeError, solve } from '../helpers.js';

async function fitReference(ref: ReferenceFit, tol = 1e-9) {
  const data = await fixtureData(ref.file);
  const fit = solve.covariance(pathProblem(data, { l1Ratio: ref.alpha, lambdas: ref.lambda, tol }));
  return { data, fit };
}

describe('a lasso small enough to solve on paper', () => {
  // Two orthogonal features with mean 0 and variance 1, y with mean 0: X̃ᵀX̃/n = I, so each coefficient is its own
  // soft-threshold, c_j = x_jᵀy/n = (2, 1): lasso β_j = max(c_j − λ, 0), elastic net S(c_j, λr)/(1 + λ(1 − r)).
  const toy = { X: Float64Array.of(1, 1, -1, -1, 1, -1, 1, -1), n: 4, p: 2, y: Float64Array.of(3, 1, -1, -3) };
  it.each([
    [1, 0.5, [1.5, 0.5]],
    [1, 1.5, [0.5, 0]],
    [1, 2.5, [0, 0]],
    [0.5, 1, [1.5 / 1.5, 0.5 / 1.5]],
    [0, 1, [1, 0.5]],
  ])('l1_ratio %s, λ %s: β = %j, intercept 0', (l1Ratio, lambda, expected) => {
    for (const fit of [solve.covariance, solve.naive, solve.fistaGaussian].map((f) => f(pathProblem(toy, { l1Ratio, lambdas: [lambda], tol: 1e-12 })))) {
      expect(fit.status[0]).toBe(FitStatus.converged);
      expected.forEach((b, j) => expect(fit.coefs[j]).toBeCloseTo(b, 10));
      expect(Math.abs(fit.intercepts[0])).toBeLessThan(1e-12);
    }
  });
});

describe('gaussian coordinate descent against glmnet (thresh 1e-14, standardize = TRUE)', () => {
  for (const ref of readFixture<ReferenceFit[]>('glmnet_gaussian.json')) {
    it(`${ref.name}: coefficients and intercepts within 1e-6 relative on every λ`, async () => {
      const { data, fit } = await fitReference(ref);
      ref.lambda.forEach((_, l) => {
        const coefs = coefsAt(fit, l, data.p);
        expect(relativeError(coefs, ref.coef[l])).toBeLessThan(1e-6);
        expect(Math.abs(fit.intercepts[l] - ref.intercept[l]) / Math.max(1, Math.abs(ref.intercept[l]))).toBeLessThan(1e-6);
        expect(fit.status[l]).toBe(FitStatus.converged);
      });
      // The path really goes from empty to dense: a reference that is all zeros would prove nothing.
      expect(ref.coef[0].every((b) => Math.abs(b) < 1e-12)).toBe(true);
      expect(ref.coef[ref.coef.length - 1].filter((b) => b !== 0).length).toBeGreaterThan(3);
    });
  }
  it('the default tol (1e-7) is already within 1e-6 of glmnet', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_gaussian.json')[0];
    const { data, fit } = await fitReference(ref, 1e-7);
    const last = ref.lambda.length - 1;
    expect(relativeError(fit.coefs.subarray(last * data.p), ref.coef[last])).toBeLessThan(1e-6);
  });
});

describe('gaussian coordinate descent against scikit-learn ElasticNet', () => {
  for (const ref of readFixture<ReferenceFit[]>('sklearn_enet.json')) {
    it(`${ref.name}: within 1e-6 relative`, async () => {
      const { data, fit } = await fitReference(ref);
      ref.lambda.forEach((_, l) => {
        expect(relativeError(coefsAt(fit, l, data.p), ref.coef[l])).toBeLessThan(1e-6);
        expect(Math.abs(fit.intercepts[l] - ref.intercept[l]) / Math.abs(ref.intercept[l])).toBeLessThan(1e-6);
      });
    });
  }
});

describe('ridge (α = 0) equals the closed form', () => {
  it('(X̃ᵀX̃/n + λI) β = X̃ᵀ(y − ȳ)/n on standardized diabetes data', async () => {
    const data = await fixtureData('diabetes.csv');
    const { n, p, X, y } = data;
    const { mean, sd } = columnMoments(X, n, p);
    const ybar = y.reduce((a, b) => a + b, 0) / n;
    const xs = (i: number, j: number) => (X[j * n + i] - mean[j]) / sd[j];
    for (const lambda of [50, 1, 0.01]) {
      // Normal equations solved by Gaussian elimination (a dense 10 × 10 system).
      const A = Array.from({ length: p }, (_, j) => Array.from({ length: p + 1 }, (_, k) => {
        let s = 0;
        if (k < p) for (let i = 0; i < n; i++) s += xs(i, j) * xs(i, k);
        else for (let i = 0; i < n; i++) s += xs(i, j) * (y[i] - ybar);
        return s / n + (k === j ? lambda : 0);
      }));
      for (let c = 0; c < p; c++) {
        for (let r = c + 1; r < p; r++) {
          const f = A[r][c] / A[c][c];
          for (let k = c; k <= p; k++) A[r][k] -= f * A[c][k];
        }
      }
      const beta = new Array<number>(p).fill(0);
      for (let r = p - 1; r >= 0; r--) {
        let s = A[r][p];
        for (let k = r + 1; k < p; k++) s -= A[r][k] * beta[k];
        beta[r] = s / A[r][r];
      }
      const expected = beta.map((b, j) => b / sd[j]);
      const fit = solve.covariance(pathProblem(data, { l1Ratio: 0, lambdas: [lambda], tol: 1e-10 }));
      expect(relativeError(fit.coefs, expected)).toBeLessThan(1e-7);
      const intercept = ybar - expected.reduce((s, b, j) => s + b * mean[j], 0);
      expect(Math.abs(fit.intercepts[0] - intercept) / Math.abs(intercept)).toBeLessThan(1e-7);
    }
  });
});

describe('wide ridge in the row space equals the closed form of the primal', () => {
  /** β from the p × p normal equations (X̃ᵀWX̃/ΣW + λI)β = X̃ᵀW(y − ȳ)/ΣW, weighted standardization, by elimination. */
  function primalRidge(X: Float64Array, y: Float64Array, n: number, p: number, w: Float64Array, lambda: number) {
    const W = w.reduce((a, b) => a + b, 0);
    const mean = new Float64Array(p);
    const sd = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      for (let i = 0; i < n; i++) mean[j] += (w[i] * X[j * n + i]) / W;
      for (let i = 0; i < n; i++) sd[j] += (w[i] * (X[j * n + i] - mean[j]) ** 2) / W;
      sd[j] = Math.sqrt(sd[j]);
    }
    const live = Array.from({ length: p }, (_, j) => j).filter((j) => sd[j] > 1e-10 * Math.abs(mean[j]) && sd[j] > 0);
    const q = live.length;
    const ybar = y.reduce((s, v, i) => s + w[i] * v, 0) / W;
    const xs = (i: number, j: number) => (X[j * n + i] - mean[j]) / sd[j];
    const A = Array.from({ length: q }, (_, a) => Array.from({ length: q + 1 }, (_, b) => {
      let s = 0;
      if (b < q) for (let i = 0; i < n; i++) s += w[i] * xs(i, live[a]) * xs(i, live[b]);
      else for (let i = 0; i < n; i++) s += w[i] * xs(i, live[a]) * (y[i] - ybar);
      return s / W + (a === b ? lambda : 0);
    }));
    for (let c = 0; c < q; c++)
      for (let r = c + 1; r < q; r++) {
        const f = A[r][c] / A[c][c];
        for (let k = c; k <= q; k++) A[r][k] -= f * A[c][k];
      }
    const beta = new Array<number>(q).fill(0);
    for (let r = q - 1; r >= 0; r--) {
      let s = A[r][q];
      for (let k = r + 1; k < q; k++) s -= A[r][k] * beta[k];
      beta[r] = s / A[r][r];
    }
    const coefs = new Array<number>(p).fill(0);
    live.forEach((j, a) => (coefs[j] = beta[a] / sd[j]));
    return { coefs, intercept: ybar - coefs.reduce((s, b, j) => s + b * mean[j], 0) };
  }

  it('wide.csv (60 × 150) and a constant column, fold weights 0/1 and uneven weights, λ over five decades', async () => {
    const data = await fixtureData('wide.csv');
    const { n, p } = data;
    const X = Float64Array.from(data.X);
    for (let i = 0; i < n; i++) X[7 * n + i] = 3; // feature 8 constant
    const wide = { ...data, X };
    const lambdas = [10, 1, 0.1, 0.01, 0.001];
    const cases = [
      ['fold weights', Float64Array.from({ length: n }, (_, i) => (i % 5 === 2 ? 0 : 1))],
      ['uneven weights', Float64Array.from({ length: n }, (_, i) => 0.5 + (i % 3))],
    ] as const;
    for (const [name, weights] of cases) {
      const problem = pathProblem(wide, { l1Ratio: 0, lambdas, weights });
      expect(ridgeDualApplies(problem, weights.filter((w) => w > 0).length)).toBe(true);
      const fit = gaussianRidgeDualPath(problem);
      lambdas.forEach((lambda, l) => {
        const expected = primalRidge(X, data.y, n, p, weights, lambda);
        expect(relativeError(fit.coefs.subarray(l * p, (l + 1) * p), expected.coefs), `${name} λ ${lambda}`).toBeLessThan(1e-9);
        expect(Math.abs(fit.intercepts[l] - expected.intercept) / Math.abs(expected.intercept), `${name} λ ${lambda}`).toBeLessThan(1e-9);
        expect(fit.coefs[l * p + 7]).toBe(0);
      });
    }
  });

  it('agrees with coordinate descent (naive mode) where that converges', async () => {
    const data = await fixtureData('wide.csv');
    const lambdas = [10, 3, 1];
    const dual = gaussianRidgeDualPath(pathProblem(data, { l1Ratio: 0, lambdas }));
    const cd = solve.naive(pathProblem(data, { l1Ratio: 0, lambdas, tol: 1e-10 }));
    expect(relativeError(dual.coefs, cd.coefs)).toBeLessThan(1e-7);
  });
});

describe('λ_max, weights and constant columns', () => {
  it('at λ_max every coefficient is zero and just below it one is not', async () => {
    const data = await fixtureData('diabetes.csv');
    const lmax = lassoLambdaMax(data, data.y, true);
    const fit = solve.covariance(pathProblem(data, { lambdas: [lmax * 1.0000001, lmax * 0.99] }));
    expect(fit.coefs.subarray(0, data.p).every((b) => b === 0)).toBe(true);
    expect(fit.coefs.subarray(data.p).filter((b) => b !== 0).length).toBe(1);
  });

  it('zero weights are the same as dropping the rows', async () => {
    const data = await fixtureData('diabetes.csv');
    const { n, p } = data;
    const keep = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
    const m = keep.length;
    const Xs = new Float64Array(m * p);
    for (let j = 0; j < p; j++) keep.forEach((i, r) => (Xs[j * m + r] = data.X[j * n + i]));
    const ys = Float64Array.from(keep, (i) => data.y[i]);
    const weights = Float64Array.from({ length: n }, (_, i) => (i % 3 !== 0 ? 1 : 0));
    const lambdas = [5, 0.5, 0.05];
    const a = solve.covariance(pathProblem(data, { weights, l1Ratio: 0.7, lambdas, tol: 1e-10 }));
    const b = solve.covariance(pathProblem({ X: Xs, n: m, p, y: ys }, { l1Ratio: 0.7, lambdas, tol: 1e-10 }));
    expect(relativeError(a.coefs, b.coefs)).toBeLessThan(1e-9);
    expect(relativeError(a.intercepts, b.intercepts)).toBeLessThan(1e-9);
  });

  it('a constant column stays in with coefficient 0 and does not disturb the others', async () => {
    const data = await fixtureData('diabetes.csv');
    const { n, p } = data;
    const X = new Float64Array(n * (p + 1));
    X.set(data.X.subarray(0, 2 * n));
    X.fill(7.5, 2 * n, 3 * n);
    X.set(data.X.subarray(2 * n), 3 * n);
    const lambdas = [1, 0.1];
    const withConst = solve.covariance(pathProblem({ X, n, p: p + 1, y: data.y }, { lambdas, tol: 1e-10 }));
    const without = solve.covariance(pathProblem(data, { lambdas, tol: 1e-10 }));
    for (let l = 0; l < 2; l++) {
      const row = Array.from(withConst.coefs.subarray(l * (p + 1), (l + 1) * (p + 1)));
      expect(row[2]).toBe(0);
      row.splice(2, 1);
      expect(relativeError(row, without.coefs.subarray(l * p, (l + 1) * p))).toBeLessThan(1e-12);
    }
  });

  it('stops at max_iter and says so instead of looping', async () => {
    const data = await fixtureData('diabetes.csv');
    const fit = solve.covariance(pathProblem(data, { lambdas: [0.01], tol: 1e-14, maxIter: 2 }));
    expect(fit.status[0]).toBe(FitStatus.maxIter);
    expect(fit.passes[0]).toBe(2);
  });
});

describe('Gram columns shared between paths on the same fold', () => {
  it('a path on a Gram filled by another α gives bit-identical coefficients', async () => {
    const data = await fixtureData('wide.csv');
    // 60 rows × 150 features, half the rows: covariance mode on a p > n fold still has to be exact.
    const design = { X: data.X, n: data.n, p: data.p };
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 5 === 0 ? 0 : 1));
    const lambdas = [1, 0.5, 0.25, 0.12];
    const shared = new LazyGram(kernels, design, weights, columnStats(design, weights, true));
    gaussianCovariancePath(kernels, pathProblem(data, { weights, l1Ratio: 0.2, lambdas }), shared);
    const reused = gaussianCovariancePath(kernels, pathProblem(data, { weights, lambdas }), shared);
    const fresh = solve.covariance(pathProblem(data, { weights, lambdas }));
    expect(shared.slots).toBeGreaterThan(8);
    expect(Array.from(reused.coefs)).toEqual(Array.from(fresh.coefs));
  });
});

describe('training MSE from the gradients (covariance mode)', () => {
  it('equals the mean squared residual of the predictions, on a fold with zero-weight rows', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_gaussian.json')[0];
    const data = await fixtureData(ref.file);
    const design = { X: data.X, n: data.n, p: data.p };
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 5 === 2 ? 0 : 1));
    const fit = solve.covariance(pathProblem(data, { weights, l1Ratio: 0.7, lambdas: ref.lambda }));
    const eta = new Float64Array(data.n);
    ref.lambda.forEach((_, l) => {
      linearPredictor(design, fit.intercepts[l], coefsAt(fit, l, data.p), eta);
      const direct = meanSquaredError(data.y, eta, weights);
      expect(Math.abs(fit.trainMse![l] - direct) / direct).toBeLessThan(1e-10);
    });
    // From the null model (MSE = var y) down to a fit that explains most of it: both ends are checked above.
    expect(fit.trainMse![ref.lambda.length - 1]).toBeLessThan(0.6 * fit.trainMse![0]);
  });
});

describe('warm starts extrapolated along the path', () => {
  it('on a fixed active set the extrapolated start is the lasso solution: one pass per λ', () => {
    // Lasso on a fixed active set and signs is linear in λ, so the last two solutions extrapolated to the next λ
    // are exact up to their own tolerance and the first (checking) pass changes nothing. Five strong, correlated
    // features stay active over the whole grid.
    const n = 300;
    const p = 5;
    let seed = 3;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    const X = new Float64Array(n * p);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const common = rand();
      for (let j = 0; j < p; j++) X[j * n + i] = common + rand();
      for (let j = 0; j < p; j++) y[i] += (j + 1) * X[j * n + i];
      y[i] += 0.1 * rand();
    }
    const lambdas = Float64Array.from({ length: 8 }, (_, k) => 0.01 * Math.pow(0.8, k));
    const fit = solve.covariance(pathProblem({ X, n, p, y }, { standardize: false, lambdas }));
    for (let l = 0; l < lambdas.length; l++) expect(fit.coefs.subarray(l * p, (l + 1) * p).every((b) => b > 0)).toBe(true);
    expect(Array.from(fit.passes.subarray(2))).toEqual(new Array(lambdas.length - 2).fill(1));
    // And they are the solutions: the same as each λ fitted from zero.
    const alone = solve.covariance(pathProblem({ X, n, p, y }, { standardize: false, lambdas: lambdas.subarray(7) }));
    expect(relativeError(fit.coefs.subarray(7 * p), Array.from(alone.coefs))).toBeLessThan(1e-7);
  });

  it('a repeated or uneven λ grid gives the same solutions as fitting each λ on its own', async () => {
    const ref = readFixture<ReferenceFit[]>('glmnet_gaussian.json')[0];
    const data = await fixtureData(ref.file);
    const last = ref.lambda.length - 1;
    const grid = [3, 10, 10, 11, last - 1, last].map((k) => ref.lambda[k]);
    expectPathEqualsSingleFits((lambdas) => solve.covariance(pathProblem(data, { l1Ratio: 0.5, lambdas })), grid, data.p);
  });
});

describe('active-set cycles on the compact copy of the Gram block', () => {
  it('give the same path as cycles over full Gram columns, on a path whose active set grows to all features', () => {
    const data = syntheticDataset({ kind: 'regression', n: 400, p: 60, nonzero: 6, rho: 0.5, snr: 3, outputs: 1, seed: 7 });
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 5 === 0 ? 0 : 1));
    const lmax = lambdaMaxFor(lassoLambdaMax(data, data.y, true, weights), 0.7);
    const lambdas = Float64Array.from({ length: 40 }, (_, k) => lmax * Math.pow(1e-4, k / 39));
    const problem = pathProblem(data, { weights, l1Ratio: 0.7, lambdas, tol: 1e-10 });
    const compact = solve.covariance(problem);
    const columns = solve.covariance(problem, createKernelContext({ limits: { compactBytes: 0 } }));
    // Both sizes of active set occur: a part of p (compact cycles) and nearly all of it (full columns).
    const active = (l: number) => compact.coefs.subarray(l * data.p, (l + 1) * data.p).filter((b) => b !== 0).length;
    expect(active(5)).toBeLessThan(data.p / 2);
    expect(active(39)).toBeGreaterThan(0.9 * data.p);
    for (let l = 0; l < lambdas.length; l++) {
      expect(relativeError(compact.coefs.subarray(l * data.p, (l + 1) * data.p), Array.from(columns.coefs.subarray(l * data.p, (l + 1) * data.p)))).toBeLessThan(1e-9);
      expect(Math.abs(compact.intercepts[l] - columns.intercepts[l])).toBeLessThan(1e-9 * Math.max(1, Math.abs(columns.intercepts[l])));
    }
    expect(Array.from(compact.status).every((s) => s === FitStatus.converged)).toBe(true);
  });
});

describe("a path's coefficient matrix given back and reused by the next path", () => {
  it('holds the next path alone: every coefficient the earlier path set is zero again where the next one has none', () => {
    const data = syntheticDataset({ kind: 'regression', n: 200, p: 40, nonzero: 5, rho: 0.3, snr: 2, outputs: 1, seed: 12 });
    const lambdaMax = lassoLambdaMax({ X: data.X, n: data.n, p: data.p }, data.y, true, new Float64Array(data.n).fill(1));
    // A sparse path (large λ, few nonzeros) and a dense one (small λ, ridge-like, every coefficient nonzero).
    const sparsePath = () => gaussianNaivePath(kernels, pathProblem(data, { lambdas: [lambdaMax * 0.9, lambdaMax * 0.6, lambdaMax * 0.4] }));
    const densePath = () => gaussianNaivePath(kernels, pathProblem(data, { lambdas: [lambdaMax * 0.01, lambdaMax * 0.005, lambdaMax * 0.001], l1Ratio: 0.05 }));
    const alone = sparsePath().coefs.slice();
    const dense = densePath();
    expect(dense.coefs.every((b) => b !== 0)).toBe(true);
    releasePathCoefficients(dense.coefs);
    const reused = sparsePath();
    // The same memory (the next path took it), holding the sparse path's numbers only.
    expect(reused.coefs.buffer).toBe(dense.coefs.buffer);
    expect(Array.from(reused.coefs)).toEqual(Array.from(alone));
    expect(alone.filter((b) => b === 0).length).toBeGreaterThan(60);
  });
});
