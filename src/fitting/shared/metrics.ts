import type { Design } from './design.js';
import { everyRow, sparseAxpy } from './sparseColumns.js';

/** η_i = b0 + x_i·b for every row (n · nnz work: zero coefficients are skipped). */
export function linearPredictor({ X, n, p, sparse }: Design, intercept: number, coefs: Float64Array, out: Float64Array): Float64Array {
  out.fill(intercept);
  if (sparse) {
    const columns = everyRow(sparse);
    for (let j = 0; j < p; j++) if (coefs[j] !== 0) sparseAxpy(columns, j, -coefs[j], out);
    return out;
  }
  for (let j = 0; j < p; j++) {
    const b = coefs[j];
    if (b === 0) continue;
    const off = j * n;
    for (let i = 0; i < n; i++) out[i] += b * X[off + i];
  }
  return out;
}

/** Weighted mean of squared errors over the rows whose weight is nonzero. */
export function meanSquaredError(y: Float64Array, eta: Float64Array, weights: Float64Array): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < eta.length; i++) {
    const wi = weights[i];
    if (wi === 0) continue;
    const d = y[i] - eta[i];
    s += wi * d * d;
    w += wi;
  }
  return s / w;
}

/** Mean Poisson deviance 2[y log(y/μ) − (y − μ)] with μ = e^η (y log y = 0 at y = 0). */
export function poissonDeviance(y: Float64Array, eta: Float64Array, weights: Float64Array): number {
  let s = 0;
  let total = 0;
  for (let i = 0; i < eta.length; i++) {
    if (weights[i] === 0) continue;
    const mu = Math.exp(eta[i]);
    const yi = y[i];
    s += weights[i] * 2 * ((yi > 0 ? yi * (Math.log(yi) - eta[i]) : 0) - (yi - mu));
    total += weights[i];
  }
  return s / total;
}

/**
 * Mean negative log-probability of each row's class (y holds 0 … K−1; η K blocks of m); with `clip` > 0 that
 * probability is first clipped to [clip, 1 − clip], as cv.glmnet's multinomial deviance does.
 */
export function multinomialLogLoss(y: ArrayLike<number>, eta: Float64Array, m: number, K: number, weights: Float64Array, clip: number): number {
  let s = 0;
  let total = 0;
  for (let i = 0; i < m; i++) {
    if (weights[i] === 0) continue;
    let top = -Infinity;
    for (let k = 0; k < K; k++) top = Math.max(top, eta[k * m + i]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(eta[k * m + i] - top);
    const minusLog = top + Math.log(sum) - eta[y[i] * m + i];
    s += weights[i] * (clip > 0 ? -Math.log(Math.min(Math.max(Math.exp(-minusLog), clip), 1 - clip)) : minusLog);
    total += weights[i];
  }
  return s / total;
}

/**
 * Mean negative log-likelihood of 0/1 labels given log-odds η (stable for large |η|); with `clip` > 0 the probability
 * is first clipped to [clip, 1 − clip], as cv.glmnet's binomial deviance does.
 */
export function logLoss(y: Float64Array, eta: Float64Array, weights: Float64Array, clip = 0): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < eta.length; i++) {
    const wi = weights[i];
    if (wi === 0) continue;
    const e = eta[i];
    if (clip > 0) {
      const p = Math.min(Math.max(1 / (1 + Math.exp(-e)), clip), 1 - clip);
      // A 0/1 label needs one of the two logs (the other term is an exact zero).
      const yi = y[i];
      s += -wi * (yi === 1 ? Math.log(p) : yi === 0 ? Math.log(1 - p) : yi * Math.log(p) + (1 - yi) * Math.log(1 - p));
      w += wi;
      continue;
    }
    // log(1 + exp(e)) − y e, written so that exp never overflows.
    const softplus = e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e));
    s += wi * (softplus - y[i] * e);
    w += wi;
  }
  return s / w;
}

/**
 * The scores accuracyAndAuc sorts, kept between calls up to 1 M doubles: a path's trials take two AUCs per λ, and their arrays
 * were most of what measuring a path left for the thread's collector.
 */
let aucScores = new Float64Array(0);
function aucScratch(length: number): Float64Array {
  if (length > 1 << 20) return new Float64Array(length);
  if (aucScores.length < length) aucScores = new Float64Array(length);
  return aucScores;
}

/** Scores at least this many are sorted by radix (below it the native sort is faster). */
const RADIX_FROM = 4096;
const DIGIT_BITS = 11;
/** The high word's digits: 11, 11 and 10 bits. */
const DIGITS = Math.ceil(32 / DIGIT_BITS);
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;
/** Runs of equal high words up to this long are put in order by insertion; longer ones by the native sort. */
const INSERTION_RUN = 32;
let radixKeys = new Uint32Array(0);
const digitCounts = new Uint32Array(DIGITS << DIGIT_BITS);

/**
 * Ascending, in place, into the same order as the native sort (−0 before 0): an LSD radix sort on the high words of
 * the doubles' bits made unsigned-ordered (sign, exponent and 20 bits of mantissa; a pass skipped where every score has
 * the same digit), then each run of equal high words put in order by its low words. accuracyAndAuc sorts each class's scores
 * twice per trial; past a few thousand scores this is faster than the native sort, and half the passes of a sort on
 * all 64 bits: scores whose first 20 bits of mantissa agree are few, or equal.
 */
export function sortScores(values: Float64Array): void {
  const m = values.length;
  if (m < RADIX_FROM || m > 1 << 20) return void values.sort();
  if (radixKeys.length < 4 * m) radixKeys = new Uint32Array(4 * m);
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * m);
  let high = radixKeys.subarray(0, m);
  let low = radixKeys.subarray(m, 2 * m);
  let nextHigh = radixKeys.subarray(2 * m, 3 * m);
  let nextLow = radixKeys.subarray(3 * m, 4 * m);
  digitCounts.fill(0);
  for (let i = 0; i < m; i++) {
    if (Number.isNaN(values[i])) return void values.sort();
    // Little-endian words; a negative double's bits all flipped, a positive's sign bit set: unsigned order is numeric.
    let h = words[2 * i + 1];
    let l = words[2 * i];
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    high[i] = h;
    low[i] = l;
    digitCounts[h & DIGIT_MASK]++;
    digitCounts[(1 << DIGIT_BITS) + ((h >>> DIGIT_BITS) & DIGIT_MASK)]++;
    digitCounts[(2 << DIGIT_BITS) + (h >>> (2 * DIGIT_BITS))]++;
  }
  for (let d = 0; d < DIGITS; d++) {
    const base = d << DIGIT_BITS;
    const shift = d * DIGIT_BITS;
    if (digitCounts[base + ((high[0] >>> shift) & DIGIT_MASK)] === m) continue;
    for (let k = 0, sum = 0; k <= DIGIT_MASK; k++) {
      const c = digitCounts[base + k];
      digitCounts[base + k] = sum;
      sum += c;
    }
    for (let i = 0; i < m; i++) {
      const h = high[i];
      const at = digitCounts[base + ((h >>> shift) & DIGIT_MASK)]++;
      nextHigh[at] = h;
      nextLow[at] = low[i];
    }
    [high, nextHigh] = [nextHigh, high];
    [low, nextLow] = [nextLow, low];
  }
  for (let start = 0; start < m; ) {
    const h = high[start];
    let end = start + 1;
    while (end < m && high[end] === h) end++;
    if (end - start > INSERTION_RUN) low.subarray(start, end).sort();
    else
      for (let i = start + 1; i < end; i++) {
        const l = low[i];
        let k = i - 1;
        for (; k >= start && low[k] > l; k--) low[k + 1] = low[k];
        low[k + 1] = l;
      }
    start = end;
  }
  for (let i = 0; i < m; i++) {
    const h = high[i];
    const l = low[i];
    if (h & 0x80000000) {
      words[2 * i + 1] = h & 0x7fffffff;
      words[2 * i] = l;
    } else {
      words[2 * i + 1] = ~h >>> 0;
      words[2 * i] = ~l >>> 0;
    }
  }
}

/**
 * The weighted share of rows whose class η > 0 predicts, and the area under the ROC curve (Mann–Whitney U with
 * mid-ranks for ties; NaN when one class is absent), from one pass over the rows (a path's trials take both on the
 * training and the validation rows at every λ).
 */
export function accuracyAndAuc(y: Float64Array, eta: Float64Array, weights: Float64Array): { accuracy: number; auc: number } {
  const m = eta.length;
  // Positives from the front of the scratch, negatives from its back.
  const both = aucScratch(m);
  let positives = 0;
  let negatives = 0;
  let right = 0;
  let total = 0;
  for (let i = 0; i < m; i++) {
    const wi = weights[i];
    if (wi === 0) continue;
    const e = eta[i];
    if (y[i] === 1) both[positives++] = e;
    else both[m - 1 - negatives++] = e;
    if ((e > 0 ? 1 : 0) === y[i]) right += wi;
    total += wi;
  }
  const accuracy = right / total;
  if (positives === 0 || negatives === 0) return { accuracy, auc: NaN };
  // The Mann–Whitney count from the two classes' scores sorted apart (sortScores): per positive, the
  // negatives below it and half those tied with it — the rank-sum with mid-ranks, the same number in halves exactly.
  const pos = both.subarray(0, positives);
  const neg = both.subarray(m - negatives, m);
  sortScores(pos);
  sortScores(neg);
  let below = 0;
  let upTo = 0;
  let count = 0;
  for (let k = 0; k < positives; k++) {
    const s = pos[k];
    while (below < negatives && neg[below] < s) below++;
    while (upTo < negatives && neg[upTo] <= s) upTo++;
    count += below + (upTo - below) / 2;
  }
  return { accuracy, auc: count / (positives * negatives) };
}

export interface Sparsity {
  nnz: number;
  zeroFraction: number;
  nearZeroFraction: number;
  l1Norm: number;
  l2Norm: number;
}

/**
 * Nonzeros, zero and near-zero fractions and norms of one fit's coefficients (K blocks of p for K outputs). With
 * `scales` (each feature's sd) "near zero" is |w·sd| < nearZero, on the standardized scale: a unit does not make a
 * coefficient small.
 */
export function sparsity(coefs: Float64Array, nearZero: number, scales?: ArrayLike<number>): Sparsity {
  let nnz = 0;
  let near = 0;
  let l1 = 0;
  let l2 = 0;
  const scaled = scales && scales.length > 0 ? scales : undefined;
  const p = scaled?.length ?? coefs.length;
  // Block by block (K outputs of p), so that no index is reduced modulo p. A zero adds nothing to the norms and is
  // near zero (below a positive bound): most of a sparse path's coefficients are passed over.
  for (let from = 0; from < coefs.length; from += p) {
    for (let j = 0; j < p && from + j < coefs.length; j++) {
      const c = coefs[from + j];
      if (c === 0) continue;
      const a = Math.abs(c);
      nnz++;
      if ((scaled ? a * scaled[j] : a) < nearZero) near++;
      l1 += a;
      l2 += a * a;
    }
  }
  if (nearZero > 0) near += coefs.length - nnz;
  const m = coefs.length || 1;
  return { nnz, zeroFraction: (coefs.length - nnz) / m, nearZeroFraction: near / m, l1Norm: l1, l2Norm: Math.sqrt(l2) };
}
