// `npm run bench -- tpe`: the best validation loss a TPE sweep reaches after 20, 50 and 100 points, against random
// search (the same sweep with every point drawn at random) and Optuna's TPESampler on the same objective (its points
// evaluated by bench/tpeObjective.ts, the loss a TPE sweep computes), medians over 21 seeds; on the seeds' network and
// on an elastic net. regsweep proposes one point at a time here, as Optuna's ask/tell loop does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { loadData } from '../src/data/load.js';
import { runLoadedSweep } from '../src/pool/coordinator.js';
import { withResults } from '../src/results/open.js';
import { pointLosses } from '../src/select/points.js';

const SEEDS = Array.from({ length: 21 }, (_, k) => k + 1);
const CHECKPOINTS = [20, 50, 100];

interface Objective {
  name: string;
  /** The sweep file without its `sweep` section. */
  body: string;
  sweep: string;
  /** The same space for Optuna. */
  space: { penalty: string[]; lambda: [number, number]; l1_ratio?: [number, number]; settings?: Record<string, { choice: string[] } | { log_uniform: [number, number] }> };
}

const OBJECTIVES: Objective[] = [
  {
    name: "seeds' network (λ, lr, penalty, l1_method)",
    body: `data:\n  synthetic: {kind: regression, n: 400, p: 50, outputs: 20, nonzero: 10, rho: 0, noise_sd: 0.5, seed: 0}\n  standardize: false\nvalidation: {kind: holdout, fraction: 0.5, shuffle: false}\nmodel: {kind: mlp, hidden: [], optimizer: adam, batch: 32, epochs: 60, seed: 0}\n`,
    sweep: `  penalty: [l1, l2]\n  lambda: {log_uniform: [1e-5, 1e-1]}\n  model: {lr: {log_uniform: [1e-3, 1e-1]}, l1_method: [subgradient, proximal]}\n`,
    space: { penalty: ['l1', 'l2'], lambda: [1e-5, 1e-1], settings: { lr: { log_uniform: [1e-3, 1e-1] }, l1_method: { choice: ['subgradient', 'proximal'] } } },
  },
  {
    name: 'elastic net, 5-fold CV (penalty, λ, l1_ratio)',
    body: `data:\n  synthetic: {kind: regression, n: 300, p: 60, nonzero: 6, rho: 0.7, snr: 2, seed: 5}\nvalidation: {kind: kfold, folds: 5, seed: 0}\nmodel: {kind: linear}\n`,
    sweep: `  penalty: [l1, l2, elasticnet]\n  lambda: {log_uniform: [1e-3, 10]}\n  l1_ratio: {uniform: [0, 1]}\n`,
    space: { penalty: ['l1', 'l2', 'elasticnet'], lambda: [1e-3, 10], l1_ratio: [0, 1] },
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Best loss after each checkpoint of a regsweep sweep (TPE after `startup` random points; random: startup = all). */
async function regsweepBests(dir: string, objective: Objective, seed: number, startup: number, multivariate = true): Promise<{ bests: number[]; seconds: number }> {
  const file = join(dir, `s${seed}-${startup}-${multivariate}.yaml`);
  writeFileSync(file, `name: tpe-bench\n${objective.body}sweep:\n  kind: tpe\n  points: ${CHECKPOINTS[CHECKPOINTS.length - 1]}\n  startup: ${startup}\n  batch: 1\n  multivariate: ${multivariate}\n  seed: ${seed}\n${objective.sweep}workers: 2\noutput: ${join(dir, `s${seed}-${startup}-${multivariate}.db`)}\n`);
  const loaded = loadConfig(file);
  const started = performance.now();
  await runLoadedSweep(loaded, await loadData(loaded), { log: () => undefined });
  const seconds = (performance.now() - started) / 1000;
  const losses = await withResults(loaded.outputPath, undefined, async ({ store, sweep }) => pointLosses(await store.trials(sweep.id)));
  return { bests: CHECKPOINTS.map((c) => Math.min(...[...losses].filter(([k]) => k <= c).map(([, l]) => l))), seconds };
}

/** Optuna's best losses per seed (TPESampler, its default or multivariate), undefined when it could not run. */
function optunaBests(root: string, python: string, objective: Objective, seeds: number[], evaluatorSweep: string, multivariate: boolean, notes: string[]): { bests?: number[][]; seconds: number } {
  const started = performance.now();
  const run = spawnSync(
    python,
    [join(root, 'bench', 'anchors', 'optuna_tpe.py'), JSON.stringify(objective.space), String(CHECKPOINTS[CHECKPOINTS.length - 1]), seeds.join(','), CHECKPOINTS.join(','), ...(multivariate ? ['--multivariate'] : []), '--', process.execPath, join(root, 'dist', 'bench', 'tpeObjective.js'), evaluatorSweep],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) {
    notes.push(`tpe ${objective.name}: Optuna${multivariate ? ' multivariate' : ''} skipped (${(run.stderr || '').trim().split('\n').pop()})`);
    return { seconds };
  }
  return { bests: Object.values(JSON.parse(run.stdout.trim().split('\n').pop()!)) as number[][], seconds };
}

export async function tpeWorkload(root: string, python: string, kit: { notes: string[]; quick: boolean }): Promise<void> {
  const seeds = kit.quick ? SEEDS.slice(0, 2) : SEEDS;
  for (const objective of OBJECTIVES) {
    const dir = mkdtempSync(join(tmpdir(), 'regsweep-tpe-bench-'));
    const tpe: number[][] = [];
    const independent: number[][] = [];
    const random: number[][] = [];
    let tpeSeconds = 0;
    for (const seed of seeds) {
      const a = await regsweepBests(dir, objective, seed, 10);
      tpe.push(a.bests);
      tpeSeconds += a.seconds;
      independent.push((await regsweepBests(dir, objective, seed, 10, false)).bests);
      random.push((await regsweepBests(dir, objective, seed, CHECKPOINTS[CHECKPOINTS.length - 1])).bests);
    }
    const evaluatorSweep = join(dir, `s${seeds[0]}-10-true.yaml`);
    const optuna = optunaBests(root, python, objective, seeds, evaluatorSweep, false, kit.notes);
    const optunaJoint = optunaBests(root, python, objective, seeds, evaluatorSweep, true, kit.notes);
    const at = (runs: number[][] | undefined, k: number) => (runs ? median(runs.map((b) => b[k])) : NaN);
    const shown = (x: number) => (Number.isNaN(x) ? '—' : x.toPrecision(4));
    const lines = CHECKPOINTS.map((c, k) => {
      const [ours, alone, rand, opt, optJoint] = [at(tpe, k), at(independent, k), at(random, k), at(optuna.bests, k), at(optunaJoint.bests, k)];
      return `after ${c} points: regsweep TPE ${shown(ours)} (independent ${shown(alone)}), random ${shown(rand)}, Optuna TPESampler ${shown(opt)} (multivariate ${shown(optJoint)}); regsweep TPE / Optuna's default ${(ours / opt).toFixed(3)}, independent / independent ${(alone / opt).toFixed(3)}, multivariate / multivariate ${(ours / optJoint).toFixed(3)}`;
    });
    kit.notes.push(
      `tpe ${objective.name}, best validation loss, medians over ${seeds.length} seeds (regsweep TPE: multivariate, its default) — ${lines.join('; ')}; time per sweep of 100 points: regsweep TPE ${(tpeSeconds / seeds.length).toFixed(1)} s, Optuna with the same evaluator ${(optuna.seconds / seeds.length).toFixed(1)} s`,
    );
  }
}
