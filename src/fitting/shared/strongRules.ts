import type { WlsSolver } from './weightedLeastSquares.js';

/**
 * Sequential strong rule (Tibshirani et al. 2012, as glmnet): at λ_k only features with |g_j| ≥ r(2λ_k − λ_{k−1}) (r the l1 ratio)
 * at the previous solution, plus those already nonzero, are cycled; after convergence every other feature's KKT
 * condition |g_j| ≤ λr is checked and violators are added before solving again.
 */
export class StrongSet {
  readonly members: Int32Array;
  count = 0;
  private readonly inSet: Uint8Array;
  /** Gradient of every feature at the last solution. */
  readonly gradient: Float64Array;

  constructor(private readonly p: number, private readonly constant: Uint8Array) {
    this.members = new Int32Array(p);
    this.inSet = new Uint8Array(p);
    this.gradient = new Float64Array(p);
  }

  add(j: number): void {
    if (this.inSet[j] || this.constant[j]) return;
    this.inSet[j] = 1;
    this.members[this.count++] = j;
  }

  screen(l1Ratio: number, lambda: number, previousLambda: number, solver: WlsSolver): void {
    const cut = l1Ratio * (2 * lambda - previousLambda);
    for (let a = 0; a < solver.activeCount; a++) this.add(solver.active[a]);
    for (let j = 0; j < this.p; j++) if (!this.inSet[j] && Math.abs(this.gradient[j]) >= cut) this.add(j);
  }

  /** Every feature's gradient at the solver's current point. */
  refresh(solver: WlsSolver): void {
    solver.gradients(this.gradient);
  }

  /** Refreshes every feature's gradient; returns how many outside the set violate KKT (and adds them). */
  checkKkt(l1Ratio: number, lambda: number, solver: WlsSolver): number {
    this.refresh(solver);
    let violations = 0;
    const bound = l1Ratio * lambda * (1 + 1e-9);
    for (let j = 0; j < this.p; j++) {
      if (this.constant[j]) continue;
      if (!this.inSet[j] && Math.abs(this.gradient[j]) > bound) {
        this.add(j);
        violations++;
      }
    }
    return violations;
  }
}

