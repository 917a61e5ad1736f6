import type { ModelConfig } from '../config/schema.js';
import type { Task } from '../plan/tasks.js';

/** Handed to every worker once; the arrays are views on SharedArrayBuffers, so nothing is copied. */
export interface SharedData {
  X: Float64Array;
  y: Float64Array;
  n: number;
  p: number;
  outputs: number;
  foldOf: Int32Array;
}

/** One call to a worker: a batch of paths, run one after the other (several when they share a fold's Gram). */
export interface TaskMessage {
  tasks: Task[];
  model: ModelConfig;
  standardize: boolean;
  nearZero: number;
  /** Split Gram blocks with a helper thread: the sweep has fewer batches than cores (see gramHelper.ts). */
  gramHelper: boolean;
}

export type TrialStatus = 'ok' | 'diverged' | 'failed';

export interface TrialResult {
  lambda: number;
  status: TrialStatus;
  converged: boolean;
  error: string | null;
  trainLoss: number | null;
  valLoss: number | null;
  nTrain: number;
  nVal: number;
  nnz: number;
  zeroFraction: number;
  nearZeroFraction: number;
  l1Norm: number;
  l2Norm: number;
  iterations: number;
  seconds: number;
  /** Model-specific figures: accuracy and AUC for logistic, the diverging epoch for networks. */
  metrics: Record<string, number>;
  /** Validation loss per epoch, for networks (learning curves). */
  epochs?: { epoch: number; trainLoss: number | null; valLoss: number | null }[];
}

export interface TaskResult {
  taskId: string;
  trials: TrialResult[];
  /** nλ × (p · outputs), original scale (copied back from the worker, see piscinaEntry.ts). */
  coefs: Float64Array;
  /** nλ × outputs. */
  intercepts: Float64Array;
}

/** A path that threw: recorded as failed trials, retried on resume. */
export interface TaskFailure {
  taskId: string;
  error: string;
}

export type BatchResult = (TaskResult | TaskFailure)[];
