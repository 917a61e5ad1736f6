import { describe, expect, it } from 'vitest';
import { FitStatus } from '../../src/domain.js';
import { createKernelContext } from '../../workers/kernelContext.js';
import { accuracyAndAuc, sortScores } from '../../src/fitting/shared/metrics.js';
import { logisticLossRise } from '../../src/fitting/solvers/glm.js';
import { Rng } from '../../src/util/random.js';
import { coefsAt, columnMoments, expectPathEqualsSingleFits, fixtureData, pathProblem, readFixture, type ReferenceFit, relativeError, solve } from '../helpers.js';

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

  it('separable data at tiny λ: the penalized optimum is finite at every λ > 0 and is found (KKT), within the pass limit', async () => {
    const n = 40;
    const X = Float64Array.from({ length: n }, (_, i) => i - n / 2 + 0.5);
    const y = Float64Array.from({ length: n }, (_, i) => (i >= n / 2 ? 1 : 0));
    const lambdas = [0.1, 1e-3, 1e-8, 1e-12];
    const fit = solve.binomial(pathProblem({ X, n, p: 1, y }, { lambdas, tol: 1e-7, maxIter: 2000 }));
    // Without a penalty the maximum is at infinity; with one the coefficient grows as λ falls but stays finite.
    expect(Array.from(fit.status)).toEqual(lambdas.map(() => FitStatus.converged));
    for (let l = 1; l < 4; l++) expect(fit.coefs[l]).toBeGreaterThan(fit.coefs[l - 1]);
    expect(Math.max(...fit.passes)).toBeLessThan(2000);
    // Optimality of the single standardized coefficient: (1/n)·Σ x̃_i (y_i − p_i) = λ (it is positive).
    const sd = Math.sqrt(X.reduce((s, x) => s + x * x, 0) / n);
    lambdas.forEach((lambda, l) => {
      let g = 0;
      for (let i = 0; i < n; i++) g += (X[i] / sd) * (y[i] - 1 / (1 + Math.exp(-(fit.intercepts[l] + fit.coefs[l] * X[i]))));
      expect(Math.abs(g / n - lambda) / lambda, `λ ${lambda}`).toBeLessThan(1e-3);
    });
  });
});

describe('a nearly separable lasso path down to λ = 1e-5 (breast cancer, 569 × 30, standardized)', () => {
  it('converges at every λ, and each solution meets the optimality conditions (KKT), computed here from the data', async () => {
    const data = await fixtureData('breast_cancer.csv', true);
    const { n, p, X, y } = data;
    // λ_max from the data (the largest |x̃_j·(y − ȳ)|/n), then 40 λ down to 1e-5.
    const { mean, sd } = columnMoments(X, n, p);
    const ybar = y.reduce((a, b) => a + b, 0) / n;
    let lambdaMax = 0;
    for (let j = 0; j < p; j++) {
      let g = 0;
      for (let i = 0; i < n; i++) g += ((X[j * n + i] - mean[j]) / sd[j]) * (y[i] - ybar);
      lambdaMax = Math.max(lambdaMax, Math.abs(g) / n);
    }
    const lambdas = Array.from({ length: 40 }, (_, k) => lambdaMax * Math.pow(1e-5 / lambdaMax, k / 39));
    const fit = solve.binomial(pathProblem(data, { lambdas, tol: 1e-7, maxIter: 1e6 }));
    let worst = 0;
    lambdas.forEach((lambda, l) => {
      expect(fit.status[l], `λ ${lambda}`).toBe(FitStatus.converged);
      // Gradient of the mean negative log-likelihood in the standardized coefficients, at the stored solution.
      const b = fit.coefs.subarray(l * p, (l + 1) * p);
      const eta = Array.from({ length: n }, (_, i) => fit.intercepts[l] + b.reduce((s, bj, j) => s + bj * X[j * n + i], 0));
      const residual = eta.map((e, i) => y[i] - 1 / (1 + Math.exp(-e)));
      expect(Math.abs(residual.reduce((a, r) => a + r, 0) / n)).toBeLessThan(1e-6);
      for (let j = 0; j < p; j++) {
        let g = 0;
        for (let i = 0; i < n; i++) g -= ((X[j * n + i] - mean[j]) / sd[j]) * residual[i];
        g /= n;
        const beta = b[j] * sd[j];
        // β_j ≠ 0: g_j + λ·sign(β_j) = 0; β_j = 0: |g_j| ≤ λ. Measured relative to λ.
        const violation = beta !== 0 ? Math.abs(g + lambda * Math.sign(beta)) : Math.max(0, Math.abs(g) - lambda);
        worst = Math.max(worst, violation / lambda);
      }
    });
    expect(worst).toBeLessThan(1e-7);
  }, 120_000);
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

describe('the AUC of accuracyAndAuc', () => {
  it('equals the share of (positive, negative) pairs ranked right, ties counting half, over the rows of nonzero weight', () => {
    const rng = new Rng(5);
    for (const n of [7, 200, 3001]) {
      // Scores on a coarse grid so that many tie within and across the classes; a weight of 0 leaves a row out.
      const eta = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 4) / 4);
      const y = Float64Array.from(eta, (e) => (rng.uniform() < 1 / (1 + Math.exp(-2 * e)) ? 1 : 0));
      const w = Float64Array.from({ length: n }, () => (rng.uniform() < 0.2 ? 0 : 1));
      let pairs = 0;
      let right = 0;
      for (let i = 0; i < n; i++)
        for (let k = 0; k < n; k++)
          if (w[i] && w[k] && y[i] === 1 && y[k] === 0) {
            pairs++;
            right += eta[i] > eta[k] ? 1 : eta[i] === eta[k] ? 0.5 : 0;
          }
      expect(accuracyAndAuc(y, eta, w).auc).toBe(right / pairs);
    }
    expect(accuracyAndAuc(Float64Array.of(1, 1), Float64Array.of(0.2, 0.4), Float64Array.of(1, 1)).auc).toBeNaN();
  });

  it('on classes of tens of thousands of rows (sorted by radix) equals the Mann–Whitney U of mid-ranks', () => {
    const rng = new Rng(8);
    const n = 50_000;
    // Ties (a third of the rows share a few values), both signs, −0 and 0, tiny and huge magnitudes: every digit moves.
    const pick = () => {
      const u = rng.uniform();
      if (u < 0.3) return [-1, 0, -0, 0.25][Math.floor(rng.uniform() * 4)];
      if (u < 0.35) return (rng.uniform() - 0.5) * 1e-300;
      if (u < 0.4) return (rng.uniform() - 0.5) * 1e300;
      return rng.normal() * 3;
    };
    const eta = Float64Array.from({ length: n }, pick);
    const y = Float64Array.from(eta, (e) => (rng.uniform() < 1 / (1 + Math.exp(-Math.max(-30, Math.min(30, e)))) ? 1 : 0));
    const w = Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? 0 : 1));
    const kept = Array.from({ length: n }, (_, i) => i).filter((i) => w[i] !== 0);
    // Mid-ranks over the kept rows (ties share the mean of their ranks), then U of the positives.
    kept.sort((a, b) => eta[a] - eta[b]);
    let rankSum = 0;
    for (let start = 0; start < kept.length; ) {
      let end = start;
      while (end + 1 < kept.length && eta[kept[end + 1]] === eta[kept[start]]) end++;
      const midRank = (start + end) / 2 + 1;
      for (let k = start; k <= end; k++) if (y[kept[k]] === 1) rankSum += midRank;
      start = end + 1;
    }
    const positives = kept.filter((i) => y[i] === 1).length;
    const negatives = kept.length - positives;
    expect(positives).toBeGreaterThan(4096);
    expect(negatives).toBeGreaterThan(4096);
    const u = rankSum - (positives * (positives + 1)) / 2;
    expect(accuracyAndAuc(y, eta, w).auc).toBeCloseTo(u / (positives * negatives), 12);
  });
});

describe('sortScores', () => {
  it('puts scores in the native sort order, −0 before 0, at every size', () => {
    const rng = new Rng(9);
    for (const n of [5, 4095, 4096, 30_000]) {
      const values = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? (i % 2 ? -0 : 0) : i % 5 === 0 ? -1.5 : rng.normal() * 10 ** Math.floor(rng.uniform() * 40 - 20)));
      const native = values.slice().sort();
      sortScores(values);
      expect(Array.from(values).every((v, i) => Object.is(v, native[i]))).toBe(true);
    }
  });

  it('orders scores that agree in their first 20 bits of mantissa by the rest, in short and in long runs', () => {
    const rng = new Rng(10);
    // 1 + 1e-9·z: one high word for nearly all (a run sorted natively); 1 + 1e-7·z: runs of a few (by insertion).
    for (const spread of [1e-9, 1e-7, 1e-5]) {
      const values = Float64Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? -1 : 1) * (1 + spread * rng.normal()));
      const native = values.slice().sort();
      sortScores(values);
      expect(Array.from(values).every((v, i) => Object.is(v, native[i]))).toBe(true);
    }
  });
});

describe('accuracyAndAuc', () => {
  it('gives the weighted accuracy of η > 0 and the AUC of the rows with weight, from one pass', () => {
    const rng = new Rng(12);
    const n = 9_000;
    const y = Float64Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 1 : 0));
    const eta = Float64Array.from(y, (c) => rng.normal() + c - 0.5);
    const w = Float64Array.from({ length: n }, () => (rng.uniform() < 0.2 ? 0 : 1 + rng.uniform()));
    let right = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if ((eta[i] > 0 ? 1 : 0) === y[i]) right += w[i];
      total += w[i];
    }
    const { accuracy, auc } = accuracyAndAuc(y, eta, w);
    expect(accuracy).toBe(right / total);
    // The AUC by its definition: the share of (positive, negative) pairs ordered right, ties counting half.
    const pos = Array.from(eta).filter((_, i) => w[i] !== 0 && y[i] === 1);
    const neg = Array.from(eta).filter((_, i) => w[i] !== 0 && y[i] === 0);
    let pairs = 0;
    for (const a of pos) for (const b of neg) pairs += a > b ? 1 : a === b ? 0.5 : 0;
    expect(auc).toBeCloseTo(pairs / (pos.length * neg.length), 12);
    expect(accuracyAndAuc(y, eta, Float64Array.from(y, (c) => c)).auc).toBeNaN();
  });
});

describe('logisticLossRise', () => {
  it('is never below the true change of the weighted logistic loss, and close to it for small steps', () => {
    const rng = new Rng(11);
    const loss = (e: number, y: number) => (e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e))) - y * e;
    for (const scale of [1e-3, 0.1, 1, 5, 40]) {
      const m = 500;
      const rows = Int32Array.from({ length: m }, (_, i) => i);
      const w = Float64Array.from({ length: m }, () => (rng.uniform() < 0.1 ? 0 : rng.uniform() * 2));
      const eta0 = Float64Array.from({ length: m }, () => rng.normal() * 3);
      const eta = Float64Array.from(eta0, (e) => e + rng.normal() * scale);
      const y = Float64Array.from({ length: m }, () => (rng.uniform() < 0.4 ? 1 : 0));
      const prob0 = Float64Array.from(eta0, (e) => 1 / (1 + Math.exp(-e)));
      let exact = 0;
      for (let r = 0; r < m; r++) exact += w[r] * (loss(eta[r], y[r]) - loss(eta0[r], y[r]));
      const bound = logisticLossRise(eta0, eta, prob0, y, rows, w);
      expect(bound).toBeGreaterThanOrEqual(exact - 1e-12 * Math.abs(exact));
      // No looser than twice its remainder allowance (√3/108 per |Δη|³): the expansion part is exact to second order.
      let allowance = 0;
      for (let r = 0; r < m; r++) allowance += (w[r] * Math.sqrt(3) * Math.abs(eta[r] - eta0[r]) ** 3) / 108;
      expect(bound - exact).toBeLessThanOrEqual(2 * allowance + 1e-12 * Math.abs(exact));
    }
  });
});
