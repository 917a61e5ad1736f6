import { columnStats } from '../src/kernels/columnStats.js';
import { fistaPath } from '../src/kernels/fista.js';
import { gaussianPath } from '../src/kernels/gaussian.js';
import { LazyGram } from '../src/kernels/gram.js';
import { accuracy, logLoss, meanSquaredError, rocAuc, sparsity } from '../src/kernels/metrics.js';
import { gaussianNaivePath, logisticPath } from '../src/kernels/naive.js';
import { trainNetwork } from '../src/kernels/network.js';
import { pathPredictions } from '../src/kernels/predict.js';
import { FitStatus, penaltyWeights, type Design, type PathSolution } from '../src/kernels/types.js';
import { foldWeights, type FoldId } from '../src/plan/folds.js';
import type { SharedData, TaskMessage, TaskResult, TrialResult } from '../src/pool/protocol.js';

/** One path of a batch, with the batch's settings. */
export type PathMessage = Omit<TaskMessage, 'tasks'> & { task: TaskMessage['tasks'][number] };

/** Covariance mode keeps a p × p Gram matrix in kernel memory (4 GB at most): 2 GB is its limit. */
const COVARIANCE_MAX_FEATURES = 16_384;
/** Predictions held at once (doubles): 32 MB. */
const MAX_PREDICTION_DOUBLES = 1 << 22;

/** Runs one task (a warm-started λ path on one fold) and measures every trial on it. */
export function fitTask(data: SharedData, message: PathMessage): TaskResult {
  const { task, model, standardize, nearZero } = message;
  const { n, p } = data;
  const design = { X: data.X, n, p };
  const { train, validation } = foldWeights(data.foldOf, task.fold);
  const nTrain = count(train);
  const nVal = count(validation);
  const lambdas = Float64Array.from(task.lambdas);

  if (model.kind === 'mlp') return fitNetworkTask(data, message, train, validation);
  const problem = { design, y: data.y, weights: train, standardize, alpha: task.alpha, lambdas, tol: model.tol, maxIter: model.max_iter };
  // glmnet's choice: covariance updates while the p × p Gram is cheaper than passes over n rows, naive otherwise.
  const solution: PathSolution =
    model.solver === 'fista'
      ? fistaPath(problem, model.kind === 'logistic' ? 'binomial' : 'gaussian')
      : model.kind === 'logistic'
        ? logisticPath(problem)
        : nTrain > p && p <= COVARIANCE_MAX_FEATURES
          ? gaussianPath({ ...problem, gram: gramFor(design, task.fold, train, standardize) })
          : gaussianNaivePath(problem);
  const logistic = model.kind === 'logistic';
  const loss = logistic ? logLoss : meanSquaredError;

  // Covariance mode hands back the training MSE, so only the validation rows need predictions (a fifth of the
  // work on 5 folds, none on the refit on all rows); elsewhere every row is predicted. Predictions come a group of
  // λ at a time (one matrix product each), groups of 32 MB (four λ at least).
  const trainMse = solution.trainMse;
  const validationOnly = trainMse !== undefined && !trainMse.some(Number.isNaN);
  const rows = validationOnly ? rowsWhere(validation) : null;
  const m = rows ? rows.length : n;
  const y = rows ? Float64Array.from(rows, (i) => data.y[i]) : data.y;
  const trainWeights = rows ? null : train;
  const valWeights = rows ? new Float64Array(m).fill(1) : validation;
  const group = Math.max(4, Math.floor(MAX_PREDICTION_DOUBLES / Math.max(1, m)) & ~3);
  let predictions: Float64Array = new Float64Array(0);
  const trials: TrialResult[] = [];
  for (let l = 0; l < lambdas.length; l++) {
    const coefs = solution.coefs.subarray(l * p, (l + 1) * p);
    if (l % group === 0 && (nVal > 0 || trainWeights)) {
      predictions = pathPredictions(design, rows, solution.coefs, solution.intercepts, l, Math.min(lambdas.length, l + group));
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
      iterations: solution.iterations[l],
      seconds: solution.seconds[l],
      metrics: logistic ? classificationMetrics(y, eta, train, validation, nVal) : {},
    });
  }
  return { taskId: task.id, trials, coefs: solution.coefs, intercepts: solution.intercepts };
}

/** Each λ trains a network from the same initialization; L2 and L1 as the model config says. */
function fitNetworkTask(data: SharedData, message: PathMessage, train: Float64Array, validation: Float64Array): TaskResult {
  const { task, model, standardize, nearZero } = message;
  if (model.kind !== 'mlp') throw new Error('not a network task');
  const { n, p, outputs } = data;
  const stats = columnStats({ X: data.X, n, p }, train, standardize);
  const mean = standardize ? stats.mean : new Float64Array(p);
  const trainRows = rowsWhere(train);
  const valRows = rowsWhere(validation);
  // Coefficients are stored for the single-layer case (p × outputs, original scale, like a linear model's).
  const linear = model.hidden.length === 0;
  const coefs = new Float64Array(linear ? task.lambdas.length * p * outputs : 0);
  const intercepts = new Float64Array(linear ? task.lambdas.length * outputs : 0);
  const trials: TrialResult[] = task.lambdas.map((lambda, l) => {
    const started = performance.now();
    const { l1, l2 } = penaltyWeights(lambda, task.alpha);
    const r = trainNetwork({
      X: data.X, Y: data.y, n, p, outputs, trainRows, valRows, mean, scale: stats.scale,
      hidden: model.hidden, optimizer: model.optimizer, lr: model.lr, batch: model.batch, epochs: model.epochs,
      momentum: model.momentum, seed: model.seed, l1, l2, l2Method: model.l2_method, l1Method: model.l1_method,
      penalizeBias: model.penalize_bias,
    });
    const seconds = (performance.now() - started) / 1000;
    const allWeights = concat(r.weights);
    if (linear) {
      // Layer weights are (outputs × p) on the scaled inputs: back to the original scale, column-major per output.
      const w = r.weights[0];
      for (let k = 0; k < outputs; k++) {
        let b0 = r.biases[0][k];
        for (let j = 0; j < p; j++) {
          const b = w[k * p + j] / stats.scale[j];
          coefs[l * p * outputs + k * p + j] = b;
          b0 -= b * mean[j];
        }
        intercepts[l * outputs + k] = b0;
      }
    }
    return {
      lambda,
      status: r.status,
      converged: r.status === 'ok',
      error: r.status === 'diverged' ? `loss not finite at epoch ${r.divergedEpoch}` : null,
      trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
      valLoss: valRows.length && Number.isFinite(r.valLoss) ? r.valLoss : null,
      nTrain: trainRows.length,
      nVal: valRows.length,
      ...sparsity(allWeights, nearZero),
      iterations: r.epochsRun,
      seconds,
      metrics: { seconds_per_epoch: seconds / Math.max(1, r.epochsRun), ...(r.divergedEpoch ? { diverged_epoch: r.divergedEpoch } : {}) },
      epochs: Array.from(r.epochTrain, (trainLoss, e) => ({ epoch: e + 1, trainLoss, valLoss: valRows.length ? r.epochVal[e] : null })),
    };
  });
  return { taskId: task.id, trials, coefs, intercepts };
}

/**
 * The Gram columns of the last (fold, standardization) pair this worker saw: the paths for other α on the same
 * fold reuse them instead of recomputing the p × p products (the coordinator sends a fold's paths as one batch,
 * so one entry is enough; each more would cost up to p² · 8 bytes per worker).
 */
const gramCache: { key: string; gram: LazyGram }[] = [];
function gramFor(design: Design, fold: FoldId, train: Float64Array, standardize: boolean): LazyGram {
  const key = `${fold}/${standardize}/${design.n}x${design.p}`;
  const hit = gramCache.find((e) => e.key === key && e.gram.design.X === design.X);
  if (hit) return hit.gram;
  const gram = new LazyGram(design, train, columnStats(design, train, standardize));
  for (const old of gramCache.splice(0)) old.gram.dispose();
  gramCache.push({ key, gram });
  return gram;
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
