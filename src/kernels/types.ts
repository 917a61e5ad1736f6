/** How one fit ended. Kernels never throw on numerical trouble; they return one of these. */
export const FitStatus = { converged: 0, maxIter: 1, diverged: 2 } as const;
export type FitStatusCode = (typeof FitStatus)[keyof typeof FitStatus];

/** Column-major design matrix shared by all tasks; the rows a fit may use are given by weights. */
export interface Design {
  X: Float64Array;
  n: number;
  p: number;
}

/** One warm-started λ path to fit: the shared design, the fold's weights and the solver settings. */
export interface PathProblem {
  design: Design;
  /** Response, length n (0/1 labels for the logistic family). */
  y: Float64Array;
  /** Observation weights, length n; 0 for rows outside the training part. */
  weights: Float64Array;
  standardize: boolean;
  /** l1_ratio: 1 = lasso, 0 = ridge. */
  alpha: number;
  /** Descending; each solution warm-starts the next. */
  lambdas: Float64Array;
  /**
   * Converged when the largest coefficient change of a pass, weighted by sd(x_j) and relative to sd(y), is below
   * tol (glmnet's rule, whose thresh is this tol squared) and so is the distance to the solution estimated from
   * the rate at which the changes shrink.
   */
  tol: number;
  /** Passes over the features allowed per λ. */
  maxIter: number;
}

/** A warm-started path: one solution per λ, λ in the order given (descending). */
export interface PathSolution {
  /** Intercept per λ, original scale. */
  intercepts: Float64Array;
  /** nλ × p, row l = coefficients at lambdas[l], original scale. */
  coefs: Float64Array;
  /** Passes over the features (or epochs, for the network) per λ. */
  iterations: Int32Array;
  status: Uint8Array;
  /** Wall time spent on each λ, in seconds. */
  seconds: Float64Array;
  /**
   * Weighted mean squared training residual per λ when the solver gets it for free (covariance mode, from the
   * gradients it keeps); NaN where that would lose precision. Absent: compute it from predictions.
   */
  trainMse?: Float64Array;
}

/** Elastic-net penalty λ·(α‖b‖₁ + (1−α)/2‖b‖²) split into its two weights. */
export function penaltyWeights(lambda: number, alpha: number): { l1: number; l2: number } {
  return { l1: lambda * alpha, l2: lambda * (1 - alpha) };
}

export function softThreshold(z: number, t: number): number {
  return z > t ? z - t : z < -t ? z + t : 0;
}

/**
 * How far the next λ is from the last, in units of the step before: (λ_l − λ_{l−1}) / (λ_{l−1} − λ_{l−2}), for
 * extrapolating warm starts. 0 (no extrapolation) for the first two λ and off an ordinary descending grid (a
 * repeated λ would give an infinite ratio).
 */
export function stepRatio(lambdas: Float64Array, l: number): number {
  const ratio = l >= 2 ? (lambdas[l] - lambdas[l - 1]) / (lambdas[l - 1] - lambdas[l - 2]) : 0;
  return ratio > 0 && ratio <= 2 ? ratio : 0;
}

/** The next value on the line through `before` and `last` (`ratio` steps on), or 0 where that would change sign. */
export function extrapolated(last: number, before: number, ratio: number): number {
  const next = last + ratio * (last - before);
  return next * last > 0 ? next : 0;
}
