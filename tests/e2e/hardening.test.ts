// What a hostile or unlucky user does (issue 14), one case per row: exit code, the one line said, files untouched.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const dir = tempDir('regsweep-hard-');
const run = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? dir, encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: 120_000 });
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
/** One line on stderr, no stack trace. */
const oneLine = (r: SpawnSyncReturns<string>) => {
  const lines = r.stderr.trim().split('\n');
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  return lines.at(-1)!;
};
const sql = (db: string, query: string) => {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare(query).all() as Record<string, unknown>[];
  } finally {
    conn.close();
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(done: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(20);
  if (!done()) throw new Error('timed out waiting');
}
const doneTasks = (db: string) => {
  try {
    return Number(sql(db, `SELECT count(*) AS c FROM tasks WHERE status = 'done'`)[0].c);
  } catch {
    return 0;
  }
};

/**
 * A shell script in a mount namespace of its own, with a small tmpfs at $MNT: disk-full and read-only file systems
 * are real there and vanish with the script. Root uses `unshare -m`, anyone else a user namespace (`unshare -rm`).
 */
function inTmpfs(sizeKb: number, script: string): SpawnSyncReturns<string> {
  const mnt = tempDir('regsweep-mnt-');
  const unshare = process.getuid?.() === 0 ? ['-m'] : ['-rm'];
  const body = `set -u\nmount -t tmpfs -o size=${sizeKb}k tmpfs "$MNT"\n${script}`;
  const r = spawnSync('unshare', [...unshare, '--propagation', 'private', 'bash', '-c', body], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, MNT: mnt, R: `${process.execPath} ${BIN}` },
  });
  if (r.error || /unshare: |mount: /.test(r.stderr)) throw new Error(`cannot make a tmpfs for this test: ${r.error?.message ?? r.stderr}`);
  return r;
}

const diabetes = join(FIXTURES, 'diabetes.csv');
const small = (name: string, extra = '') => `name: ${name}\ndata: {path: ${diabetes}}\nsweep: {kind: grid, penalty: [l1], lambda: [10, 1, 0.1], extend: 0}\nworkers: 1\noutput: ${name}.db\n${extra}`;
// Long enough (84 paths of 400 λ on one worker, a few seconds) to act on while it runs.
const heavy = (name: string) => `name: ${name}
data: {synthetic: {kind: regression, n: 1500, p: 150, nonzero: 15, rho: 0.6, snr: 2, seed: 4}}
validation: {kind: kfold, folds: 20, seed: 1}
sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 10], num: 400}, l1_ratio: [0.3, 0.7]}
workers: 1
output: ${name}.db
`;

let q: string;
beforeAll(() => {
  writeFile(dir, 'q.yaml', small('q'));
  expect(run(['run', 'q.yaml', '--quiet']).status).toBe(0);
  q = join(dir, 'q.db');
});

describe('1. no output replaces the database, its WAL files, the sweep file or the data', () => {
  it.each([
    [['export', 'q.db', '--table', 'selections', '--out', 'q.db'], 'that is the database'],
    [['export', 'q.db', '--table', 'selections', '--out', 'q.db-wal'], "that is the database's write-ahead log"],
    [['export', 'q.db', '--table', 'selections', '--out', 'q.db-shm'], "that is the database's shared-memory file"],
    [['report', 'q.db', '--out', 'q.db'], 'that is the database'],
    [['run', 'q.yaml', '--out', 'q.yaml'], 'that is the sweep file'],
    [['run', 'q.yaml', '--out', diabetes], 'that is the data file'],
  ])('%j', (args, message) => {
    const before = digest(q);
    const r = run(args);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toContain(message);
    expect(digest(q)).toBe(before);
    expect(existsSync(join(dir, 'q.db-shm')) && readFileSync(join(dir, 'q.db-shm')).length > 0 && args.includes('q.db-shm')).toBe(false);
  });
  it('an export that fails on a full disk leaves no file, and the one it would replace as it was', () => {
    const r = inTmpfs(64, `
echo "old contents" > "$MNT/t.csv"
$R export q.db --table trials --out "$MNT/t.csv"; echo "exit $?"
head -c 100000 /dev/zero > "$MNT/filler" 2>/dev/null
$R export q.db --table trials --out "$MNT/t.csv"; echo "exit $?"
cat "$MNT/t.csv"; ls -a "$MNT"`);
    const [first, second] = r.stdout.match(/exit \d+/g)!;
    expect(first).toBe('exit 0');
    expect(second).toBe('exit 1');
    expect(r.stderr).toMatch(/t\.csv: cannot write: the disk is full/);
    // The first export replaced "old contents" whole; the failed one left it and no temporary file behind.
    expect(r.stdout).toMatch(/^sweep,trial_id,/m);
    expect(r.stdout).not.toMatch(/\.tmp/);
  });
});

describe('2. an output that is not a regsweep database is refused before anything is written', () => {
  it.each([
    ['foreign.db', "is an SQLite database, but not regsweep's (tables: users)"],
    ['text.txt', 'is not an SQLite database (it starts with "hello")'],
    ['folder', 'is a folder, not a database file'],
    ['copy.csv', 'is not an SQLite database (it starts with "age,sex,bmi'],
  ])('%s', (name, message) => {
    const path = join(dir, name);
    if (name === 'foreign.db' && !existsSync(path)) {
      const db = new Database(path);
      db.exec(`CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'a');`);
      db.close();
    }
    if (name === 'text.txt') writeFileSync(path, 'hello\n');
    if (name === 'folder') mkdirSync(path, { recursive: true });
    if (name === 'copy.csv') writeFileSync(path, readFileSync(diabetes));
    const before = name === 'folder' ? '' : digest(path);
    const r = run(['run', 'q.yaml', '--out', name]);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toContain(message);
    if (name !== 'folder') expect(digest(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe('3–4, 7. outside failures during a run: cause named once, finished work kept, the sweep resumable', () => {
  it('3. the database deleted during the run: exit 1, and no "results:" line for a file that is gone', async () => {
    writeFile(dir, 'deleted.yaml', heavy('deleted'));
    const db = join(dir, 'deleted.db');
    const child = spawn(process.execPath, [BIN, 'run', 'deleted.yaml', '--quiet'], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    await until(() => doneTasks(db) >= 3);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('regsweep: deleted.db: the database file was deleted while the sweep ran; the results are lost (run the sweep again)');
  });

  it('4. a write lock held by another process: waits, then names the cause; no task failed; a rerun resumes', async () => {
    writeFile(dir, 'locked.yaml', heavy('locked'));
    const db = join(dir, 'locked.db');
    const child = spawn(process.execPath, [BIN, 'run', 'locked.yaml', '--quiet', '--lock-timeout', '1'], { cwd: dir });
    const exited = new Promise((r) => child.once('exit', r));
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    await until(() => doneTasks(db) >= 3);
    // Another process takes the write lock and keeps it for 5 s.
    const holder = spawn(process.execPath, ['-e', `const D = require(${JSON.stringify(join(ROOT, 'node_modules', 'better-sqlite3'))}); const d = new D(${JSON.stringify(db)}, { timeout: 10000 }); d.exec('BEGIN IMMEDIATE'); process.stdout.write('locked'); setTimeout(() => { d.exec('ROLLBACK'); d.close(); }, 5000);`]);
    const released = new Promise((r) => holder.once('exit', r));
    await new Promise((r) => holder.stdout.once('data', r));
    const code = await exited;
    await released;
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual(['regsweep: locked.db: the database is locked by another process (waited 1 s); finished work is kept, run again to resume']);
    // Interrupted as users see it: marked so, or (when the lock outlasted that write too) left by a writer that is gone.
    expect(run(['query', 'locked.db', '--list']).stdout).toMatch(/^1 +locked +interrupted /m);
    expect(sql(db, `SELECT count(*) AS c FROM trials WHERE status = 'failed'`)).toEqual([{ c: 0 }]);
    const kept = doneTasks(db);
    expect(kept).toBeGreaterThanOrEqual(3);
    const again = run(['run', 'locked.yaml', '--quiet']);
    expect(again.status).toBe(0);
    expect(doneTasks(db)).toBe(84);
    expect(sql(db, 'SELECT count(*) AS c FROM trials')).toEqual([{ c: 84 * 400 }]);
  });

  // With one worker this sweep fits on the main thread; with two, on worker threads (before, the first way hung: a
  // batch that finished after the failure left a recorder marked as running).
  it.each([1, 2])('4. a disk that fills during the run (workers: %i): exit 1, "disk is full", finished tasks readable', (workers) => {
    writeFile(dir, 'full.yaml', small('full').replace('lambda: [10, 1, 0.1]', 'lambda: {log_range: [1e-4, 10], num: 400}').replace('workers: 1', `workers: ${workers}`));
    const r = inTmpfs(1024, `timeout 60 $R run full.yaml --out "$MNT/full.db" --quiet; echo "exit $?"; $R query "$MNT/full.db" --list`);
    expect(r.stdout).toMatch(/exit 1/);
    expect(oneLine({ ...r, stderr: r.stderr })).toMatch(/full\.db: the disk is full; finished work is kept/);
    expect(r.stdout).toMatch(/1\s+full\s+interrupted/);
  });

  it('7. SIGTERM stops like Ctrl-C (exit 130, interrupted); after SIGKILL the sweep shows as interrupted', async () => {
    writeFile(dir, 'term.yaml', heavy('term'));
    const db = join(dir, 'term.db');
    const child = spawn(process.execPath, [BIN, 'run', 'term.yaml', '--quiet'], { cwd: dir });
    await until(() => doneTasks(db) >= 2);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(130);
    expect(sql(db, 'SELECT status FROM sweeps')).toEqual([{ status: 'interrupted' }]);
    const killed = spawn(process.execPath, [BIN, 'run', 'term.yaml', '--quiet'], { cwd: dir });
    const before = doneTasks(db);
    await until(() => doneTasks(db) > before + 1);
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    // Stored as running: the process that wrote it is gone, so every reader shows it as interrupted.
    expect(sql(db, 'SELECT status FROM sweeps')).toEqual([{ status: 'running' }]);
    expect(run(['query', 'term.db', '--list']).stdout).toMatch(/term\s+interrupted/);
    expect(run(['query', 'term.db', '--best']).stdout).toMatch(/sweep term \(id 1, interrupted\)/);
  });
});

describe('5, 8, 10, 13. bad input: one line naming the file and the line or key, exit 2, nothing written', () => {
  const oneRow = writeFile(dir, 'one.csv', 'a,b,y\n1,2,3\n');
  writeFile(dir, 'twenty.csv', ['a,b,y', ...Array.from({ length: 20 }, (_, i) => `${i},${(i * 2) % 7},${i % 5}`)].join('\n') + '\n');
  writeFile(dir, 'constant.csv', ['a,y', ...Array.from({ length: 12 }, (_, i) => `${i},5`)].join('\n') + '\n');
  spawnSync('mkfifo', [join(dir, 'fifo.csv')]);
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`), 'name: x', ''].join('\n');
  const synth = 'data: {synthetic: {kind: regression, n: 100, p: 3}}';
  it.each([
    ['5: one row, 5 folds', `name: x\ndata: {path: ${oneRow}}\nsweep: {kind: grid, lambda: [1]}\n`, 'c.yaml: validation.folds: 5 folds (the default), but the data have 1 row: every fold needs a row'],
    ['5: more folds than rows', `name: x\ndata: {path: twenty.csv}\nvalidation: {kind: kfold, folds: 30}\nsweep: {kind: grid, lambda: [1]}\n`, 'c.yaml:3: validation.folds: 30 folds, but the data have 20 rows: every fold needs a row'],
    ['8: a billion λ', `name: x\n${synth}\nsweep: {kind: grid, lambda: {log_range: [1e-3, 1], num: 1e9}}\n`, 'c.yaml:3: sweep.lambda.num: the sweep would have 1.80e10 trials (3.00e9 points × 6 fits), over the limit of 10 000 000; make the sweep smaller, or allow it with --max-trials 18000000000'],
    ['8: 1e8 random points', `name: x\n${synth}\nsweep: {kind: random, trials: 1e8, lambda: {log_uniform: [1e-3, 1]}}\n`, 'c.yaml:3: sweep.points: the sweep would have 600 000 000 trials'],
    ['8: a billion synthetic rows', 'name: x\ndata: {synthetic: {kind: regression, n: 1000000000, p: 50}}\nsweep: {kind: grid, lambda: [1]}\n', 'c.yaml:2: data.synthetic: n × p = 1000000000 × 50 needs 380.0 GB of memory'],
    ['8: layers too large for kernel memory', `name: x\n${synth}\nmodel: {kind: mlp, hidden: [100000, 100000]}\nsweep: {kind: grid, lambda: [1]}\n`, 'c.yaml:3: model.hidden: layers of 3 → 100000 → 100000 → 1 units need 223.8 GB of kernel memory per worker; the limit is 4 GB'],
    ['10: data from a FIFO', 'name: x\ndata: {path: fifo.csv}\nsweep: {kind: grid, lambda: [1]}\n', 'fifo.csv: is not a regular file (a device, pipe or socket); give the data file as a file'],
    ['10: data from /dev/zero', 'name: x\ndata: {path: /dev/zero}\nsweep: {kind: grid, lambda: [1]}\n', '/dev/zero: is not a regular file'],
    ['12: a YAML alias bomb', bomb, 'c.yaml: not a usable sweep file: more than 1000 YAML aliases to expand (an alias bomb?); write the values out'],
    ['13: a string for a number', 'name: x\ndata: {synthetic: {kind: regression, n: "100", p: 3}}\nsweep: {kind: grid, lambda: [1]}\n', 'c.yaml:2: data.synthetic.n: expected a positive integer, found the string "100"'],
    ['13: a number for a name', `name: 123\n${synth}\nsweep: {kind: grid, lambda: [1]}\n`, 'c.yaml:1: name: expected a name, found 123'],
    ['13: .inf for a rate', `name: x\n${synth}\nmodel: {kind: mlp, lr: .inf}\nsweep: {kind: grid, lambda: [1]}\n`, 'c.yaml:3: model.lr: expected a positive number, found .inf'],
    ['13: alpha under sweep', `name: x\n${synth}\nsweep:\n  kind: grid\n  alpha: [0.5]\n  lambda: [1]\n`, 'c.yaml:5: sweep.alpha: unknown key; did you mean l1_ratio?'],
    ['13: a constant target with an automatic grid', 'name: x\ndata: {path: constant.csv}\nsweep:\n  kind: grid\n  lambda: {auto: 10}\n', 'c.yaml:5: sweep.lambda.auto: the target is constant, so every λ gives the same (empty) model'],
    ['13: a network with an automatic grid', `name: x\n${synth}\nmodel: {kind: mlp}\nsweep:\n  kind: grid\n  lambda: {auto: 10}\n`, 'c.yaml:6: sweep.lambda.auto: λ_max is defined for linear, logistic, poisson and cox models; give the network a list or log_range'],
  ])('%s', (_, yaml, message) => {
    writeFile(dir, 'c.yaml', yaml + 'output: bad-input.db\n');
    const r = run(['run', 'c.yaml']);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toContain(`regsweep: ${message}`);
    expect(existsSync(join(dir, 'bad-input.db'))).toBe(false);
  });
  it('13: penalty: l1 (a string where a list goes) is a one-element list', () => {
    writeFile(dir, 'pen.yaml', `name: pen\ndata: {synthetic: {kind: regression, n: 100, p: 3}}\nsweep: {kind: grid, penalty: l1, lambda: [1, 0.1]}\noutput: pen.db\n`);
    expect(run(['run', 'pen.yaml', '--quiet']).status).toBe(0);
    expect(sql(join(dir, 'pen.db'), 'SELECT DISTINCT penalty FROM trials')).toEqual([{ penalty: 'l1' }]);
  });
  it('19: an overflowing value and a hexadecimal cell are refused with their place; Latin-1 is warned about once', () => {
    writeFile(dir, 'big.csv', 'a,b,y\n1,2,3\n1e200,3,4\n2,3,5\n');
    writeFile(dir, 'hex.csv', 'a,b,y\n1,2,3\n0x1,3,4\n2,3,5\n');
    writeFileSync(join(dir, 'latin.csv'), Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(',b,y\n' + Array.from({ length: 8 }, (_, i) => `${i},${(i * 3) % 5},${i % 4}`).join('\n') + '\n')]));
    const config = (file: string) => writeFile(dir, `${file}.yaml`, `name: ${file}\ndata: {path: ${file}.csv}\nvalidation: {kind: none}\nsweep: {kind: grid, penalty: [l1], lambda: [1]}\noutput: ${file}.db\n`);
    const big = run(['run', config('big')]);
    expect([big.status, oneLine(big)]).toEqual([2, 'regsweep: big.csv:3:1: column "a": 1e200 is too large in magnitude (at most 1e150: its square would overflow); rescale the column']);
    const hex = run(['run', config('hex')]);
    expect([hex.status, oneLine(hex)]).toEqual([2, 'regsweep: hex.csv:3:1: column "a": "0x1" is not a decimal number']);
    const latin = run(['run', config('latin'), '--quiet']);
    expect(latin.status).toBe(0);
    expect(latin.stderr).toBe('warning: latin.csv:1: not valid UTF-8 (read as U+FFFD); save the file as UTF-8\n');
  });
});

describe('6. a sweep where no trial is usable', () => {
  it('exits 1 with the counts and what to change; query --best says why there is no best λ', () => {
    writeFile(dir, 'div.yaml', 'name: div\ndata: {synthetic: {kind: regression, n: 200, p: 5, outputs: 2, seed: 1}}\nvalidation: {kind: holdout}\nmodel: {kind: mlp, lr: 1e6, epochs: 3}\nsweep: {kind: grid, penalty: [l1, l2], lambda: [1e-3, 1e-2, 1e-1]}\noutput: div.db\n');
    const r = run(['run', 'div.yaml', '--quiet']);
    expect(r.status).toBe(1);
    expect(oneLine(r)).toBe('regsweep: 0 of 12 trials usable: 12 diverged (first at epoch 1; lower model.lr)');
    const best = run(['query', 'div.db', '--best']);
    expect(best.status).toBe(0);
    expect(best.stdout).toContain('note: no best λ: no trial is usable');
    expect(best.stdout).not.toContain('validation kind none');
  });
});

describe('9, 11. runaway resources', () => {
  it('9. --workers 300 starts no more threads than batches, and says so', () => {
    // q.yaml is small enough to fit on the main thread (no threads at all); this one needs threads.
    writeFile(dir, 'threads.yaml', 'name: threads\ndata: {synthetic: {kind: regression, n: 8000, p: 50, seed: 1}}\nsweep: {kind: grid, penalty: [l1], lambda: [10, 1, 0.1], extend: 0}\noutput: threads.db\n');
    const r = run(['run', 'threads.yaml', '--workers', '300', '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^warning: workers: 300 on \d+ cores; more threads than cores only take more memory \(starting 6: no more than there are batches of tasks\)$/m);
    const tiny = run(['run', 'q.yaml', '--workers', '300', '--new', '--quiet']);
    expect(tiny.status).toBe(0);
    expect(tiny.stderr).toMatch(/^warning: workers: 300 on \d+ cores; more threads than cores only take more memory \(starting none: the sweep is small enough to fit on this thread\)$/m);
  });
  it('11. query --sql with a recursive query that never ends stops at --timeout', () => {
    const started = Date.now();
    const r = run(['query', 'q.db', '--sql', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c', '--timeout', '1']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe('regsweep: --sql: stopped after 1 s (--timeout); the statement may not end (a recursive query without a bound?)');
  });
});

describe('12. file system errors on outputs, damaged and read-only databases', () => {
  it('a missing folder for --out is made; a folder given as a file and a file given as a folder are refused', () => {
    expect(run(['export', 'q.db', '--table', 'trials', '--out', 'made/for/you.csv']).status).toBe(0);
    expect(readFileSync(join(dir, 'made', 'for', 'you.csv'), 'utf8')).toMatch(/^sweep,trial_id/);
    mkdirSync(join(dir, 'afolder'), { recursive: true });
    writeFileSync(join(dir, 'afile'), 'x');
    const cases: [string[], string][] = [
      [['export', 'q.db', '--table', 'trials', '--out', 'afolder'], 'regsweep: --out afolder: is a folder; give a file name'],
      [['report', 'q.db', '--out', 'afile'], 'regsweep: --out afile: is a file, not a folder'],
      [['run', 'q.yaml', '--out', 'afile/x.db'], 'regsweep: afile/x.db: cannot open it: a part of the path is a file, not a folder'],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect([r.status, oneLine(r)]).toEqual([2, message]);
    }
  });
  it('a database on a read-only file system is read; writing there is refused with the cause', () => {
    const r = inTmpfs(4096, `
cp q.db "$MNT/q.db"; mount -o remount,ro "$MNT"
$R query "$MNT/q.db" --best > /dev/null; echo "query $?"
$R export "$MNT/q.db" --table trials > /dev/null; echo "export $?"
$R query "$MNT/q.db" --sql "SELECT count(*) AS n FROM trials WHERE sweep_id = 1"; echo "sql $?"
$R run q.yaml --out "$MNT/q.db" --quiet; echo "run $?"
$R report "$MNT/q.db"; echo "report $?"`);
    expect(r.stdout.match(/^(query|export|sql|run|report) \d+$/gm)).toEqual(['query 0', 'export 0', 'sql 0', 'run 2', 'report 2']);
    expect(r.stdout).toMatch(/^n\n18$/m);
    expect(r.stderr).toMatch(/q\.db: cannot write the database: the file system is read-only/);
    expect(r.stderr).toMatch(/q-report: cannot create the folder: the file system is read-only/);
  });
  it('a bit-flipped database: one line naming the file and suggesting .recover', () => {
    const bytes = readFileSync(q);
    for (let i = 8192; i < 8192 + 12; i++) bytes[i] ^= 0x5a;
    writeFileSync(join(dir, 'flipped.db'), bytes);
    for (const args of [['query', 'flipped.db', '--best'], ['export', 'flipped.db', '--table', 'trials'], ['report', 'flipped.db']]) {
      const r = run(args);
      expect([r.status, oneLine(r)]).toEqual([2, 'regsweep: flipped.db: database disk image is malformed; to save what can be saved: sqlite3 flipped.db ".recover" | sqlite3 recovered.db']);
    }
  });
});

describe('14–18, 20. smaller things users tripped over', () => {
  it('14. export into a pipe that closes early ends quietly', () => {
    writeFile(dir, 'many.yaml', small('many').replace('lambda: [10, 1, 0.1]', 'lambda: {log_range: [1e-4, 10], num: 300}'));
    expect(run(['run', 'many.yaml', '--quiet']).status).toBe(0);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" export many.db --table trials 2> err.txt | head -1 > /dev/null; echo \${PIPESTATUS[0]}; cat err.txt`], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout).toBe('0\n');
  });
  it('15. a fold that does not exist, and coefficients of a network with hidden layers, say what exists', () => {
    const nine = run(['export', 'q.db', '--table', 'trials', '--fold', '9']);
    expect([nine.status, oneLine(nine)]).toEqual([2, 'regsweep: --fold 9: sweep "q" has folds all, 0, 1, 2, 3, 4 ("all" is the fit on all rows)']);
    const named = run(['export', 'q.db', '--table', 'coefficients', '--fold', 'lambda_min']);
    expect(oneLine(named)).toMatch(/λ_min and λ_1se are in --table selections$/);
    writeFile(dir, 'nn.yaml', 'name: nn\ndata: {synthetic: {kind: regression, n: 100, p: 3}}\nvalidation: {kind: holdout}\nmodel: {kind: mlp, hidden: [4], epochs: 2}\nsweep: {kind: grid, lambda: [1e-3]}\noutput: nn.db\n');
    expect(run(['run', 'nn.yaml', '--quiet']).status).toBe(0);
    const nn = run(['export', 'nn.db', '--table', 'coefficients']);
    expect([nn.status, oneLine(nn)]).toEqual([2, 'regsweep: --table coefficients: sweep "nn" trains networks with hidden layers [4], which have no coefficient per feature; their losses are in --table trials (and learning curves in the epochs table)']);
  });
  it('16. the default database is results/<name>.db beside the sweep file, wherever the command runs', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFile(dir, 'sub/dflt.yaml', 'name: dflt\ndata: {synthetic: {kind: regression, n: 100, p: 3}}\nsweep: {kind: grid, lambda: [1]}\n');
    expect(run(['run', 'sub/dflt.yaml', '--quiet']).status).toBe(0);
    expect(existsSync(join(dir, 'sub', 'results', 'dflt.db'))).toBe(true);
    expect(existsSync(join(dir, 'results', 'dflt.db'))).toBe(false);
  });
  it('17. every sweep of a name can be reached: --list, NAME@K and --sweep-id', () => {
    writeFile(dir, 'twice.yaml', small('twice'));
    expect(run(['run', 'twice.yaml', '--quiet']).status).toBe(0);
    writeFile(dir, 'twice.yaml', small('twice', 'near_zero: 0.01\n'));
    expect(run(['run', 'twice.yaml', '--quiet', '--new']).status).toBe(0);
    const list = run(['query', 'twice.db', '--list', '--json']);
    expect(JSON.parse(list.stdout).map((s: { id: number; name: string; status: string; trials: number }) => [s.id, s.name, s.status, s.trials])).toEqual([
      [1, 'twice', 'done', 18],
      [2, 'twice', 'done', 18],
    ]);
    expect(run(['query', 'twice.db', '--best', '--sweep', 'twice@1']).stdout).toMatch(/^sweep twice \(id 1, done\)/);
    expect(run(['query', 'twice.db', '--best', '--sweep-id', '2']).stdout).toMatch(/^sweep twice \(id 2, done\)/);
    const none = run(['query', 'twice.db', '--best', '--sweep', 'twice@3']);
    expect([none.status, oneLine(none)]).toEqual([2, 'regsweep: twice.db: no sweep "twice" number 3 (sweeps: twice@1 (id 1), twice@2 (id 2))']);
  });
  it('18. --version prints the version; --resume on a database that is not there creates nothing', () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(run(['--version']).stdout.trim()).toBe(version);
    const r = run(['run', 'q.yaml', '--resume', '--out', 'nothere.db']);
    expect([r.status, oneLine(r)]).toEqual([2, 'regsweep: nothere.db: no such database; nothing to resume (run without --resume to start the sweep)']);
    expect(existsSync(join(dir, 'nothere.db'))).toBe(false);
  });
  it('20. constant columns are one line, printed by run; query and report show notes in their output, not on stderr', () => {
    writeFile(dir, 'consts.csv', ['k1,k2,k3,k4,k5,k6,k7,k8,k9,k10,a,y', ...Array.from({ length: 30 }, (_, i) => `1,1,1,1,1,1,1,1,1,1,${i},${(i * 3) % 7}`)].join('\n') + '\n');
    writeFile(dir, 'consts.yaml', 'name: consts\ndata: {path: consts.csv}\nsweep: {kind: grid, penalty: [l1], lambda: [3, 1, 0.3], extend: 0}\noutput: consts.db\n');
    const r = run(['run', 'consts.yaml', '--quiet']);
    const note = 'consts.csv: 10 constant columns: "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", … (kept with coefficient 0)';
    expect(r.stderr).toBe(`warning: ${note}\n`);
    for (const args of [['query', 'consts.db', '--best'], ['report', 'consts.db', '--no-png']]) {
      const out = run(args);
      expect(out.stderr).toBe('');
      expect(out.stdout.split('\n').filter((l) => l === `note: ${note}`)).toHaveLength(1);
      expect(out.stdout).toMatch(/note: l1: the best λ \(3\) is the largest in the grid; extend the grid upward/);
    }
  });
});
