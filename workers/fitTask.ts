import { gaussianPath } from '../src/kernels/gaussian.js';
import { accuracy, linearPredictor, logLoss, meanSquaredError, rocAuc, sparsity } from '../src/kernels/metrics.js';
import { gaussianNaivePath, logisticPath } from '../src/kernels/naive.js';
import { FitStatus, type PathSolution } from '../src/kernels/types.js';
import { foldWeights } from '../src/plan/folds.js';
import type { SharedData, TaskMessage, TaskResult, TrialResult } from '../src/pool/protocol.js';

/** Runs one task (a warm-started λ path on one fold) and measures every trial on it. */
export function fitTask(data: SharedData, message: TaskMessage): TaskResult {
  const { task, model, standardize, nearZero } = message;
  const { n, p } = data;
  const design = { X: data.X, n, p };
  const { train, validation } = foldWeights(data.foldOf, task.fold);
  const nTrain = count(train);
  const nVal = count(validation);
  const lambdas = Float64Array.from(task.lambdas);

  if (model.kind === 'mlp') throw new Error('mlp tasks are run by fitNetworkTask');
  const problem = { design, y: data.y, weights: train, standardize, alpha: task.alpha, lambdas, tol: model.tol, maxIter: model.max_iter };
  // glmnet's choice: covariance updates while the p × p Gram is cheaper than passes over n rows, naive otherwise.
  const solution: PathSolution =
    model.kind === 'logistic' ? logisticPath(problem) : nTrain > p ? gaussianPath(problem) : gaussianNaivePath(problem);
  const logistic = model.kind === 'logistic';
  const loss = logistic ? logLoss : meanSquaredError;

  const eta = new Float64Array(n);
  const trials: TrialResult[] = [];
  for (let l = 0; l < lambdas.length; l++) {
    const coefs = solution.coefs.subarray(l * p, (l + 1) * p);
    linearPredictor(design, solution.intercepts[l], coefs, eta);
    const status = solution.status[l];
    trials.push({
      lambda: lambdas[l],
      status: status === FitStatus.diverged ? 'diverged' : 'ok',
      converged: status === FitStatus.converged,
      error: status === FitStatus.diverged ? 'coefficients became non-finite' : null,
      trainLoss: loss(data.y, eta, train),
      valLoss: nVal > 0 ? loss(data.y, eta, validation) : null,
      nTrain,
      nVal,
      ...sparsity(coefs, nearZero),
      iterations: solution.iterations[l],
      seconds: solution.seconds[l],
      metrics: logistic ? classificationMetrics(data.y, eta, train, validation, nVal) : {},
    });
  }
  return { taskId: task.id, trials, coefs: solution.coefs, intercepts: solution.intercepts };
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
