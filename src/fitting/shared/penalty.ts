/** Elastic-net penalty λ·(l1Ratio‖b‖₁ + (1−l1Ratio)/2‖b‖²) split into its two weights. */
export function penaltyWeights(lambda: number, l1Ratio: number): { l1: number; l2: number } {
  return { l1: lambda * l1Ratio, l2: lambda * (1 - l1Ratio) };
}

/**
 * S(z, t) = sign(z)·max(|z| − t, 0), with |z| within 1e-12 of t counted as on the threshold: at λ_max the entering
 * feature's |z| equals t up to round-off, and the few units in the last place left over (a coefficient of 1e-18) are
 * not a coefficient.
 */
export function softThreshold(z: number, t: number): number {
  const edge = t * (1 + 1e-12);
  return z > edge ? z - t : z < -edge ? z + t : 0;
}

/**
 * How far the next λ is from the last, in units of the step before: (λ_l − λ_{l−1}) / (λ_{l−1} − λ_{l−2}), for
 * extrapolating warm starts. 0 (no extrapolation) for the first two λ and off an ordinary descending grid (a
 * repeated λ would give an infinite ratio).
 */
export function stepRatio(lambdas: Float64Array, l: number): number {
  const ratio = l >= 2 ? (lambdas[l] - lambdas[l - 1]) / (lambdas[l - 1] - lambdas[l - 2]) : 0;
  return ratio > 0 && ratio <= 2 ? ratio : 0;
}

/** The next value on the line through `before` and `last` (`ratio` steps on), or 0 where that would change sign. */
export function extrapolated(last: number, before: number, ratio: number): number {
  const next = last + ratio * (last - before);
  return next * last > 0 ? next : 0;
}
