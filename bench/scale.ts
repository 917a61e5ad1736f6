// One scale run in its own process (so that the peak RSS measured is this run's): cv-enet on n 20 000 × p 2 000,
// data generated in place on the SharedArrayBuffer. usage: node dist/bench/scale.js WORKERS [quick|full]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { syntheticDataset } from '../src/data/synthetic.js';
import { runLoadedSweep } from '../src/pool/coordinator.js';
import { benchSpec } from './data.js';

const workers = Number(process.argv[2] ?? 2);
// 20 λ rather than cv-enet's 100: at p = 2 000 the dense end of the path makes each run minutes long, and the
// figures measured here (speed-up, peak memory) do not depend on the number of λ.
const lambdas = process.argv[3] === 'quick' ? 10 : 20;
const data = syntheticDataset(benchSpec('regression', 20_000, 2_000));
const yaml = `name: scale
data: {path: x.csv, standardize: false}
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [elasticnet], lambda: {auto: ${lambdas}, ratio: 1e-3}, l1_ratio: [0.1, 0.5, 0.9, 1]}
workers: ${workers}
`;
const loaded = parseConfig(yaml, 'scale.yaml', { output: join(tmpdir(), `regsweep-scale-${process.pid}.db`) });
const t = performance.now();
await runLoadedSweep(loaded, data, {});
const seconds = (performance.now() - t) / 1000;
// maxRSS covers the whole process, worker threads included (kilobytes).
console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
