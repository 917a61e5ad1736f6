import { FitStatus, type FitStatusCode } from '../../domain.js';
import type { FeatureGroups, PathStep } from '../path/types.js';

/** What the rules read of a solver: its active features and every feature's gradient (a group's norm for groups). */
export interface ScreenedSolver {
  readonly active: Int32Array;
  readonly activeCount: number;
  /** Every feature's gradient into out; those with skip[j] set may be left as they were (members of the strong set). */
  gradients(out: Float64Array, skip?: Uint8Array, kktBound?: number): void;
}

/**
 * Sequential strong rule (Tibshirani et al. 2012, as glmnet): at λ_k only features with |g_j| ≥ r(2λ_k − λ_{k−1}) (r the l1 ratio)
 * at the previous solution, plus those already nonzero, are cycled; after convergence every other feature's KKT
 * condition |g_j| ≤ λr is checked and violators are added before solving again. For a group penalty g_j is the norm
 * of feature j's gradients across the responses.
 */
export class StrongSet {
  readonly members: Int32Array;
  count = 0;
  private readonly inSet: Uint8Array;
  /** Gradient of every feature at the last solution. */
  readonly gradient: Float64Array;

  constructor(
    private readonly p: number,
    private readonly constant: Uint8Array,
    /** Per-feature penalty factors (the rule's and the check's bound scale with them), or null. */
    private readonly factor: Float64Array | null = null,
    /** Groups penalized as one: a group enters and leaves the set whole, by its gradient's norm over √|g|. */
    private readonly groups: FeatureGroups | null = null,
  ) {
    this.members = new Int32Array(p);
    this.inSet = new Uint8Array(p);
    this.gradient = new Float64Array(p);
  }

  add(j: number): void {
    if (this.groups && this.groups.of[j] >= 0) {
      for (const k of this.groups.members[this.groups.of[j]])
        if (!this.inSet[k]) {
          this.inSet[k] = 1;
          this.members[this.count++] = k;
        }
      return;
    }
    if (this.inSet[j] || this.constant[j]) return;
    this.inSet[j] = 1;
    this.members[this.count++] = j;
  }

  /** Feature j's gradient magnitude for the rules: |g_j|, or for a group's member the group's ‖g‖ / √|g|. */
  private size(j: number): number {
    if (!this.groups || this.groups.of[j] < 0) return Math.abs(this.gradient[j]);
    const members = this.groups.members[this.groups.of[j]];
    let s = 0;
    for (const k of members) s += this.gradient[k] ** 2;
    return Math.sqrt(s / members.length);
  }

  screen(l1Ratio: number, lambda: number, previousLambda: number, solver: ScreenedSolver): void {
    const cut = l1Ratio * (2 * lambda - previousLambda);
    for (let a = 0; a < solver.activeCount; a++) this.add(solver.active[a]);
    const factor = this.factor;
    for (let j = 0; j < this.p; j++) if (!this.inSet[j] && this.size(j) >= (factor ? cut * factor[j] : cut)) this.add(j);
  }

  /**
   * The gradient at the solver's current point of every feature outside the set (the rule and the check read only
   * those; a group is in or out whole): on sparse text the most frequent columns, most of the nonzeros, are members.
   */
  refresh(solver: ScreenedSolver, kktBound?: number): void {
    solver.gradients(this.gradient, this.inSet, kktBound);
  }

  /**
   * Refreshes every feature's gradient (a solver may give an upper bound on |g_j| instead where that bound is below
   * the KKT bound); returns how many outside the set violate KKT (and adds them).
   */
  checkKkt(l1Ratio: number, lambda: number, solver: ScreenedSolver): number {
    const bound = l1Ratio * lambda * (1 + 1e-9);
    this.refresh(solver, this.groups ? undefined : bound);
    let violations = 0;
    for (let j = 0; j < this.p; j++) {
      if (this.constant[j]) continue;
      if (!this.inSet[j] && this.size(j) > (this.factor ? bound * this.factor[j] : bound)) {
        this.add(j);
        violations++;
      }
    }
    return violations;
  }
}


/**
 * One λ of the least-squares solvers (naive gaussian, mgaussian): screen, solve over the strong set, check KKT over
 * the rest and solve again until no feature violates it. `finite` tells a diverged fit from one out of passes.
 */
export function solveScreened(
  solver: ScreenedSolver & { solve(members: Int32Array, count: number, l1: number, l2: number, thresholdSq: number, maxPasses: number): { passes: number; converged: boolean } },
  strong: StrongSet,
  { lambda, previousLambda, l1Ratio, l1, l2 }: PathStep,
  thresholdSq: number,
  maxIter: number,
  finite: () => boolean,
): { passes: number; status: FitStatusCode } {
  strong.screen(l1Ratio, lambda, previousLambda, solver);
  let passes = 0;
  for (;;) {
    const r = solver.solve(strong.members, strong.count, l1, l2, thresholdSq, maxIter - passes);
    passes += r.passes;
    if (!r.converged) return { passes, status: finite() ? FitStatus.maxIter : FitStatus.diverged };
    if (strong.checkKkt(l1Ratio, lambda, solver) === 0) return { passes, status: FitStatus.converged };
  }
}
