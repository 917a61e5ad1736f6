import { createHash } from 'node:crypto';
import { Rng } from '../util/random.js';
import { sharedFloat64, type Dataset } from './dataset.js';

export interface SyntheticSpec {
  kind: 'regression' | 'classification';
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
 * or y ~ Bernoulli(sigmoid(Xb)) for classification.
 */
export function syntheticDataset(spec: SyntheticSpec): Dataset {
  const { n, p, rho, outputs } = spec;
  if (spec.kind === 'classification' && outputs !== 1) throw new Error('classification data have one output');
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
  const y = sharedFloat64(n * outputs);
  const signal = new Float64Array(n);
  for (let k = 0; k < outputs; k++) {
    signal.fill(0);
    for (let j = 0; j < p; j++) {
      const b = beta[k * p + j];
      if (b === 0) continue;
      for (let i = 0; i < n; i++) signal[i] += b * X[j * n + i];
    }
    if (spec.kind === 'classification') {
      for (let i = 0; i < n; i++) y[i] = rng.uniform() < 1 / (1 + Math.exp(-signal[i])) ? 1 : 0;
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
  const targetNames = outputs === 1 ? ['y'] : Array.from({ length: outputs }, (_, k) => `y${k + 1}`);
  return {
    n,
    p,
    X,
    y,
    outputs,
    featureNames: Array.from({ length: p }, (_, j) => `x${j + 1}`),
    targetNames,
    classes: spec.kind === 'classification' ? ['0', '1'] : undefined,
    source: `synthetic ${spec.kind} n=${n} p=${p}`,
    hash: createHash('sha256').update(JSON.stringify({ ...spec, nonzero })).digest('hex'),
    warnings: [],
    trueCoefficients: beta,
  };
}
