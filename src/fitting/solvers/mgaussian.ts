import { type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { centerTarget, columnStats, type ColumnStats } from '../shared/columnStats.js';
import { extrapolateGroups, GroupWls } from '../shared/groupLeastSquares.js';
import { solveScreened, StrongSet } from '../shared/strongRules.js';

/**
 * Multi-response gaussian path (glmnet's mgaussian): (1/2n) Σ_i ‖y_i − b0 − B x_i‖² + λ Σ_j [(1−r)/2 ‖β_j‖² + r ‖β_j‖₂],
 * the group lasso across responses per feature, so a feature enters every response's model together. `problem.y`
 * holds the K responses column after column.
 */
export function mgaussianPath(context: KernelContext, problem: PathProblem, responses: number): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter, stop }, new MultiGaussian(context, problem, responses));
}

class MultiGaussian implements LambdaSolver {
  readonly stats: ColumnStats;
  readonly outputs: number;
  private readonly solver: GroupWls;
  private readonly strong: StrongSet;
  private readonly thresholdSq: number;
  private readonly previous: { beta: Float64Array; intercepts: Float64Array };

  constructor(context: KernelContext, problem: PathProblem, K: number) {
    const { design, y, weights, standardize, tol } = problem;
    const { n, p } = design;
    this.outputs = K;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const solver = (this.solver = new GroupWls(context, design, stats, weights, K));
    const { rows, w } = solver;
    let variance = 0;
    for (let k = 0; k < K; k++) {
      const target = centerTarget(y.subarray(k * n, (k + 1) * n), weights, stats.weightSum);
      const r = solver.residuals[k];
      for (let i = 0; i < rows.length; i++) r[i] = target.centered[rows[i]];
      solver.intercepts[k] = target.mean;
      variance += target.variance;
    }
    solver.v.set(w);
    solver.newQuadratic();
    // glmnet's rule on the summed variance of the responses, as the single-response solvers use var(y).
    this.thresholdSq = tol * tol * variance;
    this.strong = new StrongSet(p, stats.constant);
    this.strong.refresh(solver);
    this.previous = { beta: new Float64Array(K * p), intercepts: Float64Array.from(solver.intercepts) };
  }

  get beta(): Float64Array {
    return this.solver.beta;
  }

  intercepts(): Float64Array {
    return this.solver.intercepts;
  }

  warmStart(ratio: number): void {
    extrapolateGroups(this.solver, this.previous, ratio);
  }

  solve(point: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver } = this;
    return solveScreened(solver, this.strong, point, this.thresholdSq, maxIter, () => solver.intercepts.every(Number.isFinite));
  }

  release(): void {
    this.solver.dispose();
  }
}
