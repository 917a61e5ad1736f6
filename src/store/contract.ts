// The one way into stored sweeps. SQLite (one machine) and PostgreSQL (many) implement it; the same contract tests
// (tests/store.contract.test.ts) run against both.
import type { CvPoint, NewSweep, Selection, Sweep, SweepStatus, Task, TaskOutcome, Trial, TrialCoefficients, TrialEpoch } from '../domain.js';

/** Which sweep a command means: by id, by name (`name@K` is the K-th sweep of that name), or the latest. */
export interface SweepSelector {
  name?: string;
  id?: number;
}

export interface TrialFilter {
  fold?: string;
  penalty?: string;
  /** Only trials stored after this one (their ids increase in the order they were stored). */
  afterId?: number;
}

export interface ReadOnlyQueryOptions {
  /** Stop a statement that runs longer (milliseconds). */
  timeoutMs: number;
}

/**
 * What must hold, whichever store:
 * - A task's trials, coefficients and learning curves are recorded in one transaction with the task's status: after a
 *   crash a task is either fully recorded or absent. A task recorded as done never changes; one recorded as failed is
 *   replaced whole when it is run again.
 * - Trial ids increase in the order trials are stored, so "what is new since id N" is a range read.
 * - A store opened for reading never writes, and refuses SQL that would.
 * - A failure outside the caller's control (disk full, a lock held too long, a lost connection) rejects with an
 *   OutsideError naming its cause; a bad location or a file that is not a regsweep store with a UserError. Nothing
 *   already recorded is lost either way.
 */
export interface Store {
  /** The location as a user would type it (a path or a URL without its password). */
  readonly location: string;

  /** Every sweep, oldest first; a running sweep whose writer is gone shows as interrupted. */
  listSweeps(): Promise<Sweep[]>;
  /** The sweep a selector means; the latest when it names none. A UserError saying which sweeps exist when none matches. */
  findSweep(selector?: SweepSelector): Promise<Sweep>;
  /** The latest sweep of a name, if any. */
  latestSweep(name: string): Promise<Sweep | undefined>;

  /** Creates a sweep and its task rows (status pending). */
  createSweep(sweep: NewSweep, tasks: Task[]): Promise<Sweep>;
  /** Adds the task rows a sweep lacks (a sweep made by an older version has none for its unfinished tasks). */
  addTasks(sweepId: number, tasks: Task[]): Promise<void>;
  /**
   * Marks this process as the sweep's writer and the sweep as running. Refuses (UserError) when another live
   * process is writing it.
   */
  beginWriting(sweepId: number): Promise<void>;
  setSweepStatus(sweepId: number, status: SweepStatus): Promise<void>;
  /** Replaces the sweep's notes (one line per kind of thing a user should know). */
  setNotes(sweepId: number, notes: string[]): Promise<void>;

  /** Ids of the tasks whose trials are all recorded (failed ones are run again on resume). */
  finishedTaskIds(sweepId: number): Promise<Set<string>>;
  /** Records a task's outcome atomically: its trials, coefficients and learning curves, or failed trials with the error. */
  recordTask(sweepId: number, task: Task, outcome: TaskOutcome, outputs: number): Promise<void>;
  /** Rejects with an OutsideError when the store is gone (a database file deleted or replaced under a running sweep). */
  ensureIntact(): Promise<void>;

  trials(sweepId: number, filter?: TrialFilter): Promise<Trial[]>;
  /** How many trials a sweep has recorded. */
  trialCount(sweepId: number): Promise<number>;
  coefficients(sweepId: number, filter?: TrialFilter): Promise<TrialCoefficients[]>;
  epochs(sweepId: number): Promise<TrialEpoch[]>;
  writeSummary(sweepId: number, points: CvPoint[], selections: Selection[]): Promise<void>;
  summary(sweepId: number): Promise<CvPoint[]>;
  selections(sweepId: number): Promise<Selection[]>;

  /** Runs one statement that only reads; anything that would write is refused before it runs (UserError). */
  readOnlyQuery(sql: string, options: ReadOnlyQueryOptions): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export type StoreMode = 'read' | 'write';

export interface OpenOptions {
  mode: StoreMode;
  /** How long a write waits for a lock held by another process before giving up (milliseconds). */
  lockTimeoutMs?: number;
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
