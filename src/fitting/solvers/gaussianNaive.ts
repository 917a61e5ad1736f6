import { type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { centerTarget, columnStats, type ColumnStats } from '../shared/columnStats.js';
import { solveScreened, StrongSet } from '../shared/strongRules.js';
import { extrapolate, WlsSolver } from '../shared/weightedLeastSquares.js';

/** Gaussian elastic-net path with naive updates and strong rules: the mode for p ≥ n (no p × p Gram matrix). */
export function gaussianNaivePath(context: KernelContext, problem: PathProblem): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter, stop }, new GaussianNaive(context, problem));
}

/**
 * glmnet's "naive" mode at one λ: coordinate descent on a residual vector (O(n) per update, see WlsSolver) over the
 * strong set, then a KKT check over every feature, until none is violated.
 */
class GaussianNaive implements LambdaSolver {
  readonly stats: ColumnStats;
  private readonly solver: WlsSolver;
  private readonly strong: StrongSet;
  private readonly thresholdSq: number;
  /** The last solution (β and intercept), for the extrapolated warm start. */
  private readonly previous: { beta: Float64Array; intercept: number };

  constructor(context: KernelContext, problem: PathProblem) {
    const { design, y, weights, standardize, tol } = problem;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const solver = (this.solver = new WlsSolver(context, design, stats, weights, problem.featurePenalty, problem.groups));
    const { rows, w } = solver;
    const target = centerTarget(y, weights, stats.weightSum);
    for (let r = 0; r < rows.length; r++) {
      solver.v[r] = w[r];
      solver.residual[r] = target.centered[rows[r]];
    }
    solver.intercept = target.mean;
    solver.newQuadratic();
    this.thresholdSq = tol * tol * target.variance;
    this.strong = new StrongSet(design.p, stats.constant, problem.featurePenalty?.factor, problem.groups);
    this.strong.refresh(solver);
    this.previous = { beta: new Float64Array(design.p), intercept: solver.intercept };
  }

  get beta(): Float64Array {
    return this.solver.beta;
  }

  intercepts(): number[] {
    return [this.solver.intercept];
  }

  warmStart(ratio: number): void {
    extrapolate(this.solver, this.previous, ratio);
  }

  /** The weighted mean squared training residual, from the residual the solver keeps (r = w (y − η)). */
  fittedLoss(): number {
    const { residual, w, rows } = this.solver;
    let sum = 0;
    for (let r = 0; r < rows.length; r++) if (w[r] > 0) sum += (residual[r] * residual[r]) / w[r];
    return sum / this.stats.weightSum;
  }

  solve(point: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver } = this;
    return solveScreened(solver, this.strong, point, this.thresholdSq, maxIter, () => Number.isFinite(solver.residual[0]));
  }

  release(): void {
    this.solver.dispose();
  }
}
