// The stored figures as flat records with one name per thing (snake_case, as in the database and the config):
// export, query --json and the report's tables all use these.
import { settingsOf, type CvPoint, type Selection, type Sweep, type Trial } from '../domain.js';
import { pointNumber } from '../select/points.js';

/** What a sweep's stored config says about its records' columns, read once per sweep. */
const columnsOf = new WeakMap<Sweep, { settings: string[]; points: boolean }>();
function sweepColumns(sweep: Sweep): { settings: string[]; points: boolean } {
  let columns = columnsOf.get(sweep);
  if (!columns) {
    const spec = (JSON.parse(sweep.configJson) as { sweep?: { kind?: string; model?: Record<string, unknown>; gamma?: number[] } }).sweep;
    // The relaxed lasso's γ is a column too (1 for the penalties it does not relax, as their paths are).
    columns = { settings: [...(spec?.gamma ? ['gamma'] : []), ...Object.keys(spec?.model ?? {})], points: spec?.kind === 'tpe' };
    columnsOf.set(sweep, columns);
  }
  return columns;
}

/**
 * The model settings a sweep varies, a column each ("lr", "l1_method"; null where a penalty does not use one); none
 * for a sweep that varies none.
 */
export function settingColumns(sweep: Sweep, key: string): Record<string, unknown> {
  const names = sweepColumns(sweep).settings;
  if (names.length === 0) return {};
  const values = settingsOf(key);
  const absent = (name: string) => (name === 'gamma' ? 1 : null);
  return Object.fromEntries(names.map((name) => [name, name in values ? (Array.isArray(values[name]) ? JSON.stringify(values[name]) : values[name]) : absent(name)]));
}

/** A TPE sweep's trials carry the number of their point (1, 2, … in the order proposed, Optuna's trial number); others none. */
function pointColumn(sweep: Sweep, taskId: string): Record<string, unknown> {
  return sweepColumns(sweep).points ? { point: pointNumber(taskId) ?? null } : {};
}

export function trialRecord(sweep: Sweep, t: Trial): Record<string, unknown> {
  return {
    sweep: sweep.name,
    trial_id: t.id,
    task_id: t.taskId,
    ...pointColumn(sweep, t.taskId),
    penalty: t.penalty,
    lambda: t.lambda,
    l1_ratio: t.l1Ratio,
    ...settingColumns(sweep, t.settings),
    fold: t.fold,
    status: t.status,
    converged: t.converged,
    error: t.error,
    train_loss: t.trainLoss,
    val_loss: t.valLoss,
    n_train: t.nTrain,
    n_val: t.nVal,
    nnz: t.nnz,
    zero_fraction: t.zeroFraction,
    near_zero_fraction: t.nearZeroFraction,
    l1_norm: t.l1Norm,
    l2_norm: t.l2Norm,
    passes: t.passes,
    epochs_run: t.epochsRun,
    seconds: t.seconds,
    ...t.metrics,
  };
}

export function cvPointRecord(sweep: Sweep, s: CvPoint): Record<string, unknown> {
  return {
    sweep: sweep.name,
    penalty: s.penalty,
    l1_ratio: s.l1Ratio,
    ...settingColumns(sweep, s.settings),
    lambda: s.lambda,
    metric: s.metric,
    folds: s.folds,
    mean: s.mean,
    se: s.se,
    train_mean: s.trainMean,
    nnz_all: s.nnzAll,
  };
}

export function selectionRecord(sweep: Sweep, s: Selection): Record<string, unknown> {
  return {
    sweep: sweep.name,
    penalty: s.penalty,
    l1_ratio: s.l1Ratio,
    ...settingColumns(sweep, s.settings),
    metric: s.metric,
    lambda_min: s.lambdaMin,
    lambda_1se: s.lambda1se,
    mean_min: s.meanMin,
    se_min: s.seMin,
    mean_1se: s.mean1se,
    nnz_min: s.nnzMin,
    nnz_1se: s.nnz1se,
    ...(s.featuresMin !== undefined ? { features_min: s.featuresMin, features_1se: s.features1se ?? null } : {}),
    edge: s.edge,
  };
}

export function sweepRecord(s: Sweep, trialsDone: number, tasks?: { running: number; stale: number }): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    trials: trialsDone,
    of: s.totalTrials,
    ...(tasks ? { claimed: tasks.running, stale: tasks.stale } : {}),
    model: s.modelKind,
    rows: s.n,
    features: s.p,
    created_at: s.createdAt,
    finished_at: s.finishedAt,
  };
}
