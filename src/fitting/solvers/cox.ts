import { FitStatus, type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { solvePath } from '../path/driver.js';
import type { LambdaSolver, PathProblem, PathSolution, PathStep } from '../path/types.js';
import { columnStats, type ColumnStats } from '../shared/columnStats.js';
import { coxDeviance, coxQuadratic, partialLogLikelihood, riskSets, type RiskSets } from '../shared/cox.js';
import { StrongSet } from '../shared/strongRules.js';
import { extrapolate, WlsSolver } from '../shared/weightedLeastSquares.js';

const MAX_NEWTON_STEPS = 100;

/**
 * The Cox proportional-hazards path, glmnet's coxnet: at each λ the partial likelihood (Breslow ties) is replaced by
 * its quadratic with the Hessian's diagonal, minimized by coordinate descent over the strong set, until a Newton step
 * moves no coefficient; then the KKT check on the true gradient. No intercept (a shift of η leaves the likelihood as it
 * is). The objective is −ℓ(β)/W + λ·(r‖β‖₁ + (1−r)/2‖β‖²), W the weight sum; a step that raises it is halved.
 * `problem.y` holds the times, then the statuses (1 death, 0 censored).
 */
export function coxPath(context: KernelContext, problem: PathProblem): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  const solution = solvePath({ lambdas, l1Ratio, maxIter, stop }, new CoxIrls(context, problem), { stopAfterDivergence: true });
  // The back-transform's intercept (−Σ m_j b_j) only recentres η; the model has none.
  solution.intercepts.fill(0);
  return solution;
}

class CoxIrls implements LambdaSolver {
  readonly stats: ColumnStats;
  private readonly solver: WlsSolver;
  private readonly strong: StrongSet;
  private readonly sets: RiskSets;
  /** Per solver position: its row's time, status and weight. */
  private readonly time: Float64Array;
  private readonly status: Float64Array;
  private readonly thresholdSq: number;
  private readonly start: Float64Array;
  private readonly previous: { beta: Float64Array; intercept: number };
  private readonly scratch: { residual: Float64Array; curvature: Float64Array };

  constructor(context: KernelContext, problem: PathProblem) {
    const { design, y, weights, standardize, tol } = problem;
    const { n, p } = design;
    this.stats = columnStats(design, weights, standardize);
    const solver = (this.solver = new WlsSolver(context, design, this.stats, weights, problem.featurePenalty));
    solver.fitsIntercept = false;
    this.time = Float64Array.from(solver.rows, (i) => y[i]);
    this.status = Float64Array.from(solver.rows, (i) => y[n + i]);
    this.sets = riskSets(this.time, this.status, solver.w);
    const m = solver.rows.length;
    this.scratch = { residual: new Float64Array(m), curvature: new Float64Array(m) };
    this.start = new Float64Array(p);
    this.thresholdSq = tol * tol;
    this.strong = new StrongSet(p, this.stats.constant, problem.featurePenalty?.factor);
    this.linearize();
    this.strong.refresh(solver);
    this.previous = { beta: new Float64Array(p), intercept: 0 };
  }

  get beta(): Float64Array {
    return this.solver.beta;
  }

  intercepts(): number[] {
    return [0];
  }

  warmStart(ratio: number): void {
    extrapolate(this.solver, this.previous, ratio);
  }

  release(): void {
    this.solver.dispose();
  }

  /** −ℓ/W plus the penalty on the fitting scale, at the current coefficients. */
  private objective(l1: number, l2: number): number {
    const { solver } = this;
    const loglik = partialLogLikelihood(this.sets, solver.predictTraining(), this.status, solver.w);
    let penalty = 0;
    for (const j of solver.activeInOrder()) {
      const b = solver.beta[j];
      if (b !== 0) penalty += solver.factorOf(j) * (l1 * Math.abs(b) + (l2 / 2) * b * b);
    }
    return -loglik / this.stats.weightSum + penalty;
  }

  /** The glmnet deviance of the training rows per death, for the path's stopping rules (the family's loss). */
  fittedLoss(): number {
    const { deviance, deaths } = coxDeviance(this.time, this.status, this.solver.predictTraining(), this.solver.w);
    return deviance / deaths;
  }

  /** The residual (gradient of ℓ in η) and curvature (−its Hessian's diagonal) at the current coefficients. */
  private linearize(): void {
    const { solver, scratch } = this;
    coxQuadratic(this.sets, solver.predictTraining(), this.status, solver.w, scratch.residual, scratch.curvature, (r) => r);
    const residual = solver.residual;
    const v = solver.v;
    residual.set(scratch.residual);
    v.set(scratch.curvature);
    solver.newQuadratic();
  }

  solve({ lambda, previousLambda, l1Ratio, l1, l2 }: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver, strong, start, thresholdSq } = this;
    strong.screen(l1Ratio, lambda, previousLambda, solver);
    let passes = 0;
    for (;;) {
      let converged = false;
      let before = this.objective(l1, l2);
      for (let step = 0; step < MAX_NEWTON_STEPS && passes < maxIter; step++) {
        start.set(solver.beta);
        const r = solver.solve(strong.members, strong.count, l1, l2, thresholdSq, maxIter - passes);
        passes += r.passes;
        if (!r.converged) break;
        let after = this.objective(l1, l2);
        // The diagonal quadratic is no bound on −ℓ: a step that overshoots is halved back toward its start.
        for (let halvings = 0; !(after <= before + 1e-12 * Math.abs(before)) && halvings < 40; halvings++) {
          for (let k = 0; k < strong.count; k++) {
            const j = strong.members[k];
            solver.setCoefficient(j, start[j] + (solver.beta[j] - start[j]) / 2);
          }
          after = this.objective(l1, l2);
        }
        before = after;
        const moved = solver.stepMove(start, 0, strong.members, strong.count);
        this.linearize();
        if (moved <= thresholdSq) {
          converged = true;
          break;
        }
      }
      if (solver.beta.some((b) => !Number.isFinite(b))) return { passes, status: FitStatus.diverged };
      if (!converged) return { passes, status: FitStatus.maxIter };
      if (strong.checkKkt(l1Ratio, lambda, solver) === 0) return { passes, status: FitStatus.converged };
    }
  }
}
