import type { FitStatusCode } from '../../domain.js';
import type { ColumnStats } from '../shared/columnStats.js';

import type { Design } from '../shared/design.js';

export type { Design };

/** One warm-started λ path to fit: the shared design, the fold's weights and the solver settings. */
export interface PathProblem {
  design: Design;
  /** Response, length n (0/1 labels for the binomial family; for cox 2n: the times, then the statuses). */
  y: Float64Array;
  /** Observation weights, length n; 0 for rows outside the training part. */
  weights: Float64Array;
  /** Added to the linear predictor of each row (Poisson exposure, log scale); absent: 0. */
  offset?: Float64Array;
  standardize: boolean;
  /** 1 = lasso, 0 = ridge. */
  l1Ratio: number;
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
  /** Per-feature penalty factors and bounds (model.penalty_factor, model.limits); absent: 1 and none. */
  featurePenalty?: FeaturePenalty;
  /** Groups of features penalized as one (model.group_categorical: a category's indicators); absent: none. */
  groups?: FeatureGroups;
  /** glmnet's rules for ending an automatic path early (sweep.lambda fdev, devmax); absent: every λ is fitted. */
  stop?: PathStop;
}

/**
 * glmnet's path-stopping rules: `fdev` on the change in the fraction of deviance explained between λ (`absolute` for
 * the classifiers, `relative` to the fraction for least squares, over a window of λ for poisson and, with coxnet's
 * scaled thresholds, for cox), `devmax` on the
 * fraction itself; `explained` computes the fraction at a λ of the solution.
 */
export interface PathStop {
  fdev: number;
  devmax: number;
  change: 'absolute' | 'relative' | 'window' | 'coxWindow';
  /** The intercept-only fit's loss on the training rows. */
  nullLoss: number;
  explained(solution: PathSolution, l: number): number;
}

/**
 * Features penalized together, λ·(r·√|g|·‖β_g‖₂ + (1−r)/2·‖β_g‖²) (the group lasso, scaled as grpreg): `of[j]` is the
 * group of feature j or −1, `members[g]` its features in order (the first leads: it stands for the group in the
 * active set), each group of two or more.
 */
export interface FeatureGroups {
  of: Int32Array;
  members: Int32Array[];
}

/** The groups of plain lists of members (as settings carry them) for p features. */
export function featureGroups(lists: number[][], p: number): FeatureGroups {
  const of = new Int32Array(p).fill(-1);
  lists.forEach((members, g) => members.forEach((j) => (of[j] = g)));
  return { of, members: lists.map((m) => Int32Array.from(m)) };
}

/**
 * glmnet's penalty.factor (rescaled to sum to p, so λ keeps its scale; 0 leaves a feature unpenalized) and
 * lower.limits / upper.limits (on the original scale; lower ≤ 0 ≤ upper), each length p or null.
 */
export interface FeaturePenalty {
  factor: Float64Array | null;
  lower: Float64Array | null;
  upper: Float64Array | null;
}

/** A warm-started path: one solution per λ, λ in the order given (descending). */
export interface PathSolution {
  /** Intercept per λ (× outputs), original scale. */
  intercepts: Float64Array;
  /** nλ × (p · outputs), row l = coefficients at lambdas[l], original scale. */
  coefs: Float64Array;
  /** Passes over the features (epochs, for the network) per λ. */
  passes: Int32Array;
  status: Uint8Array;
  /** Wall time spent on each λ, in seconds. */
  seconds: Float64Array;
  /**
   * Weighted mean squared training residual per λ when the solver gets it for free (covariance mode, from the
   * gradients it keeps); NaN where that would lose precision. Absent: compute it from predictions.
   */
  trainMse?: Float64Array;
  /** Set when a stopping rule ended the path after λ index `index` (the later λ were not fitted). */
  stopped?: { index: number; reason: 'fdev' | 'devmax'; explained: number; change: number };
}

/** One λ of a path as a λ solver sees it. */
export interface PathStep {
  /** Position on the path. */
  index: number;
  lambda: number;
  /** The λ before (the same λ for the first). */
  previousLambda: number;
  l1Ratio: number;
  /** Penalty weights λ·l1Ratio and λ·(1 − l1Ratio). */
  l1: number;
  l2: number;
}

/**
 * A solver for one family and mode at one λ at a time, keeping its state between λ (the warm start). The path
 * driver owns the λ loop, the timing, the status bookkeeping and the back-transform to the original scale.
 */
export interface LambdaSolver {
  /** Centering and scaling of the features on the training rows (for the back-transform). */
  readonly stats: Pick<ColumnStats, 'mean' | 'scale'>;
  /** Targets fitted at once (1 unless a network has several outputs). */
  readonly outputs?: number;
  /** Moves the start for the next λ: `ratio` > 0 extrapolates from the last two solutions (see stepRatio). */
  warmStart(ratio: number): void;
  /** Solves at one λ from the current state, in at most `maxIter` passes. */
  solve(point: PathStep, maxIter: number): { passes: number; status: FitStatusCode };
  /**
   * Coefficients on the fitting scale (feature j divided by its scale), p per output, output after output; empty when
   * the model has none to report (a network with hidden layers).
   */
  readonly beta: Float64Array;
  /** The intercept per output, for centered features. */
  intercepts(): ArrayLike<number>;
  /** The training loss at the current solution when the solver has it for free; NaN when it would be imprecise. */
  trainLoss?(): number;
  /**
   * The family's loss (FamilySpec.loss's units) on the training rows at the current solution, from the solver's own
   * state, for glmnet's stopping rules; absent: PathStop.explained predicts the rows.
   */
  fittedLoss?(): number;
  /** Gives kernel memory back. */
  release(): void;
}
