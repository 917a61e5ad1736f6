// The vocabulary the stages pass to each other: config → plan → pool → fitting → store → select → report.
// Types and a few one-line rules only; every stage imports this module and none of the stages' own.

export const PENALTIES = ['none', 'l1', 'l2', 'elasticnet'] as const;
export type Penalty = (typeof PENALTIES)[number];

/** What is done with a missing cell (data.missing): refused, its row dropped, or the feature's gap filled. */
export const MISSING_RULES = ['error', 'drop', 'mean', 'median', 'most_frequent'] as const;
export type MissingRule = (typeof MISSING_RULES)[number];
/** Cells read as missing unless data.na_values says otherwise (R writes NA, pandas an empty cell, NaN or nan). */
export const NA_VALUES = ['', 'NA', 'NaN', 'nan', 'null', 'NULL'] as const;

/**
 * How one column of the data became feature columns: a number as it is, or a category as one indicator per level
 * (the first left out with drop: first); with an indicator of its gaps when it had some and data.missing_indicator.
 * `fill` is what a gap is filled with in the final model (from every row; each fold fills from its training rows).
 */
export type EncodedColumn =
  | { name: string; kind: 'numeric'; fill: number | null; indicator: boolean }
  | { name: string; kind: 'categorical'; levels: string[]; dropFirst: boolean; fill: string | null; indicator: boolean };

/** How a data frame's columns became the model's features, kept with the sweep so that new rows are encoded the same. */
export interface Encoding {
  /** The feature columns of the data, in file order. */
  columns: EncodedColumn[];
  naValues: string[];
  missing: MissingRule;
}

/** The name of a category's indicator ("island=Biscoe") and of a gap indicator ("sex=NA"). */
export function levelName(column: string, level: string): string {
  return `${column}=${level}`;
}

/** The feature names an encoded column makes, in the order of the design's columns. */
export function encodedNames(column: EncodedColumn): string[] {
  const names = column.kind === 'numeric' ? [column.name] : column.levels.slice(column.dropFirst ? 1 : 0).map((l) => levelName(column.name, l));
  return column.indicator ? [...names, levelName(column.name, 'NA')] : names;
}

/** Where an encoded column's features sit in the design: its number or level columns, then its gap indicator (or −1). */
export interface EncodedSpan {
  column: EncodedColumn;
  values: number[];
  gap: number;
}

export function encodedSpans(encoding: Encoding): EncodedSpan[] {
  let at = 0;
  return encoding.columns.map((column) => {
    const width = encodedNames(column).length - (column.indicator ? 1 : 0);
    const values = Array.from({ length: width }, (_, k) => at + k);
    at += width;
    return { column, values, gap: column.indicator ? at++ : -1 };
  });
}

/** Whether a span is a factor model.group_categorical penalizes as one group: a category of two level columns or more. */
export function isFactorGroup({ column, values }: EncodedSpan): boolean {
  return column.kind === 'categorical' && values.length >= 2;
}

/**
 * A sparse design in compressed columns (glmnet's dgCMatrix layout): column j's nonzero values are
 * values[starts[j] … starts[j + 1]), at rows rows[…] (ascending, or ascending within each fold group when
 * `foldGroups` is given). Every array lives on a SharedArrayBuffer.
 */
export interface SparseColumns {
  values: Float64Array;
  rows: Int32Array;
  /** p + 1 offsets into values and rows. */
  starts: Int32Array;
  /**
   * Each column's entries ordered by the fold of their row (the run's folds, once it has them): a fold's path then
   * skips the held-out block instead of reading its rows' zero weights.
   */
  foldGroups?: FoldGroups;
}

/**
 * The groups of a sparse design's rows: group 0 the rows never held out, group g ≥ 1 fold g − 1's. Column j's group g
 * is entries [starts[j·(count + 1) + g], starts[j·(count + 1) + g + 1]).
 */
export interface FoldGroups {
  count: number;
  /** Per row its group. */
  groupOf: Int32Array;
  starts: Int32Array;
}

/** A fit is either on all rows ("all": the model users keep) or on all rows but one validation fold. */
export type FoldId = number | 'all';

/** The l1 ratio a penalty fits with: 1 for l1, 0 for l2 and none, the given one for elasticnet. */
export function l1RatioOf(penalty: Penalty, l1Ratio: number): number {
  return penalty === 'l1' ? 1 : penalty === 'elasticnet' ? l1Ratio : 0;
}

/** One warm-started λ path: every trial of one (penalty, l1 ratio) on one fold. The unit of work and of storage. */
export interface Task {
  /** Deterministic, so a resumed sweep finds what is done: "l1/a=1/fold=all". */
  id: string;
  penalty: Penalty;
  /** 1 for l1, 0 for l2 and none. */
  l1Ratio: number;
  fold: FoldId;
  /** Descending; each solution warm-starts the next. */
  lambdas: number[];
  /** A λ solved first and not recorded, to warm-start the path (a grid extended below its edge starts at the edge). */
  warmFrom?: number;
  /** The model settings this task varies from the sweep file's model (a settings key; "" or absent: none). */
  settings?: string;
}

/**
 * Model settings a sweep varies (`sweep.model`), as one key: their JSON with the names sorted, "" for none. Trials,
 * summary points and selections are grouped by (penalty, l1 ratio, settings).
 */
export function settingsKey(settings: Record<string, unknown>): string {
  const names = Object.keys(settings).sort();
  return names.length === 0 ? '' : JSON.stringify(Object.fromEntries(names.map((k) => [k, settings[k]])));
}

/** The settings a key holds ({} for ""). */
export function settingsOf(key: string | undefined): Record<string, unknown> {
  return key ? (JSON.parse(key) as Record<string, unknown>) : {};
}

/** A settings key as people read it: "l1_method=proximal, lr=0.001" ("" for none). */
export function settingsLabel(key: string | undefined): string {
  return Object.entries(settingsOf(key))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`)
    .join(', ');
}

/** The tasks one worker takes together: all paths of a fold share its Gram columns. */
export type Batch = Task[];

/** How one fit ended, as the kernels report it: they never throw on numerical trouble. */
export const FitStatus = { converged: 0, maxIter: 1, diverged: 2 } as const;
export type FitStatusCode = (typeof FitStatus)[keyof typeof FitStatus];

/**
 * How a trial ended, as stored: ok (converged or not), diverged (a value stopped being finite), failed (it threw),
 * pruned (a network stopped early by successive halving: its figures are those of the epoch it stopped at).
 */
export type TrialStatus = 'ok' | 'diverged' | 'failed' | 'pruned';

/** What a worker measures for one λ of a task. */
export interface TrialFigures {
  lambda: number;
  status: TrialStatus;
  converged: boolean;
  error: string | null;
  trainLoss: number | null;
  valLoss: number | null;
  nTrain: number;
  nVal: number;
  nnz: number;
  zeroFraction: number;
  nearZeroFraction: number;
  l1Norm: number;
  l2Norm: number;
  /** Passes over the features (coordinate descent, FISTA); 0 for networks. */
  passes: number;
  /** Epochs trained (networks); 0 for the other models. */
  epochsRun: number;
  seconds: number;
  /** Model-specific figures: accuracy and AUC for logistic models, the diverging epoch for networks. */
  metrics: Record<string, number>;
  /** Losses per epoch, for networks (learning curves). */
  epochs?: EpochLoss[];
}

export interface EpochLoss {
  epoch: number;
  trainLoss: number | null;
  valLoss: number | null;
}

/** A path's coefficient vectors packed in one buffer, row l at bytes[offsets[l] … offsets[l + 1]) (src/util/coefficientRows.ts). */
export interface CoefficientRows {
  bytes: Uint8Array;
  offsets: Int32Array;
}

/** A task's results as a worker hands them back: figures per λ and the coefficients of every λ. */
export interface TaskResult {
  taskId: string;
  trials: TrialFigures[];
  /** Per λ the p · outputs coefficients on the original scale, packed as the stores keep them (src/util/coefficientRows.ts); no rows for networks with hidden layers. */
  coefficients: CoefficientRows;
  /** nλ × outputs. */
  intercepts: Float64Array;
  /** validation.keep: the validation rows' linear predictors at every λ, with the rows and their targets. */
  heldOut?: HeldOutPredictions;
  /** A Cox fit on all rows: Breslow's baseline cumulative hazard at the death times, per λ (nλ × times). */
  baseline?: { times: Float64Array; hazard: Float64Array };
}

/** One validation task's out-of-fold predictions (cv.glmnet's fit.preval), as validation.keep stores them. */
export interface HeldOutPredictions {
  /** The validation rows, 0-based, ascending. */
  rows: Int32Array;
  /** Their targets: rows × target columns, column-major (a class code for a classifier). */
  observed: Float64Array;
  /** nλ × (K · rows): per λ, the K linear predictors (classes or responses), each over the rows. */
  link: Float64Array;
}

/** A task whose computation threw: recorded as failed trials, run again on resume. */
export interface TaskFailure {
  taskId: string;
  error: string;
}

export type TaskOutcome = TaskResult | TaskFailure;

/** A stored trial: one λ of one task, with what the worker measured. `id` increases in the order trials were stored. */
export interface Trial extends Omit<TrialFigures, 'epochs'> {
  id: number;
  sweepId: number;
  taskId: string;
  penalty: Penalty;
  l1Ratio: number;
  /** The task's settings key ("" when the sweep varies no model setting). */
  settings: string;
  /** "all" or the validation fold's index. */
  fold: string;
}

export type SweepStatus = 'running' | 'interrupted' | 'done';

/** A sweep as stored: its config, the data's shape and hash, and how far it got. */
export interface Sweep {
  id: number;
  name: string;
  configJson: string;
  configHash: string;
  dataHash: string;
  /** As stored; a "running" sweep whose writer is gone is shown as interrupted (see the store's sweep readers). */
  status: SweepStatus;
  createdAt: string;
  finishedAt: string | null;
  n: number;
  p: number;
  modelKind: string;
  featureNames: string[];
  targetNames: string[];
  /** Class labels in the order of the coded target (0, 1, …), for classification models. */
  classes: string[] | null;
  /** How the data's columns became the features (categories, gaps); null when they are the columns as they are. */
  encoding: Encoding | null;
  /** Each feature's population sd over all rows (data/scales.ts); null in a sweep made before they were kept. */
  featureScales: number[] | null;
  totalTasks: number;
  totalTrials: number;
  /** Things a user should know about the data, then about the run, one line per kind ("3 constant columns: a, b, c"). */
  notes: string[];
  /** The run's part of the notes (grid edges, trials not converged or not usable), made when the sweep was finished. */
  runNotes: string[];
  /** The process writing it while it runs: "pid@host". */
  writer: string | null;
}

/** What a sweep fits, told by its model kind and its data's shape. */
export type SweepFamily = Family | 'network';
/** glmnet's families: the objective, and how a prediction comes from the linear predictor(s). */
export type Family = 'gaussian' | 'mgaussian' | 'binomial' | 'multinomial' | 'poisson' | 'cox';

export function sweepFamily(sweep: Pick<Sweep, 'modelKind' | 'targetNames' | 'classes'>): SweepFamily {
  switch (sweep.modelKind) {
    case 'poisson':
      return 'poisson';
    case 'cox':
      return 'cox';
    case 'multinomial':
      return 'multinomial';
    case 'logistic':
      return (sweep.classes?.length ?? 2) > 2 ? 'multinomial' : 'binomial';
    case 'mlp':
      return 'network';
    default:
      return sweep.targetNames.length > 1 ? 'mgaussian' : 'gaussian';
  }
}

/**
 * The names of a sweep's coefficient vectors: one per class of a multinomial model, one for a Cox model (named by its
 * time column; its targets are the time and the status), else one per target.
 */
export function outputNames(sweep: Pick<Sweep, 'modelKind' | 'targetNames' | 'classes'>): string[] {
  const family = sweepFamily(sweep);
  return family === 'multinomial' ? sweep.classes! : family === 'cox' ? sweep.targetNames.slice(0, 1) : sweep.targetNames;
}

export type NewSweep = Omit<Sweep, 'id' | 'status' | 'createdAt' | 'finishedAt' | 'writer' | 'runNotes'>;

/** Trials by how they ended, as a store counts them without reading them (select/counts makes TrialCounts of it). */
export interface TrialTally {
  total: number;
  diverged: number;
  failed: number;
  pruned: number;
  /** An error of a failed trial, if any. */
  firstError: string | null;
  /** The earliest epoch a network diverged at, if known. */
  firstDivergedEpoch: number | null;
}

/** The coefficients of one stored trial, on the original scale. */
export interface TrialCoefficients {
  trialId: number;
  penalty: Penalty;
  lambda: number;
  l1Ratio: number;
  settings: string;
  fold: string;
  intercept: number[];
  /** p × outputs, column-major per output. */
  coefs: Float64Array;
  /** A Cox fit on all rows: Breslow's baseline cumulative hazard at its death times (for survival predictions). */
  baseline?: BaselineHazard;
}

/** The death times, ascending, and the cumulative hazard H0 at each: S(t | x) = exp(−H0(t) e^{x·b}). */
export interface BaselineHazard {
  times: Float64Array;
  hazard: Float64Array;
}

/**
 * A validation trial's out-of-fold predictions (validation.keep): its K linear predictors over the fold's rows; the
 * task's first trial (largest λ) also carries the rows and their targets, the same for every λ of the task.
 */
export interface TrialPredictions {
  trialId: number;
  taskId: string;
  penalty: Penalty;
  lambda: number;
  l1Ratio: number;
  settings: string;
  fold: string;
  link: Float64Array;
  rows: Int32Array | null;
  observed: Float64Array | null;
}

export interface TrialEpoch extends EpochLoss {
  trialId: number;
  penalty: Penalty;
  lambda: number;
  l1Ratio: number;
  settings: string;
  fold: string;
}

/** The cross-validated figure of one point of the sweep (penalty, l1 ratio, λ): mean and standard error over folds. */
export interface CvPoint {
  penalty: Penalty;
  l1Ratio: number;
  settings: string;
  lambda: number;
  metric: string;
  folds: number;
  mean: number;
  se: number;
  trainMean: number | null;
  /** Nonzero coefficients of the fit on all rows. */
  nnzAll: number | null;
  /** Several classes or responses: the features with a nonzero coefficient in any of them (glmnet's count of variables). */
  featuresAll?: number;
  /**
   * The group's last point because a path ended there by a stopping rule (sweep.lambda fdev / devmax): no λ below it
   * is in every fold, and λ_min there is not on an edge the grid could be extended past. Not stored.
   */
  pathEnd?: 'fdev' | 'devmax';
}

/** λ_min and λ_1se for one (penalty, l1 ratio). */
export interface Selection {
  penalty: Penalty;
  l1Ratio: number;
  settings: string;
  metric: string;
  lambdaMin: number;
  lambda1se: number;
  meanMin: number;
  seMin: number;
  mean1se: number;
  nnzMin: number | null;
  nnz1se: number | null;
  /** Several classes or responses: features with a nonzero coefficient in any, at λ_min and λ_1se. */
  featuresMin?: number;
  features1se?: number;
  /** Where λ_min sits on the edge of the grid: the grid should be extended that way. */
  edge: 'largest' | 'smallest' | null;
}

/** The data of a sweep as stored for other machines: the shape, the names and the column-major values. */
export interface StoredDataset {
  hash: string;
  n: number;
  p: number;
  outputs: number;
  featureNames: string[];
  targetNames: string[];
  classes: string[] | null;
  /**
   * n × p, column-major; for a sparse design (nnz not null) its compressed columns packed as doubles: the nnz values,
   * the nnz row indices, the p + 1 column starts.
   */
  X: Float64Array;
  /** The nonzeros of a sparse design, or null (dense). */
  nnz: number | null;
  /** n × outputs, column-major. */
  y: Float64Array;
  /** Per row, added to the linear predictor (data.offset), or null. */
  offset: Float64Array | null;
  /** Per row, its observation weight (data.weights), or null. */
  weights: Float64Array | null;
}

/** The rows' folds a sweep was cross-validated with, as planned (export --table folds, and workers on other machines). */
export interface StoredFolds {
  /** Per repeat, per row: the row's validation fold in that repeat, or −1 (n × repeats, repeat after repeat). */
  foldOf: Int32Array;
  perRepeat: number;
  repeats: number;
  /** Validation kind column: the label of each fold. */
  labels: string[] | null;
}
