// Benchmark and fixture data: generated deterministically by regsweep's own generator and written as CSV so that
// every anchor (scikit-learn, glmnet, PyTorch, Optuna) reads exactly the same numbers.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { syntheticDataset, type SyntheticSpec } from '../src/data/synthetic.js';
import type { Dataset } from '../src/data/dataset.js';

/** The seeds' network case: 10 000 rows, 50 inputs, 20 outputs, 80% of the true weights zero, noise sd 0.5. */
export const SEEDS_SPEC: SyntheticSpec = { kind: 'regression', n: 10_000, p: 50, outputs: 20, nonzero: 10, rho: 0, snr: 1, noise_sd: 0.5, seed: 0 };

/** The solvers issue's generator: AR(1) ρ = 0.5, 5% true nonzero, noise variance = signal variance / 3. */
export function benchSpec(kind: 'regression' | 'classification', n: number, p: number, seed = 1): SyntheticSpec {
  return { kind, n, p, nonzero: Math.max(1, Math.round(0.05 * p)), rho: 0.5, snr: 3, outputs: 1, seed };
}

export async function writeCsv(data: Dataset, path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write([...data.featureNames, ...data.targetNames].join(',') + '\n');
  const { n, p, outputs, X, y } = data;
  for (let i = 0; i < n; i++) {
    const cells: string[] = [];
    for (let j = 0; j < p; j++) cells.push(String(X[j * n + i]));
    for (let k = 0; k < outputs; k++) cells.push(String(y[k * n + i]));
    if (!out.write(cells.join(',') + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

// `node dist/bench/data.js seeds out.csv` writes the seeds' data set.
if (process.argv[1]?.endsWith('bench/data.js') && process.argv[2] === 'seeds') {
  await writeCsv(syntheticDataset(SEEDS_SPEC), process.argv[3] ?? 'seeds.csv');
}
