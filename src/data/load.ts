import { totalmem } from 'node:os';
import type { LoadedConfig } from '../config/load.js';
import { displayPath } from '../util/paths.js';
import { UserError } from '../errors.js';
import { gigabytes } from '../util/format.js';
import { loadCsv, type CsvOptions } from './csv.js';
import { columnarFormat, loadColumnar } from './columnar.js';
import type { SweepConfig } from '../config/schema.js';
import type { Dataset } from './dataset.js';
import { syntheticDataset } from './synthetic.js';
import { loadSparse, sparseFormat, type SparseOptions } from './sparse.js';

/** The share of the machine's memory generated data may take (the workers and the kernels need the rest). */
const MEMORY_SHARE = 0.75;

/** How a sweep's CSV is read: its target, labels or counts, and the columns that are not features. */
export function csvOptions(config: SweepConfig): CsvOptions {
  const kind = config.model.kind;
  return {
    // A Cox model's target is two columns: the time, then the status.
    target: kind === 'cox' && config.data.time !== undefined && config.data.status !== undefined ? [config.data.time, config.data.status] : config.data.target,
    classification: kind === 'logistic' || kind === 'multinomial',
    classes: config.data.classes,
    counts: kind === 'poisson',
    offset: config.data.offset,
    weights: config.data.weights,
    foldColumn: config.validation.kind === 'column' ? config.validation.column : undefined,
    categorical: config.data.categorical,
    ignore: config.data.ignore,
    dropFirst: config.data.drop === 'first',
    maxLevels: config.data.max_levels,
    naValues: config.data.na_values,
    missing: config.data.missing,
    missingIndicator: config.data.missing_indicator,
  };
}

/**
 * A data file by its name: Parquet (.parquet), Arrow IPC / Feather v2 (.arrow, .feather, .ipc), svmlight (.svm,
 * .svmlight, .libsvm), Matrix Market (.mtx), else CSV.
 */
export function loadDataFile(path: string, options: SparseOptions): Promise<Dataset> {
  const sparse = sparseFormat(path);
  if (sparse) return loadSparse(path, sparse, options);
  if (options.targetPath !== undefined) throw new UserError(`${options.displayName ?? path}: data.target_path is for a Matrix Market (.mtx) design; this file holds its target`);
  if (options.featureNamesPath !== undefined) throw new UserError(`${options.displayName ?? path}: data.feature_names is for a sparse design (.mtx, .svm); this file names its columns`);
  return columnarFormat(path) ? loadColumnar(path, options) : loadCsv(path, options);
}

/** The side files a sweep names for a sparse design. */
function sideFiles(loaded: Pick<LoadedConfig, 'targetPath' | 'featureNamesPath'>): Pick<SparseOptions, 'targetPath' | 'featureNamesPath'> {
  return { ...(loaded.targetPath ? { targetPath: loaded.targetPath } : {}), ...(loaded.featureNamesPath ? { featureNamesPath: loaded.featureNamesPath } : {}) };
}

/** The data a sweep file names, checked against its model (labels for classifiers, counts for poisson, one target unless linear or mlp). */
export async function loadData(loaded: LoadedConfig): Promise<Dataset> {
  const { config, where } = loaded;
  const kind = config.model.kind;
  const classification = kind === 'logistic' || kind === 'multinomial';
  if (config.data.weights !== undefined && kind === 'mlp')
    throw new UserError(`${where(['data', 'weights'])}: data.weights: applies to linear, logistic, multinomial and poisson models (a network's minibatches take no weights)`);
  if (config.data.weights !== undefined && !loaded.dataPath)
    throw new UserError(`${where(['data', 'weights'])}: data.weights: synthetic data have no weights column`);
  if (config.data.offset !== undefined && kind !== 'poisson')
    throw new UserError(`${where(['data', 'offset'])}: data.offset: applies to poisson models (model.kind is ${kind})`);
  if (config.data.classes !== undefined && !classification)
    throw new UserError(`${where(['data', 'classes'])}: data.classes: applies to logistic and multinomial models (model.kind is ${kind})`);
  if (kind === 'cox') refuseForCox(loaded);
  else
    for (const key of ['time', 'status'] as const)
      if (config.data[key] !== undefined) throw new UserError(`${where(['data', key])}: data.${key}: applies to cox models (model.kind is ${kind})`);
  const foldColumn = config.validation.kind === 'column' ? config.validation.column : undefined;
  let data: Dataset;
  if (loaded.dataPath) {
    data = await loadDataFile(loaded.dataPath, { ...csvOptions(config), ...sideFiles(loaded), displayName: displayPath(loaded.dataPath) });
    if (data.sparse) refuseDenseOnly(loaded);
  } else {
    const s = config.data.synthetic!;
    const wanted = classification ? 'classification' : kind === 'poisson' ? 'counts' : 'regression';
    if (kind !== 'mlp' && s.kind !== wanted)
      throw new UserError(`${where(['data', 'synthetic', 'kind'])}: data.synthetic.kind: a ${kind} model needs ${wanted} data`);
    if (kind === 'mlp' && s.kind !== 'regression')
      throw new UserError(`${where(['data', 'synthetic', 'kind'])}: data.synthetic.kind: a network (mlp) fits regression data`);
    if (s.kind !== 'regression' && s.outputs !== 1)
      throw new UserError(`${where(['data', 'synthetic', 'outputs'])}: data.synthetic.outputs: ${s.kind} data have one output`);
    if (foldColumn !== undefined) throw new UserError(`${where(['validation', 'column'])}: validation.column: synthetic data have no columns to take folds from`);
    if (config.data.offset !== undefined) throw new UserError(`${where(['data', 'offset'])}: data.offset: synthetic data have no offset column`);
    const bytes = 8 * s.n * (s.p + s.outputs);
    if (bytes > MEMORY_SHARE * totalmem())
      throw new UserError(
        `${where(['data', 'synthetic', 'n'])}: data.synthetic: n × p = ${s.n} × ${s.p} needs ${gigabytes(bytes)} of memory; this machine has ${gigabytes(totalmem())}`,
      );
    data = syntheticDataset(s);
  }
  if (kind === 'cox') checkSurvival(data, loaded);
  else if (data.outputs > 1 && kind !== 'mlp' && kind !== 'linear')
    throw new UserError(`${where(['data', 'target'])}: data.target: several target columns need model.kind linear (multi-response gaussian) or mlp; ${kind} takes one`);
  if (kind === 'poisson') {
    let total = 0;
    for (let i = 0; i < data.n; i++) total += data.y[i];
    if (total === 0) throw new UserError(`${where(['data', 'target'])}: data.target: every count is 0, so there is nothing to fit`);
  }
  return data;
}

/** What a sparse design is not fitted with: networks, FISTA, the grouped multinomial, factors as groups, several targets. */
function refuseDenseOnly({ config, where }: LoadedConfig): void {
  const model = config.model;
  const refuse = (path: string[], what: string) => {
    throw new UserError(`${where(path)}: ${path.join('.')}: ${what} takes a dense design; a sparse file (.svm, .mtx) is fitted by coordinate descent (linear, logistic, multinomial, poisson)`);
  };
  if (model.kind === 'mlp') refuse(['model', 'kind'], 'a network (mlp)');
  if ('solver' in model && model.solver === 'fista') refuse(['model', 'solver'], 'the fista solver');
  if ('grouped' in model && model.grouped) refuse(['model', 'grouped'], 'the grouped multinomial');
  if ('group_categorical' in model && model.group_categorical) refuse(['model', 'group_categorical'], 'the group lasso over factors');
}

/** A Cox sweep names its time and status columns, on a dense file; no target, offset or synthetic data. */
function refuseForCox({ config, where, dataPath }: LoadedConfig): void {
  const data = config.data;
  if (data.target !== undefined) throw new UserError(`${where(['data', 'target'])}: data.target: a cox model reads data.time and data.status instead`);
  for (const key of ['time', 'status'] as const)
    if (data[key] === undefined) throw new UserError(`${where(['data'])}: data.${key}: a cox model needs the column of its ${key === 'time' ? 'survival or censoring times' : 'statuses (1 death, 0 censored)'}`);
  if (data.time === data.status) throw new UserError(`${where(['data', 'status'])}: data.status: the same column as data.time`);
  if (!dataPath) throw new UserError(`${where(['data', 'synthetic'])}: data.synthetic: a cox model reads its times and statuses from a file (data.path)`);
  if (sparseFormat(dataPath)) throw new UserError(`${where(['data', 'path'])}: data.path: a cox model takes a dense design (CSV, Parquet, Arrow); this file is sparse`);
}

/** Times > 0 and statuses 0 or 1, with at least one death: what the partial likelihood is defined on. */
function checkSurvival(data: Dataset, { config, where }: LoadedConfig): void {
  const { n, y } = data;
  let deaths = 0;
  for (let i = 0; i < n; i++) {
    const time = y[i];
    const status = y[n + i];
    if (!(time > 0) || !Number.isFinite(time))
      throw new UserError(`${where(['data', 'time'])}: data.time: column "${config.data.time}", data row ${i + 1}: ${time} is not a time > 0`);
    if (status !== 0 && status !== 1)
      throw new UserError(`${where(['data', 'status'])}: data.status: column "${config.data.status}", data row ${i + 1}: ${status} is not 1 (death) or 0 (censored)`);
    deaths += status;
  }
  if (deaths === 0) throw new UserError(`${where(['data', 'status'])}: data.status: column "${config.data.status}" has no death (1), so there is nothing to fit`);
}
