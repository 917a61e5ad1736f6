// What a task is fitted with: the shared data every task of a sweep reads, and a batch's settings (the worker message
// carries them).
import type { SparseColumns } from '../domain.js';
import type { FillGroup } from '../data/imputation.js';
import type { PruneSettings } from './shared/rungBoard.js';

/** The data every task of a sweep reads: views on SharedArrayBuffers, so workers share them without a copy. */
export interface SharedData {
  /** The dense design (column-major), or empty when the design is `sparse`. */
  X: Float64Array;
  /** A sparse design's compressed columns. */
  sparse?: SparseColumns;
  y: Float64Array;
  n: number;
  p: number;
  outputs: number;
  /**
   * Per repeat of the cross-validation, per row: its validation fold within the repeat, or −1 when it is never held
   * out (n × repeats, repeat after repeat). Fold f of a task is fold f mod foldsPerRepeat of repeat ⌊f / foldsPerRepeat⌋.
   */
  foldOf: Int32Array;
  /** Folds of one repeat (1 for a holdout). */
  foldsPerRepeat: number;
  /** Classes of a classification target (y holds 0 … classes − 1); 0 for other targets. */
  classes: number;
  /** Added to each row's linear predictor (Poisson exposure on the log scale), or null. */
  offset: Float64Array | null;
  /** The design's gaps (NaN cells), each filled from the training rows of the fit (data.missing: mean, median, most_frequent). */
  fills: FillGroup[];
  /** Per row, its observation weight (data.weights), or null: every row weighs 1. */
  weights: Float64Array | null;
}

/** What a model needs to know to fit, as the config gives it (the worker message carries it). */
export type ModelSettings =
  | {
      kind: 'linear' | 'logistic' | 'multinomial' | 'poisson' | 'cox';
      tol: number;
      max_iter: number;
      solver: 'cd' | 'fista';
      grouped?: boolean;
      clip_probabilities?: number;
      /** The relaxed lasso's blend (a task's setting from sweep.gamma): γ·fit + (1 − γ)·refit on its active set; absent: 1. */
      gamma?: number;
    }
  | NetworkSettings;

/** A network's settings, with the sweep file's names from the config to the trainer (solvers/network.ts). */
export interface NetworkSettings {
  kind: 'mlp';
  hidden: number[];
  optimizer: 'adam' | 'sgd';
  lr: number;
  batch: number;
  epochs: number;
  momentum: number;
  /** coupled: l2·w added to the gradient (torch Adam weight_decay); decoupled: AdamW's w ← w − lr·l2·w. */
  l2_method: 'coupled' | 'decoupled';
  /**
   * subgradient: l1·sign(w) added to the gradient; proximal: soft-threshold after each step by l1 times the step
   * taken (lr for SGD, lr/(√v̂+ε) per weight for Adam), which gives exact zeros.
   */
  l1_method: 'subgradient' | 'proximal';
  penalize_bias: boolean;
  seed: number;
  /**
   * Stop when the validation loss has not improved by more than min_delta for `patience` epochs, and keep the weights
   * of the best epoch (needs validation rows; without them every epoch runs).
   */
  early_stopping?: { patience: number; min_delta: number };
}

/** A batch's settings, the same for each of its tasks. */
export interface FitSettings {
  model: ModelSettings;
  standardize: boolean;
  nearZero: number;
  /** validation.keep: validation tasks hand back their rows' linear predictors at every λ. */
  keep?: boolean;
  /** Each feature's population sd: a coefficient is near zero when it is on the standardized scale (absent: as it is). */
  featureScales?: number[];
  /** Networks of a sweep with sweep.prune: the rungs and the board the process's threads share. */
  prune?: PruneSettings;
  /** Per-feature penalty factors and bounds (model.penalty_factor, model.limits), each p long or null. */
  featurePenalty?: { factor: number[] | null; lower: number[] | null; upper: number[] | null };
  /** Features penalized as one group (model.group_categorical): each group's features, two or more. */
  groups?: number[][];
  /** Per penalty whose λ grid is automatic: glmnet's rules for ending a path early (sweep.lambda fdev, devmax). */
  pathStop?: Partial<Record<'l1' | 'l2' | 'elasticnet', { fdev: number; devmax: number }>>;
}

