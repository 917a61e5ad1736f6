import { createHash } from 'node:crypto';
import { Rng } from '../util/random.js';
import { sharedFloat64, type Dataset } from './dataset.js';

export interface SyntheticSpec {
  kind: 'regression' | 'classification' | 'counts';
  /** Classes of classification data (default 2). */
  classes?: number;
  n: number;
  p: number;
  /** True nonzero coefficients per output; default 5% of p (at least 1). */
  nonzero?: number;
  /** AR(1) correlation between neighbouring features. */
  rho: number;
  /** Signal variance / noise variance (regression). */
  snr: number;
  /** Noise sd; overrides snr. */
  noise_sd?: number;
  outputs: number;
  seed: number;
}

/**
 * Rows x ~ N(0, Σ) with Σ_jk = rho^|j−k| (an AR(1) walk across features); `nonzero` true coefficients per
 * output with magnitudes uniform in [0.5, 2] and random signs; y = Xb + noise with var(noise) = var(Xb) / snr,
 * y ~ Bernoulli(sigmoid(Xb)) for two classes, the class drawn from softmax(Xb_1 … Xb_K) for K, or
 * y ~ Poisson(exp(log 3 + Xb / (2 sd(Xb)))) for counts.
 */
export function syntheticDataset(spec: SyntheticSpec): Dataset {
  const { n, p, rho } = spec;
  const K = spec.kind === 'classification' ? (spec.classes ?? 2) : 1;
  if (spec.kind !== 'regression' && spec.outputs !== 1) throw new Error(`${spec.kind} data have one output`);
  // K classes take K coefficient vectors (two take one: the log-odds).
  const outputs = K > 2 ? K : spec.outputs;
  const nonzero = Math.min(p, spec.nonzero ?? Math.max(1, Math.round(0.05 * p)));
  const rng = new Rng(spec.seed);
  const X = sharedFloat64(n * p);
  const innovation = Math.sqrt(1 - rho * rho);
  for (let i = 0; i < n; i++) {
    let prev = rng.normal();
    X[i] = prev;
    for (let j = 1; j < p; j++) {
      prev = rho * prev + innovation * rng.normal();
      X[j * n + i] = prev;
    }
  }
  const beta = new Float64Array(p * outputs);
  for (let k = 0; k < outputs; k++) {
    const support = rng.permutation(p).subarray(0, nonzero);
    for (const j of support) beta[k * p + j] = (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + 1.5 * rng.uniform());
  }
  const y = sharedFloat64(n * (K > 2 ? 1 : outputs));
  const signal = new Float64Array(n);
  if (K > 2) {
    const eta = new Float64Array(n * K);
    for (let k = 0; k < K; k++)
      for (let j = 0; j < p; j++) {
        const b = beta[k * p + j];
        if (b !== 0) for (let i = 0; i < n; i++) eta[k * n + i] += b * X[j * n + i];
      }
    for (let i = 0; i < n; i++) {
      let top = -Infinity;
      for (let k = 0; k < K; k++) top = Math.max(top, eta[k * n + i]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(eta[k * n + i] - top);
      let u = rng.uniform() * sum;
      let k = 0;
      while (k < K - 1 && (u -= Math.exp(eta[k * n + i] - top)) > 0) k++;
      y[i] = k;
    }
  }
  for (let k = 0; k < outputs && K <= 2; k++) {
    signal.fill(0);
    for (let j = 0; j < p; j++) {
      const b = beta[k * p + j];
      if (b === 0) continue;
      for (let i = 0; i < n; i++) signal[i] += b * X[j * n + i];
    }
    if (spec.kind === 'classification') {
      for (let i = 0; i < n; i++) y[i] = rng.uniform() < 1 / (1 + Math.exp(-signal[i])) ? 1 : 0;
    } else if (spec.kind === 'counts') {
      let sd = 0;
      for (let i = 0; i < n; i++) sd += signal[i] ** 2;
      sd = Math.sqrt(sd / n) || 1;
      for (let i = 0; i < n; i++) y[i] = rng.poisson(Math.exp(Math.log(3) + signal[i] / (2 * sd)));
    } else {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += signal[i];
      mean /= n;
      let variance = 0;
      for (let i = 0; i < n; i++) variance += (signal[i] - mean) ** 2;
      variance /= n;
      const noiseSd = spec.noise_sd ?? (Math.sqrt(variance / spec.snr) || 1);
      for (let i = 0; i < n; i++) y[k * n + i] = signal[i] + noiseSd * rng.normal();
    }
  }
  const targetNames = outputs === 1 || K > 2 ? ['y'] : Array.from({ length: outputs }, (_, k) => `y${k + 1}`);
  return {
    n,
    p,
    X,
    y,
    outputs: K > 2 ? 1 : outputs,
    featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
    targetNames,
    classes: spec.kind === 'classification' ? Array.from({ length: K }, (_, k) => String(k)) : undefined,
    source: `synthetic ${spec.kind} n=${n} p=${p}`,
    // Two classes leave the hash as it was before more classes were possible (sweeps of such data still resume).
    hash: createHash('sha256').update(JSON.stringify(K > 2 ? { ...spec, nonzero } : { ...withoutClasses(spec), nonzero })).digest('hex'),
    warnings: [],
    trueCoefficients: beta,
  };
}

function withoutClasses(spec: SyntheticSpec): Omit<SyntheticSpec, 'classes'> {
  const { classes: _classes, ...rest } = spec;
  return rest;
}
