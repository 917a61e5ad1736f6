// A task (one warm-started λ path on one fold) → the path solver its model and shape call for → figures per trial.
// Pure: the shared data and a kernel context in, results out.
import { FitStatus, type Batch, type FoldId, type Task, type TaskResult, type TrialFigures } from '../domain.js';
import type { KernelContext } from './context.js';
import type { Design, PathSolution } from './path/types.js';
import { binomialPath } from './point/binomial.js';
import { fistaPath } from './point/fista.js';
import { gaussianCovariancePath } from './point/gaussianCovariance.js';
import { gaussianNaivePath } from './point/gaussianNaive.js';
import { networkPath } from './point/network.js';
import { columnStats } from './shared/columnStats.js';
import { LazyGram } from './shared/lazyGram.js';
import { accuracy, logLoss, meanSquaredError, rocAuc, sparsity } from './shared/metrics.js';
import { pathPredictions } from './shared/predict.js';

/** The data every task of a sweep reads: views on SharedArrayBuffers, so workers share them without a copy. */
export interface SharedData {
  X: Float64Array;
  y: Float64Array;
  n: number;
  p: number;
  outputs: number;
  /** Per row: its validation fold, or −1 when it is never held out. */
  foldOf: Int32Array;
}

/** What a model needs to know to fit, as the config gives it (the worker message carries it). */
export type ModelSettings =
  | { kind: 'linear' | 'logistic'; tol: number; max_iter: number; solver: 'cd' | 'fista' }
  | {
      kind: 'mlp';
      hidden: number[];
      optimizer: 'adam' | 'sgd';
      lr: number;
      batch: number;
      epochs: number;
      momentum: number;
      l2_method: 'coupled' | 'decoupled';
      l1_method: 'subgradient' | 'proximal';
      penalize_bias: boolean;
      seed: number;
    };

/** A batch's settings, the same for each of its tasks. */
export interface FitSettings {
  model: ModelSettings;
  standardize: boolean;
  nearZero: number;
}

/** One call to a worker: a batch of paths, run one after the other (several when they share a fold's Gram). */
export interface BatchMessage extends FitSettings {
  tasks: Batch;
  /** Split Gram blocks with a helper thread: the sweep has fewer batches than cores (workers/gramHelper.ts). */
  gramHelper: boolean;
}

/** Training weights (1 = fit on this row) and validation mask for one fold. */
export function foldWeights(foldOf: Int32Array, fold: FoldId): { train: Float64Array; validation: Float64Array } {
  const n = foldOf.length;
  const train = new Float64Array(n);
  const validation = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (fold !== 'all' && foldOf[i] === fold) validation[i] = 1;
    else train[i] = 1;
  }
  return { train, validation };
}

/**
 * The Gram columns of the last (fold, standardization) pair a kernel context saw: the paths for other l1 ratios on
 * the same fold reuse them instead of recomputing the p × p products (the coordinator sends a fold's paths as one
 * batch, so one entry is enough; each more would cost up to p² · 8 bytes per worker).
 */
const gramCache = new WeakMap<KernelContext, { key: string; gram: LazyGram }>();
function gramFor(context: KernelContext, design: Design, fold: FoldId, train: Float64Array, standardize: boolean): LazyGram {
  const key = `${fold}/${standardize}/${design.n}x${design.p}`;
  const hit = gramCache.get(context);
  if (hit && hit.key === key && hit.gram.design.X === design.X) return hit.gram;
  hit?.gram.dispose();
  const gram = new LazyGram(context, design, train, columnStats(design, train, standardize));
  gramCache.set(context, { key, gram });
  return gram;
}

/** Runs one task and measures every trial on it. */
export function fitTask(context: KernelContext, data: SharedData, task: Task, settings: FitSettings): TaskResult {
  const { model, standardize, nearZero } = settings;
  const { n, p } = data;
  const design = { X: data.X, n, p };
  const { train, validation } = foldWeights(data.foldOf, task.fold);
  if (model.kind === 'mlp') return fitNetworkTask(context, data, task, settings, train, validation);
  const nTrain = count(train);
  const nVal = count(validation);
  const lambdas = Float64Array.from(task.lambdas);
  const problem = { design, y: data.y, weights: train, standardize, l1Ratio: task.l1Ratio, lambdas, tol: model.tol, maxIter: model.max_iter };
  // glmnet's choice: covariance updates while the p × p Gram is cheaper than passes over n rows, naive otherwise.
  const solution: PathSolution =
    model.solver === 'fista'
      ? fistaPath(problem, model.kind === 'logistic' ? 'binomial' : 'gaussian')
      : model.kind === 'logistic'
        ? binomialPath(context, problem)
        : nTrain > p && p <= context.limits.covarianceMaxFeatures
          ? gaussianCovariancePath(context, problem, gramFor(context, design, task.fold, train, standardize))
          : gaussianNaivePath(context, problem);
  const logistic = model.kind === 'logistic';
  const loss = logistic ? logLoss : meanSquaredError;

  // Covariance mode hands back the training MSE, so only the validation rows need predictions (a fifth of the
  // work on 5 folds, none on the refit on all rows); elsewhere every row is predicted. Predictions come a group of
  // λ at a time (one matrix product each), within the context's prediction budget (four λ at least).
  const trainMse = solution.trainMse;
  const validationOnly = trainMse !== undefined && !trainMse.some(Number.isNaN);
  const rows = validationOnly ? rowsWhere(validation) : null;
  const m = rows ? rows.length : n;
  const y = rows ? Float64Array.from(rows, (i) => data.y[i]) : data.y;
  const trainWeights = rows ? null : train;
  const valWeights = rows ? new Float64Array(m).fill(1) : validation;
  const group = Math.max(4, Math.floor(context.limits.predictionDoubles / Math.max(1, m)) & ~3);
  let predictions: Float64Array = new Float64Array(0);
  const trials: TrialFigures[] = [];
  for (let l = 0; l < lambdas.length; l++) {
    const coefs = solution.coefs.subarray(l * p, (l + 1) * p);
    if (l % group === 0 && (nVal > 0 || trainWeights)) {
      predictions = pathPredictions(context.heap, design, rows, solution.coefs, solution.intercepts, l, Math.min(lambdas.length, l + group));
    }
    const eta = predictions.subarray((l % group) * m, (l % group + 1) * m);
    const trainLoss = trainWeights ? loss(y, eta, trainWeights) : trainMse![l];
    const valLoss = nVal > 0 ? loss(y, eta, valWeights) : null;
    const status = solution.status[l];
    trials.push({
      lambda: lambdas[l],
      status: status === FitStatus.diverged ? 'diverged' : 'ok',
      converged: status === FitStatus.converged,
      error: status === FitStatus.diverged ? 'coefficients became non-finite' : null,
      trainLoss,
      valLoss,
      nTrain,
      nVal,
      ...sparsity(coefs, nearZero),
      passes: solution.iterations[l],
      epochsRun: 0,
      seconds: solution.seconds[l],
      metrics: logistic ? classificationMetrics(y, eta, train, validation, nVal) : {},
    });
  }
  return { taskId: task.id, trials, coefs: solution.coefs, intercepts: solution.intercepts };
}

/** Each λ trains a network from the same initialization; L2 and L1 as the model settings say. */
function fitNetworkTask(context: KernelContext, data: SharedData, task: Task, settings: FitSettings, train: Float64Array, validation: Float64Array): TaskResult {
  const { model, standardize, nearZero } = settings;
  if (model.kind !== 'mlp') throw new Error('not a network task');
  const { n, p, outputs } = data;
  const stats = columnStats({ X: data.X, n, p }, train, standardize);
  const mean = standardize ? stats.mean : new Float64Array(p);
  const trainRows = rowsWhere(train);
  const valRows = rowsWhere(validation);
  const { solution, results } = networkPath(context, {
    X: data.X, Y: data.y, n, p, outputs, trainRows, valRows, mean, scale: stats.scale,
    hidden: model.hidden, optimizer: model.optimizer, lr: model.lr, batch: model.batch, epochs: model.epochs,
    momentum: model.momentum, seed: model.seed, l2Method: model.l2_method, l1Method: model.l1_method,
    penalizeBias: model.penalize_bias, lambdas: Float64Array.from(task.lambdas), l1Ratio: task.l1Ratio,
  });
  const trials: TrialFigures[] = results.map((r, l) => {
    const seconds = solution.seconds[l];
    return {
      lambda: task.lambdas[l],
      status: r.status,
      converged: r.status === 'ok',
      error: r.status === 'diverged' ? `loss not finite at epoch ${r.divergedEpoch}` : null,
      trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
      valLoss: valRows.length && Number.isFinite(r.valLoss) ? r.valLoss : null,
      nTrain: trainRows.length,
      nVal: valRows.length,
      ...sparsity(concat(r.weights), nearZero),
      passes: 0,
      epochsRun: r.epochsRun,
      seconds,
      metrics: { seconds_per_epoch: seconds / Math.max(1, r.epochsRun), ...(r.divergedEpoch ? { diverged_epoch: r.divergedEpoch } : {}) },
      epochs: Array.from(r.epochTrain, (trainLoss, e) => ({ epoch: e + 1, trainLoss, valLoss: valRows.length ? r.epochVal[e] : null })),
    };
  });
  return { taskId: task.id, trials, coefs: solution.coefs, intercepts: model.hidden.length === 0 ? solution.intercepts : new Float64Array(0) };
}

function rowsWhere(weights: Float64Array): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0) rows.push(i);
  return Int32Array.from(rows);
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, a) => s + a.length, 0));
  let off = 0;
  for (const a of parts) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

function classificationMetrics(y: Float64Array, eta: Float64Array, train: Float64Array, validation: Float64Array, nVal: number) {
  const m: Record<string, number> = { train_accuracy: accuracy(y, eta, train), train_auc: rocAuc(y, eta, train) };
  if (nVal > 0) {
    m.val_accuracy = accuracy(y, eta, validation);
    m.val_auc = rocAuc(y, eta, validation);
  }
  return m;
}

function count(weights: Float64Array): number {
  let c = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0) c++;
  return c;
}
