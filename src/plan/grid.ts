import type { SweepSpec } from '../config/schema.js';
import { l1RatioOf, type Penalty } from '../domain.js';
import type { Design } from '../fitting/path/types.js';
import { centerTarget, columnStats, featureProducts } from '../fitting/shared/columnStats.js';
import { Rng } from '../util/random.js';

/** Evenly spaced on a log scale, from high down to low. */
export function logSpaceDescending(high: number, low: number, num: number): number[] {
  if (num === 1) return [high];
  const step = Math.log(low / high) / (num - 1);
  return Array.from({ length: num }, (_, k) => (k === num - 1 ? low : high * Math.exp(step * k)));
}

/**
 * The largest |⟨x̃_j, y − ȳ⟩| / n over the features on all rows: the lasso's λ_max, the smallest λ at which every
 * coefficient is zero. For an l1 ratio r the λ_max is this over max(r, 1e-3) (glmnet floors r for ridge, where
 * every λ gives nonzero coefficients). For 0/1 labels the logistic λ_max has the same form.
 */
export function lassoLambdaMax(design: Design, y: Float64Array, standardize: boolean, weights = new Float64Array(design.n).fill(1)): number {
  const stats = columnStats(design, weights, standardize);
  const target = centerTarget(y, weights, stats.weightSum);
  let best = 0;
  for (const g of featureProducts(design, stats, target.centered, new Float64Array(design.p))) best = Math.max(best, Math.abs(g));
  return best;
}

/** λ_max for an l1 ratio, from the lasso's. */
export function lambdaMaxFor(lassoMax: number, l1Ratio: number): number {
  return lassoMax / Math.max(l1Ratio, 1e-3);
}

export interface SweepGroup {
  penalty: Penalty;
  l1Ratio: number;
  /** Descending. */
  lambdas: number[];
}

/**
 * The (penalty, l1 ratio) groups of a sweep and their λ values, descending. `lambdaMax(l1Ratio)` is the data's λ_max
 * (computed once on all rows, so every fold walks the same λ sequence, as cv.glmnet does); it is called only for
 * automatic grids.
 */
export function sweepGroups(spec: SweepSpec, lambdaMax: (l1Ratio: number) => number): Map<string, SweepGroup> {
  const groups = new Map<string, SweepGroup>();
  const add = (penalty: Penalty, l1Ratio: number, lambda: number) => {
    const key = `${penalty}/${l1Ratio}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { penalty, l1Ratio, lambdas: [] }));
    g.lambdas.push(lambda);
  };
  if (spec.kind === 'grid') {
    for (const penalty of spec.penalty) {
      if (penalty === 'none') {
        add('none', 0, 0);
        continue;
      }
      const ratios = penalty === 'elasticnet' ? [...new Set(spec.l1_ratio)] : [l1RatioOf(penalty, 1)];
      for (const l1Ratio of ratios) {
        const lambdas = Array.isArray(spec.lambda)
          ? spec.lambda
          : 'log_range' in spec.lambda
            ? logSpaceDescending(spec.lambda.log_range[1], spec.lambda.log_range[0], spec.lambda.num)
            : logSpaceDescending(lambdaMax(l1Ratio), lambdaMax(l1Ratio) * spec.lambda.ratio, spec.lambda.auto);
        for (const lambda of lambdas) add(penalty, l1Ratio, lambda);
      }
    }
  } else {
    const rng = new Rng(spec.seed);
    const [lo, hi] = spec.lambda.log_uniform;
    const [aLo, aHi] = spec.l1_ratio.uniform;
    for (let t = 0; t < spec.points; t++) {
      const penalty = spec.penalty[rng.int(spec.penalty.length)];
      const lambda = Math.exp(Math.log(lo) + rng.uniform() * Math.log(hi / lo));
      const ratio = aLo + rng.uniform() * (aHi - aLo);
      if (penalty === 'none') add('none', 0, 0);
      else add(penalty, l1RatioOf(penalty, ratio), lambda);
    }
  }
  for (const g of groups.values()) g.lambdas = [...new Set(g.lambdas)].sort((a, b) => b - a);
  return groups;
}
