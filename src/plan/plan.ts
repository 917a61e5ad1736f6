// A sweep file and its data's shape → every task of the sweep. Pure: every problem with the input is found here,
// before a store is opened or a worker started.
import type { LoadedConfig } from '../config/load.js';
import type { SweepConfig } from '../config/schema.js';
import type { Task } from '../domain.js';
import { UserError } from '../errors.js';
import { count, gigabytes } from '../util/format.js';
import type { Design } from '../fitting/path/types.js';
import { assignFolds, type FoldAssignment } from './folds.js';
import { lambdaMaxFor, lassoLambdaMax } from './grid.js';
import { planTasks, trialCount } from './tasks.js';

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
}

/** The data a plan needs: the shape, and X and y for an automatic λ grid's λ_max. */
export interface PlanData extends Design {
  y: Float64Array;
  outputs: number;
}

/** Bytes a stored trial takes besides its coefficients (its row, index entries, the coefficient row's header). */
const TRIAL_BYTES = 220;

export function planSweep(loaded: LoadedConfig, data: PlanData, limits: PlanLimits = DEFAULT_PLAN_LIMITS): SweepPlan {
  const { config, where } = loaded;
  checkRows(loaded, data.n);
  const folds = assignFolds(data.n, config.validation);
  const fits = folds.count + 1;
  const planned = plannedTrials(config) * fits;
  const sizeKey = config.sweep.kind === 'random' ? ['sweep', 'points'] : sweepSizeKey(config);
  if (planned > limits.maxTrials)
    throw new UserError(
      `${where(sizeKey)}: ${sizeKey.join('.')}: the sweep would have ${count(planned)} trials (${count(planned / fits)} points × ${fits} fits), ` +
        `over the limit of ${count(limits.maxTrials)}; make the sweep smaller, or allow it with --max-trials ${Math.ceil(planned)}`,
    );
  const bytes = planned * (TRIAL_BYTES + 8 * data.p * data.outputs);
  if (bytes > limits.maxBytes)
    throw new UserError(
      `${where(sizeKey)}: ${sizeKey.join('.')}: the sweep's ${count(planned)} trials would take about ${gigabytes(bytes)} of database ` +
        `(${data.p} coefficients each), over the limit of ${gigabytes(limits.maxBytes)}; make the sweep smaller, or allow it with --max-db-gb ${Math.ceil(bytes / 2 ** 30)}`,
    );
  checkNetworkSize(loaded, data);
  const tasks = planTasks(config.sweep, folds.count, lambdaMaxOnAllRows(loaded, data));
  return { folds, tasks, totalTrials: trialCount(tasks) };
}

/** Folds that would be empty, or leave fewer than two rows to train on, are a config error. */
function checkRows(loaded: LoadedConfig, n: number): void {
  const { config, where, gives } = loaded;
  const v = config.validation;
  const rows = `${n} row${n === 1 ? '' : 's'}`;
  if (v.kind === 'kfold') {
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
  const sizes = [data.p, ...config.model.hidden, data.outputs].map(pad);
  const rows = (Math.min(config.model.batch, data.n) + 1) & ~1;
  let doubles = 0;
  for (let k = 1; k < sizes.length; k++) doubles += 3 * sizes[k] * sizes[k - 1];
  for (const units of sizes) doubles += 3 * rows * units;
  const bytes = 8 * doubles;
  if (bytes > KERNEL_MEMORY_BYTES)
    throw new UserError(
      `${where(['model', 'hidden'])}: model.hidden: layers of ${[data.p, ...config.model.hidden, data.outputs].join(' → ')} units need ${gigabytes(bytes)} of kernel memory per worker; the limit is 4 GB`,
    );
}

/** Points of the sweep before folds, counted without building them (a grid of a billion λ is refused, not made). */
function plannedTrials(config: SweepConfig): number {
  const spec = config.sweep;
  if (spec.kind === 'random') return spec.points;
  const perGroup = Array.isArray(spec.lambda) ? new Set(spec.lambda).size : 'num' in spec.lambda ? spec.lambda.num : spec.lambda.auto;
  return spec.penalty.reduce((sum, penalty) => sum + (penalty === 'none' ? 1 : penalty === 'elasticnet' ? new Set(spec.l1_ratio).size * perGroup : perGroup), 0);
}

function sweepSizeKey(config: SweepConfig): string[] {
  const spec = config.sweep;
  if (spec.kind === 'random' || Array.isArray(spec.lambda)) return ['sweep', 'lambda'];
  return ['sweep', 'lambda', 'num' in spec.lambda ? 'num' : 'auto'];
}

/**
 * λ_max per l1 ratio, computed once on all rows (a pass over X) when an automatic grid asks for it, so every fold
 * walks the same λ sequence, as cv.glmnet does.
 */
function lambdaMaxOnAllRows(loaded: LoadedConfig, data: PlanData): (l1Ratio: number) => number {
  const { config, where } = loaded;
  let largest: number | undefined;
  return (l1Ratio) => {
    if (config.model.kind === 'mlp')
      throw new UserError(`${where(['sweep', 'lambda', 'auto'])}: sweep.lambda.auto: λ_max is defined for linear and logistic models; give the network a list or log_range`);
    if (largest === undefined) {
      largest = lassoLambdaMax(data, data.y, config.data.standardize);
      if (!(largest > 0)) throw new UserError(`${where(['sweep', 'lambda', 'auto'])}: sweep.lambda.auto: the target is constant, so every λ gives the same (empty) model`);
    }
    return lambdaMaxFor(largest, l1Ratio);
  };
}
