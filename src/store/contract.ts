// The one way into stored sweeps. SQLite (one machine) and PostgreSQL (many) implement it; the same contract tests
// (tests/store.contract.test.ts) run against both.
import type { CvPoint, NewSweep, Selection, StoredDataset, StoredFolds, Sweep, SweepStatus, Task, TaskOutcome, Trial, TrialCoefficients, TrialEpoch, TrialPredictions, TrialTally } from '../domain.js';

export type { StoredDataset, StoredFolds } from '../domain.js';

/** Which sweep a command means: by id, by name (`name@K` is the K-th sweep of that name), or the latest. */
export interface SweepSelector {
  name?: string;
  id?: number;
}

export interface TrialFilter {
  fold?: string;
  penalty?: string;
}

/** A task as the live page shows it: running now (who holds it) or failed (with its error). */
export interface TaskState {
  taskId: string;
  penalty: string;
  l1Ratio: number;
  settings: string;
  fold: string;
  status: 'running' | 'failed';
  owner: string | null;
  attempt: number;
  error: string | null;
}

export interface ReadOnlyQueryOptions {
  /** Stop a statement that runs longer (milliseconds). */
  timeoutMs: number;
}

/** A claimed task and the attempt number that fences its result: only the latest claim's result is recorded. */
export interface Claim {
  task: Task;
  attempt: number;
  owner: string;
  /** Claimed from another process whose lease had run out (a takeover), not from the queue. */
  takenOver?: boolean;
}

/** A process working on a sweep, as it reports itself (its heartbeat): who, how, and what it has done so far. */
export interface ProcessReport {
  /** "host:pid:nonce", as in its claims. */
  owner: string;
  host: string;
  pid: number;
  command: 'run' | 'worker';
  threads: number;
  /** Its lease: it reports every third of it. */
  leaseMs: number;
  /** working while it works; how it ended otherwise. */
  state: 'working' | 'done' | 'interrupted' | 'failed';
  tasksDone: number;
  tasksFailed: number;
  /** Failed attempts queued again. */
  retries: number;
  /** Results not recorded because another process had taken the task over. */
  fenced: number;
  /** Claims whose lease it found taken when renewing. */
  leasesLost: number;
  /** Tasks it took over from a process whose lease had run out. */
  takenOver: number;
}

/** A process report as stored, with the store's clock. */
export interface ProcessState extends ProcessReport {
  sweepId: number;
  startedAt: string;
  heartbeatAt: string;
  /** Seconds since its last report, on the store's clock. */
  silentFor: number;
}

/** A claimed task's outcome, to record (`outputs`: the coefficient vectors per λ, one per response or class). */
export interface Completion {
  claim: Claim;
  outcome: TaskOutcome;
  outputs: number;
}

/** What recording a completion did: recorded, queued again (a failure with attempts left), or fenced off. */
export type CompletionVerdict = 'recorded' | 'retry' | 'fenced';

export interface ClaimOptions {
  /** Who claims ("host:pid:nonce"); the same string renews and completes. */
  owner: string;
  /** How long a claim holds without renewal (milliseconds, on the store's clock). */
  leaseMs: number;
  /** Claim a fold's pending tasks together: they share the fold's Gram columns. */
  bundleFolds: boolean;
  /** At most this many batches (Infinity: every pending one). */
  batches: number;
}

export interface TaskCounts {
  total: number;
  pending: number;
  /** Claimed and not yet finished (their leases may have expired). */
  running: number;
  done: number;
  failed: number;
  /** Trials of the done and failed tasks. */
  trialsRecorded: number;
  /** Folds that still have pending or running tasks. */
  openFolds: number;
  /**
   * Claimed tasks whose owner has missed two renewals of its lease (a process that died or is paused): they are taken
   * over when the lease ends, or queued again at once by requeueFailed.
   */
  stale: number;
}

/** What finishing a sweep computes from its trials: stored with the sweep in the same transaction. */
export interface SweepSummary {
  points: CvPoint[];
  selections: Selection[];
  /** The run's notes (grid edges, trials not converged or not usable), after the data's. */
  notes: string[];
}

/**
 * What must hold, whichever store:
 * - Tasks are rows, made with the sweep; no process invents work. A claim takes pending tasks (or tasks whose lease
 *   has expired), sets their owner and lease on the store's clock, and increments their attempt.
 * - A task's result is recorded only if its attempt is still the one claimed (fencing): a process that was paused
 *   past its lease cannot write a second copy. Trials, coefficients, learning curves and the task's status are
 *   recorded in one transaction: after a crash a task is either fully recorded or absent. A done task never changes;
 *   a failed one is replaced whole when it runs again.
 * - newTrials(cursor) returns every trial recorded since the cursor was taken, whatever order completions commit in
 *   (it may return some again: a reader keys them); ids are unique but need not follow commit order.
 * - A sweep is finished (summary, selections, status done) exactly once, by whichever process finishes it.
 * - A store opened for reading never writes, and refuses SQL that would.
 * - A failure outside the caller's control (disk full, a lock held too long, a lost connection that does not come
 *   back) rejects with an OutsideError naming its cause; a bad location or a store that is not regsweep's with a
 *   UserError. Nothing already recorded is lost either way.
 */
export interface Store {
  /** The location as a user would type it (a path, or a URL without its password). */
  readonly location: string;
  /** Whether other processes may work on the same sweeps (claims then compete, and leases matter). */
  readonly shared: boolean;

  /** Every sweep, oldest first; a running sweep whose writer is gone shows as interrupted. */
  listSweeps(): Promise<Sweep[]>;
  /** The sweep a selector means; the latest when it names none. A UserError saying which sweeps exist when none matches. */
  findSweep(selector?: SweepSelector): Promise<Sweep>;
  /** The latest sweep of a name, if any. */
  latestSweep(name: string): Promise<Sweep | undefined>;

  /**
   * Creates a sweep, its task rows (pending) and its folds; a shared store also keeps the data, for other machines.
   * With `ifLatest` (the id of the latest sweep of the name that the caller saw, or null for none) the sweep is made
   * only if that is still the latest: two runs of one sweep file started together make one sweep. Otherwise nothing
   * is made and `created` is false (the caller looks again).
   */
  createSweep(sweep: NewSweep, tasks: Task[], dataset?: StoredDataset, folds?: StoredFolds, ifLatest?: number | null): Promise<{ sweep: Sweep; created: boolean }>;
  /** The folds a sweep was made with; undefined for a sweep made before they were kept. */
  folds(sweepId: number): Promise<StoredFolds | undefined>;
  /**
   * Adds the task rows a sweep lacks (a sweep made by an older version has none for its unfinished tasks; a grid
   * extended past its edge gets new ones); the sweep's task and trial totals grow with them.
   */
  addTasks(sweepId: number, tasks: Task[]): Promise<void>;
  /** Makes a finished sweep open for work again (its grid was extended): status running, summary kept until the next finish. */
  reopenSweep(sweepId: number): Promise<void>;
  /**
   * This process works on the sweep from now: the sweep is running again. A store with one writer refuses (UserError)
   * when another live process is writing it, and gives the tasks a dead process had claimed back to the queue.
   */
  beginWriting(sweepId: number): Promise<void>;
  setSweepStatus(sweepId: number, status: SweepStatus): Promise<void>;
  /** Replaces the notes about the sweep's data (one line per kind); the run's notes are stored by finishSweep. */
  setNotes(sweepId: number, notes: string[]): Promise<void>;
  /** The data a sweep was made with, as stored (shared stores); undefined where the store does not keep data. */
  loadDataset(hash: string): Promise<StoredDataset | undefined>;

  /** Claims up to `batches` batches of claimable tasks, in the order they should run (fold by fold, longer paths first). */
  claimBatches(sweepId: number, options: ClaimOptions): Promise<Claim[][]>;
  /** Extends the leases of claims this owner still holds; returns the ones it no longer holds. */
  renewLeases(sweepId: number, owner: string, claims: Claim[], leaseMs: number): Promise<Claim[]>;
  /**
   * Records a claimed task's outcome, fenced by its attempt. A result is recorded; a failure goes back to the queue
   * while attempts remain (`maxAttempts`), else is recorded as failed trials with its error. "fenced": the claim was
   * lost (its lease expired and another process claimed the task), and nothing was written.
   */
  completeTask(sweepId: number, claim: Claim, outcome: TaskOutcome, outputs: number, maxAttempts: number): Promise<CompletionVerdict>;
  /**
   * Records several claimed tasks' outcomes in one transaction, each as completeTask would (verdicts in the same
   * order): a process that finishes many small tasks pays for one round of the store, not one per task.
   */
  completeTasks(sweepId: number, completions: Completion[], maxAttempts: number): Promise<CompletionVerdict[]>;
  /** Gives claims back to the queue unfinished (a run stopped by the user). */
  releaseClaims(sweepId: number, owner: string, claims: Claim[]): Promise<void>;
  /**
   * Successive halving across processes: sends this owner's rung losses, and returns the other owners' sent since
   * `cursor` (every one without it) with the cursor to ask with next; a report may come twice (its id tells). A file
   * store has one process, whose board holds every loss: it keeps none.
   */
  exchangeRungReports(sweepId: number, owner: string, own: { rung: number; loss: number }[], cursor: string | undefined): Promise<{ reports: { id: number; rung: number; loss: number }[]; cursor: string }>;
  /** Records a process's report (its heartbeat), kept with the sweep for status and metrics. */
  heartbeat(sweepId: number, report: ProcessReport): Promise<void>;
  /** The processes that have reported on a sweep, the latest first. */
  processes(sweepId: number): Promise<ProcessState[]>;
  /** Queues again the tasks that failed and the claims whose owner stopped renewing them (stale); how many of each. */
  requeueFailed(sweepId: number): Promise<{ failed: number; released: number }>;
  taskCounts(sweepId: number): Promise<TaskCounts>;
  /**
   * Resolves when the sweep's tasks may have changed (another process finished one), after `timeoutMs`, or when
   * `until` is aborted (a caller that stopped waiting leaves no timer behind to keep the process alive).
   */
  waitForChange(sweepId: number, timeoutMs: number, until?: AbortSignal): Promise<void>;
  /**
   * Finishes the sweep exactly once: when every task is done or failed and the sweep is not done yet, computes the
   * summary from the trials and stores it with status done in one transaction. Returns whether this call did it.
   */
  finishSweep(sweepId: number, summarize: (trials: Trial[], sweep: Sweep) => SweepSummary): Promise<boolean>;

  /** Ids of the tasks whose trials are all recorded (failed ones are run again on resume). */
  finishedTaskIds(sweepId: number): Promise<Set<string>>;
  /**
   * Rejects with an OutsideError when the store is gone (a database file deleted or replaced since it was opened); a
   * store opened for reading reads the database as it is now afterwards (nothing cached from before).
   */
  ensureIntact(): Promise<void>;

  trials(sweepId: number, filter?: TrialFilter): Promise<Trial[]>;
  /**
   * The trials recorded since `cursor` (every trial without one), and the cursor to ask with next: an opaque mark of
   * how far the store had got. A trial recorded again (a task run once more) comes again.
   */
  newTrials(sweepId: number, cursor: string | undefined): Promise<{ trials: Trial[]; cursor: string }>;
  /** How many trials a sweep has recorded. */
  trialCount(sweepId: number): Promise<number>;
  /** The sweep's trials by how they ended, counted by the store (none is read). */
  trialTally(sweepId: number): Promise<TrialTally>;
  /** The largest id of the sweep's trials, 0 before the first (with trialCount: whether anything was recorded since). */
  lastTrialId(sweepId: number): Promise<number>;
  /** The sweep's tasks running now and the ones that failed, in task order. */
  runningAndFailedTasks(sweepId: number): Promise<TaskState[]>;
  coefficients(sweepId: number, filter?: TrialFilter): Promise<TrialCoefficients[]>;
  epochs(sweepId: number): Promise<TrialEpoch[]>;
  /** validation.keep's out-of-fold predictions, in trial order within each task (none for a sweep without keep). */
  predictions(sweepId: number, filter?: TrialFilter): Promise<TrialPredictions[]>;
  summary(sweepId: number): Promise<CvPoint[]>;
  selections(sweepId: number): Promise<Selection[]>;

  /** Runs one statement that only reads; anything that would write is refused before it runs (UserError). */
  readOnlyQuery(sql: string, options: ReadOnlyQueryOptions): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

type StoreMode = 'read' | 'write';

export interface OpenOptions {
  mode: StoreMode;
  /** How long a write waits for a lock held by another process before giving up (milliseconds). */
  lockTimeoutMs?: number;
  /** Ends any wait for a lost connection at once (Ctrl-C, SIGTERM): the operation then fails with an OutsideError. */
  signal?: AbortSignal;
  /** How long an operation waits for a lost connection to come back (ms; a shared store's). */
  reconnectMs?: number;
}

/** Trials of a task that threw: one per λ, status failed, with the error. */
export function failedTrials(task: Task, error: string) {
  return task.lambdas.map((lambda) => ({
    lambda,
    status: 'failed' as const,
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
    passes: 0,
    epochsRun: 0,
    seconds: 0,
    metrics: {},
  }));
}

/** `name@K` → the name and K (1-based, in creation order). */
export function parseSweepName(name: string): { name: string; ordinal?: number } {
  const m = /^(.*)@(\d+)$/.exec(name);
  return m ? { name: m[1], ordinal: Number(m[2]) } : { name };
}
