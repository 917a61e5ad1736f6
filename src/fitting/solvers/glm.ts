import { FitStatus, type FitStatusCode } from '../../domain.js';
import type { KernelContext } from '../context.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { centerTarget, columnStats, type ColumnStats } from '../shared/columnStats.js';
import { logLoss, poissonDeviance } from '../shared/metrics.js';
import { StrongSet } from '../shared/strongRules.js';
import { extrapolate, WlsSolver } from '../shared/weightedLeastSquares.js';

/** glmnet keeps fitted probabilities this far from 0 and 1 so that IRLS weights never vanish. */
export const PROBABILITY_FLOOR = 1e-5;
/** glmnet's floor on fitted probabilities in the binomial deviance its path-stopping rules read (pmin). */
export const STOP_PROBABILITY_FLOOR = 1e-9;
/** max |ℓ'''| / 6 for ℓ(η) = log(1 + e^η): (√3/18)/6. */
const LOGISTIC_THIRD = Math.sqrt(3) / 108;
const MAX_NEWTON_STEPS = 100;
/** Active sets up to this size get a Newton step of their own (a dense solve of this order)… */
const MAX_NEWTON_ACTIVE = 300;
/** …when coordinate descent needed this many passes for the last quadratic (an ill-conditioned one: it is cut short
 * there), or the Newton steps at this λ reach this many (the floored curvature slows them on nearly separable data). */
const SLOW_INNER_PASSES = 50;
const SLOW_NEWTON_STEPS = 4;
/** Below this many active features a Newton step is cheap enough to try whenever the Newton steps are slow. */
const SMALL_ACTIVE_SET = 50;

/** A coefficient's sign: −1, 0 or 1. */
const signOf = (b: number): number => (b > 0 ? 1 : b < 0 ? -1 : 0);

/** Whether each coefficient has the sign (−1, 0 or 1) `signs` holds for it; `signs` then holds the coefficients' signs. */
function signsKept(solver: WlsSolver, signs: Int8Array): boolean {
  let kept = true;
  solver.everyMayBeNonzero((j) => {
    const s = signOf(solver.beta[j]);
    if (s !== signs[j]) {
      kept = false;
      signs[j] = s;
    }
    return true;
  });
  return kept;
}

/** Whether each coefficient has the sign `signs` holds for it (a coefficient never made nonzero has sign 0 in both). */
function sameSigns(solver: WlsSolver, signs: Int8Array): boolean {
  return solver.everyMayBeNonzero((j) => signOf(solver.beta[j]) === signs[j]);
}

/**
 * An upper bound on Σ_r w_r [ℓ(η_r) − ℓ(η0_r)] for the logistic loss ℓ(η) = log(1 + e^η) − yη, from η0's
 * probabilities alone: the second-order expansion at η0 plus max|ℓ'''|/6 · |Δη|³ per row (Taylor with remainder).
 */
export function logisticLossRise(eta0: Float64Array, eta: Float64Array, prob0: Float64Array, y: Float64Array, rows: Int32Array, w: Float64Array): number {
  let bound = 0;
  for (let r = 0; r < rows.length; r++) {
    if (w[r] === 0) continue;
    const d = eta[r] - eta0[r];
    const p = prob0[r];
    const ad = Math.abs(d);
    bound += w[r] * ((p - y[rows[r]]) * d + 0.5 * p * (1 - p) * d * d + LOGISTIC_THIRD * ad * ad * ad);
  }
  return bound;
}

/** Solves H·x = b for a symmetric positive definite H (q × q, row-major) by Cholesky; null when H is not. */
function choleskySolve(H: Float64Array, b: Float64Array, q: number): Float64Array | null {
  const L = new Float64Array(q * q);
  for (let i = 0; i < q; i++)
    for (let j = 0; j <= i; j++) {
      let s = H[i * q + j];
      for (let k = 0; k < j; k++) s -= L[i * q + k] * L[j * q + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * q + i] = Math.sqrt(s);
      } else L[i * q + j] = s / L[j * q + j];
    }
  const x = Float64Array.from(b);
  for (let i = 0; i < q; i++) {
    for (let k = 0; k < i; k++) x[i] -= L[i * q + k] * x[k];
    x[i] /= L[i * q + i];
  }
  for (let i = q - 1; i >= 0; i--) {
    for (let k = i + 1; k < q; k++) x[i] -= L[k * q + i] * x[k];
    x[i] /= L[i * q + i];
  }
  return x;
}

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
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter, stop }, new Irls(context, problem, 'logit'), { stopAfterDivergence: true });
}

/**
 * Poisson elastic-net path (log link, glmnet's objective −(1/n)Σ(y η − e^η) + penalty), by the same IRLS as the
 * binomial with weights μ = e^η and an optional offset added to η. Counts are non-negative.
 */
export function poissonPath(context: KernelContext, problem: PathProblem): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter, stop }, new Irls(context, problem, 'log'), { stopAfterDivergence: true });
}

class Irls implements LambdaSolver {
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
  /** The signs at the last λ's solution when Newton steps on its active set took it there (newtonSettled). */
  private readonly newtonSigns: Int8Array;
  private newtonSettled = false;
  /** The signs where the last Newton step started (an array, not a string: on wide designs most are 0). */
  private readonly signsBefore: Int8Array;
  /** The training rows' targets, and scratch for their η with the offset (fittedLoss). */
  private readonly trainingY: Float64Array;
  private readonly fittedEta: Float64Array;
  /** Per training row e^−|η| (binomial) or e^η (poisson) from the last objective, and the solver's η it was of. */
  private readonly rowExp: Float64Array;
  private rowExpOf = -1;
  /** η and (binomial) the probability of each training row where linearize() last ran: a step's start. */
  private readonly etaStart: Float64Array;
  /** The Newton step's columns (the intercept's, then the active features'), kept from one step to the next. */
  private newtonColumns = new Float64Array(0);
  private readonly probStart: Float64Array;

  constructor(
    context: KernelContext,
    problem: PathProblem,
    private readonly link: Link,
  ) {
    const { design, y, weights, standardize, tol } = problem;
    const { p } = design;
    this.y = y;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const solver = (this.solver = new WlsSolver(context, design, stats, weights, problem.featurePenalty, problem.groups));
    this.offset = Float64Array.from(solver.rows, (i) => problem.offset?.[i] ?? 0);
    this.trainingY = Float64Array.from(solver.rows, (i) => y[i]);
    this.fittedEta = new Float64Array(solver.rows.length);
    this.rowExp = new Float64Array(solver.rows.length);
    this.etaStart = new Float64Array(solver.rows.length);
    this.probStart = new Float64Array(link === 'logit' ? solver.rows.length : 0);
    const yMean = centerTarget(y, weights, stats.weightSum).mean;
    solver.intercept = link === 'logit' ? Math.log(yMean / (1 - yMean)) : nullLogIntercept(y, solver.rows, solver.w, this.offset);
    this.start = new Float64Array(p);
    this.signsBefore = new Int8Array(p);
    this.newtonSigns = new Int8Array(p);
    this.thresholdSq = tol * tol;
    this.strong = new StrongSet(p, stats.constant, problem.featurePenalty?.factor, problem.groups);
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

  /**
   * The penalized objective at the current coefficients: the mean negative log-likelihood (binomial) or Poisson
   * deviance half, plus l1·‖β‖₁ + l2/2·‖β‖² on the fitting scale.
   */
  private objective(l1: number, l2: number): number {
    const value = this.objectiveOf(this.solver.predictTraining(), this.solver.beta, l1, l2, this.rowExp);
    this.rowExpOf = this.solver.etaVersion;
    return value;
  }

  /** The objective where the current step started (its η and β were kept by linearize() and the step). */
  private startObjective(l1: number, l2: number): number {
    return this.objectiveOf(this.etaStart, this.start, l1, l2, null);
  }

  /** The objective at training η `eta` (offset not added) and coefficients `beta`; each row's exponential into `keep`. */
  private objectiveOf(eta: Float64Array, beta: Float64Array, l1: number, l2: number, keep: Float64Array | null): number {
    const { solver, y, offset } = this;
    const { rows, w } = solver;
    let loss = 0;
    for (let r = 0; r < rows.length; r++) {
      if (w[r] === 0) continue;
      const e = eta[r] + offset[r];
      const yi = y[rows[r]];
      // log(1 + e^η) without overflow, from e^−|η|; kept for linearize() at the same point.
      const t = this.link === 'logit' ? Math.exp(-Math.abs(e)) : Math.exp(e);
      if (keep) keep[r] = t;
      loss += w[r] * (this.link === 'logit' ? (e > 0 ? e + Math.log1p(t) : Math.log1p(t)) - yi * e : t - yi * e);
    }
    return loss / this.stats.weightSum + this.penaltyOf(beta, l1, l2);
  }

  /**
   * Whether a coordinate-descent step on the binomial quadratic provably did not raise the objective, without the
   * log-likelihood's n logarithms: the loss's change is at most its second-order expansion at the step's start plus
   * max|ℓ'''|/6 · Σ|Δη|³ (ℓ''' of log(1 + e^η) is p(1 − p)(1 − 2p), at most √3/18). When this says no, the objective is
   * compared as always — so every step is taken or halved exactly as the comparison alone would decide.
   */
  private provablyNoWorse(l1: number, l2: number): boolean {
    const { solver } = this;
    const loss = logisticLossRise(this.etaStart, solver.predictTraining(), this.probStart, this.y, solver.rows, solver.w) / this.stats.weightSum;
    return loss + this.penaltyOf(solver.beta, l1, l2) - this.penaltyOf(this.start, l1, l2) <= 0;
  }

  private penaltyOf(beta: Float64Array, l1: number, l2: number): number {
    const { solver } = this;
    let penalty = 0;
    const groups = solver.groups;
    // Over the features ever nonzero, in index order (every other coefficient is 0): a sum of the same terms in the
    // same order as over all p, without a pass over every feature at each step.
    for (const j of solver.activeInOrder())
      if (beta[j] !== 0 && !(groups && groups.of[j] >= 0)) penalty += solver.factorOf(j) * (l1 * Math.abs(beta[j]) + (l2 / 2) * beta[j] * beta[j]);
    for (const members of groups?.members ?? []) {
      let sq = 0;
      for (const j of members) sq += beta[j] * beta[j];
      penalty += l1 * Math.sqrt(members.length) * Math.sqrt(sq) + (l2 / 2) * sq;
    }
    return penalty;
  }

  /**
   * The family's loss on the training rows at the current coefficients, for the stopping rules: the mean negative
   * log-likelihood with probabilities kept within STOP_PROBABILITY_FLOOR of 0 and 1 (binomial), the mean deviance
   * (poisson) — the functions the families measure with. η comes from the solver (the KKT check's linearization has
   * just computed it).
   */
  fittedLoss(): number {
    const { solver, offset, fittedEta } = this;
    const eta = solver.predictTraining();
    for (let r = 0; r < fittedEta.length; r++) fittedEta[r] = eta[r] + offset[r];
    return this.link === 'logit' ? logLoss(this.trainingY, fittedEta, solver.w, STOP_PROBABILITY_FLOOR) : poissonDeviance(this.trainingY, fittedEta, solver.w);
  }

  /**
   * Moves the coefficients back toward the start of a Newton step (halving the step) until the objective is no worse
   * than there: a full step on a nearly separable problem can overshoot without bound. Returns the objective where
   * it stopped (NaN when it gave up halving), which is the next step's starting value.
   */
  private backtrack(beforeOf: () => number, startIntercept: number, l1: number, l2: number, expandedAtStart: boolean): number {
    const { solver, start, strong } = this;
    for (let halvings = 0; halvings < 40; halvings++) {
      // NaN: taken, the objective there not computed (the next step computes it if it needs it).
      if (halvings === 0 && expandedAtStart && this.link === 'logit' && this.provablyNoWorse(l1, l2)) return NaN;
      const after = this.objective(l1, l2);
      const before = beforeOf();
      if (after <= before + 1e-12 * Math.abs(before)) return after;
      for (let k = 0; k < strong.count; k++) {
        const j = strong.members[k];
        solver.setCoefficient(j, start[j] + (solver.beta[j] - start[j]) / 2);
      }
      solver.setIntercept(startIntercept + (solver.intercept - startIntercept) / 2);
    }
    return NaN;
  }

  /**
   * A Newton step on the active set with its signs held (the objective is smooth there): solves
   * (X̃_AᵀDX̃_A/W + l2·I)δ = −∇ with the exact curvature D (no floor) and the intercept unpenalized. Coordinate descent
   * on the IRLS quadratic crawls when the data are nearly separable (the curvature of most rows is tiny and the
   * problem ill-conditioned); this converges in a few steps once the active set has settled. Returns false, changing
   * nothing, when the step would flip a sign, the system is not positive definite, or the set is too large.
   */
  private activeSetNewton(l1: number, l2: number): boolean {
    const { solver, y, offset } = this;
    // A group's penalty is not separable: its members' Newton system is another one; coordinate descent does it.
    if (solver.groups) return false;
    const { rows, w, beta } = solver;
    const active: number[] = [];
    for (let j = 0; j < beta.length; j++) if (beta[j] !== 0) active.push(j);
    const q = active.length + 1;
    if (q > MAX_NEWTON_ACTIVE + 1) return false;
    const m = rows.length;
    const W = this.stats.weightSum;
    // The intercept's column of ones first, then the active features', one after another in a buffer kept between calls.
    if (this.newtonColumns.length < q * m) this.newtonColumns = new Float64Array(Math.max(q * m, 2 * this.newtonColumns.length));
    const X = this.newtonColumns;
    X.fill(1, 0, m);
    active.forEach((j, a) => solver.standardizedColumnInto(j, X, (a + 1) * m));
    const eta = solver.predictTraining();
    const curvature = new Float64Array(m);
    const score = new Float64Array(m);
    const logit = this.link === 'logit';
    for (let r = 0; r < m; r++) {
      const e = eta[r] + offset[r];
      const mu = logit ? 1 / (1 + Math.exp(-e)) : Math.exp(e);
      curvature[r] = w[r] * (logit ? mu * (1 - mu) : mu);
      score[r] = w[r] * (y[rows[r]] - mu);
    }
    // Variables: the intercept, then the active coefficients. H row-major, g the gradient of the smooth objective.
    const H = new Float64Array(q * q);
    const g = new Float64Array(q);
    const weighted = new Float64Array(m);
    for (let a = 0; a < q; a++) {
      const xa = a * m;
      let grad = 0;
      for (let r = 0; r < m; r++) {
        grad -= score[r] * X[xa + r];
        weighted[r] = curvature[r] * X[xa + r];
      }
      const f = a === 0 ? 0 : solver.factorOf(active[a - 1]);
      g[a] = grad / W + (a === 0 ? 0 : f * (l1 * Math.sign(beta[active[a - 1]]) + l2 * beta[active[a - 1]]));
      const ridge = a > 0 ? f * l2 : 0;
      // Four columns per pass over the rows (each sum still over the rows in order).
      let b = 0;
      for (; b + 3 <= a; b += 4) {
        const x0 = b * m;
        let h0 = 0;
        let h1 = 0;
        let h2 = 0;
        let h3 = 0;
        for (let r = 0; r < m; r++) {
          const v = weighted[r];
          h0 += v * X[x0 + r];
          h1 += v * X[x0 + m + r];
          h2 += v * X[x0 + 2 * m + r];
          h3 += v * X[x0 + 3 * m + r];
        }
        H[a * q + b] = H[b * q + a] = h0 / W;
        H[a * q + b + 1] = H[(b + 1) * q + a] = h1 / W;
        H[a * q + b + 2] = H[(b + 2) * q + a] = h2 / W;
        H[a * q + b + 3] = H[(b + 3) * q + a] = h3 / W;
      }
      for (; b <= a; b++) {
        const xb = b * m;
        let h = 0;
        for (let r = 0; r < m; r++) h += weighted[r] * X[xb + r];
        H[a * q + b] = H[b * q + a] = h / W;
      }
      H[a * q + a] += ridge;
    }
    const step = choleskySolve(H, g, q);
    if (!step) return false;
    for (let a = 1; a < q; a++) {
      const j = active[a - 1];
      const next = beta[j] - step[a];
      // An unpenalized coefficient may change sign (its objective is smooth through 0); a bound ends the step.
      if ((!(next * beta[j] > 0) && solver.factorOf(j) !== 0) || !solver.withinBounds(j, next)) return false;
    }
    for (let a = 1; a < q; a++) solver.setCoefficient(active[a - 1], beta[active[a - 1]] - step[a]);
    solver.setIntercept(solver.intercept - step[0]);
    return true;
  }

  /** Working residual r = w (y − μ) and IRLS weights v = w μ'(η) at the current coefficients: p(1 − p) or μ. */
  private linearize(): void {
    const { solver, y, offset, rowExp } = this;
    const { rows, w } = solver;
    const eta = solver.predictTraining();
    // objective() has just computed e^−|η| (e^η for poisson) at these coefficients, as a step's backtracking does.
    const known = this.rowExpOf === solver.etaVersion;
    const { residual, v } = solver.rewrite();
    this.etaStart.set(eta);
    if (this.link === 'logit') {
      const probStart = this.probStart;
      // A sparse design keeps every row as a position: another fold's rows (weight 0) are skipped here and below.
      for (let r = 0; r < rows.length; r++) {
        if (w[r] === 0) continue;
        const e = eta[r] + offset[r];
        const t = known ? rowExp[r] : Math.exp(-Math.abs(e));
        const prob = e >= 0 ? 1 / (1 + t) : t / (1 + t);
        probStart[r] = prob;
        // The floor applies to the curvature only; the residual keeps the true probability so the fixed point is exact.
        const floored = Math.min(Math.max(prob, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
        v[r] = w[r] * floored * (1 - floored);
        residual[r] = w[r] * (y[rows[r]] - prob);
      }
    } else {
      for (let r = 0; r < rows.length; r++) {
        if (w[r] === 0) continue;
        const mu = known ? rowExp[r] : Math.exp(eta[r] + offset[r]);
        v[r] = w[r] * mu;
        residual[r] = w[r] * (y[rows[r]] - mu);
      }
    }
    solver.newQuadratic();
  }

  solve({ lambda, previousLambda, l1Ratio, l1, l2 }: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { solver, strong, start, thresholdSq } = this;
    strong.screen(l1Ratio, lambda, previousLambda, solver);
    let passes = 0;
    let current = NaN;
    let tookNewton = false;
    for (;;) {
      let newtonConverged = false;
      // Inexact Newton: early steps are solved only as far as the step is still moving things.
      let lastMove = 1e-4;
      let usedActiveSet = false;
      let lastPasses = 0;
      // Passes a quadratic gets before the Newton step on the active set is tried instead; doubled each time that
      // step cannot be taken (a sign would flip, the set is too large), so a hard quadratic is still solved.
      let innerBudget = solver.groups ? Infinity : SLOW_INNER_PASSES;
      let cutShort: boolean;
      // Steps cut short do not count against MAX_NEWTON_STEPS: they hand over to the active-set step.
      let counted = 0;
      for (let step = 0; counted < MAX_NEWTON_STEPS && passes < maxIter; step++) {
        // The objective where the last step ended (same λ, same coefficients), or NaN until it is needed.
        let before = current;
        // Read at every step, so that the next step compares with this one's.
        const signsAsBefore = signsKept(solver, this.signsBefore);
        // Once a slow coordinate-descent step left the active set and its signs as they were, Newton on that set;
        // the step after it is coordinate descent again, which checks the zeros.
        // At a λ's first step, when the last λ ended by Newton steps and the signs are still its (the saturated end of
        // a nearly separable path), Newton at once.
        const settled: boolean =
          (step === 0 && this.newtonSettled && sameSigns(solver, this.newtonSigns)) ||
          (step >= 1 && signsAsBefore && !usedActiveSet && (lastPasses >= SLOW_INNER_PASSES || (step >= SLOW_NEWTON_STEPS && solver.activeCount <= SMALL_ACTIVE_SET)));
        // A Newton step moves before linearize() runs: the objective where it starts is computed now.
        if (settled && Number.isNaN(before)) before = this.objective(l1, l2);
        start.set(solver.beta);
        const startIntercept = solver.intercept;
        const innerSq = Math.max(thresholdSq, Math.min(1e-6, 1e-4 * lastMove));
        usedActiveSet = settled && this.activeSetNewton(l1, l2);
        if (settled && !usedActiveSet) innerBudget *= 2;
        tookNewton ||= usedActiveSet;
        cutShort = false;
        this.linearize();
        if (usedActiveSet) {
          passes++;
          // linearize() ran after the step: start again from its quadratic at the new point.
        } else {
          const budget = Math.min(maxIter - passes, innerBudget);
          const r = solver.solve(strong.members, strong.count, l1, l2, innerSq, budget);
          passes += r.passes;
          lastPasses = r.passes;
          cutShort = !r.converged && r.passes === budget && budget < maxIter - passes + r.passes;
          if (!Number.isFinite(solver.intercept) || (!r.converged && !cutShort)) break;
        }
        if (!cutShort) counted++;
        const beforeOf = () => (Number.isNaN(before) ? (before = this.startObjective(l1, l2)) : before);
        current = this.backtrack(beforeOf, startIntercept, l1, l2, !usedActiveSet);
        // Converged when a whole Newton step moved no coefficient by more than tol (weighted by its curvature).
        const moved = solver.stepMove(start, startIntercept, strong.members, strong.count);
        // An active-set step leaves the zeros unchecked: only a coordinate-descent step can end the Newton loop.
        if (moved <= thresholdSq && innerSq === thresholdSq && !usedActiveSet && !cutShort) {
          newtonConverged = true;
          break;
        }
        lastMove = moved;
      }
      if (!Number.isFinite(solver.intercept) || solver.beta.some((b) => !Number.isFinite(b))) return { passes, status: FitStatus.diverged };
      if (!newtonConverged) return { passes, status: FitStatus.maxIter };
      this.linearize();
      if (strong.checkKkt(l1Ratio, lambda, solver) === 0) {
        this.newtonSettled = tookNewton;
        if (tookNewton) signsKept(solver, this.newtonSigns);
        return { passes, status: FitStatus.converged };
      }
    }
  }
}

/** The intercept of the Poisson model without features: log(Σ w y / Σ w e^offset). */
function nullLogIntercept(y: Float64Array, rows: Int32Array, w: Float64Array, offset: Float64Array): number {
  let counts = 0;
  let exposure = 0;
  for (let r = 0; r < rows.length; r++) {
    counts += w[r] * y[rows[r]];
    exposure += w[r] * Math.exp(offset[r]);
  }
  return Math.log(counts / exposure);
}
