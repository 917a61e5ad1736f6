import type { Design } from './types.js';

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

export function columnStats({ X, n, p }: Design, weights: Float64Array, standardize: boolean): ColumnStats {
  let weightSum = 0;
  for (let i = 0; i < n; i++) weightSum += weights[i];
  const mean = new Float64Array(p);
  const scale = new Float64Array(p);
  const variance = new Float64Array(p);
  const constant = new Uint8Array(p);
  for (let j = 0; j < p; j++) {
    const off = j * n;
    let m = 0;
    for (let i = 0; i < n; i++) m += weights[i] * X[off + i];
    m /= weightSum;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const d = X[off + i] - m;
      v += weights[i] * d * d;
    }
    v /= weightSum;
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
export function featureProducts({ X, n, p }: Design, stats: ColumnStats, r: Float64Array, out: Float64Array): Float64Array {
  let rSum = 0;
  for (let i = 0; i < n; i++) rSum += r[i];
  for (let j = 0; j < p; j++) {
    if (stats.constant[j]) {
      out[j] = 0;
      continue;
    }
    const off = j * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += r[i] * X[off + i];
    out[j] = (s - stats.mean[j] * rSum) / (stats.weightSum * stats.scale[j]);
  }
  return out;
}
