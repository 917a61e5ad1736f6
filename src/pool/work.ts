// Working on a sweep: claim batches of tasks from the store, run them on a worker pool, record each result under its
// claim. The same loop serves `run` (SQLite: this process claims everything) and every process on a shared store
// (PostgreSQL: claims compete, leases are renewed, a task whose lease runs out is taken over).
import { randomBytes } from 'node:crypto';
import { hostname, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFile } from '../builtFile.js';
import type { TaskOutcome } from '../domain.js';
import type { BatchMessage, FitSettings, SharedData } from '../fitting/fitTask.js';
import type { SweepConfig } from '../config/schema.js';
import { createRungBoard, RungBoard } from '../fitting/shared/rungBoard.js';
import { gridOf } from '../plan/grid.js';
import { pruneRungs } from '../plan/settings.js';
import { threadsFor } from '../plan/schedule.js';
import type { Claim, Completion, CompletionVerdict, ProcessReport, Store, TaskCounts } from '../store/contract.js';

export interface WorkInput {
  store: Store;
  sweepId: number;
  shared: SharedData;
  settings: FitSettings;
  workers: number;
  /** Whether a fold's paths share Gram columns (then a fold is claimed as one batch when there are enough folds). */
  covariance: boolean;
  /** How long a claim holds without renewal (ms); renewed every third of it. */
  leaseMs: number;
  /** Attempts a task that throws gets before it is recorded as failed. */
  maxAttempts: number;
  signal?: AbortSignal;
  log: (message: string) => void;
  /** After every recorded task, and while waiting for other processes. */
  onProgress?: (counts: TaskCounts) => void;
  /** Fit on this thread instead of starting worker threads (a tiny sweep: plan/schedule.fitsInline). */
  inline?: boolean;
  /** Which command works: said in its reports to the store (status, metrics). */
  command: 'run' | 'worker';
  /** Threads kept across calls (a TPE sweep's rounds: openRunner); absent: this call starts and stops its own. */
  runner?: BatchRunner;
}

/** Where batches run: a pool of worker threads, or this thread. */
export interface BatchRunner {
  /** A batch's outcomes, and the seconds spent running it (the time it waited for a thread left out). */
  run(message: BatchMessage): Promise<{ outcomes: TaskOutcome[]; seconds: number }>;
  destroy(): Promise<void>;
}

export interface WorkResult {
  /** Tasks this process recorded (done or failed). */
  tasksRun: number;
  tasksFailed: number;
  /** Results not recorded because another process had taken the task over (its lease had run out). */
  fenced: number;
  /** Failed attempts queued again. */
  retries: number;
  /** Claims found taken over when renewing them. */
  leasesLost: number;
  /** Tasks taken over from a process whose lease had run out. */
  takenOver: number;
  /** Stopped by the user (Ctrl-C, SIGTERM). */
  interrupted: boolean;
  /** Stopped because the store failed: the cause, said once. */
  stoppedBy?: Error;
  gramHelper: boolean;
}

/** "host:pid:nonce": who holds a claim. */
function ownerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Outcomes recorded in one transaction at most. */
const RECORD_GROUP = 64;
/** Seconds of work a thread's claim is sized to on a shared store, and the most tasks it takes at once. */
const CLAIM_SECONDS = 1;
const MAX_CLAIMED_PER_THREAD = 128;
/** After a claim that got fewer tasks than asked, how long before claiming ahead again. */
const SHORT_CLAIM_PAUSE_MS = 500;
/** How often a process exchanges successive-halving losses with the others on a shared store. */
const RUNG_SYNC_MS = 250;

export async function workOn(input: WorkInput): Promise<WorkResult> {
  const start = await input.store.taskCounts(input.sweepId);
  if (start.pending + start.running === 0) return emptyResult();
  const work = new WorkLoop(input, start);
  await work.begin();
  try {
    await work.loop();
  } finally {
    await work.wind();
  }
  return work.end();
}

const emptyResult = (): WorkResult => ({ tasksRun: 0, tasksFailed: 0, fenced: 0, retries: 0, leasesLost: 0, takenOver: 0, interrupted: false, gramHelper: false });

/**
 * One process's work on a sweep, in named steps: claim batches (claimMore), run them (runBatch), record their
 * outcomes a transaction at a time (recordWaiting), renew the leases of what it holds (renew), and at the end give
 * back what it did not finish (end). The loop sleeps until a batch comes back, the user stops it, or it is time to
 * look at the queue again.
 */
class WorkLoop {
  private readonly store: Store;
  private readonly sweepId: number;
  private readonly owner = ownerId();
  private readonly result = emptyResult();
  /** A fold's paths go together when there are folds enough to keep every worker busy; otherwise one task a batch. */
  private readonly bundleFolds: boolean;
  private readonly threads: number;
  private readonly gramHelper: boolean;
  private pool!: BatchRunner;
  private stopping = false;
  private readonly inFlight = new Set<Claim[]>();
  /** Claims held and not yet answered by the store (recorded, queued again or fenced): renewed, and released when stopped. */
  private readonly held = new Set<Claim>();
  /** Outcomes waiting to be recorded: one transaction records all that came back meanwhile. */
  private readonly toRecord: Completion[] = [];
  /** Outcomes the store could not take when it failed: written once more at the end. */
  private readonly unwritten: Completion[] = [];
  private recorder: Promise<void> | undefined;
  /** A claim on its way: the recorder lets it go first on the process's connection, so that a free thread is fed. */
  private claiming: Promise<number> | undefined;
  /** Seconds a task takes here (recent batches): claims are sized to about CLAIM_SECONDS of work. */
  private taskSeconds = 0;
  private recordedHere = 0;
  private lastAsked = 0;
  private lastShortClaim = -Infinity;
  private woke = false;
  private resolveWake: (() => void) | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private readonly rungs: RungExchange | undefined;
  private readonly onAbort = () => {
    this.result.interrupted = true;
    this.stop();
    this.wake();
  };

  constructor(
    private readonly input: WorkInput,
    private readonly start: TaskCounts,
  ) {
    this.store = input.store;
    this.sweepId = input.sweepId;
    const open = start.pending + start.running;
    this.bundleFolds = input.covariance && start.openFolds >= input.workers;
    const batchCount = this.bundleFolds ? start.openFolds : open;
    ({ threads: this.threads, gramHelper: this.gramHelper } = input.inline ? { threads: 1, gramHelper: false } : threadsFor(batchCount, input.workers, input.covariance));
    this.result.gramHelper = this.gramHelper;
    const { settings } = input;
    this.rungs = settings.prune && this.store.shared ? new RungExchange(this.store, this.sweepId, this.owner, new RungBoard(settings.prune), settings.prune.rungs.length) : undefined;
  }

  /** Starts the pool, says so to the store, and starts renewing leases and exchanging rung losses. */
  async begin(): Promise<void> {
    const { input } = this;
    const cores = availableParallelism();
    if (input.workers > cores)
      input.log(
        `warning: workers: ${input.workers} on ${cores} cores; more threads than cores only take more memory (${input.inline ? 'starting none: the sweep is small enough to fit on this thread' : `starting ${this.threads}: no more than there are batches of tasks`})`,
      );
    this.pool = input.runner ?? (await openRunner(input.inline ? 0 : this.threads, input.shared, input.log, () => this.stopping));
    if (input.signal?.aborted) this.onAbort();
    input.signal?.addEventListener('abort', this.onAbort, { once: true });
    await this.heartbeat('working');
    await this.rungs?.start();
    // Leases are renewed for every claim held (queued in the pool, running, or waiting to be recorded), a third of a
    // lease apart.
    this.renewal = setInterval(() => this.renew(), Math.max(100, input.leaseMs / 3));
    this.renewal.unref();
  }

  /** Claims and runs batches until the queue is empty, the user stops it, or the store fails. */
  async loop(): Promise<void> {
    const { store, sweepId, input } = this;
    while (!this.stopping) {
      const claimed = this.wantsMore() ? await (this.claiming = this.claimMore()).finally(() => (this.claiming = undefined)) : 0;
      if (claimed < 0) break;
      if (this.inFlight.size === 0 && claimed === 0 && !this.recorder) {
        const counts = await store.taskCounts(sweepId);
        input.onProgress?.(counts);
        if (counts.pending + counts.running === 0) break;
        // Other processes hold the rest: wait for one to finish a task, or for a lease to run out.
        await this.untilWoken((cancel) => store.waitForChange(sweepId, Math.min(input.leaseMs / 3, 2000), cancel));
        continue;
      }
      // A shared store's queue is looked at again now and then (leases of others run out); a lone one's only on a wake-up.
      await this.untilWoken((cancel) => (store.shared ? store.waitForChange(sweepId, Math.min(input.leaseMs / 3, 2000), cancel) : new Promise(() => {})));
    }
  }

  /** Stops the timers and the pool, and waits for the batches in flight and the recorder. */
  async wind(): Promise<void> {
    clearInterval(this.renewal);
    // The last losses of this process, for the others still at work.
    await this.rungs?.stop();
    this.input.signal?.removeEventListener('abort', this.onAbort);
    if (!this.input.runner) await this.pool?.destroy();
    while (this.inFlight.size > 0 || this.recorder) await sleep(5);
  }

  /** Gives back what was not finished, reports the end, and writes once more what the store could not take. */
  async end(): Promise<WorkResult> {
    const { result, store, sweepId } = this;
    if (result.interrupted && !result.stoppedBy) {
      // Claims not finished go back to the queue, so that a resumed run or another process takes them at once.
      await store.releaseClaims(sweepId, this.owner, [...this.held]).catch(() => undefined);
    }
    await this.heartbeat(result.stoppedBy ? 'failed' : result.interrupted ? 'interrupted' : 'done');
    if (result.stoppedBy) {
      // Results computed before the store failed are written once more: a lock may be gone by now. What still fails
      // is computed again on resume.
      try {
        while (this.unwritten.length > 0) await this.recordGroup(this.unwritten.splice(0, RECORD_GROUP));
      } catch {
        // Still failing: run again to resume.
      }
    }
    return result;
  }

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    void this.pool?.destroy();
  }

  /** A wake-up that comes while the loop is busy is kept for its next sleep. */
  private wake(): void {
    this.woke = true;
    this.resolveWake?.();
  }

  /** Waits for a wake-up or for `wait`, whichever comes first; the other is stopped (no timer left behind). */
  private async untilWoken(wait: (cancel: AbortSignal) => Promise<unknown>): Promise<void> {
    const waiting = new AbortController();
    const woken = new Promise<void>((resolve) => {
      if (this.woke) resolve();
      this.resolveWake = resolve;
    }).then(() => {
      this.woke = false;
      this.resolveWake = undefined;
    });
    await Promise.race([wait(waiting.signal), woken]);
    waiting.abort();
  }

  /** Tasks claimed and not yet back from the pool. */
  private heldTasks(): number {
    let n = 0;
    for (const batch of this.inFlight) n += batch.length;
    return n;
  }

  /**
   * Whether to claim now: when a thread is free, and on a shared store also while less than about CLAIM_SECONDS of
   * quick work a thread is held, so that a thread does not wait for the store between claims. A fold's bundle is not
   * claimed ahead: it is a large share of the sweep, which a process that held it early would leave the others
   * without at the end.
   */
  private wantsMore(): boolean {
    if (this.inFlight.size < this.threads) return true;
    // Not again right after the queue gave fewer than asked: the rest is held by others.
    if (!this.store.shared || this.bundleFolds || this.taskSeconds === 0 || performance.now() - this.lastShortClaim < SHORT_CLAIM_PAUSE_MS) return false;
    return this.heldTasks() * this.taskSeconds < this.threads * this.claimSeconds();
  }

  /** Work held at once, a thread: CLAIM_SECONDS, and at most a sixth of a lease. */
  private claimSeconds(): number {
    return Math.min(CLAIM_SECONDS, this.input.leaseMs / 6000);
  }

  /**
   * Claims batches up to about CLAIM_SECONDS of work a thread on a shared store — many tasks at a time when they are
   * quick (a claim per task would cost more than the task), so that the last tasks still spread out; a fold's
   * bundle, or a task whose time is not known yet, one batch a free thread. The number claimed, or −1 when the store
   * failed.
   */
  private async claimMore(): Promise<number> {
    const { store, input } = this;
    const free = Math.max(1, this.threads - this.inFlight.size);
    const room = Math.floor((this.threads * this.claimSeconds()) / this.taskSeconds) - this.heldTasks();
    const want = this.bundleFolds || this.taskSeconds === 0 ? free : Math.max(1, Math.min(this.threads * MAX_CLAIMED_PER_THREAD, room));
    try {
      const batches = await store.claimBatches(this.sweepId, { owner: this.owner, leaseMs: input.leaseMs, bundleFolds: this.bundleFolds, batches: store.shared ? want : Infinity });
      if (batches.length < want) this.lastShortClaim = performance.now();
      for (const batch of batches) this.runBatch(batch);
      return batches.length;
    } catch (e) {
      this.result.stoppedBy ??= e as Error;
      this.stop();
      return -1;
    }
  }

  /** Runs a batch on the pool and queues its outcomes to be recorded. */
  private runBatch(batch: Claim[]): void {
    const { input } = this;
    this.inFlight.add(batch);
    for (const claim of batch) this.held.add(claim);
    this.result.takenOver += batch.filter((c) => c.takenOver).length;
    void (async () => {
      let outcomes: TaskOutcome[];
      try {
        const ran = await this.pool.run({ tasks: batch.map((c) => c.task), gramHelper: this.gramHelper, ...input.settings } satisfies BatchMessage);
        outcomes = ran.outcomes;
        const seconds = ran.seconds / batch.length;
        this.taskSeconds = this.taskSeconds === 0 ? seconds : 0.7 * this.taskSeconds + 0.3 * seconds;
      } catch (e) {
        if (this.stopping) return;
        // A worker that dies (out of memory, a crash in native code) fails its whole batch; each task is tried again
        // until its attempts run out.
        outcomes = batch.map((c) => ({ taskId: c.task.id, error: e instanceof Error ? e.message : String(e) }));
      }
      // Coefficient vectors per λ: one per response or class (the result says how many), none for hidden layers.
      const outputsOf = (o: TaskOutcome) => ('error' in o ? input.shared.outputs : o.intercepts.length / Math.max(1, o.trials.length));
      this.toRecord.push(...batch.map((claim, k) => ({ claim, outcome: outcomes[k], outputs: outputsOf(outcomes[k]) })));
      this.recordWaiting();
    })().finally(() => {
      this.inFlight.delete(batch);
      this.wake();
    });
  }

  /** Records the outcomes waiting, a group per transaction, until none is left (or the store fails). */
  private recordWaiting(): void {
    if (this.recorder) return;
    // Cleared in a `finally` callback, which runs after this assignment even when nothing was left to write (an
    // async function that ends without awaiting would clear it first, and the assignment would then keep it forever).
    this.recorder = this.recordAll().finally(() => {
      this.recorder = undefined;
      this.wake();
    });
  }

  private async recordAll(): Promise<void> {
    const { result } = this;
    // The loop claims for the thread a finished batch leaves free first (woken in the same turn): the claim goes before
    // the recording on the process's connection.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.toRecord.length > 0 && !result.stoppedBy) {
      await this.claiming;
      const group = this.toRecord.splice(0, RECORD_GROUP);
      try {
        await this.recordGroup(group);
        await this.store.ensureIntact();
      } catch (e) {
        // The store failed, not the tasks: keep the results to try once more, and stop claiming work.
        this.unwritten.push(...group);
        result.stoppedBy ??= e as Error;
        this.stop();
      }
      if (!result.stoppedBy && !this.stopping) this.reportProgress();
    }
    if (result.stoppedBy) this.unwritten.push(...this.toRecord.splice(0));
  }

  private async recordGroup(group: Completion[]): Promise<void> {
    const verdicts = await this.store.completeTasks(this.sweepId, group, this.input.maxAttempts);
    group.forEach((c, k) => this.recorded(c, verdicts[k]));
  }

  /** What recording a claim's outcome did, told and counted. */
  private recorded({ claim, outcome }: Completion, verdict: CompletionVerdict): void {
    const { result, input } = this;
    this.held.delete(claim);
    if (verdict === 'fenced') {
      result.fenced++;
      input.log(`task ${claim.task.id}: its lease ran out and another process took it over; this result was not recorded`);
    } else if (verdict === 'retry') {
      result.retries++;
      input.log(`task ${claim.task.id} failed (attempt ${claim.attempt} of ${input.maxAttempts}), queued again: ${'error' in outcome ? outcome.error : ''}`);
    } else {
      result.tasksRun++;
      this.recordedHere += claim.task.lambdas.length;
      if ('error' in outcome) {
        result.tasksFailed++;
        input.log(`task ${claim.task.id} failed after ${claim.attempt} attempt(s): ${outcome.error}`);
      }
    }
  }

  /**
   * Progress: counted here when this process is alone on the store; asked of the store (at most twice a second) when
   * other processes record tasks too.
   */
  private reportProgress(): void {
    const { input, store, start } = this;
    if (!input.onProgress) return;
    if (!store.shared) return input.onProgress({ ...start, trialsRecorded: start.trialsRecorded + this.recordedHere });
    if (Date.now() - this.lastAsked < 500) return;
    this.lastAsked = Date.now();
    void store.taskCounts(this.sweepId).then((c) => input.onProgress?.(c), () => undefined);
  }

  /** Renews the leases of every claim held, and reports this process as working. */
  private renew(): void {
    if (this.stopping) return;
    void this.heartbeat('working');
    const claims = [...this.held];
    if (claims.length === 0) return;
    this.store.renewLeases(this.sweepId, this.owner, claims, this.input.leaseMs).then(
      (lost) => {
        this.result.leasesLost += lost.length;
        for (const c of lost) this.input.log(`warning: task ${c.task.id}: lease lost (another process may take it over)`);
      },
      (e) => this.input.log(`warning: could not renew leases: ${(e as Error).message}`),
    );
  }

  /** This process as the store shows it (status, metrics): reported at its start, with each renewal, and at its end. */
  private heartbeat(state: ProcessReport['state']): Promise<void> {
    const { result, input } = this;
    return this.store
      .heartbeat(this.sweepId, {
        owner: this.owner, host: hostname(), pid: process.pid, command: input.command, threads: this.threads, leaseMs: input.leaseMs, state, tasksDone: result.tasksRun,
        tasksFailed: result.tasksFailed, retries: result.retries, fenced: result.fenced, leasesLost: result.leasesLost, takenOver: result.takenOver,
      })
      .catch(() => undefined);
  }
}

/**
 * On a shared store the rung losses of successive halving go out to the other processes and theirs come in, every
 * RUNG_SYNC_MS: a trial is compared with every loss the store had then, and with all of its own process's.
 */
class RungExchange {
  private readonly sent: number[];
  private readonly seen = new Set<number>();
  private cursor: string | undefined;
  private exchanging = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly sweepId: number,
    private readonly owner: string,
    private readonly board: RungBoard,
    rungs: number,
  ) {
    this.sent = new Array<number>(rungs).fill(0);
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.exchange(), RUNG_SYNC_MS);
    this.timer.unref();
    await this.exchange();
  }

  /** The last losses of this process, for the others still at work. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.exchange();
  }

  private async exchange(): Promise<void> {
    if (this.exchanging) return;
    this.exchanging = true;
    try {
      const own = this.board.ownSince(this.sent);
      const { reports, cursor } = await this.store.exchangeRungReports(this.sweepId, this.owner, own, this.cursor);
      this.cursor = cursor;
      for (const r of reports) if (!this.seen.has(r.id)) (this.seen.add(r.id), this.board.merge(r.rung, r.loss));
    } catch {
      // Exchanged on the next round (the store is waited for by the claims and results).
    } finally {
      this.exchanging = false;
    }
  }
}

/**
 * Threads to run batches on (0: this thread), for calls of workOn that share them. Destroying it twice is destroying
 * it once: a call stopped by the user destroys it, and so does its owner afterwards.
 */
export async function openRunner(threads: number, shared: SharedData, log: (message: string) => void, stopping: () => boolean = () => false): Promise<BatchRunner> {
  const runner = threads === 0 ? await inlineRunner(shared) : await poolRunner(threads, shared, log, stopping);
  let destroyed: Promise<void> | undefined;
  return { run: (message) => runner.run(message), destroy: () => (destroyed ??= runner.destroy()) };
}

async function poolRunner(threads: number, shared: SharedData, log: (message: string) => void, stopping: () => boolean): Promise<BatchRunner> {
  const { ArrayTaskQueue, Piscina } = await import('piscina');
  const pool = new Piscina({
    filename: pathToFileURL(builtFile(join('workers', 'piscinaEntry.js'))).href,
    maxThreads: threads,
    minThreads: threads,
    idleTimeout: 1000,
    // Batches run in the order they were claimed: a plain FIFO, and a task the pool could not hand out yet goes back
    // to the head of the queue, not (piscina's default) to its tail.
    taskQueue: new ArrayTaskQueue(),
    stricterFIFO: true,
    workerData: shared,
  });
  // A worker that finishes while the pool is being destroyed answers a task the pool has dropped; piscina reports
  // that as an error event, which is expected then.
  pool.on('error', (e: Error) => {
    if (!stopping()) log(`warning: worker pool: ${e.message}`);
  });
  return { run: (message) => pool.run(message) as ReturnType<BatchRunner['run']>, destroy: () => pool.destroy() };
}

/** The same batches on this thread, one macrotask each so that progress and Ctrl-C get their turn between them. */
async function inlineRunner(shared: SharedData): Promise<BatchRunner> {
  const [{ runBatch }, { threadKernelContext }] = await Promise.all([import('../../workers/batch.js'), import('../../workers/kernelContext.js')]);
  const context = threadKernelContext();
  return {
    run: (message) =>
      new Promise((resolve) =>
        setImmediate(() => {
          const started = performance.now();
          const outcomes = runBatch(context, shared, message);
          resolve({ outcomes, seconds: (performance.now() - started) / 1000 });
        }),
      ),
    destroy: async () => undefined,
  };
}

/**
 * What every batch of a sweep fits with: the model, standardization, the near-zero threshold, and for a network
 * sweep with sweep.prune the rung board this process's worker threads share (on a shared store the work loop also
 * merges in the losses of other processes, and sends its own).
 */
export function fitSettings(config: SweepConfig, trials: number, penalties: Pick<FitSettings, 'featurePenalty' | 'groups' | 'featureScales'> = {}): FitSettings {
  const { featurePenalty, groups, featureScales } = penalties;
  const settings: FitSettings = {
    model: config.model,
    standardize: config.data.standardize,
    nearZero: config.near_zero,
    ...('keep' in config.validation && config.validation.keep ? { keep: true } : {}),
    ...(featureScales ? { featureScales } : {}),
    ...(featurePenalty ? { featurePenalty } : {}),
    ...(groups ? { groups } : {}),
  };
  const pathStop = pathStopOf(config);
  if (pathStop) settings.pathStop = pathStop;
  const prune = config.sweep.kind !== 'grid' ? config.sweep.prune : undefined;
  if (!prune || config.model.kind !== 'mlp') return settings;
  const epochs = Math.max(config.model.epochs, ...((config.sweep.model?.epochs as { choice?: number[] } | undefined)?.choice ?? []));
  const rungs = pruneRungs(prune, epochs);
  if (rungs.length === 0) return settings;
  return { ...settings, prune: { rungs, reduction: prune.reduction, board: createRungBoard(rungs.length, Math.min(Math.max(trials, 1), 1_000_000)) } };
}

/** glmnet's rules for ending a path early, for each penalty of a grid sweep whose λ are automatic (and a rule is on). */
function pathStopOf(config: SweepConfig): FitSettings['pathStop'] {
  const { sweep, model } = config;
  if (sweep.kind !== 'grid' || model.kind === 'mlp') return undefined;
  const stop: NonNullable<FitSettings['pathStop']> = {};
  for (const penalty of sweep.penalty) {
    if (penalty === 'none') continue;
    const grid = gridOf(sweep, penalty);
    if (grid && !Array.isArray(grid) && 'auto' in grid && (grid.fdev > 0 || grid.devmax < 1)) stop[penalty] = { fdev: grid.fdev, devmax: grid.devmax };
  }
  return Object.keys(stop).length ? stop : undefined;
}
