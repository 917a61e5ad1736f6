// The `load` and `startup` workloads of `npm run bench` (issue: fast in). load: one CSV read by regsweep and by the
// libraries it could have used (each reader in its own process, for its peak RSS), against numpy, pandas and
// data.table in the same run; the same table from Parquet; and the peak RSS of a 2-worker sweep on 20 000 × 2 000
// from CSV and from Parquet. startup: whole processes, timed by hyperfine where installed, against `node -e 0`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticDataset } from '../src/data/synthetic.js';
import { Rng } from '../src/util/random.js';
import { benchSpec, writeCsv } from './data.js';

export interface LoadRow {
  workload: string;
  tool: string;
  seconds: number | null;
  note: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => bytes / 2 ** 20;

/** A CSV of synthetic regression data (n × p features and the target), written once to the bench's data folder. */
async function benchCsv(dataDir: string, n: number, p: number): Promise<string> {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, `load-${n}x${p}.csv`);
  if (!existsSync(path)) await writeCsv(syntheticDataset(benchSpec('regression', n, p)), path);
  return path;
}

/** The same table as Parquet, written by DuckDB (a standard writer); undefined when DuckDB is not installed. */
async function parquetOf(csv: string): Promise<string | undefined> {
  const path = csv.replace(/\.csv$/, '.parquet');
  if (existsSync(path)) return path;
  try {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${path}' (FORMAT parquet)`);
    return path;
  } catch {
    return undefined;
  }
}

/** One reader in its own process, `repeats` times: median seconds and the largest peak RSS. */
function readerRun(root: string, reader: string, file: string, repeats: number, env: Record<string, string> = {}): { seconds: number; maxRssMb: number } | { skipped: string } {
  const times: number[] = [];
  let rss = 0;
  for (let r = 0; r < repeats; r++) {
    const out = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'loadOne.js'), reader, file], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } });
    if (out.status !== 0) return { skipped: (out.stderr || `exit ${out.status}`).trim().split('\n').filter(Boolean).at(-1)!.slice(0, 160) };
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { seconds: number; maxRssMb: number };
    times.push(result.seconds);
    rss = Math.max(rss, result.maxRssMb);
  }
  return { seconds: median(times), maxRssMb: rss };
}

/** An anchor script printing {times, maxRssMb?}; skipped when its interpreter or package is missing. */
function anchorRun(command: string, args: string[]): { seconds: number; maxRssMb?: number } | { skipped: string } {
  const out = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (out.error) return { skipped: `${command} not found` };
  if (out.status !== 0) return { skipped: (out.stderr || `exit ${out.status}`).trim().split('\n').filter(Boolean).at(-1)!.slice(0, 160) };
  const r = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { times: number[]; maxRssMb?: number };
  return { seconds: median(r.times), maxRssMb: r.maxRssMb };
}

export async function loadWorkload(root: string, dataDir: string, python: string, quick: boolean, rows: LoadRow[], notes: string[]): Promise<void> {
  const repeats = quick ? 1 : 3;
  const n = 20_000;
  const p = 500;
  const csv = await benchCsv(dataDir, n, p);
  const matrixMb = mb(8 * n * (p + 1));
  const fileMb = mb(readFileSync(csv).length);
  const seconds: Record<string, number> = {};
  const add = (tool: string, r: ReturnType<typeof readerRun> | ReturnType<typeof anchorRun>, extra = '') => {
    if ('skipped' in r) return void rows.push({ workload: 'load', tool, seconds: null, note: `skipped: ${r.skipped}` });
    seconds[tool] = r.seconds;
    rows.push({ workload: 'load', tool, seconds: r.seconds, note: [r.maxRssMb !== undefined ? `peak RSS ${r.maxRssMb.toFixed(0)} MB` : '', extra].filter(Boolean).join('; ') });
    return r;
  };
  const ours = add('regsweep (CSV)', readerRun(root, 'regsweep', csv, repeats));
  const parquet = await parquetOf(csv);
  if (parquet) add('regsweep (Parquet)', readerRun(root, 'regsweep-parquet', parquet, repeats), `${mb(readFileSync(parquet).length).toFixed(0)} MB file, written by DuckDB`);
  else rows.push({ workload: 'load', tool: 'regsweep (Parquet)', seconds: null, note: 'skipped: DuckDB (npm @duckdb/node-api) not installed to write the file' });
  for (const library of ['papaparse', 'csv-parse', 'udsv']) add(library, readerRun(root, library, csv, repeats), 'every cell to a double, row-major');
  add('DuckDB read_csv', readerRun(root, 'duckdb', csv, repeats), 'into its own table, 2 threads');
  add('numpy loadtxt', anchorRun(python, [join(root, 'bench', 'anchors', 'load_anchors.py'), 'numpy', csv, String(repeats)]));
  add('pandas read_csv', anchorRun(python, [join(root, 'bench', 'anchors', 'load_anchors.py'), 'pandas', csv, String(repeats)]));
  add('data.table fread', anchorRun('Rscript', [join(root, 'bench', 'anchors', 'load_fread.R'), csv, String(repeats)]), 'R, 2 threads');
  if (ours && !('skipped' in ours) && seconds['numpy loadtxt'])
    notes.push(
      `load: ${n} × ${p + 1} CSV of ${fileMb.toFixed(0)} MB (a ${matrixMb.toFixed(0)} MB float64 matrix): regsweep ${(seconds['numpy loadtxt'] / ours.seconds).toFixed(2)}× as fast as numpy loadtxt (target ≥ 2); ` +
        `peak RSS ${ours.maxRssMb!.toFixed(0)} MB against the matrix + 150 MB = ${(matrixMb + 150).toFixed(0)} MB (the RSS includes Node itself, ~45 MB)`,
    );
  if (quick) return;
  // Memory of a sweep at 20 000 × 2 000, with 2 workers, the data from CSV and from Parquet.
  const wide = await benchCsv(dataDir, 20_000, 2_000);
  const limit = 1.5 * mb(8 * 20_000 * 2_001) + 150;
  const wideParquet = await parquetOf(wide);
  for (const [label, file] of [['CSV', wide], ['Parquet', wideParquet]] as const) {
    if (!file) continue;
    // standardize: false is the case the limit is for (the scale workload's); true is measured and said as it is.
    for (const standardize of ['false', 'true']) {
      const r = readerRun(root, 'sweep', file, 1, { STANDARDIZE: standardize });
      const tool = `regsweep sweep (${label}, standardize: ${standardize})`;
      if ('skipped' in r) rows.push({ workload: 'memory', tool, seconds: null, note: `failed: ${r.skipped}` });
      else rows.push({ workload: 'memory', tool, seconds: r.seconds, note: `20 000 × 2 000, holdout, 4 λ, 2 workers: peak RSS ${r.maxRssMb.toFixed(0)} MB (limit 1.5 × matrix + 150 MB = ${limit.toFixed(0)} MB)` });
    }
  }
}

/** Whole-process times of `regsweep --help` and a one-trial sweep, with `node -e 0` as the anchor. */
export function startupWorkload(root: string, rows: LoadRow[], notes: string[]): void {
  const dir = join(tmpdir(), `regsweep-startup-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const sweep = join(dir, 'one.yaml');
  writeFileSync(
    sweep,
    `name: one\ndata: {path: ${join(root, 'data', 'diabetes.csv')}, target: progression}\nvalidation: {kind: holdout, fraction: 0.2, seed: 0}\nmodel: {kind: linear}\nsweep: {kind: grid, penalty: [l1], lambda: [0.1]}\noutput: ${join(dir, 'one.db')}\n`,
  );
  const bin = join(root, 'bin', 'regsweep.js');
  const commands: [string, string[], boolean][] = [
    ['node -e 0', [process.execPath, '-e', '0'], false],
    ['regsweep --help', [process.execPath, bin, '--help'], false],
    ['regsweep run (one trial)', [process.execPath, bin, 'run', sweep, '--quiet'], true],
  ];
  const hyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
  const measured: Record<string, number> = {};
  for (const [tool, argv, fresh] of commands) {
    let times: number[];
    let how: string;
    if (!hyperfine.error && hyperfine.status === 0) {
      const json = join(dir, 'hyperfine.json');
      const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
      const args = ['-N', '--warmup', '3', '--runs', '20', '--export-json', json, ...(fresh ? ['--prepare', `rm -f ${quote(join(dir, 'one.db'))} ${quote(join(dir, 'one.db'))}-wal ${quote(join(dir, 'one.db'))}-shm`] : []), argv.map(quote).join(' ')];
      const r = spawnSync('hyperfine', args, { encoding: 'utf8' });
      if (r.status !== 0) {
        rows.push({ workload: 'startup', tool, seconds: null, note: `failed: ${(r.stderr || '').trim().split('\n').at(-1)}` });
        continue;
      }
      times = (JSON.parse(readFileSync(json, 'utf8')) as { results: { times: number[] }[] }).results[0].times;
      how = 'hyperfine, 20 runs';
    } else {
      times = [];
      for (let k = 0; k < 23; k++) {
        if (fresh) for (const f of ['one.db', 'one.db-wal', 'one.db-shm']) rmSync(join(dir, f), { force: true });
        const t = performance.now();
        spawnSync(argv[0], argv.slice(1));
        if (k >= 3) times.push((performance.now() - t) / 1000);
      }
      how = 'own loop, 20 runs';
    }
    measured[tool] = median(times);
    rows.push({ workload: 'startup', tool, seconds: measured[tool], note: `median, ${how}` });
  }
  rmSync(dir, { recursive: true, force: true });
  if (measured['regsweep --help'] && measured['regsweep run (one trial)'])
    notes.push(
      `startup: regsweep --help ${(1000 * measured['regsweep --help']).toFixed(0)} ms (target ≤ 150), a one-trial sweep ${(1000 * measured['regsweep run (one trial)']).toFixed(0)} ms (target ≤ 300); node -e 0 takes ${(1000 * (measured['node -e 0'] ?? NaN)).toFixed(0)} ms here`,
    );
}

/** A CSV of `n` rows × `p` columns of 10-significant-digit numbers (the last column the target, y), written once. */
function tenDigitCsv(path: string, n: number, p: number): void {
  if (existsSync(path)) return;
  const rng = new Rng(10);
  const lines = [Array.from({ length: p }, (_, j) => (j === p - 1 ? 'y' : `x${j + 1}`)).join(',')];
  for (let i = 0; i < n; i++) lines.push(Array.from({ length: p }, () => rng.normal().toPrecision(10)).join(','));
  writeFileSync(path, lines.join('\n') + '\n');
}

/**
 * load-10digit (issue 33): a CSV of 10-significant-digit numbers read by a whole `regsweep run` of a one-trial sweep,
 * less the same run on the file's first 10 rows (start-up, the database and the fit taken out), against numpy
 * loadtxt on the same file in the same run.
 */
export function tenDigitWorkload(root: string, dataDir: string, python: string, rows: LoadRow[], notes: string[]): void {
  const big = join(dataDir, 'load-10digit-20000x520.csv');
  tenDigitCsv(big, 20_000, 520);
  const dir = join(tmpdir(), `regsweep-10digit-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const small = join(dir, 'first-rows.csv');
  writeFileSync(small, readFileSync(big, 'utf8').split('\n').slice(0, 11).join('\n') + '\n');
  const fileMb = mb(readFileSync(big).length);
  const bin = join(root, 'bin', 'regsweep.js');
  const runOf = (csv: string) => {
    const sweep = join(dir, 'sweep.yaml');
    const db = join(dir, 'sweep.db');
    writeFileSync(sweep, `name: ten-digit\ndata: {path: ${csv}, target: y}\nvalidation: {kind: holdout, fraction: 0.2, seed: 0}\nmodel: {kind: linear}\nsweep: {kind: grid, penalty: [l1], lambda: [1e6]}\nworkers: 1\noutput: ${db}\n`);
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
      const t = performance.now();
      const out = spawnSync(process.execPath, [bin, 'run', sweep, '--quiet'], { encoding: 'utf8' });
      if (out.status !== 0) return { skipped: (out.stderr || `exit ${out.status}`).trim().split('\n').at(-1)! };
      times.push((performance.now() - t) / 1000);
    }
    return { seconds: median(times) };
  };
  const whole = runOf(big);
  const tiny = runOf(small);
  const numpy = anchorRun(python, [join(root, 'bench', 'anchors', 'load_anchors.py'), 'numpy', big, '3']);
  if ('skipped' in whole || 'skipped' in tiny) {
    rows.push({ workload: 'load-10digit', tool: 'regsweep run', seconds: null, note: `failed: ${'skipped' in whole ? whole.skipped : (tiny as { skipped: string }).skipped}` });
    return;
  }
  const ours = whole.seconds - tiny.seconds;
  rows.push({ workload: 'load-10digit', tool: 'regsweep run, less the same run on 10 rows', seconds: ours, note: `${fileMb.toFixed(0)} MB, 20 000 × 520, 10 significant digits; whole runs ${whole.seconds.toFixed(2)} s and ${tiny.seconds.toFixed(2)} s` });
  if ('skipped' in numpy) rows.push({ workload: 'load-10digit', tool: 'numpy loadtxt', seconds: null, note: `skipped: ${numpy.skipped}` });
  else {
    rows.push({ workload: 'load-10digit', tool: 'numpy loadtxt', seconds: numpy.seconds, note: '' });
    notes.push(`load-10digit: regsweep / numpy loadtxt ${(ours / numpy.seconds).toFixed(2)} (target ≤ 0.5)`);
  }
}
