import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArrayTaskQueue, Piscina } from 'piscina';
import { loadConfig, displayPath, type LoadedConfig } from '../config/load.js';
import type { SweepConfig } from '../config/schema.js';
import { loadData } from '../data/load.js';
import type { Dataset } from '../data/dataset.js';
import { sharedInt32 } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { gaussianLambdaMax } from '../kernels/gaussian.js';
import { assignFolds, foldWeights } from '../plan/folds.js';
import { planTasks, trialCount, type Task } from '../plan/tasks.js';
import { edgeWarning, selectLambdas, selectionsToShow, summarize } from '../select/cv.js';
import { SqliteStore } from '../store/sqlite.js';
import type { SelectionRow, Store, SweepRecord } from '../store/types.js';
import { builtFile } from '../builtFile.js';
import type { BatchResult, SharedData, TaskMessage, TrialResult } from './protocol.js';

export interface RunOptions {
  workers?: number;
  /** Database path; overrides the config's output. */
  out?: string;
  /** Require an existing sweep to continue. */
  resume?: boolean;
  /** Start a new sweep even if the database holds one of the same name. */
  fresh?: boolean;
  signal?: AbortSignal;
  onStart?: (info: { sweep: SweepRecord; total: number; alreadyDone: number; tasks: number }) => void;
  onProgress?: (info: { done: number; total: number }) => void;
  log?: (message: string) => void;
}

export interface RunResult {
  sweep: SweepRecord;
  dbPath: string;
  tasksRun: number;
  tasksSkipped: number;
  tasksFailed: number;
  trials: number;
  interrupted: boolean;
  selections: SelectionRow[];
  warnings: string[];
  /** Whether the workers split their Gram blocks with helper threads (fewer batches than cores). */
  gramHelper: boolean;
}

/** Runs (or resumes) the sweep a config file describes; the library entry point behind `regsweep run`. */
export async function runSweep(configPath: string, options: RunOptions = {}): Promise<RunResult> {
  const loaded = loadConfig(configPath, { output: options.out, workers: options.workers });
  const data = await loadData(loaded);
  return runLoadedSweep(loaded, data, options);
}

export async function runLoadedSweep(loaded: LoadedConfig, data: Dataset, options: RunOptions = {}): Promise<RunResult> {
  const { config } = loaded;
  const log = options.log ?? (() => {});
  const warnings = [...data.warnings];
  for (const w of warnings) log(`warning: ${w}`);

  // Everything that can be wrong with the input is found before the database is opened.
  const folds = assignFolds(data.n, config.validation);
  const tasks = planTasks(config.sweep, folds.count, lambdaMaxFor(config, data));
  const configHash = hashConfig(config);

  const store = SqliteStore.openForWrite(loaded.outputPath);
  let sweep: SweepRecord;
  try {
    sweep = openSweep(store, loaded, data, configHash, tasks, options);
  } catch (e) {
    store.close();
    throw e;
  }
  const done = store.finishedTaskIds(sweep.id);
  const todo = tasks.filter((t) => !done.has(t.id));
  const total = trialCount(tasks);
  let finished = trialCount(tasks.filter((t) => done.has(t.id)));
  options.onStart?.({ sweep, total, alreadyDone: finished, tasks: todo.length });

  const foldOf = sharedInt32(data.n);
  foldOf.set(folds.foldOf);
  const shared: SharedData = { X: data.X, y: data.y, n: data.n, p: data.p, outputs: data.outputs, foldOf };
  const covariance = sharesGram(config, folds.foldOf, data.p);
  const batches = scheduleBatches(todo, config.workers, covariance);
  // Fewer batches than workers would leave cores idle: a worker then splits its Gram blocks with a helper thread
  // (when there is a core for each helper), and no more workers start than there are batches.
  const threads = Math.max(1, Math.min(config.workers, batches.length));
  const gramHelper = covariance && batches.length > 0 && batches.length * 2 <= config.workers;
  const pool = new Piscina({
    filename: workerFile(),
    maxThreads: threads,
    minThreads: threads,
    idleTimeout: 1000,
    // The order scheduleBatches chose is the order workers pick tasks up in: a plain FIFO, and a task the pool could
    // not hand out yet goes back to the head of the queue, not (piscina's default) to its tail.
    taskQueue: new ArrayTaskQueue(),
    stricterFIFO: true,
    workerData: shared,
  });

  let tasksFailed = 0;
  let interrupted = false;
  // No abort signal on the tasks themselves: piscina queues signalled tasks apart, last in first out, which
  // would undo scheduleBatches. Stopping destroys the pool instead; queued and running tasks then reject.
  const onAbort = () => {
    interrupted = true;
    void pool.destroy();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  store.setSweepStatus(sweep.id, 'running');
  try {
    const settings = { model: config.model, standardize: config.data.standardize, nearZero: config.near_zero, gramHelper };
    const recordFailure = (task: Task, error: string) => {
      tasksFailed++;
      log(`task ${task.id} failed: ${error}`);
      store.recordTask(sweep.id, task, failedTrials(task, error), null, null, data.outputs);
    };
    await Promise.all(
      batches.map(async (batch) => {
        let results: BatchResult;
        try {
          results = (await pool.run({ tasks: batch, ...settings } satisfies TaskMessage)) as BatchResult;
        } catch (e) {
          if (interrupted) return;
          // A worker that dies fails its whole batch; the sweep goes on and a resume retries it.
          results = batch.map((task) => ({ taskId: task.id, error: e instanceof Error ? e.message : String(e) }));
        }
        if (interrupted) return;
        results.forEach((result, k) => {
          const task = batch[k];
          if ('error' in result) recordFailure(task, result.error);
          else store.recordTask(sweep.id, task, result.trials, result.coefs, result.intercepts, data.outputs);
        });
        finished += trialCount(batch);
        options.onProgress?.({ done: finished, total });
      }),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
  }

  let selections: SelectionRow[] = [];
  try {
    if (interrupted) {
      store.setSweepStatus(sweep.id, 'interrupted');
    } else {
      const trials = store.trials(sweep.id);
      const summary = summarize(trials);
      selections = selectLambdas(summary);
      store.writeSummary(sweep.id, summary, selections);
      store.setSweepStatus(sweep.id, 'done');
      selections = selectionsToShow(selections, config.sweep.kind);
      for (const s of selections) {
        const w = edgeWarning(s);
        if (w) {
          warnings.push(w);
          log(`warning: ${w}`);
        }
      }
      const notConverged = trials.filter((t) => t.status === 'ok' && !t.converged).length;
      if (notConverged) {
        const w = `${notConverged} trial(s) stopped at max_iter before converging (column converged = 0); raise model.max_iter or tol`;
        warnings.push(w);
        log(`warning: ${w}`);
      }
    }
    sweep = store.latestSweep(sweep.name)!;
  } finally {
    store.close();
  }
  return {
    sweep,
    dbPath: loaded.outputPath,
    tasksRun: interrupted ? 0 : todo.length,
    tasksSkipped: tasks.length - todo.length,
    tasksFailed,
    trials: total,
    interrupted,
    selections,
    warnings,
    gramHelper,
  };
}

/**
 * Batches of tasks in the order the workers should take them. Linear paths in covariance mode spend a large share
 * of their time on the fold's Gram columns, which a worker caches: all paths of a fold then go to one worker as one
 * batch, so each fold's Gram is computed once and the folds run side by side (when there are at least as many folds
 * as workers). Otherwise every task is its own batch, fold by fold, longer paths first.
 */
export function scheduleBatches(tasks: Task[], workers: number, bundleFolds: boolean): Task[][] {
  const byFold = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = String(t.fold);
    if (!byFold.has(key)) byFold.set(key, []);
    byFold.get(key)!.push(t);
  }
  const folds = [...byFold.values()].map((ts) => ts.sort((a, b) => b.lambdas.length - a.lambdas.length));
  if (bundleFolds && folds.length >= workers) return folds;
  return folds.flat().map((t) => [t]);
}

/** Whether the paths of one fold share Gram columns (coordinate descent in covariance mode: every fold has n_train > p). */
function sharesGram(config: SweepConfig, foldOf: Int32Array, p: number): boolean {
  const sizes = new Map<number, number>();
  for (const f of foldOf) if (f >= 0) sizes.set(f, (sizes.get(f) ?? 0) + 1);
  const smallestTrain = foldOf.length - Math.max(0, ...sizes.values());
  return config.model.kind === 'linear' && config.model.solver === 'cd' && smallestTrain > p;
}

/** Finds the sweep to continue, or makes a new one; refuses a changed config unless asked for a new sweep. */
function openSweep(store: Store, loaded: LoadedConfig, data: Dataset, configHash: string, tasks: Task[], options: RunOptions): SweepRecord {
  const { config } = loaded;
  const existing = store.latestSweep(config.name);
  const db = displayPath(loaded.outputPath);
  if (existing && !options.fresh) {
    if (existing.configHash !== configHash || existing.dataHash !== data.hash) {
      const what = existing.configHash !== configHash ? 'a different config' : 'different data';
      throw new UserError(
        `${db} already holds sweep "${config.name}" made from ${what}; ` +
          `rerun with --new to start a new sweep in the same database, or --out to write another one`,
      );
    }
    return existing;
  }
  if (options.resume && !existing) throw new UserError(`--resume: ${db} holds no sweep named "${config.name}"`);
  return store.createSweep({
    name: config.name,
    configJson: JSON.stringify(config),
    configHash,
    dataHash: data.hash,
    n: data.n,
    p: data.p,
    modelKind: config.model.kind,
    featureNames: data.featureNames,
    targetNames: data.targetNames,
    classes: data.classes ?? null,
    totalTasks: tasks.length,
    totalTrials: trialCount(tasks),
  });
}

/**
 * λ_max per l1_ratio on all rows: max_j |⟨x̃_j, y − ȳ⟩| / (n · max(α, 1e-3)). The maximum does not depend on α,
 * so it is computed once (a pass over X) for every α and the auto grid.
 */
function lambdaMaxFor(config: SweepConfig, data: Dataset): (alpha: number) => number {
  let largest: number | undefined;
  return (alpha) => {
    if (config.model.kind === 'mlp') throw new UserError(`sweep.lambda.auto: λ_max is defined for linear and logistic models; give the network a list or log_range`);
    if (largest === undefined) {
      const all = foldWeights(new Int32Array(data.n).fill(-1), 'all').train;
      // For 0/1 labels the logistic λ_max has the same form.
      largest = gaussianLambdaMax({ X: data.X, n: data.n, p: data.p }, data.y, all, config.data.standardize, 1);
      if (!(largest > 0)) throw new UserError(`sweep.lambda.auto: the target is constant, so every λ gives the same (empty) model`);
    }
    return largest / Math.max(alpha, 1e-3);
  };
}

/** The settings that change results; workers and output do not. Keys sorted so key order in the file does not matter. */
export function hashConfig(config: SweepConfig): string {
  const { workers: _w, output: _o, ...rest } = config;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function failedTrials(task: Task, error: string): TrialResult[] {
  return task.lambdas.map((lambda) => ({
    lambda,
    status: 'failed',
    converged: false,
    error,
    trainLoss: null,
    valLoss: null,
    nTrain: 0,
    nVal: 0,
    nnz: 0,
    zeroFraction: 0,
    nearZeroFraction: 0,
    l1Norm: 0,
    l2Norm: 0,
    iterations: 0,
    seconds: 0,
    metrics: {},
  }));
}

/** The built worker module (piscina needs JavaScript). */
function workerFile(): string {
  return pathToFileURL(builtFile(join('workers', 'piscinaEntry.js'))).href;
}
