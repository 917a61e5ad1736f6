// The Cox model's partial likelihood with Breslow's handling of tied death times (glmnet's family = "cox"): risk sets,
// the log-likelihood and its IRLS quadratic, glmnet's deviance, the Breslow baseline hazard and Harrell's C. Times and
// statuses come as two blocks of a target (time, then status: 1 death, 0 censored); rows of weight 0 take no part.

/**
 * The rows of weight > 0 ordered by time (at a tie deaths first, so that a row censored at a death time is still at
 * risk then, as glmnet's and the survival package's conventions), and the distinct death times: for death time k its
 * first position in that order (`riskStart`: its risk set runs from there to the end) and its weighted deaths `deaths`.
 */
export interface RiskSets {
  order: Int32Array;
  deathTimes: Float64Array;
  riskStart: Int32Array;
  deaths: Float64Array;
  /** Per position in `order`, the death times up to and including its time (the k with t_k ≤ t). */
  timesBefore: Int32Array;
}

export function riskSets(time: ArrayLike<number>, status: ArrayLike<number>, weights: ArrayLike<number>): RiskSets {
  const rows: number[] = [];
  for (let i = 0; i < weights.length; i++) if (weights[i] > 0) rows.push(i);
  const order = Int32Array.from(rows).sort((a, b) => time[a] - time[b] || status[b] - status[a] || a - b);
  const deathTimes: number[] = [];
  const riskStart: number[] = [];
  const deaths: number[] = [];
  const timesBefore = new Int32Array(order.length);
  let groupStart = 0;
  for (let r = 0; r < order.length; r++) {
    const i = order[r];
    if (r > 0 && time[i] !== time[order[r - 1]]) groupStart = r;
    if (status[i] === 1) {
      if (deathTimes.length === 0 || deathTimes[deathTimes.length - 1] !== time[i]) {
        deathTimes.push(time[i]);
        riskStart.push(groupStart);
        deaths.push(0);
      }
      deaths[deaths.length - 1] += weights[i];
    }
    timesBefore[r] = deathTimes.length;
  }
  // A censored row at a death time sorts after that time's deaths: it has the same death times behind it.
  return { order, deathTimes: Float64Array.from(deathTimes), riskStart: Int32Array.from(riskStart), deaths: Float64Array.from(deaths), timesBefore };
}

/**
 * The risk sets of the last times and statuses seen with a weights array: a path's measures at every λ (train and
 * validation deviance, C, the baseline) read the same sets, which depend on the weights' zeros and the times only. A
 * weights array is not changed once measured with (a fold's is made per task).
 */
const measuredSets = new WeakMap<object, { time: ArrayLike<number>; status: ArrayLike<number>; sets: RiskSets }>();

function sameView(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  return ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
}

function riskSetsOf(time: ArrayLike<number>, status: ArrayLike<number>, weights: ArrayLike<number>): RiskSets {
  const hit = measuredSets.get(weights);
  if (hit && sameView(hit.time, time) && sameView(hit.status, status)) return hit.sets;
  const sets = riskSets(time, status, weights);
  measuredSets.set(weights, { time, status, sets });
  return sets;
}

/** Per death time, Σ w_j e^{η_j} over its risk set (rows at or after it), from one backward pass. */
function riskSums(sets: RiskSets, expEta: ArrayLike<number>, out = new Float64Array(sets.deathTimes.length)): Float64Array {
  const { order, riskStart } = sets;
  let k = riskStart.length - 1;
  let sum = 0;
  for (let r = order.length - 1; r >= 0 && k >= 0; r--) {
    sum += expEta[order[r]];
    while (k >= 0 && riskStart[k] === r) out[k--] = sum;
  }
  return out;
}

/** The weighted partial log-likelihood Σ w_i δ_i η_i − Σ_k d_k log S_k (Breslow), η read at each row. */
export function partialLogLikelihood(sets: RiskSets, eta: ArrayLike<number>, status: ArrayLike<number>, weights: ArrayLike<number>): number {
  const weighted = new Float64Array(eta.length);
  let linear = 0;
  for (const i of sets.order) {
    weighted[i] = weights[i] * Math.exp(eta[i]);
    if (status[i] === 1) linear += weights[i] * eta[i];
  }
  const sums = riskSums(sets, weighted);
  let logs = 0;
  for (let k = 0; k < sums.length; k++) logs += sets.deaths[k] * Math.log(sums[k]);
  return linear - logs;
}

/** −Σ_k d_k log d_k: the log-likelihood of the saturated model (every death time its own risk). */
function saturatedLogLikelihood(sets: RiskSets): number {
  let s = 0;
  for (const d of sets.deaths) if (d > 0) s -= d * Math.log(d);
  return s;
}

/**
 * glmnet's Cox deviance (coxnet.deviance) of the rows with weight > 0: 2(ℓ_saturated − ℓ(η)) with the weights scaled
 * by c to sum to the number of those rows — which is c times the deviance of the weights as they are — and the
 * weighted deaths it is measured over.
 */
export function coxDeviance(time: ArrayLike<number>, status: ArrayLike<number>, eta: ArrayLike<number>, weights: ArrayLike<number>): { deviance: number; deaths: number } {
  let total = 0;
  let rows = 0;
  let deaths = 0;
  for (let i = 0; i < weights.length; i++)
    if (weights[i] > 0) {
      total += weights[i];
      rows++;
      if (status[i] === 1) deaths += weights[i];
    }
  if (deaths === 0) return { deviance: 0, deaths: 0 };
  const sets = riskSetsOf(time, status, weights);
  return { deviance: ((2 * rows) / total) * (saturatedLogLikelihood(sets) - partialLogLikelihood(sets, eta, status, weights)), deaths };
}

/**
 * The IRLS quadratic of −ℓ at η (glmnet's coxnet): per row the gradient residual w_i δ_i − E_i b_i and the diagonal
 * curvature E_i (b_i − E_i c_i), E_i = w_i e^{η_i}, b_i = Σ_{t_k ≤ t_i} d_k / S_k, c_i = Σ_{t_k ≤ t_i} d_k / S_k².
 * `at(i)` maps a row to the position its values are written at.
 */
export function coxQuadratic(
  sets: RiskSets,
  eta: ArrayLike<number>,
  status: ArrayLike<number>,
  weights: ArrayLike<number>,
  residual: Float64Array,
  curvature: Float64Array,
  at: (row: number) => number,
): void {
  const { order, deaths, timesBefore } = sets;
  const E = new Float64Array(eta.length);
  for (const i of order) E[i] = weights[i] * Math.exp(eta[i]);
  const sums = riskSums(sets, E);
  let b = 0;
  let c = 0;
  let k = 0;
  for (let r = 0; r < order.length; r++) {
    for (; k < timesBefore[r]; k++) {
      b += deaths[k] / sums[k];
      c += deaths[k] / (sums[k] * sums[k]);
    }
    const i = order[r];
    const e = E[i];
    residual[at(i)] = weights[i] * status[i] - e * b;
    // Not negative (E_i c_i ≤ b_i term by term, as E_i ≤ S_k); rounding could make it so.
    curvature[at(i)] = Math.max(0, e * (b - e * c));
  }
}

/**
 * Breslow's baseline cumulative hazard at each death time, H0(t_k) = Σ_{k' ≤ k} d_k' / Σ_{risk set} w_j e^{η_j}: the
 * survival of a row with linear predictor η is exp(−H0(t) e^η) (η on the scale the sums were taken on).
 */
export function breslowHazard(time: ArrayLike<number>, status: ArrayLike<number>, eta: ArrayLike<number>, weights: ArrayLike<number>): { times: Float64Array; hazard: Float64Array } {
  const sets = riskSetsOf(time, status, weights);
  const sums = riskSums(
    sets,
    Float64Array.from(eta, (e, i) => weights[i] * Math.exp(e)),
  );
  const hazard = new Float64Array(sums.length);
  let h = 0;
  for (let k = 0; k < sums.length; k++) hazard[k] = h += sets.deaths[k] / sums[k];
  return { times: sets.deathTimes, hazard };
}

/**
 * Harrell's concordance of risk scores with survival (survival::concordance, which glmnet's Cindex calls): over pairs
 * where one row died before the other's time (or at it, the other censored then), weighted w_i·w_j, the share in which
 * the earlier death has the higher score, ties in the score counting a half. O(n log n) by a Fenwick tree over scores.
 */
export function harrellC(time: ArrayLike<number>, status: ArrayLike<number>, score: ArrayLike<number>, weights: ArrayLike<number>): number {
  // The rows by time, as the risk sets order them; latest first below.
  const byTime = riskSetsOf(time, status, weights).order.slice().reverse();
  const byScore = byTime.slice().sort((a, b) => score[a] - score[b]);
  const rank = new Int32Array(weights.length);
  const distinct: number[] = [];
  for (const i of byScore) {
    if (distinct.length === 0 || score[i] !== distinct[distinct.length - 1]) distinct.push(score[i]);
    rank[i] = distinct.length;
  }
  const tree = new Float64Array(distinct.length + 1);
  const add = (r: number, w: number) => {
    for (; r <= distinct.length; r += r & -r) tree[r] += w;
  };
  const below = (r: number) => {
    let s = 0;
    for (; r > 0; r -= r & -r) s += tree[r];
    return s;
  };
  // Latest time first: the tree holds the rows known to outlive the time being looked at.
  let concordant = 0;
  let discordant = 0;
  let tied = 0;
  let atRisk = 0;
  for (let start = 0; start < byTime.length; ) {
    let end = start;
    while (end < byTime.length && time[byTime[end]] === time[byTime[start]]) end++;
    // Rows censored at this time outlive its deaths; deaths at one time are not compared with each other.
    for (let q = start; q < end; q++) {
      const i = byTime[q];
      if (status[i] !== 1) {
        add(rank[i], weights[i]);
        atRisk += weights[i];
      }
    }
    for (let q = start; q < end; q++) {
      const i = byTime[q];
      if (status[i] !== 1) continue;
      const lower = below(rank[i] - 1);
      const same = below(rank[i]) - lower;
      concordant += weights[i] * lower;
      tied += weights[i] * same;
      discordant += weights[i] * (atRisk - lower - same);
    }
    for (let q = start; q < end; q++) {
      const i = byTime[q];
      if (status[i] === 1) {
        add(rank[i], weights[i]);
        atRisk += weights[i];
      }
    }
    start = end;
  }
  const pairs = concordant + discordant + tied;
  return pairs > 0 ? (concordant + tied / 2) / pairs : NaN;
}
