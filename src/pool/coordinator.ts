// The coordinator: plan → open or resume the sweep in its store → run the batches on a worker pool → finalize.
// The only writer of a sweep; every input problem is found before the store is opened.
import { createHash } from 'node:crypto';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { displayPath } from '../util/paths.js';
import { configSchema, type SweepConfig } from '../config/schema.js';
import { loadData } from '../data/load.js';
import type { Dataset } from '../data/dataset.js';
import { sharedInt32 } from '../data/dataset.js';
import type { Selection, Sweep, Task } from '../domain.js';
import { UserError } from '../errors.js';
import { DEFAULT_PLAN_LIMITS, planSweep, type PlanLimits, type SweepPlan } from '../plan/plan.js';
import { trialCount } from '../plan/tasks.js';
import { countsLine, countTrials, type TrialCounts } from '../select/counts.js';
import { edgeWarning, selectLambdas, selectionsToShow, summarize } from '../select/cv.js';
import type { Store } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { databaseFiles, refuseProtectedOutput } from '../util/files.js';
import { runBatches, type BatchRun } from './batches.js';

export interface RunOptions {
  workers?: number;
  /** Database path or store URL; overrides the config's output. */
  out?: string;
  /** Require an existing sweep to continue. */
  resume?: boolean;
  /** Start a new sweep even if the database holds one of the same name. */
  fresh?: boolean;
  signal?: AbortSignal;
  onStart?: (info: { sweep: Sweep; total: number; alreadyDone: number; tasks: number }) => void;
  onProgress?: (info: { done: number; total: number }) => void;
  log?: (message: string) => void;
  /** Planned-size limits (--max-trials, --max-db-gb). */
  limits?: Partial<PlanLimits>;
  /** How long a write waits for a lock held by another process (ms). */
  lockTimeoutMs?: number;
}

export interface RunResult {
  sweep: Sweep;
  location: string;
  tasksRun: number;
  tasksSkipped: number;
  tasksFailed: number;
  trials: number;
  counts: TrialCounts;
  interrupted: boolean;
  selections: Selection[];
  /** Notes from the run, one line per kind: grid edges, trials not converged or not usable (stored with the sweep, after the data's notes, which were logged when the run started). */
  notes: string[];
  /** Whether the workers split their Gram blocks with helper threads (fewer batches than cores). */
  gramHelper: boolean;
}

/** Runs (or resumes) the sweep a config file describes; the library entry point behind `regsweep run`. */
export async function runSweep(configPath: string, options: RunOptions = {}): Promise<RunResult> {
  const loaded = loadConfig(configPath, { output: options.out, workers: options.workers });
  guardOutput(loaded, configPath, options);
  const data = await loadData(loaded);
  return runLoadedSweep(loaded, data, options);
}

/** The output must not be the sweep file, the data, or a database's companion file. */
function guardOutput(loaded: LoadedConfig, configPath: string, options: RunOptions): void {
  if (/^[a-z]+:\/\//i.test(loaded.outputPath)) return;
  const option = options.out !== undefined ? '--out' : 'output:';
  const inputs = [{ path: configPath, what: 'the sweep file' }, ...(loaded.dataPath ? [{ path: loaded.dataPath, what: 'the data file' }] : [])];
  refuseProtectedOutput(loaded.outputPath, inputs, option);
  for (const suffix of ['-wal', '-shm', '-journal'])
    if (loaded.outputPath.endsWith(suffix))
      refuseProtectedOutput(loaded.outputPath, databaseFiles(loaded.outputPath.slice(0, -suffix.length)).concat({ path: loaded.outputPath, what: "another database's companion file" }), option);
}

export async function runLoadedSweep(loaded: LoadedConfig, data: Dataset, options: RunOptions = {}): Promise<RunResult> {
  const { config } = loaded;
  const log = options.log ?? (() => {});
  const plan = planSweep(loaded, data, { ...DEFAULT_PLAN_LIMITS, ...options.limits });
  for (const w of data.warnings) log(`warning: ${w}`);

  const store = await openStore(loaded.outputPath, { mode: 'write', lockTimeoutMs: options.lockTimeoutMs, mustExist: options.resume });
  try {
    const { sweep, todo, done } = await openOrResume(store, loaded, data, plan, options);
    const total = plan.totalTrials;
    const alreadyDone = trialCount(plan.tasks.filter((t) => done.has(t.id)));
    options.onStart?.({ sweep, total, alreadyDone, tasks: todo.length });
    const run = await runTasks(store, sweep, todo, plan, data, config, { ...options, alreadyDone, total });
    const result = await finalize(store, sweep, loaded, data, plan, run);
    // The last word: results written to a database file that was deleted or replaced meanwhile are lost.
    await store.ensureIntact();
    return result;
  } finally {
    await store.close();
  }
}

/** Finds the sweep to continue, or makes a new one; refuses a changed config unless asked for a new sweep. */
async function openOrResume(store: Store, loaded: LoadedConfig, data: Dataset, plan: SweepPlan, options: RunOptions) {
  const { config } = loaded;
  const configHash = hashConfig(config);
  const existing = await store.latestSweep(config.name);
  const db = displayPath(store.location);
  let sweep: Sweep;
  if (existing && !options.fresh) {
    if (!sameConfig(existing, configHash) || existing.dataHash !== data.hash) {
      const what = existing.dataHash !== data.hash ? 'different data' : 'a different config';
      throw new UserError(
        `${db} already holds sweep "${config.name}" made from ${what}; ` +
          `rerun with --new to start a new sweep in the same database, or --out to write another one`,
      );
    }
    await store.beginWriting(existing.id);
    await store.addTasks(existing.id, plan.tasks);
    sweep = existing;
  } else {
    if (options.resume) throw new UserError(`--resume: ${db} holds no sweep named "${config.name}"`);
    sweep = await store.createSweep(
      {
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
        totalTasks: plan.tasks.length,
        totalTrials: plan.totalTrials,
        notes: data.warnings,
      },
      plan.tasks,
    );
  }
  const done = await store.finishedTaskIds(sweep.id);
  return { sweep, done, todo: plan.tasks.filter((t) => !done.has(t.id)) };
}

async function runTasks(store: Store, sweep: Sweep, todo: Task[], plan: SweepPlan, data: Dataset, config: SweepConfig, options: RunOptions & { alreadyDone: number; total: number }): Promise<BatchRun> {
  const foldOf = sharedInt32(data.n);
  foldOf.set(plan.folds.foldOf);
  let finished = options.alreadyDone;
  return runBatches({
    store,
    sweepId: sweep.id,
    tasks: todo,
    shared: { X: data.X, y: data.y, n: data.n, p: data.p, outputs: data.outputs, foldOf },
    settings: { model: config.model, standardize: config.data.standardize, nearZero: config.near_zero },
    workers: config.workers,
    covariance: sharesGram(config, plan.folds.foldOf, data.p),
    signal: options.signal,
    log: options.log ?? (() => {}),
    onBatch: (batch) => {
      finished += trialCount(batch);
      options.onProgress?.({ done: finished, total: options.total });
    },
  });
}

/** The summary, the selections and the notes once every task ran; the sweep left interrupted otherwise. */
async function finalize(store: Store, sweep: Sweep, loaded: LoadedConfig, data: Dataset, plan: SweepPlan, run: BatchRun): Promise<RunResult> {
  const { config } = loaded;
  let selections: Selection[] = [];
  const notes: string[] = [];
  let counts: TrialCounts = { total: 0, usable: 0, diverged: 0, failed: 0 };
  if (run.stoppedBy) {
    // The store failed (disk full, a lock held too long, the file deleted): say so once, keep what was recorded.
    await store.setSweepStatus(sweep.id, 'interrupted').catch(() => undefined);
    throw run.stoppedBy;
  }
  if (run.interrupted) {
    await store.setSweepStatus(sweep.id, 'interrupted');
  } else {
    const trials = await store.trials(sweep.id);
    const summary = summarize(trials);
    selections = selectLambdas(summary);
    await store.writeSummary(sweep.id, summary, selections);
    selections = selectionsToShow(selections, config.sweep.kind);
    for (const s of selections) {
      const w = edgeWarning(s);
      if (w) notes.push(w);
    }
    counts = countTrials(trials, config.model.kind);
    const notConverged = trials.filter((t) => t.status === 'ok' && !t.converged).length;
    if (notConverged) notes.push(`${notConverged} trial(s) stopped at max_iter before converging (column converged = 0); raise model.max_iter or tol`);
    if (counts.usable < counts.total) notes.push(countsLine(counts));
    await store.setNotes(sweep.id, [...data.warnings, ...notes]);
    await store.setSweepStatus(sweep.id, 'done');
  }
  return {
    sweep: (await store.latestSweep(sweep.name)) ?? sweep,
    location: store.location,
    tasksRun: run.interrupted ? 0 : run.tasksRun,
    tasksSkipped: plan.tasks.length - run.tasksPlanned,
    tasksFailed: run.tasksFailed,
    trials: plan.totalTrials,
    counts,
    interrupted: run.interrupted,
    selections,
    notes,
    gramHelper: run.gramHelper,
  };
}

/** Whether the paths of one fold share Gram columns (coordinate descent in covariance mode: every fold has n_train > p). */
function sharesGram(config: SweepConfig, foldOf: Int32Array, p: number): boolean {
  const sizes = new Map<number, number>();
  for (const f of foldOf) if (f >= 0) sizes.set(f, (sizes.get(f) ?? 0) + 1);
  const smallestTrain = foldOf.length - Math.max(0, ...sizes.values());
  return config.model.kind === 'linear' && config.model.solver === 'cd' && smallestTrain > p;
}

/** The settings that change results; workers and output do not. Keys sorted so key order in the file does not matter. */
export function hashConfig(config: SweepConfig): string {
  const { workers: _w, output: _o, ...rest } = config;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * Whether a stored sweep was made from this config: its stored config is read again with today's schema (new keys
 * get their defaults, renamed keys their new names), so a database made by an older version resumes.
 */
function sameConfig(existing: Sweep, configHash: string): boolean {
  if (existing.configHash === configHash) return true;
  const reread = configSchema.safeParse(JSON.parse(existing.configJson));
  return reread.success && hashConfig(reread.data) === configHash;
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

