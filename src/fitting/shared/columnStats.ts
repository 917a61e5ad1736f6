import type { Design } from './design.js';
import { sparseDot, sparseMoments } from './sparseColumns.js';

/** Per-feature weighted mean and scale for one training part; constant features are flagged, not dropped. */
export interface ColumnStats {
  weightSum: number;
  mean: Float64Array;
  /** What x is divided by while fitting: the population sd when standardizing, else 1. */
  scale: Float64Array;
  /** Weighted variance of the scaled, centered feature (1 when standardizing). */
  variance: Float64Array;
  /** 1 where the feature is constant on the training part: it keeps coefficient 0. */
  constant: Uint8Array;
}

export function columnStats({ X, n, p, sparse }: Design, weights: Float64Array, standardize: boolean): ColumnStats {
  let weightSum = 0;
  for (let i = 0; i < n; i++) weightSum += weights[i];
  const moments = sparse ? sparseMoments(sparse, p, weights, weightSum) : undefined;
  const mean = new Float64Array(p);
  const scale = new Float64Array(p);
  const variance = new Float64Array(p);
  const constant = new Uint8Array(p);
  for (let j = 0; j < p; j++) {
    const off = j * n;
    const m = moments ? moments.mean[j] : productSum(weights, X, off, n) / weightSum;
    const v = moments ? moments.variance[j] : centeredSquareSum(weights, X, off, n, m) / weightSum;
    const sd = Math.sqrt(v);
    mean[j] = m;
    // Relative test: a column of 5s may come out with sd ~1e-16 from rounding.
    if (sd === 0 || sd <= 1e-10 * Math.abs(m)) {
      constant[j] = 1;
      scale[j] = 1;
      variance[j] = 0;
    } else if (standardize) {
      scale[j] = sd;
      variance[j] = 1;
    } else {
      scale[j] = 1;
      variance[j] = v;
    }
  }
  return { weightSum, mean, scale, variance, constant };
}

/** Weighted mean of y and weighted centered y (w·(y − ȳ)), the form every gradient below needs. */
export function centerTarget(y: Float64Array, weights: Float64Array, weightSum: number) {
  const n = weights.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += weights[i] * y[i];
  mean /= weightSum;
  const centered = new Float64Array(n);
  let variance = 0;
  for (let i = 0; i < n; i++) {
    const d = y[i] - mean;
    centered[i] = weights[i] * d;
    variance += weights[i] * d * d;
  }
  return { mean, centered, variance: variance / weightSum };
}

/**
 * out_j = (1/W) Σ_i r_i x̃_ij for every non-constant feature (0 for constant ones), with x̃ the centered and scaled
 * feature: (Σ r_i x_ij − m_j Σ r_i) / (W s_j). Gradients, λ_max and power iterations are all this product.
 */
export function featureProducts({ X, n, p, sparse }: Design, stats: ColumnStats, r: Float64Array, out: Float64Array): Float64Array {
  let rSum = 0;
  for (let i = 0; i < n; i++) rSum += r[i];
  for (let j = 0; j < p; j++) {
    if (stats.constant[j]) {
      out[j] = 0;
      continue;
    }
    const product = sparse ? sparseDot(sparse, j, r) : productSum(r, X, j * n, n);
    out[j] = (product - stats.mean[j] * rSum) / (stats.weightSum * stats.scale[j]);
  }
  return out;
}

/**
 * Σ w[i]·(X[off + i] − m)² for i < n, in four partial sums. The loops over rows are small functions of their own so
 * that the JIT compiles them once (docs/performance.md, "JIT").
 */
function centeredSquareSum(w: Float64Array, X: Float64Array, off: number, n: number, m: number): number {
  const n4 = n & ~3;
  let v0 = 0;
  let v1 = 0;
  let v2 = 0;
  let v3 = 0;
  for (let i = 0; i < n4; i += 4) {
    const d0 = X[off + i] - m;
    const d1 = X[off + i + 1] - m;
    const d2 = X[off + i + 2] - m;
    const d3 = X[off + i + 3] - m;
    v0 += w[i] * d0 * d0;
    v1 += w[i + 1] * d1 * d1;
    v2 += w[i + 2] * d2 * d2;
    v3 += w[i + 3] * d3 * d3;
  }
  for (let i = n4; i < n; i++) {
    const d = X[off + i] - m;
    v0 += w[i] * d * d;
  }
  return v0 + v1 + (v2 + v3);
}

/** Σ a[i]·X[off + i] for i < n in four partial sums: four independent chains of additions instead of one. */
function productSum(a: Float64Array, X: Float64Array, off: number, n: number): number {
  const n4 = n & ~3;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n4; i += 4) {
    s0 += a[i] * X[off + i];
    s1 += a[i + 1] * X[off + i + 1];
    s2 += a[i + 2] * X[off + i + 2];
    s3 += a[i + 3] * X[off + i + 3];
  }
  for (let i = n4; i < n; i++) s0 += a[i] * X[off + i];
  return s0 + s1 + (s2 + s3);
}
