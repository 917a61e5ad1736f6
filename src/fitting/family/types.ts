// What a family is to the fitting stage: how many linear predictors a row has, the path solver it is fitted with, the
// loss it minimizes, cv.glmnet's measures and its other figures. One file per family (gaussian.ts, binomial.ts, …);
// FAMILIES in index.ts is the table fitTask reads.
import type { Family, FoldId, Task } from '../../domain.js';
import type { KernelContext } from '../context.js';
import type { FitSettings, SharedData } from '../settings.js';
import type { PathProblem, PathSolution } from '../path/types.js';
import type { LazyGram } from '../shared/lazyGram.js';

/**
 * Rows as a family measures them: `y` (the target columns, a block of m values each), `eta` (the K linear predictors,
 * a block of m values each), with a weight per row (0: not counted).
 */
export interface Rows {
  y: Float64Array;
  eta: Float64Array;
  m: number;
  K: number;
}

/** What a family's solver is given: the path problem, and for the gaussian covariance mode the fold's Gram columns. */
interface SolveInput {
  context: KernelContext;
  problem: PathProblem;
  data: SharedData;
  task: Task;
  fold: FoldId;
  settings: FitSettings;
  nTrain: number;
  /** The fold's Gram columns, shared by the paths of one fold (gaussian covariance mode); undefined: the solver makes its own. */
  gram: () => LazyGram | undefined;
}

/** Figures a family adds to a trial (accuracy, confusion counts, features in the model). */
interface MetricsInput {
  rows: Rows;
  /** The fit's coefficients: K blocks of p. */
  coefs: Float64Array;
  p: number;
  /** Training and validation weights of every row (the metrics that need them see all rows). */
  train: Float64Array;
  validation: Float64Array;
  nVal: number;
}

export interface FamilySpec {
  name: Family;
  /** Linear predictors per row: 1, the classes or the targets. */
  predictors(data: SharedData): number;
  solve(input: SolveInput): PathSolution;
  /** The loss fitted, a weighted mean over the rows; `clip` > 0 clips a classifier's probabilities (validation). */
  loss(rows: Rows, weights: Float64Array, clip: number): number;
  /**
   * The validation loss when it reads the training rows too (cox: cv.glmnet's grouped deviance); absent: `loss` on
   * the validation rows.
   */
  validationLoss?(rows: Rows, train: Float64Array, validation: Float64Array): number;
  /** The Breslow baseline cumulative hazard of a fit on all rows (cox), for survival predictions. */
  baseline?(rows: Rows, weights: Float64Array): { times: Float64Array; hazard: Float64Array };
  /** cv.glmnet's type.measure values on the validation rows. */
  measures(rows: Rows, weights: Float64Array): Record<string, number>;
  metrics(input: MetricsInput): Record<string, number>;
  /** A classifier: its deviance is twice the loss stored, and a clip of probabilities applies. */
  classifier: boolean;
  /** Predictions for several λ in one product (the solvers of one predictor per row and no offset). */
  groupsLambdas: boolean;
  /** data.offset is added to the first linear predictor (poisson exposure). */
  addsOffset: boolean;
}
