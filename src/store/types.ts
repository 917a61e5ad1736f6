import type { TrialResult } from '../pool/protocol.js';
import type { Task } from '../plan/tasks.js';

export type SweepStatus = 'running' | 'interrupted' | 'done';

export interface SweepRecord {
  id: number;
  name: string;
  configJson: string;
  configHash: string;
  dataHash: string;
  status: SweepStatus;
  createdAt: string;
  finishedAt: string | null;
  n: number;
  p: number;
  modelKind: string;
  featureNames: string[];
  targetNames: string[];
  classes: [string, string] | null;
  totalTasks: number;
  totalTrials: number;
}

export type NewSweep = Omit<SweepRecord, 'id' | 'status' | 'createdAt' | 'finishedAt'>;

/** A trial as stored: one (penalty, l1_ratio, λ) on one fold, with what the worker measured. */
export interface TrialRow extends Omit<TrialResult, 'epochs'> {
  id: number;
  sweepId: number;
  taskId: string;
  penalty: string;
  l1Ratio: number;
  /** "all" or the validation fold's index. */
  fold: string;
}

export interface CoefficientRow {
  trialId: number;
  penalty: string;
  lambda: number;
  l1Ratio: number;
  fold: string;
  intercept: number[];
  /** p × outputs, column-major per output. */
  coefs: Float64Array;
}

/** Mean over validation folds for one point of the sweep. */
export interface SummaryRow {
  penalty: string;
  l1Ratio: number;
  lambda: number;
  metric: string;
  folds: number;
  mean: number;
  se: number;
  trainMean: number | null;
  /** Nonzero coefficients of the fit on all rows. */
  nnzAll: number | null;
}

/** λ_min and λ_1se for one (penalty, l1_ratio) group. */
export interface SelectionRow {
  penalty: string;
  l1Ratio: number;
  metric: string;
  lambdaMin: number;
  lambda1se: number;
  meanMin: number;
  seMin: number;
  mean1se: number;
  nnzMin: number | null;
  nnz1se: number | null;
  /** Where λ_min sits on the edge of the grid: the grid should be extended that way. */
  edge: 'largest' | 'smallest' | null;
}

export interface EpochRow {
  trialId: number;
  penalty: string;
  lambda: number;
  l1Ratio: number;
  fold: string;
  epoch: number;
  trainLoss: number | null;
  valLoss: number | null;
}

export interface TrialFilter {
  fold?: string;
  penalty?: string;
}

/**
 * The one interface every stage talks to; SQLite implements it now. Writes of one task are atomic, so a
 * crash leaves each task either fully recorded or absent, and a resumed sweep reruns only the absent ones.
 */
export interface Store {
  readonly path: string;
  latestSweep(name?: string): SweepRecord | undefined;
  listSweeps(): SweepRecord[];
  createSweep(sweep: NewSweep): SweepRecord;
  setSweepStatus(sweepId: number, status: SweepStatus): void;
  /** Ids of the tasks whose trials are all recorded (failed ones are run again on resume). */
  finishedTaskIds(sweepId: number): Set<string>;
  recordTask(sweepId: number, task: Task, trials: TrialResult[], coefs: Float64Array | null, intercepts: Float64Array | null, outputs: number): void;
  trials(sweepId: number, filter?: TrialFilter): TrialRow[];
  coefficients(sweepId: number, filter?: TrialFilter): CoefficientRow[];
  epochs(sweepId: number): EpochRow[];
  writeSummary(sweepId: number, summary: SummaryRow[], selections: SelectionRow[]): void;
  summary(sweepId: number): SummaryRow[];
  selections(sweepId: number): SelectionRow[];
  close(): void;
}
