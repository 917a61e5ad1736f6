// The tree-structured Parzen estimator (Bergstra et al. 2011) as Optuna's default TPESampler makes it: each dimension on
// its own, the trials split into the best share ("below") and the rest ("above"), a Parzen mixture fitted to each (one
// truncated normal per observation plus a prior, Optuna's bandwidths and magic clip), candidates drawn from the good
// mixture and the one with the largest l(x)/g(x) kept. Pure and seeded: the same trials give the same proposal.
import { Rng } from '../util/random.js';

/** One dimension of the search space: a range (on a log scale when `log`) or a set of choices. */
export type Dimension = { kind: 'float'; low: number; high: number; log: boolean } | { kind: 'choice'; count: number };

/** A finished point: its value per dimension (a choice's index; absent where the dimension does not apply) and loss. */
export interface Observation {
  values: Record<string, number | undefined>;
  /** Lower is better; not finite: a point that failed, counted among the worst. */
  loss: number;
}

/** Optuna's defaults. */
const PRIOR_WEIGHT = 1;
const CANDIDATES = 24;
const EPS = 1e-12;

/** How many of n observations are "good": Optuna's default_gamma, min(⌈0.1·n⌉, 25). */
function goodCount(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default_weights: equal below 25 observations; beyond, the oldest ramp down to 1/n (observations in order). */
function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) => (n - 25 === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (n - 26)));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

interface Mixture {
  weights: number[];
  mus: number[];
  sigmas: number[];
  low: number;
  high: number;
}

/** A numeric dimension's Parzen mixture on its (log) scale: a kernel per observation, bandwidths as Optuna's, and the prior. */
function numericMixture(points: number[], order: number[], low: number, high: number): Mixture {
  const n = points.length;
  const kernelWeights = [...observationWeightsInOrder(order), PRIOR_WEIGHT];
  // The prior's centre is among the neighbours a kernel's bandwidth is measured to (Optuna 3's rule).
  const mus = [...points, (low + high) / 2];
  const sorted = mus.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const withEnds = [low, ...sorted.map((s) => s.x), high];
  const sigmas = new Array<number>(n + 1);
  sorted.forEach((s, k) => {
    let sigma = Math.max(withEnds[k + 1] - withEnds[k], withEnds[k + 2] - withEnds[k + 1]);
    // consider_endpoints = False: the outermost kernels look inward only.
    if (withEnds.length >= 4) {
      if (k === 0) sigma = withEnds[2] - withEnds[1];
      if (k === n) sigma = withEnds[withEnds.length - 2] - withEnds[withEnds.length - 3];
    }
    sigmas[s.i] = sigma;
  });
  // The magic clip: no kernel narrower than the range over min(100, kernels + 1), none wider than the range.
  const minSigma = (high - low) / Math.min(100, n + 2);
  const clipped = sigmas.slice(0, n).map((s) => Math.min(Math.max(s, minSigma), high - low));
  const total = kernelWeights.reduce((a, b) => a + b, 0);
  return { weights: kernelWeights.map((w) => w / total), mus, sigmas: [...clipped, high - low], low, high };
}

/** The weights of observations given in the order they were made (`order[i]`: the rank in time of observation i). */
function observationWeightsInOrder(order: number[]): number[] {
  const byTime = observationWeights(order.length);
  return order.map((t) => byTime[t]);
}

const SQRT2 = Math.SQRT2;
/** The standard normal cdf, from erfc. */
function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

/** erfc to about 1.2e-7 relative (Numerical Recipes' Chebyshev fit, erfcc), enough for a density ratio. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** The normalizer of a normal kernel truncated to [low, high]: σ√(2π) times its mass inside (not below EPS). */
function kernelNormalizer(mu: number, sigma: number, low: number, high: number): number {
  const mass = normalCdf((high - mu) / sigma) - normalCdf((low - mu) / sigma);
  return sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, EPS);
}

/** A numeric dimension's values on the scale its kernels live on (log for a log range), and back. */
type FloatDimension = Extract<Dimension, { kind: 'float' }>;
const toScale = (dim: FloatDimension, x: number) => (dim.log ? Math.log(x) : x);
const fromScale = (dim: FloatDimension, x: number) => (dim.log ? Math.exp(x) : x);

/** log of the mixture's density at x (each kernel a normal truncated to [low, high]). */
function mixtureLogPdf(m: Mixture, x: number): number {
  let p = 0;
  for (let k = 0; k < m.mus.length; k++) {
    const z = (x - m.mus[k]) / m.sigmas[k];
    p += (m.weights[k] * Math.exp(-0.5 * z * z)) / kernelNormalizer(m.mus[k], m.sigmas[k], m.low, m.high);
  }
  return Math.log(Math.max(p, 1e-300));
}

/** A draw from the mixture: a kernel by weight, then its normal truncated to [low, high] (by rejection, then clamped). */
function mixtureSample(m: Mixture, rng: Rng): number {
  let u = rng.uniform();
  let k = 0;
  while (k < m.weights.length - 1 && u >= m.weights[k]) u -= m.weights[k++];
  for (let tries = 0; tries < 100; tries++) {
    const x = m.mus[k] + m.sigmas[k] * rng.normal();
    if (x >= m.low && x <= m.high) return x;
  }
  return Math.min(Math.max(m.mus[k], m.low), m.high);
}

/** A choice dimension's mixture: per kernel the prior spread over the choices and a unit at the observed one. */
function choiceProbabilities(points: number[], order: number[], count: number): number[] {
  const kernelWeights = [...observationWeightsInOrder(order), PRIOR_WEIGHT];
  const total = kernelWeights.reduce((a, b) => a + b, 0);
  const kernels = points.length + 1;
  const p = new Array<number>(count).fill(0);
  kernelWeights.forEach((w, k) => {
    const row = new Array<number>(count).fill(PRIOR_WEIGHT / kernels);
    if (k < points.length) row[points[k]] += 1;
    const rowSum = row.reduce((a, b) => a + b, 0);
    row.forEach((v, c) => (p[c] += ((w / total) * v) / rowSum));
  });
  return p;
}

/** The observations that have the given dimensions: their values (one row each, in the order of `names`) and order in time. */
interface Part {
  rows: number[][];
  /** The first dimension's column (the one an independent proposal reads). */
  values: number[];
  order: number[];
}

/** The observations split into the good and the rest, each keeping those that have every dimension named, in time order. */
function split(observations: Observation[], names: string[]): { good: Part; rest: Part } {
  // Ranked by loss (failures last, ties in the order they came); the good are the first goodCount of all observations.
  const ranked = observations.map((o, time) => ({ o, time })).sort((a, b) => lossKey(a.o.loss) - lossKey(b.o.loss) || a.time - b.time);
  const cut = goodCount(observations.length);
  const part = (items: typeof ranked): Part => {
    const having = items.filter(({ o }) => names.every((name) => o.values[name] !== undefined)).sort((a, b) => a.time - b.time);
    const rows = having.map(({ o }) => names.map((name) => o.values[name]!));
    return { rows, values: rows.map((row) => row[0]), order: having.map((_, i) => i) };
  };
  return { good: part(ranked.slice(0, cut)), rest: part(ranked.slice(cut)) };
}

const lossKey = (loss: number) => (Number.isFinite(loss) ? loss : Infinity);

/** The best candidate of one dimension on its own: CANDIDATES draws from the good mixture, the largest log l(x) − log g(x) kept. */
function proposeDimension(dim: Dimension, good: Part, rest: Part, rng: Rng): number {
  if (dim.kind === 'choice') {
    const l = choiceProbabilities(good.values, good.order, dim.count);
    const g = choiceProbabilities(rest.values, rest.order, dim.count);
    let best = -Infinity;
    let chosen = 0;
    for (let c = 0; c < CANDIDATES; c++) {
      let u = rng.uniform();
      let pick = 0;
      while (pick < dim.count - 1 && u >= l[pick]) u -= l[pick++];
      const score = Math.log(l[pick]) - Math.log(g[pick]);
      if (score > best) [best, chosen] = [score, pick];
    }
    return chosen;
  }
  const scale = (x: number) => toScale(dim, x);
  const low = scale(dim.low);
  const high = scale(dim.high);
  const l = numericMixture(good.values.map(scale), good.order, low, high);
  const g = numericMixture(rest.values.map(scale), rest.order, low, high);
  let best = -Infinity;
  let chosen = (low + high) / 2;
  for (let c = 0; c < CANDIDATES; c++) {
    const x = mixtureSample(l, rng);
    const score = mixtureLogPdf(l, x) - mixtureLogPdf(g, x);
    if (score > best) [best, chosen] = [score, x];
  }
  return fromScale(dim, chosen);
}

type Applies = (name: string, point: Record<string, number>) => boolean;

/**
 * The next point. Independent (Optuna's default): per dimension, CANDIDATES draws from the good observations' mixture,
 * the one with the largest log l(x) − log g(x) kept (a float on its own scale; a choice as its index). Multivariate
 * (Optuna's `multivariate=True, group=True`): the dimensions that were always observed together form a group, and each
 * group is drawn and scored jointly, one product kernel per observation, so that a good λ for L1 is not mixed with a good
 * λ for L2. `applies(name, point)` says whether a dimension takes part given the choices made before it (l1_ratio only
 * for the elastic net); dimensions are decided in the order given.
 */
export function proposeTpe(space: [string, Dimension][], observations: Observation[], rng: Rng, applies: Applies = () => true, multivariate = false): Record<string, number> {
  const point: Record<string, number> = {};
  if (!multivariate) {
    for (const [name, dim] of space) {
      if (!applies(name, point)) continue;
      const { good, rest } = split(observations, [name]);
      point[name] = proposeDimension(dim, good, rest, rng);
    }
    return point;
  }
  for (const group of groupsOf(space, observations)) {
    const names = group.map(([name]) => name);
    if (!names.some((name) => applies(name, point))) continue;
    const { good, rest } = split(observations, names);
    const joint = group.length === 1 ? { [names[0]]: proposeDimension(group[0][1], good, rest, rng) } : proposeJointly(group, good, rest, rng);
    for (const name of names) if (applies(name, point)) point[name] = joint[name];
  }
  return point;
}

/** The dimensions grouped by the observations they were seen in (Optuna's group decomposition), in the space's order. */
function groupsOf(space: [string, Dimension][], observations: Observation[]): [string, Dimension][][] {
  const groups = new Map<string, [string, Dimension][]>();
  for (const entry of space) {
    const seenIn = observations.map((o) => (o.values[entry[0]] === undefined ? '0' : '1')).join('');
    groups.set(seenIn, [...(groups.get(seenIn) ?? []), entry]);
  }
  return [...groups.values()];
}

/** One group's point drawn from the good observations' product-kernel mixture, scored against the rest's. */
function proposeJointly(group: [string, Dimension][], good: Part, rest: Part, rng: Rng): Record<string, number> {
  const l = jointMixture(group, good);
  const g = jointMixture(group, rest);
  let best = -Infinity;
  let chosen: number[] = [];
  for (let c = 0; c < CANDIDATES; c++) {
    const x = jointSample(l, rng);
    const score = jointLogPdf(l, x) - jointLogPdf(g, x);
    if (score > best) [best, chosen] = [score, x];
  }
  return Object.fromEntries(group.map(([name, dim], d) => [name, dim.kind === 'float' ? fromScale(dim, chosen[d]) : chosen[d]]));
}

/** Per dimension of a group: a numeric one's kernel centres and widths on its scale, or a choice's probabilities per kernel. */
type JointDimension = { kind: 'float'; low: number; high: number; mus: number[]; sigma: number[] } | { kind: 'choice'; rows: number[][] };
interface JointMixture {
  weights: number[];
  dims: JointDimension[];
}

/** Optuna's multivariate Parzen estimator: a kernel per observation and the prior; numeric widths by Scott's rule, 0.2·n^(−1/(d+4)) of the range, clipped as the univariate ones. */
function jointMixture(group: [string, Dimension][], part: Part): JointMixture {
  const n = part.rows.length;
  const raw = [...observationWeightsInOrder(part.order), PRIOR_WEIGHT];
  const total = raw.reduce((a, b) => a + b, 0);
  const width = 0.2 * Math.max(n, 1) ** (-1 / (group.length + 4));
  const dims = group.map(([, dim], d): JointDimension => {
    const column = part.rows.map((row) => row[d]);
    if (dim.kind === 'choice') {
      const rows = [...column.map((c) => {
        const row = new Array<number>(dim.count).fill(PRIOR_WEIGHT / (n + 1));
        row[c] += 1;
        const sum = row.reduce((a, b) => a + b, 0);
        return row.map((v) => v / sum);
      }), new Array<number>(dim.count).fill(1 / dim.count)];
      return { kind: 'choice', rows };
    }
    const low = toScale(dim, dim.low);
    const high = toScale(dim, dim.high);
    const range = high - low;
    const clipped = Math.min(Math.max(width * range, range / Math.min(100, n + 2)), range);
    return { kind: 'float', low, high, mus: [...column.map((x) => toScale(dim, x)), (low + high) / 2], sigma: [...new Array<number>(n).fill(clipped), range] };
  });
  return { weights: raw.map((w) => w / total), dims };
}

/** A draw: a kernel by weight, then each dimension from that kernel (a truncated normal, or its choice probabilities). */
function jointSample(m: JointMixture, rng: Rng): number[] {
  let u = rng.uniform();
  let k = 0;
  while (k < m.weights.length - 1 && u >= m.weights[k]) u -= m.weights[k++];
  return m.dims.map((d) => {
    if (d.kind === 'choice') {
      let v = rng.uniform();
      let pick = 0;
      while (pick < d.rows[k].length - 1 && v >= d.rows[k][pick]) v -= d.rows[k][pick++];
      return pick;
    }
    return mixtureSample({ weights: [1], mus: [d.mus[k]], sigmas: [d.sigma[k]], low: d.low, high: d.high }, rng);
  });
}

/** log of the joint mixture's density at x (a sum over kernels of the weight times the product over dimensions). */
function jointLogPdf(m: JointMixture, x: number[]): number {
  const logs = m.weights.map((w, k) => {
    let s = Math.log(w);
    m.dims.forEach((d, j) => {
      if (d.kind === 'choice') s += Math.log(d.rows[k][x[j]]);
      else {
        const z = (x[j] - d.mus[k]) / d.sigma[k];
        s += -0.5 * z * z - Math.log(kernelNormalizer(d.mus[k], d.sigma[k], d.low, d.high));
      }
    });
    return s;
  });
  const top = Math.max(...logs);
  return top + Math.log(logs.reduce((a, l) => a + Math.exp(l - top), 0));
}

/** A point drawn uniformly (on each dimension's scale): the startup points, before there is anything to learn from. */
export function drawUniform(space: [string, Dimension][], rng: Rng, applies: (name: string, point: Record<string, number>) => boolean = () => true): Record<string, number> {
  const point: Record<string, number> = {};
  for (const [name, dim] of space) {
    if (!applies(name, point)) continue;
    point[name] = dim.kind === 'choice' ? rng.int(dim.count) : dim.log ? Math.exp(Math.log(dim.low) + rng.uniform() * Math.log(dim.high / dim.low)) : dim.low + rng.uniform() * (dim.high - dim.low);
  }
  return point;
}
