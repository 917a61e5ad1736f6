import { FitStatus } from '../../domain.js';
import type { ColumnStats } from '../shared/columnStats.js';
import { penaltyWeights, stepRatio } from '../shared/penalty.js';
import type { PathSolution, LambdaSolver, PathStop } from './types.js';

export interface PathSettings {
  /** Descending. */
  lambdas: Float64Array;
  l1Ratio: number;
  /** Passes allowed per λ. */
  maxIter: number;
  /** glmnet's rules for ending an automatic path early; absent: every λ is fitted. */
  stop?: PathStop;
}

/** glmnet's mnlam: a path is not ended by fdev or devmax before this many λ. */
const MIN_PATH_LAMBDAS = 5;

export interface DriverOptions {
  /** Keep the solver's own training loss per λ (covariance mode has it for free). */
  trainLoss?: boolean;
  /** A diverged λ leaves nothing sensible to warm-start from: mark the rest of the path diverged and stop. */
  stopAfterDivergence?: boolean;
  /** Called after each λ is solved and stored, for figures a solver keeps beside the coefficients. */
  afterPoint?: (index: number) => void;
}

/**
 * The λ loop every path solver shares (glmnet's path layer): for each λ, the warm start, the λ solver, the
 * back-transform of its solution to the original scale, the passes, the status and the time. The solver is
 * released when the path ends, whether it finished or threw.
 */
export function solvePath(settings: PathSettings, solver: LambdaSolver, options: DriverOptions = {}): PathSolution {
  const { lambdas, l1Ratio, maxIter } = settings;
  const nLambda = lambdas.length;
  const width = solver.beta.length;
  const outputs = solver.outputs ?? 1;
  const solution: PathSolution = {
    intercepts: new Float64Array(nLambda * outputs),
    coefs: coefficientMatrix(nLambda * width),
    passes: new Int32Array(nLambda),
    status: new Uint8Array(nLambda),
    seconds: new Float64Array(nLambda),
    ...(options.trainLoss ? { trainMse: new Float64Array(nLambda) } : {}),
  };
  // The fraction of the null deviance explained at each λ fitted, for the stopping rules.
  const explained = new Float64Array(nLambda);
  try {
    for (let l = 0; l < nLambda; l++) {
      const started = performance.now();
      const lambda = lambdas[l];
      const { l1, l2 } = penaltyWeights(lambda, l1Ratio);
      solver.warmStart(stepRatio(lambdas, l));
      const { passes, status } = solver.solve({ index: l, lambda, previousLambda: l === 0 ? lambda : lambdas[l - 1], l1Ratio, l1, l2 }, maxIter);
      storeOriginalScale(solver, solution, l);
      if (solution.trainMse) solution.trainMse[l] = solver.trainLoss!();
      solution.passes[l] = passes;
      solution.status[l] = status;
      solution.seconds[l] = (performance.now() - started) / 1000;
      options.afterPoint?.(l);
      if (status === FitStatus.diverged && options.stopAfterDivergence) {
        for (let k = l + 1; k < nLambda; k++) solution.status[k] = FitStatus.diverged;
        break;
      }
      if (settings.stop && status !== FitStatus.diverged && endsHere(settings.stop, solution, explained, l, solver.fittedLoss?.())) break;
    }
  } finally {
    solver.release();
  }
  return solution;
}

/** The coefficient matrices this thread's paths were given (by their memory), and the last one given back (weakly held). */
const issued = new WeakMap<ArrayBufferLike, Float64Array>();
let spare: WeakRef<Float64Array> | undefined;

/**
 * A zeroed matrix for a path's coefficients: the one its last path gave back when it is large enough. On a wide
 * sparse design it is tens of MB, and each path's matrix lived on until the thread's next collection, beside the next.
 */
function coefficientMatrix(length: number): Float64Array {
  const given = spare?.deref();
  spare = undefined;
  if (given && given.length >= length) return given.subarray(0, length).fill(0);
  const matrix = new Float64Array(length);
  issued.set(matrix.buffer, matrix);
  return matrix;
}

/** A path's coefficients are read no more (measured and packed): the next path of this thread may reuse their memory. */
export function releasePathCoefficients(coefs: Float64Array): void {
  const matrix = issued.get(coefs.buffer);
  if (matrix) spare = new WeakRef(matrix);
}

/**
 * Whether the path ends after λ index l, as glmnet's do once MIN_PATH_LAMBDAS are fitted: the deviance explained
 * changed by less than fdev since the λ before (relative to itself for least squares; over the last MIN_PATH_LAMBDAS
 * λ and against 10·fdev for poisson, 100·fdev and 0.99/0.999 of devmax for cox), or exceeds devmax. The point l is kept and the reason recorded on the solution.
 */
function endsHere(stop: PathStop, solution: PathSolution, explained: Float64Array, l: number, fittedLoss: number | undefined): boolean {
  const ratio = (explained[l] = fittedLoss !== undefined && Number.isFinite(fittedLoss) ? 1 - fittedLoss / stop.nullLoss : stop.explained(solution, l));
  if (l + 1 < MIN_PATH_LAMBDAS) return false;
  const change =
    stop.change === 'absolute'
      ? ratio - explained[l - 1]
      : stop.change === 'relative'
        ? ratio === 0
          ? Infinity
          : (ratio - explained[l - 1]) / ratio
        : (ratio - explained[l - MIN_PATH_LAMBDAS + 1]) / ratio;
  // glmnet's coxnet reads the window against 100·fdev and devmax·0.99/0.999.
  const fdev = stop.change === 'window' ? 10 * stop.fdev : stop.change === 'coxWindow' ? 100 * stop.fdev : stop.fdev;
  const devmax = stop.change === 'coxWindow' ? (stop.devmax * 0.99) / 0.999 : stop.devmax;
  const reason = stop.fdev > 0 && change < fdev ? 'fdev' : ratio > devmax ? 'devmax' : undefined;
  if (!reason) return false;
  solution.stopped = { index: l, reason, explained: ratio, change };
  return true;
}

/** Row l of the solution from the solver's state: per output, b_j = β_j / s_j and b0 = intercept − Σ m_j b_j. */
function storeOriginalScale(solver: LambdaSolver, solution: PathSolution, l: number): void {
  const outputs = solver.outputs ?? 1;
  const width = solver.beta.length;
  if (width === 0) return;
  const intercepts = solver.intercepts();
  const p = width / outputs;
  for (let k = 0; k < outputs; k++) {
    solution.intercepts[l * outputs + k] = toOriginalScale(solver.beta, k * p, intercepts[k], solver.stats, solution.coefs, l * width + k * p);
  }
}

/**
 * β[from … from + p) on the scaled, centered features → the original scale into coefs[row …]; returns the intercept.
 * A function of its own, so the JIT compiles it once (docs/performance.md, "JIT").
 */
function toOriginalScale(beta: Float64Array, from: number, intercept: number, stats: Pick<ColumnStats, 'mean' | 'scale'>, coefs: Float64Array, row: number): number {
  const { mean, scale } = stats;
  const p = mean.length;
  for (let j = 0; j < p; j++) {
    // A zero stays the zero `coefs` holds and moves no intercept: on wide sparse fits most of the p.
    if (beta[from + j] === 0) continue;
    const b = beta[from + j] / scale[j];
    coefs[row + j] = b;
    intercept -= mean[j] * b;
  }
  return intercept;
}
