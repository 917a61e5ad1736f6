import type { LambdaGrid, SweepSpec } from '../config/schema.js';
import { l1RatioOf, type Penalty } from '../domain.js';
import type { Design } from '../fitting/path/types.js';
import { denseColumn } from '../fitting/shared/design.js';
import { centerTarget, columnStats, featureProducts } from '../fitting/shared/columnStats.js';
import { coxQuadratic, riskSets } from '../fitting/shared/cox.js';
import { Rng } from '../util/random.js';
import { symmetricEigenvalues } from '../util/eigen.js';
import { drawSettings, gridSettings } from './settings.js';

/** Evenly spaced on a log scale, from high down to low. */
function logSpaceDescending(high: number, low: number, num: number): number[] {
  if (num === 1) return [high];
  const step = Math.log(low / high) / (num - 1);
  return Array.from({ length: num }, (_, k) => (k === num - 1 ? low : high * Math.exp(step * k)));
}

/**
 * The largest |⟨x̃_j, y − ȳ⟩| / n over the features on all rows: the lasso's λ_max, the smallest λ at which every
 * coefficient is zero. For an l1 ratio r the λ_max is this over max(r, 1e-3) (glmnet floors r for ridge, where
 * every λ gives nonzero coefficients). For 0/1 labels the logistic λ_max has the same form.
 */
export function lassoLambdaMax(design: Design, y: Float64Array, standardize: boolean, weights = new Float64Array(design.n).fill(1)): number {
  const stats = columnStats(design, weights, standardize);
  const target = centerTarget(y, weights, stats.weightSum);
  let best = 0;
  for (const g of featureProducts(design, stats, target.centered, new Float64Array(design.p))) best = Math.max(best, Math.abs(g));
  return best;
}

/** λ_max for an l1 ratio, from the lasso's. */
export function lambdaMaxFor(lassoMax: number, l1Ratio: number): number {
  return lassoMax / Math.max(l1Ratio, 1e-3);
}

export interface SweepGroup {
  penalty: Penalty;
  l1Ratio: number;
  /** The model settings this group varies (a settings key, "" when none vary). */
  settings: string;
  /** Descending. */
  lambdas: number[];
}

/** The grid a penalty uses: the sweep's one grid, or its own from a grid per penalty (undefined when it has none). */
export function gridOf(spec: Extract<SweepSpec, { kind: 'grid' }>, penalty: Penalty): LambdaGrid | undefined {
  const lambda = spec.lambda;
  if (Array.isArray(lambda) || 'log_range' in lambda || 'auto' in lambda) return lambda;
  return penalty === 'none' ? undefined : lambda[penalty];
}

/**
 * The (penalty, l1 ratio, settings) groups of a sweep and their λ values, descending. `lambdaMax(l1Ratio)` is the data's λ_max
 * (computed once on all rows, so every fold walks the same λ sequence, as cv.glmnet does); it is called only for
 * automatic grids. `ridgeGrid(num, ratio)` gives the automatic grid of the l2 penalty (spanning its effective degrees
 * of freedom); undefined there falls back to λ_max's rule.
 */
export function sweepGroups(spec: SweepSpec, lambdaMax: (l1Ratio: number) => number, ridgeGrid?: (num: number, ratio: number) => number[] | undefined): Map<string, SweepGroup> {
  const groups = new Map<string, SweepGroup>();
  const add = (penalty: Penalty, l1Ratio: number, lambda: number, settings = '') => {
    const key = `${penalty}/${l1Ratio}/${settings}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { penalty, l1Ratio, settings, lambdas: [] }));
    g.lambdas.push(lambda);
  };
  if (spec.kind === 'grid') {
    for (const penalty of spec.penalty) {
      const variants = gridSettings(spec, penalty);
      if (penalty === 'none') {
        for (const settings of variants) add('none', 0, 0, settings);
        continue;
      }
      const grid = gridOf(spec, penalty);
      if (!grid) throw new Error(`no λ grid for penalty ${penalty}`);
      const ratios = penalty === 'elasticnet' ? [...new Set(spec.l1_ratio)] : [l1RatioOf(penalty, 1)];
      for (const l1Ratio of ratios) {
        const lambdas = Array.isArray(grid)
          ? grid
          : 'log_range' in grid
            ? logSpaceDescending(grid.log_range[1], grid.log_range[0], grid.num)
            : ((penalty === 'l2' ? ridgeGrid?.(grid.auto, grid.ratio) : undefined) ??
              logSpaceDescending(lambdaMax(l1Ratio), lambdaMax(l1Ratio) * grid.ratio, grid.auto));
        for (const settings of variants) for (const lambda of lambdas) add(penalty, l1Ratio, lambda, settings);
      }
    }
  } else if (spec.kind === 'random') {
    const rng = new Rng(spec.seed);
    const [lo, hi] = spec.lambda.log_uniform;
    const [aLo, aHi] = spec.l1_ratio.uniform;
    for (let t = 0; t < spec.points; t++) {
      const penalty = spec.penalty[rng.int(spec.penalty.length)];
      const lambda = Math.exp(Math.log(lo) + rng.uniform() * Math.log(hi / lo));
      const ratio = aLo + rng.uniform() * (aHi - aLo);
      const settings = drawSettings(spec, penalty, rng);
      if (penalty === 'none') add('none', 0, 0, settings);
      else add(penalty, l1RatioOf(penalty, ratio), lambda, settings);
    }
  }
  for (const g of groups.values()) g.lambdas = [...new Set(g.lambdas)].sort((a, b) => b - a);
  return groups;
}

/** What λ_max and the ridge grid read of the data: the design, the target and what the family makes of it. */
export interface GridData extends Design {
  y: Float64Array;
  outputs: number;
  /** Classes of a classification target (y holds 0 … K − 1), else 0. */
  classes: number;
  offset?: Float64Array;
  /** Observation weights (data.weights), or absent: every row weighs 1. */
  weights?: Float64Array;
}

export type GridFamily = 'gaussian' | 'mgaussian' | 'binomial' | 'multinomial' | 'poisson' | 'cox';

/**
 * The lasso's λ_max for a family: the largest gradient of the loss at the model without features (intercepts only),
 * over the features — its absolute value, or for grouped penalties (mgaussian, grouped multinomial) the norm of a
 * feature's gradient across responses. Also the mean IRLS weight there, the curvature the ridge grid scales with.
 */
export function nullModelFigures(
  family: GridFamily,
  data: GridData,
  standardize: boolean,
  grouped: boolean,
  factor: number[] | null = null,
  groups: number[][] | null = null,
): { lassoMax: number; curvature: number } {
  if (factor) return penalizedNullFigures(family, data, standardize, factor);
  const { n, p } = data;
  const weights = data.weights ?? new Float64Array(n).fill(1);
  const stats = columnStats(data, weights, standardize);
  const residuals: Float64Array[] = [];
  let curvature = 1;
  if (family === 'gaussian' || family === 'binomial') {
    const target = centerTarget(data.y, weights, stats.weightSum);
    residuals.push(target.centered);
    if (family === 'binomial') curvature = target.mean * (1 - target.mean);
  } else if (family === 'mgaussian') {
    for (let k = 0; k < data.outputs; k++) residuals.push(centerTarget(data.y.subarray(k * n, (k + 1) * n), weights, stats.weightSum).centered);
  } else if (family === 'multinomial') {
    const K = data.classes;
    const share = new Float64Array(K);
    for (let i = 0; i < n; i++) share[data.y[i]] += data.weights ? weights[i] / stats.weightSum : 1 / n;
    curvature = 0;
    for (let k = 0; k < K; k++) {
      residuals.push(Float64Array.from(data.y, (c, i) => (data.weights ? weights[i] : 1) * ((c === k ? 1 : 0) - share[k])));
      curvature += (share[k] * (1 - share[k])) / K;
    }
  } else if (family === 'cox') {
    // The gradient of the partial likelihood at β = 0 (glmnet's coxnet: its weights scaled to sum to 1).
    const residual = new Float64Array(n);
    const v = new Float64Array(n);
    coxQuadratic(riskSets(data.y.subarray(0, n), data.y.subarray(n, 2 * n), weights), new Float64Array(n), data.y.subarray(n, 2 * n), weights, residual, v, (i) => i);
    residuals.push(residual);
    curvature = v.reduce((a, b) => a + b, 0) / stats.weightSum;
  } else {
    let counts = 0;
    let exposure = 0;
    for (let i = 0; i < n; i++) {
      counts += weights[i] * data.y[i];
      exposure += weights[i] * Math.exp(data.offset?.[i] ?? 0);
    }
    const b0 = Math.log(counts / exposure);
    residuals.push(Float64Array.from(data.y, (yi, i) => (data.weights ? weights[i] : 1) * (yi - Math.exp(b0 + (data.offset?.[i] ?? 0)))));
    curvature = counts / stats.weightSum;
  }
  const g = residuals.map((r) => featureProducts(data, stats, r, new Float64Array(p)));
  let lassoMax = 0;
  if (groups) {
    // The group lasso: a group enters when ‖g_g‖ exceeds λ·√|g|; features outside groups as the lasso.
    const inGroup = new Uint8Array(p);
    for (const members of groups) {
      let sq = 0;
      for (const j of members) {
        inGroup[j] = 1;
        sq += g[0][j] ** 2;
      }
      lassoMax = Math.max(lassoMax, Math.sqrt(sq / members.length));
    }
    for (let j = 0; j < p; j++) if (!inGroup[j]) lassoMax = Math.max(lassoMax, Math.abs(g[0][j]));
    return { lassoMax, curvature };
  }
  for (let j = 0; j < p; j++) {
    if (grouped || family === 'mgaussian') lassoMax = Math.max(lassoMax, Math.sqrt(g.reduce((s, gk) => s + gk[j] ** 2, 0)));
    else for (const gk of g) lassoMax = Math.max(lassoMax, Math.abs(gk[j]));
  }
  return { lassoMax, curvature };
}

/**
 * λ_max with penalty factors, as glmnet: the fit with the intercept and the unpenalized features (factor 0) only, then
 * the largest |gradient| / factor over the penalized features — the smallest λ at which they are all zero.
 */
function penalizedNullFigures(family: GridFamily, data: GridData, standardize: boolean, factor: number[]): { lassoMax: number; curvature: number } {
  const { n, p } = data;
  const stats = columnStats(data, data.weights ?? new Float64Array(n).fill(1), standardize);
  const free = factor.map((f, j) => (f === 0 && !stats.constant[j] ? j : -1)).filter((j) => j >= 0);
  const { residual, curvature } = unpenalizedFit(family, data, stats, free);
  const g = featureProducts(data, stats, residual, new Float64Array(p));
  let lassoMax = 0;
  for (let j = 0; j < p; j++) if (factor[j] > 0) lassoMax = Math.max(lassoMax, Math.abs(g[j]) / factor[j]);
  return { lassoMax, curvature };
}

/**
 * The fit of the intercept and the given standardized features by Newton's method (one step for least squares, IRLS
 * for the binomial and poisson families): the residual y − μ and the mean IRLS weight at it.
 */
function unpenalizedFit(family: GridFamily, data: GridData, stats: ReturnType<typeof columnStats>, free: number[]): { residual: Float64Array; curvature: number } {
  const { n, y } = data;
  const weight = (i: number) => (data.weights ? data.weights[i] : 1);
  const k = free.length + 1;
  const columns = free.map((j) => denseColumn(data, j));
  const column = (c: number, i: number) => (c === 0 ? 1 : (columns[c - 1][i] - stats.mean[free[c - 1]]) / stats.scale[free[c - 1]]);
  const theta = new Float64Array(k);
  const mean = y.reduce((a, b, i) => a + weight(i) * b, 0) / stats.weightSum;
  if (family === 'binomial') theta[0] = Math.log(mean / (1 - mean));
  else if (family === 'poisson') theta[0] = Math.log(mean);
  const mu = new Float64Array(n);
  const w = new Float64Array(n);
  const fitted = () => {
    for (let i = 0; i < n; i++) {
      let eta = data.offset?.[i] ?? 0;
      for (let c = 0; c < k; c++) eta += theta[c] * column(c, i);
      mu[i] = family === 'binomial' ? 1 / (1 + Math.exp(-eta)) : family === 'poisson' ? Math.exp(eta) : eta;
      w[i] = weight(i) * (family === 'binomial' ? mu[i] * (1 - mu[i]) : family === 'poisson' ? mu[i] : 1);
    }
  };
  for (let step = 0; step < 100; step++) {
    fitted();
    const H = new Float64Array(k * k);
    const g = new Float64Array(k);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < k; a++) {
        const za = column(a, i);
        g[a] += weight(i) * za * (y[i] - mu[i]);
        for (let b = 0; b <= a; b++) H[a * k + b] += w[i] * za * column(b, i);
      }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) H[b * k + a] = H[a * k + b];
    const delta = solveSymmetric(H, g, k);
    let moved = 0;
    for (let c = 0; c < k; c++) {
      theta[c] += delta[c];
      moved = Math.max(moved, Math.abs(delta[c]));
    }
    if (family === 'gaussian' || moved < 1e-12) break;
  }
  fitted();
  const residual = Float64Array.from(y, (v, i) => weight(i) * (v - mu[i]));
  return { residual, curvature: w.reduce((a, b) => a + b, 0) / stats.weightSum };
}

/**
 * A solution of H x = g, H symmetric positive semi-definite (k small), by Gaussian elimination with partial pivoting.
 * H is singular when unpenalized indicators sum to the intercept's column: a pivot that vanishes against the largest
 * diagonal leaves its unknown at 0, and the fitted values, all the caller reads, are those of every solution.
 */
function solveSymmetric(H: Float64Array, g: Float64Array, k: number): Float64Array {
  const A = Float64Array.from(H);
  const b = Float64Array.from(g);
  let largest = 0;
  for (let c = 0; c < k; c++) largest = Math.max(largest, Math.abs(H[c * k + c]));
  const vanishes = (pivot: number) => Math.abs(pivot) <= 1e-12 * largest;
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]) > Math.abs(A[pivot * k + c])) pivot = r;
    if (pivot !== c) {
      for (let q = 0; q < k; q++) [A[c * k + q], A[pivot * k + q]] = [A[pivot * k + q], A[c * k + q]];
      [b[c], b[pivot]] = [b[pivot], b[c]];
    }
    const d = A[c * k + c];
    if (vanishes(d)) continue;
    for (let r = c + 1; r < k; r++) {
      const f = A[r * k + c] / d;
      if (f === 0) continue;
      for (let q = c; q < k; q++) A[r * k + q] -= f * A[c * k + q];
      b[r] -= f * b[c];
    }
  }
  const x = new Float64Array(k);
  for (let c = k - 1; c >= 0; c--) {
    let s = b[c];
    for (let q = c + 1; q < k; q++) s -= A[c * k + q] * x[q];
    x[c] = vanishes(A[c * k + c]) ? 0 : s / A[c * k + c];
  }
  return x;
}

/** Past this many rows and columns both, the ridge grid comes from the trace instead of the eigenvalues. */
const SPECTRUM_SIZE = 500;
/** Rows the feature covariance is estimated from when there are more (a seeded sample: the grid is the same each run). */
const SPECTRUM_ROWS = 5000;

/**
 * The automatic ridge grid: `num` λ, log-spaced, from where the effective degrees of freedom
 * df(λ) = Σ_j c·e_j / (c·e_j + λ) are 0.5 down to where they are r − 0.5, with e_j the eigenvalues of the (standardized)
 * feature covariance, r its rank and c the loss's curvature at the model without features (1 for least squares). The
 * largest λ leaves half a degree of freedom, the smallest all but half of one: the whole range from the null model to
 * the unpenalized one. When min(n, p) is past 500 the eigenvalues are not computed: λ_hi = 2c·tr(covariance)
 * (df ≤ tr/λ), and λ_lo = λ_hi · ratio, with the grid's extension to cover the rest.
 */
export function ridgeLambdas(data: Design, standardize: boolean, curvature: number, num: number, ratio: number): number[] {
  const { n, p } = data;
  const stats = columnStats(data, new Float64Array(n).fill(1), standardize);
  const rows = n > SPECTRUM_ROWS ? Array.from(new Rng(0).permutation(n).subarray(0, SPECTRUM_ROWS)).sort((a, b) => a - b) : Array.from({ length: n }, (_, i) => i);
  const m = rows.length;
  const live = Array.from({ length: p }, (_, j) => j).filter((j) => !stats.constant[j]);
  const trace = live.reduce((s, j) => s + stats.variance[j], 0);
  const hi = 2 * curvature * trace;
  if (Math.min(m, live.length) > SPECTRUM_SIZE || live.length === 0) return logSpaceDescending(hi, hi * ratio, num);
  // The smaller of the two Gram matrices: features × features, or rows × rows (the same nonzero eigenvalues).
  const scaled = live.map((j) => {
    const column = denseColumn(data, j);
    return Float64Array.from(rows, (i) => (column[i] - stats.mean[j]) / stats.scale[j]);
  });
  const byFeatures = live.length <= m;
  const size = byFeatures ? live.length : m;
  const gram = new Float64Array(size * size);
  if (byFeatures) {
    for (let a = 0; a < size; a++)
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += scaled[a][i] * scaled[b][i];
        gram[a * size + b] = gram[b * size + a] = s / m;
      }
  } else {
    for (const column of scaled)
      for (let a = 0; a < m; a++) {
        const xa = column[a] / m;
        if (xa === 0) continue;
        for (let b = 0; b <= a; b++) gram[a * size + b] += xa * column[b];
      }
    for (let a = 0; a < size; a++) for (let b = 0; b < a; b++) gram[b * size + a] = gram[a * size + b];
  }
  const eigen = Array.from(symmetricEigenvalues(gram, size));
  const top = Math.max(...eigen);
  const positive = eigen.filter((e) => e > 1e-10 * top).map((e) => curvature * e);
  const df = (lambda: number) => positive.reduce((s, e) => s + e / (e + lambda), 0);
  const solve = (target: number) => {
    let lo = Math.log(Math.min(...positive)) - 40;
    let up = Math.log(hi) + 5;
    for (let k = 0; k < 200 && up - lo > 1e-10; k++) {
      const mid = (lo + up) / 2;
      if (df(Math.exp(mid)) > target) lo = mid;
      else up = mid;
    }
    return Math.exp((lo + up) / 2);
  };
  const high = solve(0.5);
  const low = solve(Math.max(0.5, positive.length - 0.5));
  return logSpaceDescending(high, Math.min(low, high * 0.5), num);
}
