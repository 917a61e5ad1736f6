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
}

/** Where batches run: a pool of worker threads, or this thread. */
interface BatchRunner {
  run(message: BatchMessage): Promise<TaskOutcome[]>;
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
const MAX_CLAIMED_PER_THREAD = 32;
/** How often a process exchanges successive-halving losses with the others on a shared store. */
const RUNG_SYNC_MS = 250;

export async function workOn(input: WorkInput): Promise<WorkResult> {
  const { store, sweepId, shared, settings, log, leaseMs } = input;
  const owner = ownerId();
  const result: WorkResult = { tasksRun: 0, tasksFailed: 0, fenced: 0, retries: 0, leasesLost: 0, takenOver: 0, interrupted: false, gramHelper: false };
  const start = await store.taskCounts(sweepId);
  const open = start.pending + start.running;
  if (open === 0) return result;
  // A fold's paths go together when there are folds enough to keep every worker busy; otherwise one task a batch.
  const bundleFolds = input.covariance && start.openFolds >= input.workers;
  const batchCount = bundleFolds ? start.openFolds : open;
  const { threads, gramHelper } = input.inline ? { threads: 1, gramHelper: false } : threadsFor(batchCount, input.workers, input.covariance);
  result.gramHelper = gramHelper;
  const cores = availableParallelism();
  if (input.workers > cores)
    log(
      `warning: workers: ${input.workers} on ${cores} cores; more threads than cores only take more memory (${input.inline ? 'starting none: the sweep is small enough to fit on this thread' : `starting ${threads}: no more than there are batches of tasks`})`,
    );

  let stopping = false;
  const pool = input.inline ? await inlineRunner(shared) : await poolRunner(threads, shared, log, () => stopping);
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void pool.destroy();
  };
  const onAbort = () => {
    result.interrupted = true;
    stop();
    wake();
  };
  // The loop sleeps until a batch comes back, the user stops it, or it is time to look at the queue again; a wake-up
  // that comes while the loop is busy is kept for its next sleep.
  let woke = false;
  let resolveWake: (() => void) | undefined;
  const wake = () => {
    woke = true;
    resolveWake?.();
  };
  const woken = () =>
    new Promise<void>((resolve) => {
      if (woke) resolve();
      resolveWake = resolve;
    }).then(() => {
      woke = false;
      resolveWake = undefined;
    });
  /** Waits for a wake-up or for `wait`, whichever comes first; the other is stopped (no timer left behind). */
  const untilWoken = async (wait: (cancel: AbortSignal) => Promise<unknown>) => {
    const waiting = new AbortController();
    await Promise.race([wait(waiting.signal), woken()]);
    waiting.abort();
  };
  if (input.signal?.aborted) onAbort();
  input.signal?.addEventListener('abort', onAbort, { once: true });

  // Progress: counted here when this process is alone on the store; asked of the store (at most twice a second)
  // when other processes record tasks too.
  let recordedHere = 0;
  let lastAsked = 0;
  const reportProgress = () => {
    if (!input.onProgress) return;
    if (!store.shared) return input.onProgress({ ...start, trialsRecorded: start.trialsRecorded + recordedHere });
    if (Date.now() - lastAsked < 500) return;
    lastAsked = Date.now();
    void store.taskCounts(sweepId).then((c) => input.onProgress?.(c), () => undefined);
  };
  const inFlight = new Set<Claim[]>();
  const unwritten: Completion[] = [];
  /** Claims held and not yet answered by the store (recorded, queued again or fenced): renewed, and released when stopped. */
  const held = new Set<Claim>();
  /** Outcomes waiting to be recorded: one transaction records all that came back meanwhile. */
  const toRecord: Completion[] = [];
  let recorder: Promise<void> | undefined;
  /** What recording a claim's outcome did, told and counted. */
  const recorded = ({ claim, outcome }: Completion, verdict: CompletionVerdict) => {
    held.delete(claim);
    if (verdict === 'fenced') {
      result.fenced++;
      log(`task ${claim.task.id}: its lease ran out and another process took it over; this result was not recorded`);
    } else if (verdict === 'retry') {
      result.retries++;
      log(`task ${claim.task.id} failed (attempt ${claim.attempt} of ${input.maxAttempts}), queued again: ${'error' in outcome ? outcome.error : ''}`);
    } else {
      result.tasksRun++;
      recordedHere += claim.task.lambdas.length;
      if ('error' in outcome) {
        result.tasksFailed++;
        log(`task ${claim.task.id} failed after ${claim.attempt} attempt(s): ${outcome.error}`);
      }
    }
  };
  const recordGroup = async (group: Completion[]) => {
    const verdicts = await store.completeTasks(sweepId, group, input.maxAttempts);
    group.forEach((c, k) => recorded(c, verdicts[k]));
  };
  /** Records the outcomes waiting, a group per transaction, until none is left (or the store fails). */
  const recordWaiting = () => {
    recorder ??= (async () => {
      try {
        while (toRecord.length > 0 && !result.stoppedBy) {
          const group = toRecord.splice(0, RECORD_GROUP);
          try {
            await recordGroup(group);
            await store.ensureIntact();
          } catch (e) {
            // The store failed, not the tasks: keep the results to try once more, and stop claiming work.
            unwritten.push(...group);
            result.stoppedBy ??= e as Error;
            stop();
          }
          if (!result.stoppedBy && !stopping) reportProgress();
        }
        if (result.stoppedBy) unwritten.push(...toRecord.splice(0));
      } finally {
        recorder = undefined;
        wake();
      }
    })();
  };
  /** Seconds a task takes here (recent batches): claims are sized to about CLAIM_SECONDS of work. */
  let taskSeconds = 0;
  const dispatch = (batch: Claim[]) => {
    inFlight.add(batch);
    for (const claim of batch) held.add(claim);
    result.takenOver += batch.filter((c) => c.takenOver).length;
    const started = performance.now();
    void (async () => {
      let outcomes: TaskOutcome[];
      try {
        outcomes = await pool.run({ tasks: batch.map((c) => c.task), gramHelper, ...settings } satisfies BatchMessage);
      } catch (e) {
        if (stopping) return;
        // A worker that dies (out of memory, a crash in native code) fails its whole batch; each task is tried again
        // until its attempts run out.
        outcomes = batch.map((c) => ({ taskId: c.task.id, error: e instanceof Error ? e.message : String(e) }));
      }
      const seconds = (performance.now() - started) / 1000 / batch.length;
      taskSeconds = taskSeconds === 0 ? seconds : 0.7 * taskSeconds + 0.3 * seconds;
      // Coefficient vectors per λ: one per response or class (the result says how many), none for hidden layers.
      const outputsOf = (o: TaskOutcome) => ('error' in o ? shared.outputs : o.intercepts.length / Math.max(1, o.trials.length));
      toRecord.push(...batch.map((claim, k) => ({ claim, outcome: outcomes[k], outputs: outputsOf(outcomes[k]) })));
      recordWaiting();
    })().finally(() => {
      inFlight.delete(batch);
      wake();
    });
  };

  /** This process as the store shows it (status, metrics): reported at its start, with each renewal, and at its end. */
  const report = (state: ProcessReport['state']) =>
    store
      .heartbeat(sweepId, {
        owner, host: hostname(), pid: process.pid, command: input.command, threads, leaseMs, state, tasksDone: result.tasksRun, tasksFailed: result.tasksFailed,
        retries: result.retries, fenced: result.fenced, leasesLost: result.leasesLost, takenOver: result.takenOver,
      })
      .catch(() => undefined);
  await report('working');
  // On a shared store the rung losses of successive halving go out to the other processes and theirs come in, every
  // RUNG_SYNC_MS: a trial is compared with every loss the store had then, and with all of its own process's.
  const rungBoard = settings.prune && store.shared ? new RungBoard(settings.prune) : undefined;
  const sent = settings.prune ? settings.prune.rungs.map(() => 0) : [];
  const seen = new Set<number>();
  let rungCursor: string | undefined;
  let exchanging = false;
  const exchangeRungs = async () => {
    if (!rungBoard || exchanging) return;
    exchanging = true;
    try {
      const own = rungBoard.ownSince(sent);
      const { reports, cursor } = await store.exchangeRungReports(sweepId, owner, own, rungCursor);
      rungCursor = cursor;
      for (const r of reports) if (!seen.has(r.id)) (seen.add(r.id), rungBoard.merge(r.rung, r.loss));
    } catch {
      // Exchanged on the next round (the store is waited for by the claims and results).
    } finally {
      exchanging = false;
    }
  };
  const rungSync = rungBoard ? setInterval(() => void exchangeRungs(), RUNG_SYNC_MS) : undefined;
  rungSync?.unref();
  await exchangeRungs();
  // Leases are renewed for every claim held (queued in the pool, running, or waiting to be recorded), a third of a
  // lease apart.
  const renewal = setInterval(() => {
    if (stopping) return;
    void report('working');
    const claims = [...held];
    if (claims.length === 0) return;
    store.renewLeases(sweepId, owner, claims, leaseMs).then(
      (lost) => {
        result.leasesLost += lost.length;
        for (const c of lost) log(`warning: task ${c.task.id}: lease lost (another process may take it over)`);
      },
      (e) => log(`warning: could not renew leases: ${(e as Error).message}`),
    );
  }, Math.max(100, leaseMs / 3));
  renewal.unref();

  try {
    while (!stopping) {
      const free = threads - inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          // On a shared store, tasks are claimed a few at a time when they are quick (a claim per task would cost
          // more than the task); about CLAIM_SECONDS of work a thread, so that the last tasks still spread out.
          const perThread = bundleFolds || taskSeconds === 0 ? 1 : Math.max(1, Math.min(MAX_CLAIMED_PER_THREAD, Math.floor(Math.min(CLAIM_SECONDS, leaseMs / 6000) / taskSeconds)));
          const batches = await store.claimBatches(sweepId, { owner, leaseMs, bundleFolds, batches: store.shared ? free * perThread : Infinity });
          claimed = batches.length;
          for (const batch of batches) dispatch(batch);
        } catch (e) {
          result.stoppedBy ??= e as Error;
          stop();
          break;
        }
      }
      if (inFlight.size === 0 && claimed === 0 && !recorder) {
        const counts = await store.taskCounts(sweepId);
        input.onProgress?.(counts);
        if (counts.pending + counts.running === 0) break;
        // Other processes hold the rest: wait for one to finish a task, or for a lease to run out.
        await untilWoken((cancel) => store.waitForChange(sweepId, Math.min(leaseMs / 3, 2000), cancel));
        continue;
      }
      // A shared store's queue is looked at again now and then (leases of others run out); a lone one's only on a wake-up.
      await untilWoken((cancel) => (store.shared ? store.waitForChange(sweepId, Math.min(leaseMs / 3, 2000), cancel) : new Promise(() => {})));
    }
  } finally {
    clearInterval(renewal);
    clearInterval(rungSync);
    // The last losses of this process, for the others still at work.
    await exchangeRungs();
    input.signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
    while (inFlight.size > 0 || recorder) await sleep(5);
  }
  if (result.interrupted && !result.stoppedBy) {
    // Claims not finished go back to the queue, so that a resumed run or another process takes them at once.
    await store.releaseClaims(sweepId, owner, [...held]).catch(() => undefined);
  }
  await report(result.stoppedBy ? 'failed' : result.interrupted ? 'interrupted' : 'done');
  if (result.stoppedBy) {
    // Results computed before the store failed are written once more: a lock may be gone by now. What still fails is
    // computed again on resume.
    try {
      while (unwritten.length > 0) await recordGroup(unwritten.splice(0, RECORD_GROUP));
    } catch {
      // Still failing: run again to resume.
    }
  }
  return result;
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
  return { run: (message) => pool.run(message) as Promise<TaskOutcome[]>, destroy: () => pool.destroy() };
}

/** The same batches on this thread, one macrotask each so that progress and Ctrl-C get their turn between them. */
async function inlineRunner(shared: SharedData): Promise<BatchRunner> {
  const [{ runBatch }, { threadKernelContext }] = await Promise.all([import('../../workers/batch.js'), import('../../workers/kernelContext.js')]);
  const context = threadKernelContext();
  return {
    run: (message) => new Promise((resolve) => setImmediate(() => resolve(runBatch(context, shared, message)))),
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
  const prune = config.sweep.kind === 'random' ? config.sweep.prune : undefined;
  if (!prune || config.model.kind !== 'mlp') return settings;
  const epochs = Math.max(config.model.epochs, ...((config.sweep.model?.epochs as { choice?: number[] } | undefined)?.choice ?? []));
  const rungs = pruneRungs(prune, epochs);
  if (rungs.length === 0) return settings;
  return { ...settings, prune: { rungs, reduction: prune.reduction, board: createRungBoard(rungs.length, Math.min(Math.max(trials, 1), 1_000_000)) } };
}
