// The multinomial, mgaussian and poisson paths against R glmnet (tests/fixtures/make_glmnet_families.R): the same λ,
// the same objective, coefficients within 1e-6 relative to the largest of the fit (for the multinomial, what the
// likelihood identifies: fitted probabilities and each class's coefficients against the last class's).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { FitStatus } from '../../src/domain.js';
import { poissonPath } from '../../src/fitting/solvers/glm.js';
import { mgaussianPath } from '../../src/fitting/solvers/mgaussian.js';
import { multinomialPath } from '../../src/fitting/solvers/multinomial.js';
import { kernels, pathProblem, readFixture, ROOT } from '../helpers.js';

interface FamilyFit {
  name: string;
  file: string;
  family: 'multinomial' | 'mgaussian' | 'poisson';
  grouped?: boolean;
  offset?: string | null;
  alpha: number;
  lambda: number[];
  /** Multi-response: per λ, K intercepts; poisson: one per λ. */
  intercept: number[] | number[][];
  /** Multi-response: per λ, K rows of p; poisson: per λ, p. */
  coef: number[][] | number[][][];
}

const fits = readFixture<FamilyFit[]>('glmnet_families.json');
const TOL = 1e-6;

/** max |a − b| over the fit, relative to the largest |b| (at least 1). */
function worstRelative(a: number[], b: number[]): number {
  const scale = Math.max(1, ...b.map(Math.abs));
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

describe('multinomial against glmnet family = "multinomial"', () => {
  for (const ref of fits.filter((f) => f.family === 'multinomial')) {
    it(`${ref.name}: fitted probabilities and class contrasts within 1e-6 on every λ`, async () => {
      const data = await loadCsv(join(ROOT, ref.file), { target: 'cultivar', classification: true });
      const K = data.classes!.length;
      const { n, p } = data;
      const fit = multinomialPath(kernels, pathProblem(data, { l1Ratio: ref.alpha, lambdas: ref.lambda, tol: 1e-10, maxIter: 1e6 }), K, ref.grouped!);
      ref.lambda.forEach((_, l) => {
        expect(fit.status[l], `λ ${l}`).toBe(FitStatus.converged);
        const refA = (ref.intercept as number[][])[l];
        const refB = (ref.coef as number[][][])[l];
        const ours = (k: number) => Array.from(fit.coefs.subarray((l * K + k) * p, (l * K + k + 1) * p));
        const a = (k: number) => fit.intercepts[l * K + k];
        // Contrasts against the last class: determined by the likelihood whatever the parametrization.
        const contrast = (B: (k: number) => number[], A: (k: number) => number) => Array.from({ length: K - 1 }, (_, k) => [A(k) - A(K - 1), ...B(k).map((v, j) => v - B(K - 1)[j])]).flat();
        expect(worstRelative(contrast(ours, a), contrast((k) => refB[k], (k) => refA[k]))).toBeLessThan(TOL);
        // And the coefficients themselves: the penalty makes them unique (centered across classes where it is L2).
        expect(worstRelative(Array.from({ length: K }, (_, k) => ours(k)).flat(), refB.flat())).toBeLessThan(TOL);
        let worstProbability = 0;
        for (let i = 0; i < n; i += 7) {
          const eta = (A: (k: number) => number, B: (k: number) => number[]) => Array.from({ length: K }, (_, k) => A(k) + B(k).reduce((s, b, j) => s + b * data.X[j * n + i], 0));
          const soft = (e: number[]) => {
            const top = Math.max(...e);
            const z = e.map((v) => Math.exp(v - top));
            const sum = z.reduce((s, v) => s + v, 0);
            return z.map((v) => v / sum);
          };
          const mine = soft(eta(a, ours));
          const theirs = soft(eta((k) => refA[k], (k) => refB[k]));
          worstProbability = Math.max(worstProbability, ...mine.map((v, k) => Math.abs(v - theirs[k])));
        }
        expect(worstProbability).toBeLessThan(TOL);
      });
      // Sparse in the lasso's case, and a grouped lasso drops a feature from every class at once.
      const last = (ref.coef as number[][][]).at(-1)!;
      if (ref.alpha === 1 && ref.grouped) for (let j = 0; j < p; j++) expect(new Set(last.map((row) => row[j] === 0)).size).toBe(1);
    });
  }
});

describe('mgaussian against glmnet family = "mgaussian"', () => {
  for (const ref of fits.filter((f) => f.family === 'mgaussian')) {
    it(`${ref.name}: coefficients and intercepts within 1e-6 on every λ`, async () => {
      const data = await loadCsv(join(ROOT, ref.file), { target: ['y1', 'y2', 'y3'] });
      const K = 3;
      const { p } = data;
      const fit = mgaussianPath(kernels, pathProblem(data, { l1Ratio: ref.alpha, lambdas: ref.lambda, tol: 1e-10, maxIter: 1e6 }), K);
      ref.lambda.forEach((_, l) => {
        expect(fit.status[l]).toBe(FitStatus.converged);
        const ours = [...Array.from(fit.intercepts.subarray(l * K, (l + 1) * K)), ...Array.from(fit.coefs.subarray(l * K * p, (l + 1) * K * p))];
        const theirs = [...(ref.intercept as number[][])[l], ...(ref.coef as number[][][])[l].flat()];
        expect(worstRelative(ours, theirs)).toBeLessThan(TOL);
      });
    });
  }
});

describe('poisson against glmnet family = "poisson"', () => {
  for (const ref of fits.filter((f) => f.family === 'poisson')) {
    it(`${ref.name}: coefficients and intercept within 1e-6 on every λ`, async () => {
      const full = await loadCsv(join(ROOT, ref.file), { target: 'stations', counts: true });
      const { n } = full;
      // The offset fit uses lat, long and depth, with log(mag) as the offset.
      const p = ref.offset ? 3 : full.p;
      const data = { X: full.X.subarray(0, n * p), n, p, y: full.y };
      const offset = ref.offset ? Float64Array.from({ length: n }, (_, i) => Math.log(full.X[3 * n + i])) : undefined;
      const fit = poissonPath(kernels, { ...pathProblem(data, { l1Ratio: ref.alpha, lambdas: ref.lambda, tol: 1e-10, maxIter: 1e6 }), ...(offset ? { offset } : {}) });
      ref.lambda.forEach((_, l) => {
        expect(fit.status[l]).toBe(FitStatus.converged);
        const ours = [fit.intercepts[l], ...Array.from(fit.coefs.subarray(l * p, (l + 1) * p))];
        const theirs = [(ref.intercept as number[])[l], ...(ref.coef as number[][])[l]];
        expect(worstRelative(ours, theirs)).toBeLessThan(TOL);
      });
    });
  }
});
