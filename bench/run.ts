// `npm run bench`: regsweep side by side with scikit-learn, R glmnet, Optuna and PyTorch on the same CSV, in the same
// run. Fit time only (CSV loading is outside every timer), medians of repeated runs, ratios regsweep / anchor.
// A missing anchor is reported as skipped. Results: bench/results/latest.json and latest.md.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.js';
import { loadCsv } from '../src/data/csv.js';
import { syntheticDataset } from '../src/data/synthetic.js';
import type { Dataset } from '../src/data/dataset.js';
import { binomialPath } from '../src/fitting/solvers/glm.js';
import { gaussianCovariancePath } from '../src/fitting/solvers/gaussianCovariance.js';
import { gaussianNaivePath } from '../src/fitting/solvers/gaussianNaive.js';
import { gaussianRidgeDualPath } from '../src/fitting/solvers/gaussianRidgeDual.js';
import { trainNetwork } from '../src/fitting/solvers/network.js';
import { runLoadedSweep } from '../src/pool/coordinator.js';
import { assignFolds } from '../src/plan/folds.js';
import { lambdaMaxFor, lassoLambdaMax } from '../src/plan/grid.js';
import { startGramHelper } from '../workers/gramHelper.js';
import { threadKernelContext } from '../workers/kernelContext.js';
import { benchSpec, SEEDS_SPEC, writeCsv } from './data.js';
import { distributedWorkload } from './distributed.js';
import { loadWorkload, startupWorkload, tenDigitWorkload } from './load.js';
import { serveWorkload } from './serve.js';
import { sparseWorkload } from './sparse.js';
import { tpeWorkload } from './tpe.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ANCHORS = join(ROOT, 'bench', 'anchors');
const DATA = join(ROOT, 'bench', '.data');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const quick = process.argv.includes('--quick');
const REPEATS = quick ? 1 : 3;
/** Paired rounds of the gaussian path workloads (see pathWorkload). */
const PATH_ROUNDS = quick ? 1 : 7;
/**
 * The looser tolerances each path and CV workload is also timed at (the default is 1e-7). The anchors stop at their
 * own defaults (sklearn tol 1e-4 on the duality gap, glmnet thresh 1e-7); the issue's accuracy bar is the objective
 * at the last λ within 1e-7 of the better anchor, printed below the table for every tolerance. 1e-5 clears it by
 * an order of magnitude; 5e-5 is the loosest of 1e-5, 2e-5, 3e-5, 5e-5, 1e-4 that kept a margin of two on both
 * gaussian paths when it was chosen (+4e-8 and +3e-8; 1e-4 gave +6e-8).
 */
const LOOSE_TOLS = [1e-5, 5e-5];
const tolLabel = (tol: number) => tol.toExponential();

interface Row {
  workload: string;
  tool: string;
  seconds: number | null;
  note: string;
}
const rows: Row[] = [];
const notes: string[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeIt<T>(repeats: number, fn: () => T | Promise<T>): Promise<{ seconds: number; result: T }> {
  const times: number[] = [];
  let result!: T;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    result = await fn();
    times.push((performance.now() - t) / 1000);
  }
  return { seconds: median(times), result };
}

/** Runs an anchor script; its last stdout line is JSON. A missing interpreter or package makes it "skipped". */
function anchor(command: string, args: string[]): { times: number[]; [k: string]: unknown } | { skipped: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env } });
  if (r.error) return { skipped: `${command} not found` };
  if (r.status !== 0) {
    const why = (r.stderr || '').trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.status}`;
    return { skipped: why.slice(0, 160) };
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/**
 * An anchor script kept running between regsweep's timed fits (its "paired" mode): `fit()` has it make one more timed
 * fit and resolves to its seconds; `close()` ends its input and resolves to its closing JSON line. The script makes
 * one untimed fit before it says it is ready, as regsweep's first fits warm its JIT before they are timed.
 */
async function pairedAnchor(command: string, args: string[]): Promise<{ fit: () => Promise<number>; close: () => Promise<ReturnType<typeof anchor>> } | { skipped: string }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const failure = async (): Promise<{ skipped: string }> => {
    const status = await exited;
    return { skipped: stderr.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 160) ?? `exit ${status}` };
  };
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!spawned) return { skipped: `${command} not found` };
  const first = await lines.next();
  if (first.done || first.value !== 'ready') return failure();
  return {
    fit: async () => {
      child.stdin.write('fit\n');
      const line = await lines.next();
      if (line.done) throw new Error(`${command} ${args[0]} ended: ${(await failure()).skipped}`);
      return (JSON.parse(line.value) as { seconds: number }).seconds;
    },
    close: async () => {
      child.stdin.end();
      let last: string | undefined;
      for (let line = await lines.next(); !line.done; line = await lines.next()) last = line.value;
      if ((await exited) !== 0 || last === undefined) return failure();
      return JSON.parse(last);
    },
  };
}

function record(workload: string, tool: string, out: ReturnType<typeof anchor>, note = ''): number | null {
  if ('skipped' in out) {
    rows.push({ workload, tool, seconds: null, note: `skipped: ${out.skipped}` });
    return null;
  }
  const s = median(out.times);
  rows.push({ workload, tool, seconds: s, note });
  return s;
}

async function csvFor(name: string, data: Dataset): Promise<string> {
  mkdirSync(DATA, { recursive: true });
  const path = join(DATA, `${name}.csv`);
  if (!existsSync(path)) await writeCsv(data, path);
  return path;
}

/** Regression data from the solvers issue's generator, y scaled to unit variance so that glmnet's internal y
 * scaling does not change its elastic-net objective (all three tools then solve the same problem). */
function regression(n: number, p: number): Dataset {
  const d = syntheticDataset(benchSpec('regression', n, p));
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d.y[i] / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d.y[i] - mean) ** 2 / n;
  for (let i = 0; i < n; i++) d.y[i] = (d.y[i] - mean) / Math.sqrt(v);
  return d;
}

function objective(data: Dataset, family: 'gaussian' | 'binomial', intercept: number, coef: ArrayLike<number>, lambda: number, alpha: number): number {
  const { X, y, n, p } = data;
  const eta = new Float64Array(n).fill(intercept);
  for (let j = 0; j < p; j++) if (coef[j] !== 0) for (let i = 0; i < n; i++) eta[i] += coef[j] * X[j * n + i];
  let loss = 0;
  for (let i = 0; i < n; i++) {
    if (family === 'gaussian') loss += (y[i] - eta[i]) ** 2 / (2 * n);
    else loss += ((eta[i] > 0 ? eta[i] + Math.log1p(Math.exp(-eta[i])) : Math.log1p(Math.exp(eta[i]))) - y[i] * eta[i]) / n;
  }
  let l1 = 0;
  let l2 = 0;
  for (let j = 0; j < p; j++) {
    l1 += Math.abs(coef[j]);
    l2 += coef[j] ** 2;
  }
  return loss + lambda * (alpha * l1 + ((1 - alpha) / 2) * l2);
}

/** "regsweep row: seconds / the faster anchor's" for each of a workload's regsweep rows (the target's ratio). */
function ratiosToFasterAnchor(workload: string): string {
  const own = rows.filter((r) => r.workload === workload);
  const anchors = own.filter((r) => !r.tool.startsWith('regsweep') && r.seconds !== null && !r.tool.includes('liblinear'));
  if (anchors.length === 0) return '';
  const fastest = anchors.reduce((a, b) => (b.seconds! < a.seconds! ? b : a));
  const ours = own.filter((r) => r.tool.startsWith('regsweep') && r.seconds !== null);
  return `${workload}: regsweep / ${fastest.tool} (the faster anchor) — ` + ours.map((r) => `${r.tool.replace(/^regsweep,? ?/, '') || 'tol 1e-7'} ${(r.seconds! / fastest.seconds!).toFixed(2)}`).join(', ');
}

function sameCoefficients(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function pathWorkload(name: string, family: 'gaussian' | 'binomial', data: Dataset, alpha: number, nLambda: number, ratio: number) {
  const csv = await csvFor(name.startsWith('path-logit') ? 'logit-2000x500' : 'reg-4000x1000', data);
  const loaded = await loadCsv(csv, { classification: family === 'binomial' });
  const design = { X: loaded.X, n: loaded.n, p: loaded.p };
  const weights = new Float64Array(loaded.n).fill(1);
  const lmax = lambdaMaxFor(lassoLambdaMax(design, loaded.y, false, weights), alpha);
  const lambdas = Array.from({ length: nLambda }, (_, k) => lmax * Math.pow(ratio, k / (nLambda - 1)));
  const problem = { design, y: loaded.y, weights, standardize: false, l1Ratio: alpha, lambdas: Float64Array.from(lambdas), tol: 1e-7, maxIter: 1e6 };
  const context = threadKernelContext();
  const fit = (tol: number) => (family === 'gaussian' ? gaussianCovariancePath(context, { ...problem, tol }) : binomialPath(context, { ...problem, tol }));
  // Ours: one thread at every tolerance, then (gaussian) the Gram blocks split with a helper thread, as scikit-learn's
  // BLAS uses both cores for its Gram matrix; the coefficients are the same to the bit either way.
  const configs = [1e-7, ...LOOSE_TOLS].map((tol) => ({ tol, threads: 1 })).concat(family === 'gaussian' ? LOOSE_TOLS.map((tol) => ({ tol, threads: 2 })) : []);
  const toolOf = ({ tol, threads }: { tol: number; threads: number }) => `regsweep${tol === 1e-7 ? '' : `, tol ${tolLabel(tol)}`}${threads === 2 ? ', Gram on 2 threads' : ''}`;
  const runs = configs.map((c) => ({ ...c, tool: toolOf(c), times: [] as number[], result: undefined as ReturnType<typeof fit> | undefined }));
  const params = JSON.stringify({ lambdas, alpha, repeats: REPEATS });
  // The gaussian paths are timed in paired rounds: every configuration of ours once, then scikit-learn once, so that
  // the machine's drift in a run (this shared machine's speed wanders by 2× within minutes) moves both alike.
  const paired = family === 'gaussian' ? await pairedAnchor(PYTHON, [join(ANCHORS, 'sklearn_bench.py'), name, csv, JSON.stringify({ lambdas, alpha, paired: true })]) : undefined;
  const anchorTimes: number[] = [];
  for (let round = 0; round < (family === 'gaussian' ? PATH_ROUNDS : REPEATS); round++) {
    let helper: Awaited<ReturnType<typeof startGramHelper>> | undefined;
    try {
      for (const run of runs) {
        if (run.threads === 2) helper ??= await startGramHelper(context);
        const t = performance.now();
        run.result = fit(run.tol);
        run.times.push((performance.now() - t) / 1000);
      }
    } finally {
      await helper?.stop();
    }
    if (paired && 'fit' in paired) anchorTimes.push(await paired.fit());
  }
  for (const run of runs) {
    rows.push({ workload: name, tool: run.tool, seconds: median(run.times), note: `${run.tol === 1e-7 ? 'tol 1e-7 (the old default)' : run.tol === 1e-5 ? 'the default tol' : ''}${run.threads === 1 ? ', one thread' : ''}`.replace(/^, /, '') });
  }
  if (family === 'gaussian') {
    const split = runs.find((r) => r.threads === 2)!;
    const single = runs.find((r) => r.tol === split.tol && r.threads === 1)!;
    if (!sameCoefficients(split.result!.coefs, single.result!.coefs)) notes.push(`${name}: the 2-thread Gram changed the coefficients (it should not)`);
  }
  const last = nLambda - 1;
  const objectives: Record<string, number> = {};
  for (const r of runs) {
    const key = `regsweep tol ${tolLabel(r.tol)}`;
    objectives[key] ??= objective(loaded, family, r.result!.intercepts[last], r.result!.coefs.subarray(last * loaded.p), lambdas[last], alpha);
  }
  const sklearnRun = paired === undefined ? anchor(PYTHON, [join(ANCHORS, 'sklearn_bench.py'), name, csv, params]) : 'fit' in paired ? await paired.close() : paired;
  const tools: [string, ReturnType<typeof anchor>][] = [
    [family === 'gaussian' ? 'sklearn enet_path' : 'sklearn liblinear (warm start)', sklearnRun],
    [family === 'gaussian' ? 'glmnet' : 'glmnet binomial', anchor('Rscript', [join(ANCHORS, 'glmnet_bench.R'), name, csv, params])],
  ];
  if (anchorTimes.length > 0) {
    notes.push(
      `${name}: paired rounds (regsweep's / scikit-learn's time in the same round, median of ${anchorTimes.length}; scikit-learn's rounds ` +
        `${anchorTimes.map((t) => t.toFixed(3)).join(', ')} s) — ` +
        runs.map((r) => `${r.tool.replace(/^regsweep,? ?/, '') || 'tol 1e-7'} ${median(r.times.map((t, k) => t / anchorTimes[k])).toFixed(2)}`).join(', '),
    );
  }
  for (const [tool, out] of tools) {
    record(name, tool, out);
    if (!('skipped' in out)) objectives[tool] = objective(loaded, family, out.intercept as number, out.coef as number[], lambdas[last], alpha);
  }
  notes.push(ratiosToFasterAnchor(name));
  const best = Math.min(...Object.entries(objectives).filter(([t]) => !t.startsWith('regsweep') && !t.includes('liblinear')).map(([, v]) => v));
  const ourKeys = Object.keys(objectives).filter((t) => t.startsWith('regsweep'));
  notes.push(
    `${name}: objective at the last λ — ` +
      Object.entries(objectives)
        .map(([t, v]) => `${t} ${v.toPrecision(12)}`)
        .join(', ') +
      (Number.isFinite(best)
        ? '; (regsweep − best anchor) / best = ' +
          ourKeys.map((t) => `${((objectives[t] - best) / Math.abs(best)).toExponential(2)} at ${t.replace('regsweep ', '')}`).join(', ') +
          ' (target ≤ 1e-7)'
        : ''),
  );
}

async function sweepTime(yaml: string, data: Dataset, label: string) {
  const dir = join(tmpdir(), `regsweep-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const loaded = parseConfig(yaml, `${label}.yaml`, { output: join(dir, `${label}-${Date.now()}-${Math.random()}.db`) });
  return runLoadedSweep(loaded, data, {});
}

async function cvWorkload() {
  const data = regression(2000, 500);
  const csv = await csvFor('reg-2000x500', data);
  const loaded = await loadCsv(csv);
  const alphas = [0.1, 0.5, 0.9, 1];
  const yaml = (tol: number) => `name: cv-enet
data: {path: x.csv, standardize: false}
model: {kind: linear, tol: ${tol}}
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [elasticnet], lambda: {auto: 100, ratio: 1e-3}, l1_ratio: [${alphas.join(', ')}]}
workers: 2
`;
  const ours = await timeIt(REPEATS, () => sweepTime(yaml(1e-7), loaded, 'cv-enet'));
  rows.push({ workload: 'cv-enet', tool: 'regsweep', seconds: ours.seconds, note: 'tol 1e-7 (the old default), 2 workers, incl. SQLite writes' });
  for (const tol of LOOSE_TOLS) {
    const loose = await timeIt(REPEATS, () => sweepTime(yaml(tol), loaded, 'cv-enet'));
    rows.push({ workload: 'cv-enet', tool: `regsweep, tol ${tolLabel(tol)}`, seconds: loose.seconds, note: '2 workers, incl. SQLite writes' });
  }
  const foldid = Array.from(assignFolds(loaded.n, { kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 1, seed: 0, keep: false }).foldOf);
  const params = JSON.stringify({ alphas, repeats: REPEATS, foldid });
  record('cv-enet', 'sklearn ElasticNetCV (n_jobs 2)', anchor(PYTHON, [join(ANCHORS, 'sklearn_bench.py'), 'cv-enet', csv, params]));
  record('cv-enet', 'cv.glmnet × 4 α (1 core)', anchor('Rscript', [join(ANCHORS, 'glmnet_bench.R'), 'cv-enet', csv, params]));
  notes.push(ratiosToFasterAnchor('cv-enet'));
}

async function gridWorkload() {
  const data = regression(1000, 100);
  const csv = await csvFor('reg-1000x100', data);
  const loaded = await loadCsv(csv);
  const lambdas = Array.from({ length: 30 }, (_, k) => 1e-4 * Math.pow(1e5, k / 29));
  const alphas = [0.01, 0.5, 1];
  const yaml = `name: grid-enet
data: {path: x.csv, standardize: false}
validation: {kind: kfold, folds: 5, seed: 0}
sweep: {kind: grid, penalty: [elasticnet], lambda: [${lambdas.join(', ')}], l1_ratio: [${alphas.join(', ')}]}
workers: 2
`;
  const ours = await timeIt(REPEATS, () => sweepTime(yaml, loaded, 'grid-enet'));
  const best = ours.result.selections.reduce((a, b) => (b.meanMin < a.meanMin ? b : a));
  rows.push({ workload: 'grid-enet', tool: 'regsweep', seconds: ours.seconds, note: `2 workers; best λ ${best.lambdaMin.toPrecision(3)}, α ${best.l1Ratio}` });
  const params = JSON.stringify({ lambdas, alphas, repeats: REPEATS });
  const sk = anchor(PYTHON, [join(ANCHORS, 'sklearn_bench.py'), 'grid-enet', csv, params]);
  record('grid-enet', 'sklearn GridSearchCV (n_jobs 2)', sk, 'best' in sk ? bestNote(sk.best) : '');
  const op = anchor(PYTHON, [join(ANCHORS, 'optuna_grid.py'), csv, params, join(tmpdir(), `optuna-bench-${process.pid}.db`)]);
  record('grid-enet', 'Optuna GridSampler, SQLite, 2 jobs', op, 'best' in op ? bestNote(op.best) : '');
  gridProcessWorkload(yaml.replace('path: x.csv', `path: ${csv}`), csv, params);
}

/**
 * grid-enet as a user runs it: the whole `regsweep run` process (start-up, reading the CSV, the fits, the SQLite
 * writes, the summary) against the whole Python process of the GridSearchCV script (imports, reading the CSV, the fit).
 */
function gridProcessWorkload(yaml: string, csv: string, params: string) {
  const dir = join(tmpdir(), `regsweep-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'grid-process.yaml');
  writeFileSync(file, yaml);
  const wall = (command: string, args: string[]) => {
    const started = performance.now();
    const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    return r.status === 0 ? (performance.now() - started) / 1000 : null;
  };
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let k = 0; k < REPEATS + 2; k++) {
    const ran = wall(process.execPath, [join(ROOT, 'bin', 'regsweep.js'), 'run', file, '--out', join(dir, `grid-process-${k}.db`), '--quiet']);
    if (ran !== null) ours.push(ran);
    const anchorRan = wall(PYTHON, [join(ANCHORS, 'sklearn_bench.py'), 'grid-enet', csv, JSON.stringify({ ...JSON.parse(params), repeats: 1 })]);
    if (anchorRan !== null) theirs.push(anchorRan);
  }
  const bare = wall(process.execPath, ['-e', '0']);
  rows.push({ workload: 'grid-enet, whole process', tool: 'regsweep run', seconds: ours.length ? median(ours) : null, note: `2 workers; node -e 0 took ${bare?.toFixed(3)} s` });
  rows.push({ workload: 'grid-enet, whole process', tool: 'python3 GridSearchCV script (n_jobs 2)', seconds: theirs.length ? median(theirs) : null, note: theirs.length ? 'imports and reading the CSV included' : 'skipped: the script failed' });
}

function bestNote(best: unknown): string {
  const b = best as { lambda: number; alpha: number };
  return `best λ ${b.lambda.toPrecision(3)}, α ${b.alpha}`;
}

async function networkWorkload() {
  const data = syntheticDataset(SEEDS_SPEC);
  const csv = await csvFor('seeds', data);
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
  const base = {
    X: data.X, Y: data.y, n: data.n, p: 50, outputs: 20, trainRows: range(0, 8000), valRows: new Int32Array(0),
    mean: new Float64Array(50), scale: new Float64Array(50).fill(1), hidden: [], optimizer: 'adam' as const, lr: 1e-3,
    batch: 64, epochs: 20, momentum: 0, seed: 0, l2_method: 'coupled' as const, l1_method: 'subgradient' as const, penalize_bias: false,
  };
  const torch = anchor(PYTHON, [join(ANCHORS, 'torch_epochs.py'), csv]);
  const zeros = (w: Float64Array) => `${((100 * w.filter((x) => x === 0).length) / w.length).toFixed(1)}% exact zeros`;
  for (const [kind, l1, l2, l1_method] of [
    ['none', 0, 0, 'subgradient'],
    ['l2', 0, 1e-3, 'subgradient'],
    ['l1', 1e-4, 0, 'subgradient'],
    ['l1-proximal', 1e-2, 0, 'proximal'],
  ] as const) {
    let weights: Float64Array = new Float64Array(0);
    const ours = await timeIt(REPEATS, () => {
      weights = trainNetwork(threadKernelContext().heap, { ...base, l1, l2, l1_method }).weights[0];
    });
    rows.push({ workload: `nn-${kind} (per epoch)`, tool: 'regsweep', seconds: ours.seconds / 20, note: `Adam, batch 64, one thread; λ ${l1 || l2}; ${zeros(weights)}` });
    if ('skipped' in torch) rows.push({ workload: `nn-${kind} (per epoch)`, tool: 'PyTorch (1 thread)', seconds: null, note: `skipped: ${torch.skipped}` });
    else {
      const zeroFraction = (torch.zero_fraction as Record<string, number> | undefined)?.[kind];
      rows.push({ workload: `nn-${kind} (per epoch)`, tool: 'PyTorch (1 thread)', seconds: (torch.seconds_per_epoch as Record<string, number>)[kind], note: zeroFraction === undefined ? '' : `${(100 * zeroFraction).toFixed(1)}% exact zeros` });
    }
  }
}

/**
 * wide-ridge: ridge on n 50 × p 5 000 (the solvers issue's case), 100 λ over four decades, standardized: regsweep's
 * row-space path against scikit-learn's Ridge fitted per λ; one λ by coordinate descent shows what it replaced.
 */
async function wideRidgeWorkload() {
  const data = regression(50, 5000);
  const csv = await csvFor('reg-50x5000', data);
  const design = { X: data.X, n: data.n, p: data.p };
  const weights = new Float64Array(data.n).fill(1);
  const lambdas = Array.from({ length: 100 }, (_, k) => 10 * Math.pow(1e-4, k / 99));
  const problem = { design, y: data.y, weights, standardize: true, l1Ratio: 0, lambdas: Float64Array.from(lambdas), tol: 1e-7, maxIter: 1e6 };
  const ours = await timeIt(REPEATS, () => gaussianRidgeDualPath(problem));
  rows.push({ workload: 'wide-ridge', tool: 'regsweep', seconds: ours.seconds, note: '100 λ, row space (one eigen-decomposition)' });
  const sklearn = anchor(PYTHON, [join(ANCHORS, 'sklearn_bench.py'), 'wide-ridge', csv, JSON.stringify({ lambdas, repeats: REPEATS })]);
  record('wide-ridge', 'sklearn Ridge per λ', sklearn);
  if (!('skipped' in sklearn)) {
    const last = lambdas.length - 1;
    const ourLast = ours.result.coefs.subarray(last * data.p, (last + 1) * data.p);
    const theirs = sklearn.coef as number[];
    const scale = Math.max(...theirs.map(Math.abs));
    const worst = Math.max(...theirs.map((b, j) => Math.abs(b - ourLast[j])));
    notes.push(`wide-ridge: coefficients at the smallest λ against scikit-learn's Ridge: largest difference ${(worst / scale).toExponential(2)} of the largest coefficient`);
  }
  const context = threadKernelContext();
  const one = { ...problem, lambdas: Float64Array.of(lambdas[50]), maxIter: 200_000 };
  const cd = await timeIt(1, () => gaussianNaivePath(context, one));
  rows.push({ workload: 'wide-ridge', tool: 'regsweep coordinate descent, one λ', seconds: cd.seconds, note: `λ ${lambdas[50].toPrecision(3)}: ${cd.result.passes[0]} passes (what the path used before)` });
}

/**
 * separable: lasso logistic CV at the defaults a user runs (tol 1e-5, 100 λ down to 1e-4·λ_max, glmnet's foldid = row
 * mod 10 + 1) on near-separable data — the UCI sonar set and a synthetic one (tests/fixtures) — against cv.glmnet at
 * its defaults with the same folds, both on one thread; the whole sweep (SQLite writes included) against cv.glmnet's
 * call. λ_min is compared too: cv.glmnet at its default thresh is less converged at small λ than either solver at
 * thresh 1e-12 (tests/e2e/separable.test.ts checks regsweep against that).
 */
async function separableWorkload() {
  const fixtures = join(ROOT, 'tests', 'fixtures');
  for (const [name, file, target] of [
    ['sonar', 'sonar.csv', 'Class'],
    ['synthetic', 'separable.csv', 'y'],
  ] as const) {
    const workload = `separable-${name}`;
    const lines = readFileSync(join(fixtures, file), 'utf8').trimEnd().split('\n');
    const header = lines[0].split(',');
    const t = header.indexOf(target);
    // The target last (the anchor script's convention), then the fold column for regsweep.
    const reordered = lines.map((l) => {
      const cells = l.split(',');
      return [...cells.filter((_, j) => j !== t), cells[t]];
    });
    const dir = join(tmpdir(), `regsweep-bench-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const csv = join(dir, `${name}.csv`);
    writeFileSync(csv, reordered.map((r) => r.join(',')).join('\n') + '\n');
    const withFolds = join(dir, `${name}-folds.csv`);
    writeFileSync(withFolds, reordered.map((r, i) => [...r, i === 0 ? 'fold' : String((i % 10) + 1)].join(',')).join('\n') + '\n');
    const loaded = await loadCsv(withFolds, { target, classification: true, foldColumn: 'fold' });
    const yaml = `name: ${workload}
data: {path: x.csv, target: ${target}}
model: {kind: logistic}
validation: {kind: column, column: fold}
sweep: {kind: grid, penalty: [l1], lambda: {auto: 100, ratio: 1e-4}, extend: 0}
workers: 1
`;
    const ours = await timeIt(REPEATS, () => sweepTime(yaml, loaded, workload));
    const [selection] = ours.result.selections;
    rows.push({ workload, tool: 'regsweep', seconds: ours.seconds, note: `one thread, incl. SQLite writes; λ_min ${selection.lambdaMin.toPrecision(4)}, λ_1se ${selection.lambda1se.toPrecision(4)}` });
    const glmnet = anchor('Rscript', [join(ANCHORS, 'glmnet_bench.R'), 'separable', csv, JSON.stringify({ repeats: REPEATS })]);
    record(workload, 'cv.glmnet (1 core)', glmnet, 'best' in glmnet ? `λ_min ${(glmnet.best as { lambda_min: number }).lambda_min.toPrecision(4)}, λ_1se ${(glmnet.best as { lambda_1se: number }).lambda_1se.toPrecision(4)}; ${glmnet.lambdas} λ` : '');
  }
}

/** cv-enet (20 λ) on n 20 000 × p 2 000 at 1 and 2 workers, each in a fresh process so its peak RSS is its own. */
function scaleWorkload() {
  const results: Record<number, { seconds: number; maxRssMb: number }> = {};
  for (const workers of [1, 2]) {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'scale.js'), String(workers), quick ? 'quick' : 'full'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      rows.push({ workload: 'scale', tool: `regsweep, ${workers} worker(s)`, seconds: null, note: `failed: ${r.stderr.trim().split('\n').at(-1)}` });
      continue;
    }
    results[workers] = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    rows.push({ workload: 'scale', tool: `regsweep, ${workers} worker(s)`, seconds: results[workers].seconds, note: `peak RSS ${results[workers].maxRssMb.toFixed(0)} MB` });
  }
  if (results[1] && results[2]) {
    const dataMb = (20_000 * 2_000 * 8) / 2 ** 20;
    notes.push(
      `scale: speed-up with 2 workers ${(results[1].seconds / results[2].seconds).toFixed(2)}× (target ≥ 1.8); peak RSS with 2 workers ${results[2].maxRssMb.toFixed(0)} MB ` +
        `against a limit of 1.5 × ${dataMb.toFixed(0)} MB (one float64 copy) + 150 MB = ${(1.5 * dataMb + 150).toFixed(0)} MB`,
    );
  }
}

async function distributed() {
  const r = await distributedWorkload(ROOT, quick);
  if ('skipped' in r) {
    rows.push({ workload: 'distributed', tool: 'regsweep', seconds: null, note: `skipped: ${r.skipped}` });
    return;
  }
  rows.push({ workload: 'distributed', tool: 'regsweep, SQLite, 1 process', seconds: r.sqlite, note: 'scale sweep, 1 worker thread' });
  rows.push({ workload: 'distributed', tool: 'regsweep, PostgreSQL, 1 process', seconds: r.onePostgres, note: 'the same sweep; data stored in the database' });
  rows.push({ workload: 'distributed', tool: 'regsweep, PostgreSQL, 2 processes', seconds: r.twoPostgres, note: 'run + worker, 1 thread each' });
  rows.push({ workload: 'distributed', tool: 'regsweep, SQLite, 2 independent copies at once', seconds: r.twoIndependent, note: "twice the work: the machine's ceiling for two processes" });
  rows.push({ workload: 'claims', tool: 'regsweep, PostgreSQL, 48 claimers', seconds: r.claims.seconds, note: `${r.claims.tasks} one-λ tasks, ${r.claims.throughput.toFixed(0)} tasks/s; doubled ${r.claims.doubled}, lost ${r.claims.lost}` });
  rows.push({ workload: 'tiny tasks', tool: 'regsweep, SQLite, 1 process', seconds: r.tiny.sqlite, note: '4 000 paths of 10 λ, 2 worker threads' });
  rows.push({ workload: 'tiny tasks', tool: 'regsweep, PostgreSQL, 1 process', seconds: r.tiny.onePostgres, note: `2 worker threads; ${(r.tiny.onePostgres / r.tiny.sqlite).toFixed(2)}× SQLite` });
  rows.push({ workload: 'tiny tasks', tool: 'regsweep, PostgreSQL, run + 3 workers', seconds: r.tiny.fleet, note: `1 thread each, 4 processes on this machine's 2 cores; ${(r.tiny.fleet / r.tiny.sqlite).toFixed(2)}× SQLite` });
  const { one, four } = r.sleeping;
  rows.push({ workload: 'sleeping tasks', tool: 'regsweep, PostgreSQL, 1 claimer', seconds: one.seconds, note: `${one.tasks} tasks of pg_sleep(20 ms) (work in the database, no CPU here): ${one.throughput.toFixed(1)} completions/s` });
  rows.push({ workload: 'sleeping tasks', tool: 'regsweep, PostgreSQL, 4 claimers', seconds: four.seconds, note: `${four.throughput.toFixed(1)} completions/s, ${(four.throughput / one.throughput).toFixed(2)}× one claimer; doubled ${four.doubled}, lost ${four.lost}` });
  for (const [k, line] of r.tiny.statements.entries()) rows.push({ workload: 'tiny tasks: server statements', tool: `#${k + 1}`, seconds: null, note: line.replace(/\|/g, '\\|') });
  notes.push(
    `distributed: speed-up with 2 processes ${(r.onePostgres / r.twoPostgres).toFixed(2)}× (this machine gives two independent processes ${((2 * r.sqlite) / r.twoIndependent).toFixed(2)}× the throughput of one); PostgreSQL's overhead against SQLite for one process ${((r.onePostgres / r.sqlite - 1) * 100).toFixed(0)}%; ` +
      `claim throughput ${r.claims.throughput.toFixed(0)} tasks/s with 48 concurrent claimers`,
  );
}

function table(): string {
  const byWorkload = new Map<string, Row[]>();
  for (const r of rows) {
    if (!byWorkload.has(r.workload)) byWorkload.set(r.workload, []);
    byWorkload.get(r.workload)!.push(r);
  }
  const lines = ['| workload | tool | seconds (median) | regsweep / tool | note |', '|---|---|---|---|---|'];
  for (const [workload, rs] of byWorkload) {
    const ours = rs.find((r) => r.tool.startsWith('regsweep'))?.seconds ?? null;
    for (const r of rs) {
      const ratio = r.tool.startsWith('regsweep') || r.seconds === null || ours === null ? '' : (ours / r.seconds).toFixed(2);
      lines.push(`| ${workload} | ${r.tool} | ${r.seconds === null ? '—' : r.seconds.toPrecision(3)} | ${ratio} | ${r.note} |`);
    }
  }
  return lines.join('\n');
}

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const want = (name: string) => only.length === 0 || only.includes(name);
const started = Date.now();
if (want('path')) {
  const reg = regression(4000, 1000);
  await pathWorkload('path-lasso', 'gaussian', reg, 1, 100, 1e-3);
  await pathWorkload('path-enet', 'gaussian', reg, 0.5, 100, 1e-3);
  await pathWorkload('path-logit-l1', 'binomial', syntheticDataset(benchSpec('classification', 2000, 500)), 1, 50, 1e-2);
}
if (want('cv')) await cvWorkload();
if (want('separable')) await separableWorkload();
if (want('grid')) await gridWorkload();
if (want('nn')) await networkWorkload();
if (want('wide-ridge')) await wideRidgeWorkload();
if (want('scale')) scaleWorkload();
if (only.includes('distributed')) await distributed();
if (want('load')) await loadWorkload(ROOT, DATA, PYTHON, quick, rows, notes);
if (want('load-10digit')) tenDigitWorkload(ROOT, DATA, PYTHON, rows, notes);
if (want('startup')) startupWorkload(ROOT, rows, notes);
if (want('serve')) await serveWorkload(ROOT, rows, notes);
if (want('sparse')) await sparseWorkload(ROOT, DATA, PYTHON, { rows, notes, repeats: REPEATS, quick, anchor });
if (only.includes('tpe')) await tpeWorkload(ROOT, PYTHON, { notes, quick });

const md = `${table()}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
process.stdout.write(`\n${md}\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, quick, repeats: REPEATS, fusedKernels: threadKernelContext().heap.fused, nativeGram: threadKernelContext().heap.native };
writeFileSync(join(outDir, 'latest.json'), JSON.stringify({ ...meta, rows, notes }, null, 1));
writeFileSync(
  join(outDir, 'latest.md'),
  `Run ${meta.date} on ${process.version}, ${REPEATS} repeat(s) per figure (\`npm run bench${quick ? ' -- --quick' : ''}\`); ` +
    `kernels with fused multiply-adds (relaxed SIMD): ${meta.fusedKernels ? 'yes' : 'no'}; native AVX2 kernels: ${meta.nativeGram ? 'yes' : 'no'}; ` +
    `gaussian paths in ${PATH_ROUNDS} paired rounds.\n\n${md}`,
);
