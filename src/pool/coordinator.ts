import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
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
import type { SharedData, TaskMessage, TaskResult, TrialResult } from './protocol.js';

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
  const pool = new Piscina({
    filename: workerFile(),
    maxThreads: config.workers,
    minThreads: Math.min(config.workers, todo.length || 1),
    idleTimeout: 1000,
    workerData: shared,
  });

  let tasksFailed = 0;
  let interrupted = false;
  const abort = new AbortController();
  // Every queued task listens on this one signal.
  setMaxListeners(Infinity, abort.signal);
  const onAbort = () => {
    interrupted = true;
    abort.abort();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  store.setSweepStatus(sweep.id, 'running');
  try {
    // Largest paths first, so the last task to finish is a short one.
    const order = [...todo].sort((a, b) => b.lambdas.length - a.lambdas.length);
    await Promise.all(
      order.map(async (task) => {
        const message: TaskMessage = { task, model: config.model, standardize: config.data.standardize, nearZero: config.near_zero };
        let result: TaskResult;
        try {
          result = (await pool.run(message, { signal: abort.signal })) as TaskResult;
        } catch (e) {
          if (interrupted) return;
          // A task that throws is recorded as failed trials; the sweep goes on and a resume retries it.
          tasksFailed++;
          const error = e instanceof Error ? e.message : String(e);
          log(`task ${task.id} failed: ${error}`);
          store.recordTask(sweep.id, task, failedTrials(task, error), null, null, data.outputs);
          finished += task.lambdas.length;
          options.onProgress?.({ done: finished, total });
          return;
        }
        if (interrupted) return;
        store.recordTask(sweep.id, task, result.trials, result.coefs, result.intercepts, data.outputs);
        finished += task.lambdas.length;
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
  };
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

/** λ_max per l1_ratio on all rows; cached because every fold and the auto grid share it. */
function lambdaMaxFor(config: SweepConfig, data: Dataset): (alpha: number) => number {
  const cache = new Map<number, number>();
  const all = foldWeights(new Int32Array(data.n).fill(-1), 'all').train;
  const design = { X: data.X, n: data.n, p: data.p };
  return (alpha) => {
    let v = cache.get(alpha);
    if (v === undefined) {
      if (config.model.kind === 'mlp') throw new UserError(`sweep.lambda.auto: λ_max is defined for linear and logistic models; give the network a list or log_range`);
      // For 0/1 labels the logistic λ_max has the same form: max_j |⟨x̃_j, y − ȳ⟩| / (n α).
      v = gaussianLambdaMax(design, data.y, all, config.data.standardize, alpha);
      if (!(v > 0)) throw new UserError(`sweep.lambda.auto: the target is constant, so every λ gives the same (empty) model`);
      cache.set(alpha, v);
    }
    return v;
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

/** The built worker module (piscina needs JavaScript); found from the package root so tests of src/ use it too. */
function workerFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const file = join(dir, 'dist', 'workers', 'piscinaEntry.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return pathToFileURL(file).href;
}
