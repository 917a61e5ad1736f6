import { describe, expect, it } from 'vitest';
import type { SparseColumns } from '../../src/domain.js';
import type { PathProblem } from '../../src/fitting/path/types.js';
import { groupByFold } from '../../src/fitting/shared/sparseColumns.js';
import { binomialPath, poissonPath } from '../../src/fitting/solvers/glm.js';
import { gaussianCovariancePath } from '../../src/fitting/solvers/gaussianCovariance.js';
import { gaussianNaivePath } from '../../src/fitting/solvers/gaussianNaive.js';
import { Rng } from '../../src/util/random.js';
import { createKernelContext } from '../../workers/kernelContext.js';
import { relativeError } from '../helpers.js';

const context = createKernelContext();

/** n × p of which a power-law share of each column is nonzero (a few columns dense, most rare), as compressed columns. */
function textLike(n: number, p: number, seed: number): { dense: Float64Array; sparse: SparseColumns } {
  const rng = new Rng(seed);
  const dense = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const share = Math.min(0.6, 0.5 / (1 + j) ** 0.8);
    for (let i = 0; i < n; i++) if (rng.uniform() < share) dense[j * n + i] = 1 + Math.floor(rng.uniform() * 3);
  }
  return { dense, sparse: compress(dense, n, p) };
}

function compress(dense: Float64Array, n: number, p: number): SparseColumns {
  const rows: number[] = [];
  const values: number[] = [];
  const starts = new Int32Array(p + 1);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++)
      if (dense[j * n + i] !== 0) {
        rows.push(i);
        values.push(dense[j * n + i]);
      }
    starts[j + 1] = rows.length;
  }
  return { values: Float64Array.from(values), rows: Int32Array.from(rows), starts };
}

function copyOf({ values, rows, starts }: SparseColumns): SparseColumns {
  return { values: values.slice(), rows: rows.slice(), starts: starts.slice() };
}

/** The (row, value) pairs of column j, by row. */
function entries(sparse: SparseColumns, j: number): string {
  const pairs: [number, number][] = [];
  for (let k = sparse.starts[j]; k < sparse.starts[j + 1]; k++) pairs.push([sparse.rows[k], sparse.values[k]]);
  return JSON.stringify(pairs.sort((a, b) => a[0] - b[0]));
}

/** Every column's group g holds exactly its nonzeros in rows of group g, rows ascending. */
function expectGrouped(sparse: SparseColumns, groupOfRow: (i: number) => number, n: number): void {
  const groups = sparse.foldGroups!;
  const stride = groups.count + 1;
  for (let i = 0; i < n; i++) expect(groups.groupOf[i]).toBe(groupOfRow(i));
  const p = sparse.starts.length - 1;
  for (let j = 0; j < p; j++) {
    expect(groups.starts[j * stride]).toBe(sparse.starts[j]);
    expect(groups.starts[j * stride + groups.count]).toBe(sparse.starts[j + 1]);
    for (let g = 0; g < groups.count; g++)
      for (let k = groups.starts[j * stride + g]; k < groups.starts[j * stride + g + 1]; k++) {
        expect(groupOfRow(sparse.rows[k])).toBe(g);
        if (k > groups.starts[j * stride + g]) expect(sparse.rows[k]).toBeGreaterThan(sparse.rows[k - 1]);
      }
  }
}

describe('a sparse design grouped by fold (groupByFold)', () => {
  const n = 240;
  const p = 30;
  const { sparse } = textLike(n, p, 5);
  const kfold = Int32Array.from({ length: n }, (_, i) => (i * 7) % 5);
  // A holdout: a few rows held out (fold 0), the others never (−1).
  const holdout = Int32Array.from({ length: n }, (_, i) => (i % 4 === 1 ? 0 : -1));

  it('puts each column’s rows in groups (never held out, then fold by fold), ascending within each, its entries unchanged', () => {
    const grouped = copyOf(sparse);
    groupByFold(grouped, kfold, 5, n);
    expect(grouped.foldGroups!.count).toBe(6);
    expectGrouped(grouped, (i) => kfold[i] + 1, n);
    for (let j = 0; j < p; j++) expect(entries(grouped, j)).toBe(entries(sparse, j));
  });

  it('leaves a design grouped by the same folds as it is, and groups one grouped by other folds again', () => {
    const grouped = copyOf(sparse);
    groupByFold(grouped, kfold, 5, n);
    const first = grouped.foldGroups;
    const rows = grouped.rows.slice();
    groupByFold(grouped, Int32Array.from(kfold), 5, n);
    expect(grouped.foldGroups).toBe(first);
    expect(grouped.rows).toEqual(rows);
    groupByFold(grouped, holdout, 1, n);
    expect(grouped.foldGroups!.count).toBe(2);
    expectGrouped(grouped, (i) => holdout[i] + 1, n);
    for (let j = 0; j < p; j++) expect(entries(grouped, j)).toBe(entries(sparse, j));
  });

  it('leaves the rows ascending for repeated folds (a row held out more than once) and without validation, after a grouping too', () => {
    for (const [foldOf, perRepeat] of [
      [Int32Array.from({ length: 2 * n }, (_, i) => i % 3), 3],
      [new Int32Array(n).fill(-1), 0],
    ] as const) {
      const design = copyOf(sparse);
      groupByFold(design, foldOf, perRepeat, n);
      expect(design.foldGroups).toBeUndefined();
      expect(design.rows).toEqual(sparse.rows);
      groupByFold(design, kfold, 5, n);
      expect(design.rows).not.toEqual(sparse.rows);
      groupByFold(design, foldOf, perRepeat, n);
      expect(design.foldGroups).toBeUndefined();
      expect(design.rows).toEqual(sparse.rows);
      expect(design.values).toEqual(sparse.values);
    }
  });
});

describe('a fold’s path on a design grouped by fold, its held-out block never read', () => {
  const n = 300;
  const p = 40;
  const { dense, sparse } = textLike(n, p, 11);
  const rng = new Rng(3);
  const truth = Float64Array.from({ length: p }, (_, j) => (j % 7 === 0 ? 0.6 * (j % 2 ? 1 : -1) : 0));
  const eta = Float64Array.from({ length: n }, (_, i) => {
    let e = -0.3;
    for (let j = 0; j < p; j++) e += truth[j] * dense[j * n + i];
    return e;
  });
  const targets = {
    binomial: Float64Array.from(eta, (e) => (rng.uniform() < 1 / (1 + Math.exp(-e)) ? 1 : 0)),
    gaussian: Float64Array.from(eta, (e) => e + rng.normal()),
    poisson: Float64Array.from(eta, (e) => Math.round(Math.exp(0.5 * e) * (1 + rng.uniform()))),
  };
  const foldOf = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * 5));
  const grouped = copyOf(sparse);
  groupByFold(grouped, foldOf, 5, n);
  const solvers = {
    binomial: (problem: PathProblem) => binomialPath(context, problem),
    poisson: (problem: PathProblem) => poissonPath(context, problem),
    'gaussian (naive updates)': (problem: PathProblem) => gaussianNaivePath(context, problem),
    'gaussian (covariance updates, the Gram merged group by group)': (problem: PathProblem) => gaussianCovariancePath(context, problem),
  };

  for (const [name, fit] of Object.entries(solvers)) {
    const y = targets[name.split(' ')[0] as keyof typeof targets];
    it(`${name}: the same path as on the training rows alone, for every fold`, () => {
      for (let fold = 0; fold < 5; fold++) {
        const training = Int32Array.from({ length: n }, (_, i) => i).filter((i) => foldOf[i] !== fold);
        const m = training.length;
        const denseTraining = new Float64Array(m * p);
        for (let j = 0; j < p; j++) training.forEach((i, r) => (denseTraining[j * m + r] = dense[j * n + i]));
        const common = { standardize: true, l1Ratio: 0.8, tol: 1e-12, maxIter: 1e6 };
        // λ from 0.5 to 0.005 of a rough λ_max: the path runs from a few features to most of them.
        const lambdas = Float64Array.from({ length: 12 }, (_, l) => 0.3 * 0.66 ** l);
        const alone = fit({ ...common, design: { X: new Float64Array(0), n: m, p, sparse: compress(denseTraining, m, p) }, y: Float64Array.from(training, (i) => y[i]), weights: new Float64Array(m).fill(1), lambdas });
        const weights = Float64Array.from(foldOf, (f) => (f === fold ? 0 : 1));
        const viewed = fit({ ...common, design: { X: new Float64Array(0), n, p, sparse: { ...grouped, heldOutGroup: fold + 1 } }, y, weights, lambdas });
        expect(alone.coefs.some((b) => b !== 0)).toBe(true);
        for (let l = 0; l < lambdas.length; l++) {
          expect(relativeError(viewed.coefs.subarray(l * p, (l + 1) * p), alone.coefs.subarray(l * p, (l + 1) * p))).toBeLessThan(1e-8);
          expect(Math.abs(viewed.intercepts[l] - alone.intercepts[l])).toBeLessThan(1e-8);
        }
      }
    });
  }
});
