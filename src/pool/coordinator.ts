// `run`: plan → open or resume the sweep in its store → work on it (pool/work.ts) → finish it. Every input problem is
// found before the store is opened.
import { createHash } from 'node:crypto';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { configSchema, type SweepConfig } from '../config/schema.js';
import { loadData } from '../data/load.js';
import type { Dataset } from '../data/dataset.js';
import { sharedInt32 } from '../data/dataset.js';
import { toStoredDataset } from '../data/stored.js';
import { featureScales } from '../data/scales.js';
import { fillGroups } from '../data/imputation.js';
import type { Selection, Sweep, Trial } from '../domain.js';
import { UserError } from '../errors.js';
import { DEFAULT_PLAN_LIMITS, planSweep, type PlanLimits, type SweepPlan } from '../plan/plan.js';
import { fitsInline } from '../plan/schedule.js';
import { countTrials, countsOf, type TrialCounts } from '../select/counts.js';
import { selectionsToShow } from '../select/cv.js';
import { summarizeSweep } from '../select/summary.js';
import type { Store, StoredFolds } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { databaseFiles, refuseProtectedOutput } from '../util/files.js';
import { displayPath, isStoreUrl, maskedLocation } from '../util/paths.js';
import { fitSettings, openRunner, workOn, type BatchRunner, type WorkResult } from './work.js';
import { extensionsDone, extensionTasks } from './extend.js';
import { nextTasks } from '../plan/proposals.js';
import type { SharedData } from '../fitting/fitTask.js';
import { denseAsSparse, groupByFold, type SparseEligible } from '../fitting/shared/sparseColumns.js';
import type { FoldAssignment } from '../plan/folds.js';
import { selectLambdas, summarize } from '../select/cv.js';

export interface RunOptions {
  workers?: number;
  /** Database path or store URL; overrides the config's output. */
  out?: string;
  /** Require an existing sweep to continue. */
  resume?: boolean;
  /** Start a new sweep even if the store holds one of the same name. */
  fresh?: boolean;
  /** Queue the sweep's failed tasks again before working. */
  retryFailed?: boolean;
  signal?: AbortSignal;
  onStart?: (info: { sweep: Sweep; total: number; alreadyDone: number; tasks: number }) => void;
  onProgress?: (info: { done: number; total: number }) => void;
  log?: (message: string) => void;
  /** Planned-size limits (--max-trials, --max-db-gb). */
  limits?: Partial<PlanLimits>;
  /** How long a write waits for a lock held by another process (ms; SQLite). */
  lockTimeoutMs?: number;
  /** How long a claim holds without renewal (ms). */
  leaseMs?: number;
  /** Attempts a task that throws gets before it is recorded as failed. */
  maxAttempts?: number;
  /** How long a lost connection to a shared store is waited for (ms). */
  reconnectMs?: number;
  /** Fit on the calling thread (true) or on worker threads (false); default: on this thread when the sweep is tiny. */
  inline?: boolean;
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
/** How long run and worker wait for a lost (or not yet reachable) shared store: a server restart, a failover. */
export const DEFAULT_RECONNECT_MS = 600_000;

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
  /** Notes from the run, one line per kind: grid edges, trials not converged or not usable. */
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
  if (isStoreUrl(loaded.outputPath)) return;
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
  if (data.sparse) log(sparseHeader(data));

  const store = await openStore(loaded.outputPath, { mode: 'write', lockTimeoutMs: options.lockTimeoutMs, mustExist: options.resume, signal: options.signal, reconnectMs: options.reconnectMs ?? DEFAULT_RECONNECT_MS });
  try {
    const sweep = await openOrResume(store, loaded, data, plan, options);
    if (options.retryFailed) {
      const { failed, released } = await store.requeueFailed(sweep.id);
      if (failed) log(`${failed} failed task(s) queued again`);
      if (released) log(`${released} claimed task(s) whose owner stopped renewing its lease queued again`);
    }
    const before = await store.taskCounts(sweep.id);
    const alreadyDone = before.trialsRecorded;
    options.onStart?.({ sweep, total: plan.totalTrials, alreadyDone, tasks: before.pending + before.running });
    const shared = sweepSharedData(config, data, plan.folds, log);
    let total = Math.max(plan.totalTrials, sweep.totalTrials);
    const inline = () => options.inline ?? fitsInline(total, data, config.model.kind, config.workers);
    const work = (runner?: BatchRunner) =>
      workOn({
        store,
        sweepId: sweep.id,
        shared,
        settings: fitSettings(config, total, { ...plan, featureScales: featureScales(data) }),
        workers: config.workers,
        covariance: sharesGram(config, plan.folds, data.p),
        leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
        maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        signal: options.signal,
        log,
        onProgress: (counts) => options.onProgress?.({ done: counts.trialsRecorded, total }),
        inline: inline(),
        command: 'run',
        ...(runner ? { runner } : {}),
      });
    const spec = config.sweep;
    // A TPE sweep's batches run on threads kept from one batch to the next.
    const runner = spec.kind === 'tpe' ? await openRunner(inline() ? 0 : config.workers, shared, log) : undefined;
    let worked: WorkResult;
    try {
      worked = await workThrough(store, sweep, plan.folds.count, () => work(runner));
    } finally {
      await runner?.destroy();
    }
    let result = await finish(store, sweep, worked, { tasksSkipped: before.done + before.failed, totalTrials: total });
    // A best λ on the edge of the grid: the grid grows past it, a decade at a time, up to sweep.extend times.
    while (!result.interrupted && spec.kind === 'grid' && result.sweep.status === 'done') {
      // The stored selections say whether any best λ is on an edge: only then are the trials read again.
      if (spec.extend === 0 || !(await store.selections(sweep.id)).some((s) => s.edge && s.penalty !== 'none')) break;
      const trials = await store.trials(sweep.id);
      const round = extensionsDone(trials) + 1;
      if (round > spec.extend) break;
      const extension = extensionTasks(trials, selectLambdas(summarize(trials)), plan.folds.count, round);
      if (extension.tasks.length === 0) break;
      for (const note of extension.notes) log(note);
      await store.addTasks(sweep.id, extension.tasks);
      await store.reopenSweep(sweep.id);
      total = (await store.findSweep({ id: sweep.id })).totalTrials;
      result = await finish(store, sweep, await work(), { tasksSkipped: result.tasksSkipped, totalTrials: total });
    }
    // The last word: results written to a database file that was deleted or replaced meanwhile are lost.
    await store.ensureIntact();
    return result;
  } finally {
    await store.close();
  }
}

/**
 * Works on a sweep until no task is left. A TPE sweep: once every point so far has finished, the next batch is proposed
 * from them until its budget is spent (the sweep is finished, its summary made, only then) — by whichever process, run or
 * worker, gets there first: the proposal is a function of the finished points and of the sweep as stored (read again
 * with today's defaults, its `workers` the batch size when the file gives none), so they all propose the same batch,
 * which is stored once.
 */
export async function workThrough(store: Store, sweep: Sweep, foldCount: number, work: () => Promise<WorkResult>): Promise<WorkResult> {
  let worked = await work();
  const stored = configSchema.safeParse(JSON.parse(sweep.configJson));
  if (!stored.success || stored.data.sweep.kind !== 'tpe') return worked;
  const spec = stored.data.sweep;
  while (!worked.interrupted && !worked.stoppedBy) {
    // The trials are read between two counts of the tasks: when another process stored its batch meanwhile (some of
    // whose points may be half done in what was read), that batch is worked on instead of proposing from a mixture.
    const before = await store.taskCounts(sweep.id);
    const trials = await store.trials(sweep.id);
    const after = await store.taskCounts(sweep.id);
    if (before.pending + before.running > 0 || after.total !== before.total) {
      worked = addWork(worked, await work());
      continue;
    }
    const proposed = nextTasks(spec, trials, foldCount, spec.batch ?? stored.data.workers);
    if (proposed.length === 0) break;
    await store.addTasks(sweep.id, proposed);
    worked = addWork(worked, await work());
  }
  return worked;
}

/** The run's line about a sparse design: its size, how sparse, and how it is fitted. */
function sparseHeader({ source, n, p, sparse }: Dataset): string {
  const nonzeros = sparse!.values.length;
  return `${source}: a sparse design, ${n} × ${p} with ${nonzeros} nonzeros (${percentOf(nonzeros, n * p)}%), fitted on its compressed columns`;
}

/** A share of cells in percent as the run's lines write it: two significant digits below 0.1%, else one decimal. */
function percentOf(part: number, whole: number): string {
  const share = (100 * part) / whole;
  return share < 0.1 ? share.toPrecision(2) : share.toFixed(1);
}

/** The data every worker reads, with the folds of every row. */
export function sharedData(
  data: Pick<Dataset, 'X' | 'sparse' | 'y' | 'n' | 'p' | 'outputs' | 'classes' | 'offset' | 'encoding' | 'weights'>,
  folds: Pick<FoldAssignment, 'foldOf' | 'perRepeat'>,
  /** The model, when a dense design may be fitted on its compressed columns (data.compress_columns: auto). */
  compressFor: SparseEligible | null,
): SharedData {
  const foldOf = sharedInt32(folds.foldOf.length);
  foldOf.set(folds.foldOf);
  const fills = fillGroups(data.encoding, data.X, data.n);
  // A dense design mostly of zeros, for a model fitted faster on its nonzeros: compressed once, shared by the threads.
  const sparse = data.sparse ?? (compressFor ? denseAsSparse(compressFor, data.X, data.n, data.p, fills.length > 0) : undefined);
  // In place, once the folds are known: a fold's path then reads each column without its held-out rows.
  if (sparse) groupByFold(sparse, foldOf, folds.perRepeat, data.n);
  return {
    X: data.X,
    ...(sparse ? { sparse } : {}),
    y: data.y,
    n: data.n,
    p: data.p,
    outputs: data.outputs,
    foldOf,
    foldsPerRepeat: folds.perRepeat,
    classes: data.classes?.length ?? 0,
    offset: data.offset ?? null,
    fills,
    weights: data.weights ?? null,
  };
}

/**
 * A sweep's shared data as its config asks (data.compress_columns), for a run and for a worker alike; the line saying
 * a dense design is fitted on its compressed columns goes to `log`.
 */
export function sweepSharedData(config: SweepConfig, data: Dataset, folds: Pick<FoldAssignment, 'foldOf' | 'perRepeat'>, log: (line: string) => void): SharedData {
  const shared = sharedData(data, folds, config.data.compress_columns === 'never' ? null : config.model);
  if (!data.sparse && shared.sparse) {
    log(`${data.source}: ${percentOf(shared.sparse.values.length, data.n * data.p)}% of the design's ${data.n} × ${data.p} values are nonzero: fitted on its compressed columns, as a sparse file is`);
  }
  return shared;
}

/** The folds as a store keeps them. */
function storedFolds(folds: FoldAssignment): StoredFolds {
  return { foldOf: folds.foldOf, perRepeat: folds.perRepeat, repeats: folds.repeats, labels: folds.labels ?? null };
}

/** Finds the sweep to continue, or makes a new one; refuses a changed config unless asked for a new sweep. */
async function openOrResume(store: Store, loaded: LoadedConfig, data: Dataset, plan: SweepPlan, options: RunOptions): Promise<Sweep> {
  const { config } = loaded;
  const configHash = hashConfig(config);
  const existing = await store.latestSweep(config.name);
  const db = displayPath(store.location);
  if (existing && !options.fresh) {
    if (!sameConfig(existing, configHash) || existing.dataHash !== data.hash) {
      const tol = existing.dataHash === data.hash ? toleranceOnlyChange(existing, config) : undefined;
      if (tol && !loaded.gives(['model', 'tol']))
        throw new UserError(
          `${db} already holds sweep "${config.name}" fitted at model.tol ${tol.old}, the default before this version (now ${tol.now}); ` +
            `add tol: ${tol.old} under model: in the sweep file to resume it, or rerun with --new`,
        );
      const what = existing.dataHash !== data.hash ? 'different data' : 'a different config';
      throw new UserError(
        `${db} already holds sweep "${config.name}" made from ${what}; ` +
          `rerun with --new to start a new sweep in the same database, or --out to write another one`,
      );
    }
    await store.beginWriting(existing.id);
    await store.addTasks(existing.id, plan.tasks);
    return existing;
  }
  if (options.resume) throw new UserError(`--resume: ${db} holds no sweep named "${config.name}"`);
  const made = await store.createSweep(
    {
      name: config.name,
      // A store URL in the config keeps its password out of the database.
      configJson: JSON.stringify(config.output && isStoreUrl(config.output) ? { ...config, output: maskedLocation(config.output) } : config),
      configHash,
      dataHash: data.hash,
      n: data.n,
      p: data.p,
      modelKind: config.model.kind,
      featureNames: data.featureNames,
      targetNames: data.targetNames,
      classes: data.classes ?? null,
      encoding: data.encoding ?? null,
      featureScales: featureScales(data),
      totalTasks: plan.tasks.length,
      totalTrials: plan.totalTrials,
      notes: data.warnings,
    },
    plan.tasks,
    store.shared ? toStoredDataset(data) : undefined,
    storedFolds(plan.folds),
    // --new makes a sweep whatever is there; otherwise only if no other run made one of this name since we looked.
    options.fresh ? undefined : (existing?.id ?? null),
  );
  return made.created ? made.sweep : openOrResume(store, loaded, data, plan, options);
}

/**
 * After this process's work: the sweep finished (summary and selections, by whichever process gets there first),
 * or left interrupted when the user stopped it; a failing store's cause is thrown after the sweep is marked.
 */
export async function finish(store: Store, sweep: Sweep, work: WorkResult, figures: { tasksSkipped: number; totalTrials: number }): Promise<RunResult> {
  const config = JSON.parse(sweep.configJson) as SweepConfig;
  if (work.stoppedBy) {
    if (!store.shared) await store.setSweepStatus(sweep.id, 'interrupted').catch(() => undefined);
    throw work.stoppedBy;
  }
  // What the run says about its trials: from the trials summarized here, or (when another process finished the
  // sweep, or it was stopped) read back.
  let seen: { counts: TrialCounts; notes: string[] } | undefined;
  const summarize = (trials: Trial[], s: Sweep) => {
    const summary = summarizeSweep(trials, { modelKind: s.modelKind, sweepKind: config.sweep.kind });
    seen = { counts: countTrials(trials, s.modelKind), notes: summary.notes };
    return summary;
  };
  if (work.interrupted) {
    // On a shared store other processes may still be working on the sweep; it stays as it is there.
    if (!store.shared) await store.setSweepStatus(sweep.id, 'interrupted');
  } else await store.finishSweep(sweep.id, summarize);
  const now = await store.findSweep({ id: sweep.id });
  // Another process finished the sweep (or it was finished before): what it found is stored, no trial is read again.
  if (!work.interrupted && !seen) seen = { counts: countsOf(await store.trialTally(sweep.id), sweep.modelKind), notes: now.runNotes };
  return {
    sweep: now,
    location: store.location,
    tasksRun: work.interrupted ? 0 : work.tasksRun,
    tasksSkipped: figures.tasksSkipped,
    tasksFailed: work.tasksFailed,
    trials: figures.totalTrials,
    counts: seen?.counts ?? { total: 0, usable: 0, diverged: 0, failed: 0, pruned: 0 },
    interrupted: work.interrupted,
    selections: work.interrupted ? [] : selectionsToShow(await store.selections(sweep.id), config.sweep.kind),
    notes: seen?.notes ?? [],
    gramHelper: work.gramHelper,
  };
}

/**
 * Whether the paths of one fold share Gram columns (coordinate descent in covariance mode: a single-response linear
 * model, and every fold has n_train > p).
 */
export function sharesGram(config: SweepConfig, folds: Pick<FoldAssignment, 'foldOf' | 'repeats'>, p: number): boolean {
  const n = folds.foldOf.length / Math.max(1, folds.repeats);
  const sizes = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const f = folds.foldOf[i];
    if (f >= 0) sizes.set(f, (sizes.get(f) ?? 0) + 1);
  }
  const smallestTrain = n - Math.max(0, ...sizes.values());
  const single = !config.data.target || !Array.isArray(config.data.target) || config.data.target.length === 1;
  const m = config.model;
  // Per-feature penalties and bounds are fitted by naive updates, which keep no Gram matrix.
  const perFeature = m.kind === 'linear' && (m.penalty_factor !== undefined || m.limits !== undefined || !!m.nonnegative || !!m.group_categorical);
  return m.kind === 'linear' && m.solver === 'cd' && smallestTrain > p && single && !perFeature;
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

/** The stored sweep's tol and this config's when that is all that differs (a default that changed), else undefined. */
function toleranceOnlyChange(existing: Sweep, config: SweepConfig): { old: number; now: number } | undefined {
  const reread = configSchema.safeParse(JSON.parse(existing.configJson));
  if (!reread.success || reread.data.model.kind === 'mlp' || config.model.kind === 'mlp') return undefined;
  const old = reread.data.model.tol;
  const now = config.model.tol;
  if (old === now) return undefined;
  return hashConfig({ ...reread.data, model: { ...reread.data.model, tol: now } } as SweepConfig) === hashConfig(config) ? { old, now } : undefined;
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

/** Two rounds of work as one: counts added, the last round's state. */
function addWork(a: WorkResult, b: WorkResult): WorkResult {
  return {
    ...b,
    tasksRun: a.tasksRun + b.tasksRun,
    tasksFailed: a.tasksFailed + b.tasksFailed,
    fenced: a.fenced + b.fenced,
    retries: a.retries + b.retries,
    leasesLost: a.leasesLost + b.leasesLost,
    takenOver: a.takenOver + b.takenOver,
    gramHelper: a.gramHelper || b.gramHelper,
  };
}
