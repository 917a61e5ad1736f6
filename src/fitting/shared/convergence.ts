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
