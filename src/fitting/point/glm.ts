import { FitStatus, type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { solvePath } from '../path/driver.js';
import type { PathPoint, PathProblem, PathSolution, PointSolver } from '../path/types.js';
import { centerTarget, columnStats, type ColumnStats } from '../shared/columnStats.js';
import { StrongSet } from '../shared/strongRules.js';
import { extrapolate, WlsSolver } from '../shared/weightedLeastSquares.js';

/** glmnet keeps fitted probabilities this far from 0 and 1 so that IRLS weights never vanish. */
export const PROBABILITY_FLOOR = 1e-5;
export const MAX_NEWTON_STEPS = 100;

/** A generalized linear model's link, as IRLS uses it: the mean from η, and the intercept of the model without features. */
type Link = 'logit' | 'log';

/**
 * Binomial elastic-net path, glmnet's way: at each λ a quadratic approximation of the log-likelihood (IRLS
 * weights p(1−p), working response) is minimized by coordinate descent, warm-started, until the coefficients stop
 * moving; strong rules and a KKT check on the true gradient. Labels are 0/1. On separable data the coefficients grow
 * without bound as λ → 0: the Newton steps are capped and the trial marked max_iter (or diverged if a value stops
 * being finite, which ends the path: there is nothing sensible to warm-start from) instead of looping.
 */
export function binomialPath(context: KernelContext, problem: PathProblem): PathSolution {
  const { lambdas, l1Ratio, maxIter } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter }, new Irls(context, problem, 'logit'), { stopAfterDivergence: true });
}

/**
 * Poisson elastic-net path (log link, glmnet's objective −(1/n)Σ(y η − e^η) + penalty), by the same IRLS as the
 * binomial with weights μ = e^η and an optional offset added to η. Counts are non-negative.
 */
export function poissonPath(context: KernelContext, problem: PathProblem): PathSolution {
  const { lambdas, l1Ratio, maxIter } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter }, new Irls(context, problem, 'log'), { stopAfterDivergence: true });
}

class Irls implements PointSolver {
  readonly stats: ColumnStats;
  private readonly solver: WlsSolver;
  private readonly strong: StrongSet;
  private readonly y: Float64Array;
  private readonly thresholdSq: number;
  /** β at the start of a Newton step. */
  private readonly start: Float64Array;
  private readonly previous: { beta: Float64Array; intercept: number };
  /** The offset of each training row (0 without one). */
  private readonly offset: Float64Array;

  constructor(
    context: KernelContext,
    problem: PathProblem,
    private readonly link: Link,
  ) {
    const { design, y, weights, standardize, tol } = problem;
    const { p } = design;
    this.y = y;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const solver = (this.solver = new WlsSolver(context, design, stats, weights));
    this.offset = Float64Array.from(solver.rows, (i) => problem.offset?.[i] ?? 0);
    const yMean = centerTarget(y, weights, stats.weightSum).mean;
    solver.intercept = link === 'logit' ? Math.log(yMean / (1 - yMean)) : nullLogIntercept(y, solver.rows, solver.w, this.offset);
    this.start = new Float64Array(p);
    this.thresholdSq = tol * tol;
    this.strong = new StrongSet(p, stats.constant);
    this.linearize();
    this.strong.refresh(solver);
    this.previous = { beta: new Float64Array(p), intercept: solver.intercept };
  }

  get beta(): Float64Array {
    return this.solver.beta;
  }

  intercepts(): number[] {
    return [this.solver.intercept];
  }

  /** The last two solutions extrapolated to this λ (the path is smooth between changes of the active set). */
  warmStart(ratio: number): void {
    extrapolate(this.solver, this.previous, ratio);
  }

  release(): void {
    this.solver.dispose();
  }

  /** Working residual r = w (y − μ) and IRLS weights v = w μ'(η) at the current coefficients: p(1 − p) or μ. */
  private linearize(): void {
    const { solver, y } = this;
    const { rows, w } = solver;
    const eta = solver.predictTraining();
    if (this.link === 'logit') {
      for (let r = 0; r < rows.length; r++) {
        const prob = 1 / (1 + Math.exp(-eta[r]));
        // The floor applies to the curvature only; the residual keeps the true probability so the fixed point is exact.
        const floored = Math.min(Math.max(prob, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
        solver.v[r] = w[r] * floored * (1 - floored);
        solver.residual[r] = w[r] * (y[rows[r]] - prob);
      }
    } else {
      const offset = this.offset;
      for (let r = 0; r < rows.length; r++) {
        const mu = Math.exp(eta[r] + offset[r]);
        solver.v[r] = w[r] * mu;
        solver.residual[r] = w[r] * (y[rows[r]] - mu);
      }
    }
    solver.newQuadratic();
  }

  solve({ lambda, previousLambda, l1Ratio, l1, l2 }: PathPoint, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver, strong, start, thresholdSq } = this;
    const weightSum = this.stats.weightSum;
    strong.screen(l1Ratio, lambda, previousLambda, solver);
    let passes = 0;
    for (;;) {
      let newtonConverged = false;
      // Inexact Newton: early steps are solved only as far as the step is still moving things.
      let lastMove = 1e-4;
      for (let step = 0; step < MAX_NEWTON_STEPS && passes < maxIter; step++) {
        this.linearize();
        start.set(solver.beta);
        const startIntercept = solver.intercept;
        const innerSq = Math.max(thresholdSq, Math.min(1e-6, 1e-4 * lastMove));
        const r = solver.solve(strong.members, strong.count, l1, l2, innerSq, maxIter - passes);
        passes += r.passes;
        if (!Number.isFinite(solver.intercept) || !r.converged) break;
        // Converged when a whole Newton step moved no coefficient by more than tol (weighted by its curvature).
        let moved = (solver.vSum / weightSum) * (solver.intercept - startIntercept) ** 2;
        for (let k = 0; k < strong.count; k++) {
          const j = strong.members[k];
          const d = solver.beta[j] - start[j];
          if (d !== 0) moved = Math.max(moved, solver.curvatureOf(j) * d * d);
        }
        if (moved <= thresholdSq && innerSq === thresholdSq) {
          newtonConverged = true;
          break;
        }
        lastMove = moved;
      }
      if (!Number.isFinite(solver.intercept) || solver.beta.some((b) => !Number.isFinite(b))) return { passes, status: FitStatus.diverged };
      if (!newtonConverged) return { passes, status: FitStatus.maxIter };
      this.linearize();
      if (strong.checkKkt(l1Ratio, lambda, solver) === 0) return { passes, status: FitStatus.converged };
    }
  }
}

/** The intercept of the Poisson model without features: log(Σ w y / Σ w e^offset). */
export function nullLogIntercept(y: Float64Array, rows: Int32Array, w: Float64Array, offset: Float64Array): number {
  let counts = 0;
  let exposure = 0;
  for (let r = 0; r < rows.length; r++) {
    counts += w[r] * y[rows[r]];
    exposure += w[r] * Math.exp(offset[r]);
  }
  return Math.log(counts / exposure);
}
