// `regsweep worker URL`: join the sweeps of a shared store with this machine's cores, until they are complete (or,
// with --wait, for every sweep that comes after).
import type { SweepConfig } from '../config/schema.js';
import { readCachedDataset, removeUnfinishedCacheFiles, writeCachedDataset } from '../data/cache.js';
import type { Dataset } from '../data/dataset.js';
import { fromStoredDataset } from '../data/stored.js';
import { sparseFormat } from '../data/sparse.js';
import { featureScales } from '../data/scales.js';
import type { Sweep } from '../domain.js';
import { EmptyStoreError, StoreUnavailableError, UserError } from '../errors.js';
import { assignFolds } from '../plan/folds.js';
import { foldClasses, planFamily } from '../plan/plan.js';
import { categoricalGroups, featurePenalty } from '../config/featurePenalty.js';
import { csvOptions, loadDataFile } from '../data/load.js';
import { columnarFormat } from '../data/columnar.js';
import { fileSha256, requireRegularFile } from '../util/files.js';
import type { Store, SweepSelector } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { displayPath, isStoreUrl } from '../util/paths.js';
import { DEFAULT_LEASE_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_RECONNECT_MS, finish, sharesGram, sweepSharedData, workThrough, type RunResult } from './coordinator.js';
import { fitSettings, openRunner, workOn, type WorkResult } from './work.js';

export interface WorkerOptions {
  sweep?: SweepSelector;
  workers?: number;
  /** After the sweeps are complete, wait for new ones instead of exiting. */
  wait?: boolean;
  leaseMs?: number;
  maxAttempts?: number;
  /** How long a lost (or not yet reachable) database is waited for (ms). */
  reconnectMs?: number;
  /** A local copy of the data (checked against the sweep's hash) instead of fetching it from the store. */
  dataPath?: string;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface WorkerResult {
  results: RunResult[];
  interrupted: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runWorker(location: string, options: WorkerOptions = {}): Promise<WorkerResult> {
  const log = options.log ?? (() => {});
  // Nothing is opened (or created) at a path: a database file has one writer, the run that made it.
  if (!isStoreUrl(location)) throw new UserError(`${displayPath(location)}: a database file has one writer; regsweep worker joins a shared store (postgres://…). Use regsweep run here`);
  let store: Store;
  const reconnectMs = options.reconnectMs ?? DEFAULT_RECONNECT_MS;
  const started = Date.now();
  let said = '';
  for (;;) {
    try {
      store = await openStore(location, { mode: 'write', mustExist: true, signal: options.signal, reconnectMs });
      break;
    } catch (e) {
      // A server that is not up yet (a worker started with it, or before it) is waited for, up to the reconnect
      // timeout; with --wait, so is a database that holds no sweep yet (only a run makes the tables).
      const unavailable = e instanceof StoreUnavailableError && Date.now() - started < reconnectMs;
      if (!unavailable && !(options.wait && e instanceof EmptyStoreError)) throw e;
      if (options.signal?.aborted) return { results: [], interrupted: true };
      if (unavailable && said !== (e as Error).message) log(`waiting for the database: ${(said = (e as Error).message)} (up to --reconnect-timeout ${Math.round(reconnectMs / 1000)} s)`);
      await sleep(1000 + Math.random() * 1000);
    }
  }
  const results: RunResult[] = [];
  try {
    // A named sweep that does not exist yet is waited for with --wait (a Job's workers may start before its run).
    while (options.sweep) {
      try {
        await store.findSweep(options.sweep);
        break;
      } catch (e) {
        if (!(options.wait && e instanceof UserError) || options.signal?.aborted) throw e;
        await sleep(2000);
      }
    }
    for (;;) {
      if (options.signal?.aborted) return { results, interrupted: true };
      const sweep = await nextSweep(store, options.sweep);
      if (!sweep) {
        // A named sweep that exists has no work left: it is complete (--wait waited for it to be made, not for more).
        if (!options.wait || options.sweep) {
          if (results.length === 0) log(`${store.location}: no ${options.sweep ? 'task left to run in that sweep' : 'sweep with tasks left to run'}`);
          return { results, interrupted: false };
        }
        await sleep(2000);
        continue;
      }
      const result = await workOnSweep(store, sweep, options, log);
      results.push(result);
      if (result.interrupted) return { results, interrupted: true };
      // A named sweep: done once it is complete (--wait waited for it to appear, not for others).
      if (options.sweep) return { results, interrupted: false };
    }
  } finally {
    await store.close();
  }
}

/** The named sweep while it has open tasks, else the oldest sweep that has. */
async function nextSweep(store: Store, selector: SweepSelector | undefined): Promise<Sweep | undefined> {
  const candidates = selector ? [await store.findSweep(selector)] : await store.listSweeps();
  for (const sweep of candidates) {
    const counts = await store.taskCounts(sweep.id);
    if (counts.pending + counts.running > 0) return sweep;
    // A sweep whose last task finished but was never summarized (its finisher died): finish it here.
    if (counts.total > 0 && sweep.status !== 'done') return sweep;
  }
  return undefined;
}

async function workOnSweep(store: Store, sweep: Sweep, options: WorkerOptions, log: (m: string) => void): Promise<RunResult> {
  const config = JSON.parse(sweep.configJson) as SweepConfig;
  const data = await sweepData(store, sweep, config, options.dataPath, log);
  log(`sweep ${sweep.name} (id ${sweep.id}): joining`);
  // The folds the sweep was made with; a sweep made before they were kept draws them again (kfold, holdout).
  const stored = await store.folds(sweep.id);
  const folds = stored ? { ...stored, count: stored.perRepeat * stored.repeats } : assignFolds(data.n, config.validation, { classOf: foldClasses(config, { ...data, classes: data.classes ?? undefined }) });
  await store.beginWriting(sweep.id);
  const before = await store.taskCounts(sweep.id);
  const shared = sweepSharedData(config, data, folds, log);
  const threads = options.workers ?? config.workers;
  // A TPE sweep's batches (this worker proposes the next when it finds the last one finished) on threads kept throughout.
  const runner = config.sweep.kind === 'tpe' ? await openRunner(threads, shared, log) : undefined;
  const workBatch = () => workOn({
    store,
    sweepId: sweep.id,
    shared,
    settings: fitSettings(config, sweep.totalTrials, {
      featurePenalty: featurePenalty(config.model, planFamily(config, data), data.featureNames, sweep.encoding, () => `sweep "${sweep.name}" (id ${sweep.id})`),
      groups: categoricalGroups(config.model, planFamily(config, data), sweep.encoding, () => `sweep "${sweep.name}" (id ${sweep.id})`),
      featureScales: featureScales(data),
    }),
    workers: threads,
    covariance: sharesGram(config, folds, data.p),
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    signal: options.signal,
    log,
    command: 'worker',
    ...(runner ? { runner } : {}),
  });
  let work: WorkResult;
  try {
    work = await workThrough(store, sweep, folds.count, workBatch);
  } finally {
    await runner?.destroy();
  }
  const result = await finish(store, sweep, work, { tasksSkipped: before.done + before.failed, totalTrials: sweep.totalTrials });
  log(`sweep ${sweep.name} (id ${sweep.id}): ${work.interrupted ? 'stopped' : 'complete'}; this worker recorded ${work.tasksRun} task(s)${work.fenced ? `, ${work.fenced} result(s) fenced off` : ''}`);
  return result;
}

/** The sweep's data: a local file checked against its hash, the disk cache, or the store (then cached). */
async function sweepData(store: Store, sweep: Sweep, config: SweepConfig, dataPath: string | undefined, log: (m: string) => void): Promise<Dataset> {
  if (dataPath) {
    const notIts = (why: string) => new UserError(`--data ${dataPath}: not the data of sweep "${sweep.name}" (${why})`);
    // A CSV's hash is of its bytes: compared before the file is read as the sweep's data, which other data could fail.
    // (A frame with categories or gaps has a hash of its encoding too: checked once read.)
    if (sparseFormat(dataPath) === 'matrix-market')
      throw new UserError(`--data ${dataPath}: a Matrix Market design has its target in another file (data.target_path); start the worker without --data and it fetches the sweep's stored data`);
    if (!columnarFormat(dataPath) && !sparseFormat(dataPath) && sweep.encoding === null && config.data.missing === 'error' && config.data.weights === undefined) {
      requireRegularFile(dataPath, dataPath, 'data file');
      if ((await fileSha256(dataPath)) !== sweep.dataHash) throw notIts('its content differs from the data the sweep was made with');
    }
    let data: Dataset;
    try {
      data = await loadDataFile(dataPath, { ...csvOptions(config), displayName: dataPath });
    } catch (e) {
      throw e instanceof UserError ? notIts(`read as its data: ${e.message}`) : e;
    }
    if (data.hash !== sweep.dataHash) throw notIts('its content differs from the data the sweep was made with');
    return data;
  }
  removeUnfinishedCacheFiles();
  const cached = readCachedDataset(sweep.dataHash);
  if ('dataset' in cached) return fromStoredDataset(cached.dataset, `cache ${sweep.dataHash.slice(0, 12)}`, sweep.encoding);
  if ('unusable' in cached) log(`warning: ${cached.unusable}; fetching the sweep's data from ${store.location} again`);
  const stored = await store.loadDataset(sweep.dataHash);
  if (!stored) throw new UserError(`${store.location}: sweep "${sweep.name}" has no stored data; start it with regsweep run, or give its data with --data`);
  writeCachedDataset(stored);
  return fromStoredDataset(stored, `${store.location} ${sweep.dataHash.slice(0, 12)}`, sweep.encoding);
}
