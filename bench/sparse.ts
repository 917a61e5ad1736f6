// `npm run bench -- sparse`: a text-like sparse design (power-law column frequencies, 20 000 × 50 000, ~0.2% nonzero)
// fitted on its compressed columns — the lasso path of 100 λ and 5-fold CV, binomial and gaussian — beside R glmnet on
// the dgCMatrix and scikit-learn on CSR, the same objective (standardize off: scikit-learn cannot scale a sparse
// column without densifying it), in the same run. Fit times only (the CV: the whole sweep); regsweep runs in processes
// of its own (bench/sparseOne.ts) so that each figure's peak RSS is its own; files written once to bench/.data.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSparse } from '../src/data/sparse.js';
import type { SparseColumns } from '../src/domain.js';
import { lassoLambdaMax } from '../src/plan/grid.js';
import { Rng } from '../src/util/random.js';

interface Row {
  workload: string;
  tool: string;
  seconds: number | null;
  note: string;
}
type AnchorOut = { times: number[]; [k: string]: unknown } | { skipped: string };
export interface BenchKit {
  rows: Row[];
  notes: string[];
  repeats: number;
  quick: boolean;
  anchor(command: string, args: string[]): AnchorOut;
}

/**
 * Rows with power-law word frequencies (column j in a share ∝ (j + 1)^−0.7 of the rows, scaled to the density), counts
 * 1–4; a sparse true model on 60 of the 600 most frequent columns gives a binary label and a gaussian response.
 */
function textLike(n: number, p: number, density: number, seed: number) {
  const rng = new Rng(seed);
  const weights = Float64Array.from({ length: p }, (_, j) => (j + 1) ** -0.7);
  const total = weights.reduce((a, b) => a + b, 0);
  const perColumn = Int32Array.from(weights, (w) => Math.max(1, Math.min(n, Math.round((w / total) * density * n * p))));
  const starts = new Int32Array(p + 1);
  for (let j = 0; j < p; j++) starts[j + 1] = starts[j] + perColumn[j];
  const rows = new Int32Array(starts[p]);
  const values = new Float64Array(starts[p]);
  const seen = new Uint8Array(n);
  for (let j = 0; j < p; j++) {
    const picked: number[] = [];
    while (picked.length < perColumn[j]) {
      const i = Math.floor(rng.uniform() * n);
      if (!seen[i]) {
        seen[i] = 1;
        picked.push(i);
      }
    }
    picked.sort((a, b) => a - b);
    picked.forEach((i, k) => {
      seen[i] = 0;
      rows[starts[j] + k] = i;
      values[starts[j] + k] = 1 + Math.floor(rng.uniform() * 4);
    });
  }
  const eta = new Float64Array(n).fill(-1);
  for (let t = 0; t < 60; t++) {
    const j = Math.floor(rng.uniform() * 600);
    const b = (rng.uniform() < 0.5 ? -1 : 1) * (0.3 + rng.uniform() * 0.5);
    for (let k = starts[j]; k < starts[j + 1]; k++) eta[rows[k]] += b * values[k];
  }
  const label = Float64Array.from(eta, (e) => (rng.uniform() < 1 / (1 + Math.exp(-e)) ? 1 : 0));
  const response = Float64Array.from(eta, (e) => e + rng.normal());
  return { sparse: { values, rows, starts } as SparseColumns, label, response };
}

/** The design written three ways: svmlight (labels), Matrix Market, and the targets with a fold column. */
function writeFiles(dir: string, n: number, p: number, generate: () => ReturnType<typeof textLike>): { svm: string; mtx: string; targets: string } {
  const svm = join(dir, `text-${n}x${p}.svm`);
  const mtx = join(dir, `text-${n}x${p}.mtx`);
  const targets = join(dir, `text-${n}x${p}-y.csv`);
  if (existsSync(svm) && existsSync(mtx) && existsSync(targets)) return { svm, mtx, targets };
  const data = generate();
  const { values, rows, starts } = data.sparse;
  const byRow: string[][] = Array.from({ length: n }, () => []);
  const entries: string[] = [];
  for (let j = 0; j < p; j++)
    for (let k = starts[j]; k < starts[j + 1]; k++) {
      byRow[rows[k]].push(`${j + 1}:${values[k]}`);
      entries.push(`${rows[k] + 1} ${j + 1} ${values[k]}`);
    }
  writeFileSync(svm, byRow.map((r, i) => `${data.label[i]} ${r.join(' ')}`).join('\n') + '\n');
  writeFileSync(mtx, `%%MatrixMarket matrix coordinate real general\n${n} ${p} ${entries.length}\n${entries.join('\n')}\n`);
  writeFileSync(targets, `label,response,fold\n${Array.from(data.label, (l, i) => `${l},${data.response[i]},${(i % 5) + 1}`).join('\n')}\n`);
  return { svm, mtx, targets };
}

function objective(sparse: SparseColumns, y: Float64Array, n: number, family: 'gaussian' | 'binomial', intercept: number, coef: ArrayLike<number>, lambda: number): number {
  const eta = new Float64Array(n).fill(intercept);
  let l1 = 0;
  for (let j = 0; j < coef.length; j++) {
    if (coef[j] === 0) continue;
    l1 += Math.abs(coef[j]);
    for (let k = sparse.starts[j]; k < sparse.starts[j + 1]; k++) eta[sparse.rows[k]] += coef[j] * sparse.values[k];
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    if (family === 'gaussian') loss += (y[i] - eta[i]) ** 2 / (2 * n);
    else loss += ((eta[i] > 0 ? eta[i] + Math.log1p(Math.exp(-eta[i])) : Math.log1p(Math.exp(eta[i]))) - y[i] * eta[i]) / n;
  }
  return loss + lambda * l1;
}

export async function sparseWorkload(root: string, dataDir: string, python: string, kit: BenchKit): Promise<void> {
  const [n, p] = kit.quick ? [4_000, 10_000] : [20_000, 50_000];
  const density = 0.002;
  mkdirSync(dataDir, { recursive: true });
  const files = writeFiles(dataDir, n, p, () => textLike(n, p, density, 11));
  const anchors = join(root, 'bench', 'anchors');
  for (const family of ['binomial', 'gaussian'] as const) {
    const workload = `sparse-${family}`;
    const data = await loadSparse(files.mtx, 'matrix-market', { classification: family === 'binomial', targetPath: files.targets, target: family === 'binomial' ? 'label' : 'response' });
    const sparse = data.sparse!;
    const csrMb = (sparse.values.length * 12 + (n + 1) * 4) / 2 ** 20;
    const lambdaMax = lassoLambdaMax({ X: data.X, n, p, sparse }, data.y, false, new Float64Array(n).fill(1));
    const lambdas = Array.from({ length: 100 }, (_, l) => lambdaMax * 0.01 ** (l / 99));
    const last = lambdas.length - 1;
    const lambdasFile = join(tmpdir(), `regsweep-sparse-${process.pid}-${family}-lambdas.json`);
    writeFileSync(lambdasFile, JSON.stringify(lambdas));
    const objectives: Record<string, number> = {};
    // regsweep in processes of their own: the time and peak RSS of a user's process on this data.
    const one = (what: 'path' | 'cv') => childJson(join(root, 'dist', 'bench', 'sparseOne.js'), [what, family, files.svm, files.mtx, files.targets, lambdasFile, String(kit.repeats)]);
    const path = one('path');
    if ('failed' in path) kit.rows.push({ workload, tool: 'regsweep path', seconds: null, note: `failed: ${path.failed}` });
    else {
      objectives.regsweep = objective(sparse, data.y, n, family, path.intercept as number, path.coef as number[], lambdas[last]);
      kit.rows.push({
        workload,
        tool: 'regsweep path',
        seconds: path.seconds as number,
        note: `${n} × ${p}, ${sparse.values.length} nonzeros, 100 λ to 0.01·λ_max, tol 1e-5, one thread; ${path.passes} passes; peak RSS ${(path.maxRssMb as number).toFixed(0)} MB (CSR arrays ${csrMb.toFixed(0)} MB: target ≤ ${(3 * csrMb + 200).toFixed(0)} MB)`,
      });
    }
    const params = join(tmpdir(), `regsweep-sparse-${process.pid}-${family}.json`);
    // saga takes minutes at the full size: timed at the quick size only.
    writeFileSync(params, JSON.stringify({ lambdas, repeats: kit.repeats, p, foldid: Array.from({ length: n }, (_, i) => (i % 5) + 1), saga: kit.quick }));
    const glmnet = kit.anchor('Rscript', [join(anchors, 'glmnet_sparse.R'), files.mtx, files.targets, family, params]);
    if ('skipped' in glmnet) kit.rows.push({ workload, tool: 'glmnet path', seconds: null, note: `skipped: ${glmnet.skipped}` });
    else {
      objectives.glmnet = objective(sparse, data.y, n, family, glmnet.intercept as number, glmnet.coef as number[], lambdas[last]);
      kit.rows.push({ workload, tool: 'glmnet path (dgCMatrix)', seconds: median_(glmnet.times), note: 'thresh 1e-7 (its default), standardize = FALSE' });
    }
    // scikit-learn's paths take minutes at the full size: one repeat.
    const sklearnParams = join(tmpdir(), `regsweep-sparse-${process.pid}-${family}-sklearn.json`);
    writeFileSync(sklearnParams, JSON.stringify({ ...JSON.parse(readFileSync(params, 'utf8')), repeats: 1 }));
    const sklearn = kit.anchor(python, [join(anchors, 'sklearn_sparse.py'), files.svm, files.targets, family, sklearnParams]);
    if ('skipped' in sklearn) kit.rows.push({ workload, tool: 'scikit-learn path', seconds: null, note: `skipped: ${sklearn.skipped}` });
    else
      for (const [solver, out] of Object.entries(sklearn as unknown as Record<string, { times: number[]; coef: number[]; intercept: number }>)) {
        objectives[solver] = objective(sparse, data.y, n, family, out.intercept, out.coef, lambdas[last]);
        kit.rows.push({ workload, tool: `scikit-learn ${solver} path (CSR)`, seconds: median_(out.times), note: solver === 'liblinear' ? 'penalizes the intercept too (intercept_scaling 100): not the same objective' : 'warm-started, its default tol; one repeat' });
      }
    const comparable = Object.entries(objectives).filter(([t]) => t !== 'regsweep' && t !== 'liblinear');
    const best = Math.min(...comparable.map(([, v]) => v));
    kit.notes.push(
      `${workload}: objective at the last λ — ${Object.entries(objectives).map(([t, v]) => `${t} ${v.toPrecision(10)}`).join(', ')}; regsweep − best anchor ${comparable.length && objectives.regsweep !== undefined ? ((objectives.regsweep - best) / Math.abs(best)).toExponential(2) : '—'} relative (target ≤ 1e-7)`,
    );
    // 5-fold CV: the whole sweep (planning, SQLite writes), one worker thread, glmnet's foldid — each repeat in a fresh
    // process, as a user runs it, and in turn with one cv.glmnet (an R process of its own, the call alone timed): the
    // machine's speed wanders by half within minutes, and the two sides of a pair see the same machine.
    const cvRuns: Record<string, unknown>[] = [];
    const glmnetCvRuns: Record<string, unknown>[] = [];
    for (let r = 0; r < kit.repeats; r++) {
      cvRuns.push(childJson(join(root, 'dist', 'bench', 'sparseOne.js'), ['cv', family, files.svm, files.mtx, files.targets, lambdasFile, '1']));
      if (!('skipped' in glmnet)) glmnetCvRuns.push(kit.anchor('Rscript', [join(anchors, 'glmnet_sparse.R'), files.mtx, files.targets, family, params, 'cv']));
    }
    const failedRun = cvRuns.find((r) => 'failed' in r);
    const ran = cvRuns as Record<string, number>[];
    const cv = failedRun ?? { seconds: median_(ran.map((r) => r.seconds)), maxRssMb: Math.max(...ran.map((r) => r.maxRssMb)), lambdaMin: ran[0].lambdaMin };
    kit.rows.push(
      'failed' in cv
        ? { workload: `${workload}-cv`, tool: 'regsweep', seconds: null, note: `failed: ${cv.failed}` }
        : { workload: `${workload}-cv`, tool: 'regsweep', seconds: cv.seconds as number, note: `5 folds as glmnet's foldid, one thread, incl. SQLite writes, a process per repeat (${ran.map((r) => r.seconds.toFixed(2)).join(', ')} s); λ_min ${(cv.lambdaMin as number).toPrecision(4)}; peak RSS ${(cv.maxRssMb as number).toFixed(0)} MB (target ≤ ${(3 * csrMb + 200).toFixed(0)} MB)` },
    );
    const skippedCv = glmnetCvRuns.find((r) => 'skipped' in r);
    if (skippedCv) kit.rows.push({ workload: `${workload}-cv`, tool: 'cv.glmnet', seconds: null, note: `skipped: ${skippedCv.skipped}` });
    else if (glmnetCvRuns.length > 0) {
      const times = glmnetCvRuns.map((r) => r.cv_seconds as number);
      const pairs = failedRun ? '' : `; regsweep / cv.glmnet pair by pair ${ran.map((r, i) => (r.seconds / times[i]).toFixed(2)).join(', ')}`;
      kit.rows.push({ workload: `${workload}-cv`, tool: 'cv.glmnet', seconds: median_(times), note: `median of ${times.length}, each run after one of regsweep's (${times.map((t) => t.toFixed(2)).join(', ')} s)${pairs}; λ_min ${(glmnetCvRuns[0].lambda_min as number).toPrecision(4)}` });
    }
  }
}

/** A child node process's last stdout line as JSON, or why it failed. */
function childJson(script: string, args: string[]): Record<string, unknown> | { failed: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return { failed: (r.stderr || '').trim().split('\n').at(-1) ?? `exit ${r.status}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

function median_(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}
