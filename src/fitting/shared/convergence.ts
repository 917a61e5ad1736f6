/**
 * Coordinate descent converges linearly: successive changes shrink by a rate r, and the distance still to go is
 * about change · r / (1 − r). On correlated features r is close to 1 and the last change alone understates the
 * error by two orders of magnitude (on the diabetes data), so the stopping tests use this estimate.
 */
export class DistanceEstimate {
  private previous = Number.POSITIVE_INFINITY;
  next(change: number): number {
    const rate = Number.isFinite(this.previous) && this.previous > 0 ? Math.min(change / this.previous, 0.999) : 0;
    this.previous = change;
    return change * Math.max(1, rate / (1 - rate));
  }
}

/** What the pass schedule drives: the active set, and intercept and coordinate updates that return their move. */
export interface CoordinateSolver {
  readonly active: Int32Array;
  readonly activeCount: number;
  /** Updates the intercept (every response's, for a group solver); returns its curvature-weighted squared move. */
  updateIntercept(): number;
  /** Updates feature j (its block, for a group solver); returns its curvature-weighted squared move. */
  update(j: number, l1: number, l2: number): number;
}

/**
 * The pass schedule of the least-squares solvers: a full pass over the candidate features; if it moved more than
 * threshold², the active set cycled until the estimated distance to its solution is below threshold, then a full
 * pass again.
 */
export function solveByPasses(
  solver: CoordinateSolver,
  candidates: Int32Array,
  candidateCount: number,
  l1: number,
  l2: number,
  thresholdSq: number,
  maxPasses: number,
): { passes: number; converged: boolean } {
  const pass = (features: Int32Array, count: number) => {
    let change = solver.updateIntercept();
    for (let k = 0; k < count; k++) change = Math.max(change, solver.update(features[k], l1, l2));
    return change;
  };
  let passes = 0;
  while (passes < maxPasses) {
    let change = pass(candidates, candidateCount);
    passes++;
    if (!Number.isFinite(change)) return { passes, converged: false };
    if (change <= thresholdSq) return { passes, converged: true };
    const estimate = new DistanceEstimate();
    const threshold = Math.sqrt(thresholdSq);
    while (passes < maxPasses) {
      change = pass(solver.active, solver.activeCount);
      passes++;
      if (!Number.isFinite(change)) return { passes, converged: false };
      if (estimate.next(Math.sqrt(change)) <= threshold) break;
    }
  }
  return { passes, converged: false };
}
