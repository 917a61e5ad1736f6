// A sweep file and its data's shape → every task of the sweep. Pure: every problem with the input is found here,
// before a store is opened or a worker started.
import type { LoadedConfig } from '../config/load.js';
import type { SweepConfig } from '../config/schema.js';
import type { Encoding, Task } from '../domain.js';
import { UserError } from '../errors.js';
import { count, gigabytes } from '../util/format.js';
import type { Design } from '../fitting/path/types.js';
import { assignFolds, type FoldAssignment } from './folds.js';
import { relevantSettings } from './settings.js';
import { startupTasks } from './proposals.js';
import { fillGroups, filledDesign } from '../data/imputation.js';
import { gridOf, lambdaMaxFor, nullModelFigures, ridgeLambdas, type GridFamily } from './grid.js';
import { planTasks, trialCount } from './tasks.js';
import { categoricalGroups, featurePenalty, type FeaturePenaltySettings } from '../config/featurePenalty.js';

/** Planned-size limits; a sweep past either is refused with its size and the option that allows more. */
export interface PlanLimits {
  maxTrials: number;
  /** Planned database size, in bytes. */
  maxBytes: number;
}

export const DEFAULT_PLAN_LIMITS: PlanLimits = { maxTrials: 10_000_000, maxBytes: 8 * 2 ** 30 };

export interface SweepPlan {
  folds: FoldAssignment;
  tasks: Task[];
  totalTrials: number;
  /** Per-feature penalty factors and bounds (model.penalty_factor, model.limits), when the config sets them. */
  featurePenalty?: FeaturePenaltySettings;
  /** Each categorical column's indicators as a group (model.group_categorical). */
  groups?: number[][];
}

/** The data a plan needs: the shape, X and y for automatic λ grids, class codes for stratified folds, a fold column. */
export interface PlanData extends Design {
  y: Float64Array;
  /** How the design was made from a frame: its gaps are filled (from every row) before λ_max is computed. */
  encoding?: Encoding;
  /** The features' names (model.penalty_factor and model.limits name them); default x1, x2, …. */
  featureNames?: string[];
  outputs: number;
  /** Class labels of a classification target. */
  classes?: string[];
  offset?: Float64Array;
  /** Observation weights (data.weights): λ_max is that of the weighted fit. */
  weights?: Float64Array;
  foldLabels?: string[];
}

/** The family a config fits on data of this shape. */
export function planFamily(config: SweepConfig, data: Pick<PlanData, 'outputs' | 'classes'>): GridFamily | 'network' {
  const kind = config.model.kind;
  if (kind === 'mlp') return 'network';
  if (kind === 'poisson') return 'poisson';
  if (kind === 'cox') return 'cox';
  if (kind === 'multinomial') return 'multinomial';
  if (kind === 'logistic') return (data.classes?.length ?? 2) > 2 ? 'multinomial' : 'binomial';
  return data.outputs > 1 ? 'mgaussian' : 'gaussian';
}

/** Bytes a stored trial takes besides its coefficients (its row, index entries, the coefficient row's header). */
const TRIAL_BYTES = 220;

export function planSweep(loaded: LoadedConfig, data: PlanData, limits: PlanLimits = DEFAULT_PLAN_LIMITS): SweepPlan {
  const { config, where } = loaded;
  checkValidation(loaded, data);
  checkSolver(loaded, data);
  checkRelaxed(loaded, data);
  checkSettings(loaded);
  const folds = assignFolds(data.n, config.validation, { classOf: foldClasses(config, data), foldLabels: data.foldLabels });
  checkFolds(loaded, data.n, folds);
  checkGrids(loaded);
  const fits = folds.count + 1;
  const planned = plannedTrials(config) * fits;
  const sizeKey = config.sweep.kind !== 'grid' ? ['sweep', 'points'] : sweepSizeKey(config);
  if (planned > limits.maxTrials)
    throw new UserError(
      `${where(sizeKey)}: ${sizeKey.join('.')}: the sweep would have ${count(planned)} trials (${count(planned / fits)} points × ${fits} fits), ` +
        `over the limit of ${count(limits.maxTrials)}; make the sweep smaller, or allow it with --max-trials ${Math.ceil(planned)}`,
    );
  const family = planFamily(config, data);
  const outputs = family === 'multinomial' ? (data.classes?.length ?? 1) : family === 'cox' ? 1 : data.outputs;
  const bytes = planned * (TRIAL_BYTES + 8 * data.p * outputs);
  if (bytes > limits.maxBytes)
    throw new UserError(
      `${where(sizeKey)}: ${sizeKey.join('.')}: the sweep's ${count(planned)} trials would take about ${gigabytes(bytes)} of database ` +
        `(${data.p} coefficients each), over the limit of ${gigabytes(limits.maxBytes)}; make the sweep smaller, or allow it with --max-db-gb ${Math.ceil(bytes / 2 ** 30)}`,
    );
  checkNetworkSize(loaded, data);
  const features = data.featureNames ?? Array.from({ length: data.p }, (_, j) => `x${j + 1}`);
  const penalty = featurePenalty(config.model, planFamily(config, data), features, data.encoding, where);
  const groups = categoricalGroups(config.model, planFamily(config, data), data.encoding, where);
  const auto = autoGrids(loaded, data, penalty?.factor ?? null, groups ?? null);
  // A TPE sweep starts with its random points; the rest are proposed as the points finish (pool/coordinator.ts).
  const tasks = config.sweep.kind === 'tpe' ? startupTasks(config.sweep, folds.count) : planTasks(config.sweep, folds.count, auto.lambdaMax, auto.ridge);
  // A TPE sweep plans its startup points; its total is its budget, the rest proposed as points finish.
  return { folds, tasks, totalTrials: config.sweep.kind === 'tpe' ? planned : trialCount(tasks), ...(penalty ? { featurePenalty: penalty } : {}), ...(groups ? { groups } : {}) };
}

/** What stratified folds keep the shares of: a classifier's classes, a Cox model's statuses (its second target block). */
export function foldClasses(config: SweepConfig, data: Pick<PlanData, 'y' | 'n' | 'classes'>): Float64Array | undefined {
  return data.classes ? data.y : config.model.kind === 'cox' ? data.y.subarray(data.n, 2 * data.n) : undefined;
}

/** Options that need a kind of data: stratify a class target, repeats a shuffle. */
function checkValidation(loaded: LoadedConfig, data: PlanData): void {
  const { config, where } = loaded;
  const v = config.validation;
  checkRows(loaded, data.n);
  if (v.kind !== 'kfold') return;
  if (config.model.kind === 'cox') return checkRepeats(loaded);
  if (v.stratify && !data.classes)
    throw new UserError(`${where(['validation', 'stratify'])}: validation.stratify: keeps class shares in the folds of a classification target (or deaths' share for cox); model.kind ${config.model.kind} has none`);
  if (v.stratify && data.classes) {
    // As scikit-learn's StratifiedKFold: a class must be able to fill every fold at least once.
    const counts = new Array<number>(data.classes.length).fill(0);
    for (const c of data.y) counts[c]++;
    const largest = Math.max(...counts);
    if (v.folds > largest)
      throw new UserError(`${where(['validation', 'folds'])}: validation.folds: ${v.folds} stratified folds, but the largest class ("${data.classes[counts.indexOf(largest)]}") has ${largest} rows; use at most ${largest} folds`);
  }
  checkRepeats(loaded);
}

function checkRepeats({ config, where }: LoadedConfig): void {
  const v = config.validation;
  if (v.kind === 'kfold' && v.repeats > 1 && !v.shuffle)
    throw new UserError(`${where(['validation', 'repeats'])}: validation.repeats: ${v.repeats} repeats of unshuffled folds are the same folds; set shuffle: true`);
}

/** FISTA is written for one linear or two-class logistic output; grouped is a multinomial option. */
function checkSolver(loaded: LoadedConfig, data: PlanData): void {
  const { config, where, gives } = loaded;
  const model = config.model;
  if (model.kind === 'mlp') return;
  const family = planFamily(config, data);
  if (model.solver === 'fista' && family !== 'gaussian' && family !== 'binomial')
    throw new UserError(`${where(['model', 'solver'])}: model.solver: fista fits one linear or two-class logistic output; this sweep is ${family}: use solver cd`);
  if ((model.kind === 'logistic' || model.kind === 'multinomial') && model.grouped && family !== 'multinomial' && gives(['model', 'grouped']))
    throw new UserError(`${where(['model', 'grouped'])}: model.grouped: groups a feature's coefficients across classes; the target has two classes, so there is one coefficient per feature`);
}

/** The relaxed lasso (sweep.gamma) refits one linear predictor by coordinate descent, on paths with an L1 part. */
function checkRelaxed(loaded: LoadedConfig, data: PlanData): void {
  const { config, where } = loaded;
  const spec = config.sweep;
  if (spec.kind !== 'grid' || !spec.gamma) return;
  const at = where(['sweep', 'gamma']);
  const model = config.model;
  if (model.kind === 'mlp') throw new UserError(`${at}: sweep.gamma: the relaxed lasso refits a penalized path; a network (mlp) has none`);
  const family = planFamily(config, data);
  if (family !== 'gaussian' && family !== 'binomial' && family !== 'poisson' && family !== 'cox')
    throw new UserError(`${at}: sweep.gamma: the relaxed lasso is built for one linear predictor (linear with one target, two-class logistic, poisson, cox); this sweep fits ${family}`);
  if (model.solver === 'fista') throw new UserError(`${at}: sweep.gamma: needs solver cd (the refits are coordinate descent)`);
  if (model.group_categorical) throw new UserError(`${at}: sweep.gamma: not with model.group_categorical (a group's refit is not built)`);
  if (!spec.penalty.some((p) => p === 'l1' || p === 'elasticnet'))
    throw new UserError(`${at}: sweep.gamma: relaxes the l1 and elasticnet paths; this sweep has ${spec.penalty.join(', ')}`);
}

/** Every fold of a column must leave two rows to train on, and there must be two folds. */
function checkFolds(loaded: LoadedConfig, n: number, folds: FoldAssignment): void {
  const { config, where } = loaded;
  if (config.validation.kind !== 'column') return;
  const key = ['validation', 'column'];
  if (folds.count < 2) throw new UserError(`${where(key)}: validation.column: column "${config.validation.column}" holds ${folds.count} fold label; cross-validation needs at least 2`);
  const sizes = new Int32Array(folds.count);
  for (const f of folds.foldOf) sizes[f]++;
  const largest = Math.max(...sizes);
  if (n - largest < 2) throw new UserError(`${where(key)}: validation.column: fold "${folds.labels![sizes.indexOf(largest)]}" holds ${largest} of ${n} rows, leaving ${n - largest} to train on; at least 2 are needed`);
}

/** A grid per penalty must name every penalty the sweep has (none needs no grid). */
function checkGrids(loaded: LoadedConfig): void {
  const { config, where } = loaded;
  const spec = config.sweep;
  if (spec.kind !== 'grid') return;
  for (const penalty of spec.penalty)
    if (penalty !== 'none' && !gridOf(spec, penalty))
      throw new UserError(`${where(['sweep', 'lambda'])}: sweep.lambda: no grid for penalty ${penalty}; give sweep.lambda.${penalty}, or one grid for every penalty`);
}

/** Folds that would be empty, or leave fewer than two rows to train on, are a config error. */
function checkRows(loaded: LoadedConfig, n: number): void {
  const { config, where, gives } = loaded;
  const v = config.validation;
  const rows = `${n} row${n === 1 ? '' : 's'}`;
  if (v.kind === 'column') {
    if (n < 3) throw new UserError(`${where(['validation'])}: validation: cross-validation needs at least 3 rows; the data have ${rows}`);
  } else if (v.kind === 'kfold') {
    const key = ['validation', 'folds'];
    const folds = `${v.folds} folds${gives(key) ? '' : ' (the default)'}`;
    const largestFold = Math.ceil(n / v.folds);
    if (v.folds > n) throw new UserError(`${where(key)}: validation.folds: ${folds}, but the data have ${rows}: every fold needs a row`);
    if (n - largestFold < 2)
      throw new UserError(`${where(key)}: validation.folds: with ${rows}, ${folds} leave ${n - largestFold} row(s) to train on; at least 2 are needed`);
  } else if (v.kind === 'holdout') {
    if (n < 3) throw new UserError(`${where(['validation'])}: validation: a holdout needs at least 3 rows (2 to train on, 1 to validate); the data have ${rows}`);
  } else if (n < 2) throw new UserError(`${where(['data'])}: data: the data have ${rows}; at least 2 are needed to fit`);
}

/** A thread's kernel memory is one wasm32 memory. */
const KERNEL_MEMORY_BYTES = 4 * 2 ** 30;

/** A network whose layers cannot fit in a thread's kernel memory is refused before any thread starts. */
function checkNetworkSize(loaded: LoadedConfig, data: PlanData): void {
  const { config, where } = loaded;
  if (config.model.kind !== 'mlp') return;
  const pad = (units: number) => (units + 3) & ~3;
  // The sweep file's layers and batch, and each that sweep.model varies.
  const dims = config.sweep.model;
  const values = <T>(dim: T[] | { choice: T[] } | object | undefined, fixed: T): T[] => (Array.isArray(dim) ? dim : dim && 'choice' in dim ? dim.choice : [fixed]);
  const key = dims?.hidden ? ['sweep', 'model', 'hidden'] : ['model', 'hidden'];
  for (const hidden of values<number[]>(dims?.hidden, config.model.hidden))
    for (const batch of values<number>(dims?.batch, config.model.batch)) {
      const sizes = [data.p, ...hidden, data.outputs].map(pad);
      const rows = (Math.min(batch, data.n) + 1) & ~1;
      let doubles = 0;
      for (let k = 1; k < sizes.length; k++) doubles += 3 * sizes[k] * sizes[k - 1];
      for (const units of sizes) doubles += 3 * rows * units;
      const bytes = 8 * doubles;
      if (bytes > KERNEL_MEMORY_BYTES)
        throw new UserError(
          `${where(key)}: ${key.join('.')}: layers of ${[data.p, ...hidden, data.outputs].join(' → ')} units need ${gigabytes(bytes)} of kernel memory per worker; the limit is 4 GB`,
        );
    }
}

/** Settings dimensions are network settings; pruning compares networks' validation losses. */
function checkSettings(loaded: LoadedConfig): void {
  const { config, where } = loaded;
  if (config.sweep.kind === 'tpe' && config.validation.kind === 'none')
    throw new UserError(`${where(['sweep', 'kind'])}: sweep.kind: tpe learns from validation losses; validation kind none holds out no rows (use kfold or holdout)`);
  if (config.sweep.kind !== 'grid' && config.sweep.prune) {
    const key = ['sweep', 'prune'];
    if (config.model.kind !== 'mlp') throw new UserError(`${where(key)}: sweep.prune: stops networks early by their learning curves; model.kind ${config.model.kind} has none — use model.kind mlp`);
    if (config.validation.kind === 'none') throw new UserError(`${where(key)}: sweep.prune: compares validation losses; validation kind none holds out no rows (use kfold or holdout)`);
  }
  if ('keep' in config.validation && config.validation.keep && config.model.kind === 'mlp')
    throw new UserError(`${where(['validation', 'keep'])}: validation.keep: stores the out-of-fold predictions of penalized linear paths (cv.glmnet's keep); model.kind mlp keeps none — remove it`);
  const dims = config.sweep.model;
  if (!dims || config.model.kind === 'mlp') return;
  throw new UserError(`${where(['sweep', 'model'])}: sweep.model: varies network settings (lr, l1_method, hidden, …); model.kind ${config.model.kind} has none — use model.kind mlp`);
}

/** Points of the sweep before folds, counted without building them (a grid of a billion λ is refused, not made). */
function plannedTrials(config: SweepConfig): number {
  const spec = config.sweep;
  if (spec.kind !== 'grid') return spec.points;
  const perGroup = (penalty: Exclude<(typeof spec.penalty)[number], 'none'>) => {
    const grid = gridOf(spec, penalty);
    if (!grid) return 0;
    return Array.isArray(grid) ? new Set(grid).size : 'num' in grid ? grid.num : grid.auto;
  };
  // Combinations of settings multiply a penalty's points (counted by their sizes: a billion is refused, not listed), and
  // so do the relaxed lasso's γ (1 among them) on the paths with an L1 part.
  const gammas = (penalty: (typeof spec.penalty)[number]) => (spec.gamma && (penalty === 'l1' || penalty === 'elasticnet') ? new Set([...spec.gamma, 1]).size : 1);
  const variants = (penalty: (typeof spec.penalty)[number]) =>
    gammas(penalty) *
    Object.entries(spec.model ?? {}).reduce((product, [name, values]) => (values === undefined || Object.keys(relevantSettings(penalty, { [name]: 0 })).length === 0 ? product : product * (values as unknown[]).length), 1);
  return spec.penalty.reduce(
    (sum, penalty) => sum + variants(penalty) * (penalty === 'none' ? 1 : penalty === 'elasticnet' ? new Set(spec.l1_ratio).size * perGroup(penalty) : perGroup(penalty)),
    0,
  );
}

function sweepSizeKey(config: SweepConfig): string[] {
  const spec = config.sweep;
  const grid = spec.kind === 'grid' ? gridOf(spec, spec.penalty.find((q) => q !== 'none') ?? 'l1') : undefined;
  if (spec.kind !== 'grid' || !grid || Array.isArray(grid) || grid !== spec.lambda) return ['sweep', 'lambda'];
  return ['sweep', 'lambda', 'num' in grid ? 'num' : 'auto'];
}

/**
 * λ_max per l1 ratio and the ridge grid, computed once on all rows when an automatic grid asks for them, so every fold
 * walks the same λ sequence, as cv.glmnet does.
 */
function autoGrids(loaded: LoadedConfig, data: PlanData, factor: number[] | null, groups: number[][] | null) {
  const { config, where } = loaded;
  const family = planFamily(config, data);
  // A design with gaps: λ_max of the fit on all rows, whose gaps are filled from every row.
  const gaps = fillGroups(data.encoding, data.X, data.n);
  if (gaps.length) data = { ...data, X: filledDesign(data.X, data.n, gaps, null, (length) => new Float64Array(length)) };
  let figures: { lassoMax: number; curvature: number } | undefined;
  const nullModel = () => {
    if (family === 'network')
      throw new UserError(`${where(['sweep', 'lambda', 'auto'])}: sweep.lambda.auto: λ_max is defined for linear, logistic, poisson and cox models; give the network a list or log_range`);
    if (!figures) {
      const grouped = (config.model.kind === 'logistic' || config.model.kind === 'multinomial') && config.model.grouped;
      figures = nullModelFigures(family, { ...data, classes: data.classes?.length ?? 0 }, config.data.standardize, grouped, factor, groups);
      if (!(figures.lassoMax > 0)) throw new UserError(`${where(['sweep', 'lambda', 'auto'])}: sweep.lambda.auto: the target is constant, so every λ gives the same (empty) model`);
    }
    return figures;
  };
  return {
    lambdaMax: (l1Ratio: number) => lambdaMaxFor(nullModel().lassoMax, l1Ratio),
    ridge: (num: number, ratio: number) => ridgeLambdas(data, config.data.standardize, nullModel().curvature, num, ratio),
  };
}
