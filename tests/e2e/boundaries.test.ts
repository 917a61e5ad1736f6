// What crosses a boundary on one machine (issue 34, cases 8, 9, 10, 14): a model from a sweep that did not finish,
// Arrow and Parquet files that are cut short or hold what a double cannot, a comparison of two kinds of loss, and a
// report or a lock wait that meets an outside failure.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RecordBatchStreamWriter, tableFromArrays, tableToIPC } from 'apache-arrow';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const dir = tempDir('regsweep-bounds-');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The one line said on stderr (no stack trace). */
const oneLine = (r: SpawnSyncReturns<string>) => {
  expect(r.stderr).not.toMatch(/\n\s+at |internal error|RangeError/);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note: '));
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
};
const run = (name: string, yaml: string) => {
  writeFile(dir, `${name}.yaml`, yaml);
  const r = cli(['run', `${name}.yaml`, '--out', `${name}.db`, '--quiet']);
  expect(r.status, r.stderr).toBe(0);
};

describe('8. a model from a sweep that did not finish', () => {
  beforeAll(async () => {
    // 20 folds of 3 penalties on one worker: seconds of work, stopped after the first validation fold's tasks.
    writeFile(
      dir,
      'partial.yaml',
      `name: partial\ndata: {synthetic: {kind: regression, n: 1500, p: 150, nonzero: 15, rho: 0.6, snr: 2, seed: 4}}\nvalidation: {kind: kfold, folds: 20, seed: 1}\nsweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 10], num: 400}, l1_ratio: [0.3, 0.7], extend: 0}\nworkers: 1\n`,
    );
    const child = spawn(process.execPath, [BIN, 'run', 'partial.yaml', '--out', 'partial.db', '--quiet'], { cwd: dir, stdio: 'ignore' });
    const done = () => {
      try {
        const db = new Database(join(dir, 'partial.db'), { readonly: true });
        try {
          // The fits on all rows and the first validation fold (the model needs a validation loss to be chosen by).
          return (db.prepare(`SELECT count(*) AS c FROM tasks WHERE status = 'done' AND fold IN ('all', '0')`).get() as { c: number }).c >= 8;
        } finally {
          db.close();
        }
      } catch {
        return false;
      }
    };
    while (!done()) await sleep(20);
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }, 120_000);

  it('predict and export --model refuse it in one line (exit 2) and write nothing', () => {
    for (const args of [
      ['predict', 'partial.db', '--data', join(FIXTURES, 'wide.csv'), '--out', 'p.csv'],
      ['export', 'partial.db', '--model', '--out', 'card.json'],
      ['export', 'partial.db', '--model', '--format', 'sklearn', '--out', 'model.py'],
      ['export', 'partial.db', '--model', '--format', 'glmnet', '--out', 'model.R'],
    ]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(oneLine(r)).toMatch(/^regsweep: sweep "partial" \(id 1\) is interrupted: \d+ of \d+ trials recorded, so its λ would be chosen from part of its folds; finish it \(run the same command again\) or pass --allow-partial$/);
    }
    expect(readdirSync(dir).filter((f) => /^(p\.csv|card\.json|model\.(py|R))$/.test(f))).toEqual([]);
    // compare ranks no sweep by figures from part of its folds.
    run('finished', readFileSync(join(dir, 'partial.yaml'), 'utf8').replace('name: partial', 'name: finished').replace('folds: 20', 'folds: 5'));
    const c = cli(['compare', 'finished.db', 'partial.db', '--no-report', '--json']);
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ comparable: false, notes: expect.arrayContaining(['no verdict: B (sweep "partial") is interrupted: its figures come from the trials recorded so far']) });
  });

  it('--allow-partial writes the partial state into the model card and the scripts\' headers; the finished sweep needs none', () => {
    const card = cli(['export', 'partial.db', '--model', '--allow-partial']);
    expect(card.status, card.stderr).toBe(0);
    const json = JSON.parse(card.stdout);
    expect(json.sweep.status).toBe('interrupted');
    expect(json.partial).toMatch(/^sweep "partial" \(id 1\) is interrupted: \d+ of \d+ trials recorded; the model is chosen from those$/);
    expect(json.notes).toContain(json.partial);
    expect(json.selection.folds).toBeLessThan(20);
    for (const format of ['sklearn', 'glmnet']) {
      const script = cli(['export', 'partial.db', '--model', '--format', format, '--allow-partial']);
      expect(script.status, script.stderr).toBe(0);
      expect(script.stdout.split('\n').slice(0, 6).join('\n')).toContain(`# PARTIAL: ${json.partial}`);
      expect(script.stdout).toContain(format === 'sklearn' ? `PARTIAL = ${JSON.stringify(json.partial)}` : `partial <- ${JSON.stringify(json.partial)}`);
    }
    const finish = cli(['run', 'partial.yaml', '--out', 'partial.db', '--quiet']);
    expect(finish.status, finish.stderr).toBe(0);
    const whole = cli(['export', 'partial.db', '--model']);
    expect(whole.status, whole.stderr).toBe(0);
    expect(JSON.parse(whole.stdout)).toMatchObject({ sweep: { status: 'done' }, selection: { folds: 20 } });
    expect(JSON.parse(whole.stdout).partial).toBeUndefined();
  });
});

describe('9. Arrow and Parquet files cut short or holding what a double cannot', () => {
  const n = 300;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const z = Float64Array.from({ length: n }, (_, i) => Math.cos(3 * i));
  const y = Float64Array.from({ length: n }, (_, i) => 2 * x[i] - z[i] + 0.1 * Math.sin(7 * i));
  const sweepOn = (file: string) => `name: columnar\ndata: {path: ${file}, target: y}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1], lambda: {auto: 5}, extend: 0}\nworkers: 1\n`;
  const attempt = (file: string) => {
    writeFile(dir, 'columnar.yaml', sweepOn(file));
    return cli(['run', 'columnar.yaml', '--out', `${file}.db`, '--quiet']);
  };

  beforeAll(async () => {
    const batches = [0, 100, 200].map((s) => tableFromArrays({ x: x.slice(s, s + 100), z: z.slice(s, s + 100), y: y.slice(s, s + 100) }).batches[0]);
    const stream = RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
    writeFileSync(join(dir, 'whole.ipc'), stream);
    // Cut after the second batch: the end-of-stream marker and the last batch are missing, the rest is a valid stream.
    writeFileSync(join(dir, 'two-batches.ipc'), RecordBatchStreamWriter.writeAll(batches.slice(0, 2)).toUint8Array(true).subarray(0, -8));
    const file = tableToIPC(tableFromArrays({ x, z, y }), 'file');
    writeFileSync(join(dir, 'whole.arrow'), file);
    writeFileSync(join(dir, 'cut.arrow'), file.subarray(0, Math.floor(file.length * 0.6)));
    writeFileSync(join(dir, 'big.arrow'), tableToIPC(tableFromArrays({ x, big: BigInt64Array.from({ length: n }, (_, i) => (i === 150 ? 2n ** 53n + 1n : BigInt(i))), y }), 'file'));
    const parquet = readFileSync(join(FIXTURES, 'breast_cancer_plain.parquet'));
    writeFileSync(join(dir, 'bad-magic.parquet'), Buffer.concat([Buffer.from('XXXX'), parquet.subarray(4)]));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    await duck.run(`COPY (SELECT sin(i) AS x, CASE WHEN i = 41 THEN 9007199254740993::BIGINT ELSE i::BIGINT END AS big, cos(i) AS y FROM range(300) t(i)) TO '${join(dir, 'big.parquet')}' (FORMAT parquet)`);
  });

  it('whole files are read; a stream cut at a batch boundary, an Arrow file cut short and a bad Parquet magic are one line, exit 2', () => {
    expect(attempt('whole.ipc').status).toBe(0);
    expect(attempt('whole.arrow').status).toBe(0);
    const cases: [string, string][] = [
      ['two-batches.ipc', 'regsweep: two-batches.ipc: the Arrow stream is cut short (no end-of-stream marker); write it again'],
      ['cut.arrow', 'regsweep: cut.arrow: the Arrow file is cut short (it does not end with "ARROW1"); write it again'],
      ['bad-magic.parquet', 'regsweep: bad-magic.parquet: not a Parquet file (it does not start with "PAR1")'],
    ];
    for (const [file, said] of cases) {
      const r = attempt(file);
      expect(r.status, file).toBe(2);
      expect(oneLine(r)).toBe(said);
      expect(existsSync(join(dir, `${file}.db`)), file).toBe(false);
    }
  });

  it('an int64 beyond 2^53 names its column and row, in a sweep and in predict, instead of being rounded', () => {
    const arrow = attempt('big.arrow');
    expect(arrow.status).toBe(2);
    expect(oneLine(arrow)).toBe('regsweep: big.arrow: column "big", row 151: 9007199254740993 is an integer beyond 2^53, which a double cannot hold exactly (it would be read as 9007199254740992); store the column as a float or rescale it');
    const parquet = attempt('big.parquet');
    expect(parquet.status).toBe(2);
    expect(oneLine(parquet)).toMatch(/^regsweep: big\.parquet: column "big", row 42: 9007199254740993 is an integer beyond 2\^53/);
    // A model with a feature named "big", applied to the file.
    writeFile(dir, 'bigmodel.csv', `x,big,y\n${Array.from({ length: 60 }, (_, i) => `${Math.sin(i)},${i},${Math.cos(i)}`).join('\n')}\n`);
    run('bigmodel', `name: bigmodel\ndata: {path: bigmodel.csv, target: y}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l2], lambda: {auto: 5}, extend: 0}\n`);
    for (const file of ['big.arrow', 'big.parquet']) {
      const r = cli(['predict', 'bigmodel.db', '--data', file]);
      expect(r.status, file).toBe(2);
      expect(oneLine(r)).toMatch(new RegExp(`^regsweep: ${file.replace('.', '\\.')}: column "big", row ${file.endsWith('arrow') ? 151 : 42}: 9007199254740993 is an integer beyond 2\\^53`));
    }
  });
});

describe('10. compare gives a verdict only when the two losses are on one scale and on the same rows', () => {
  beforeAll(() => {
    const diabetes = join(FIXTURES, 'diabetes.csv');
    const cancer = join(FIXTURES, 'breast_cancer.csv');
    const grid = 'sweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 15, ratio: 0.01}, extend: 0}\nvalidation: {kind: kfold, folds: 5, seed: 0}\n';
    run('lin', `name: lin\ndata: {path: ${diabetes}, target: progression}\n${grid}`);
    run('lin-raw', `name: lin-raw\ndata: {path: ${diabetes}, target: progression, standardize: false}\n${grid}`);
    run('logit', `name: logit\ndata: {path: ${cancer}, target: diagnosis}\nmodel: {kind: logistic}\n${grid}`);
    run('lin-age', `name: lin-age\ndata: {path: ${diabetes}, target: age}\n${grid}`);
  }, 120_000);

  it('linear against logistic: no "better", and a note that says why', () => {
    const r = cli(['compare', 'lin.db', 'logit.db', '--no-report']);
    expect(r.status, r.stderr).toBe(0);
    const table = r.stdout.split('\n').filter((l) => /^(l1|l2) /.test(l));
    expect(table).toHaveLength(2);
    for (const line of table) expect(line).not.toMatch(/ (A|B|within 1 se)$/);
    expect(r.stdout).toContain('note: no verdict: A fits linear (mean squared error) and B logistic (log-loss): their val_loss are not on one scale');
    const json = JSON.parse(cli(['compare', 'lin.db', 'logit.db', '--no-report', '--json']).stdout);
    expect(json.comparable).toBe(false);
    expect(json.best.map((b: { better: unknown }) => b.better)).toEqual([null, null]);
  });

  it('the same data with another target: no verdict; the same data and target: a verdict', () => {
    const age = JSON.parse(cli(['compare', 'lin.db', 'lin-age.db', '--no-report', '--json']).stdout);
    expect(age.comparable).toBe(false);
    expect(age.notes).toContain('no verdict: the sweeps predict different targets (progression and age)');
    const same = JSON.parse(cli(['compare', 'lin.db', 'lin-raw.db', '--no-report', '--json']).stdout);
    expect(same.comparable).toBe(true);
    for (const b of same.best) expect(['A', 'B', 'within 1 se']).toContain(b.better);
    // The report says the same.
    const report = cli(['compare', 'lin.db', 'logit.db', '--out', 'lin-vs-logit']);
    expect(report.status, report.stderr).toBe(0);
    expect(readFileSync(join(dir, 'lin-vs-logit', 'compare.html'), 'utf8')).toContain('not comparable');
  });
});

describe('14. a report on a full disk, and a lock held longer than --lock-timeout', () => {
  /** A shell script in a mount namespace of its own with a small tmpfs at $MNT (see hardening.test.ts). */
  function inTmpfs(sizeKb: number, script: string): SpawnSyncReturns<string> {
    const mnt = tempDir('regsweep-mnt-');
    const unshare = process.getuid?.() === 0 ? ['-m'] : ['-rm'];
    const r = spawnSync('unshare', [...unshare, '--propagation', 'private', 'bash', '-c', `set -u\nmount -t tmpfs -o size=${sizeKb}k tmpfs "$MNT"\n${script}`], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, MNT: mnt, R: `${process.execPath} ${BIN}` },
    });
    if (r.error || /unshare: |mount: /.test(r.stderr)) throw new Error(`cannot make a tmpfs for this test: ${r.error?.message ?? r.stderr}`);
    return r;
  }

  it('report: the disk fills while the charts are written; no report folder and no temporary one is left; an old report stays whole', () => {
    run('small', `name: small\ndata: {path: ${join(FIXTURES, 'diabetes.csv')}}\nsweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {auto: 30}, extend: 0}\n`);
    // 1 MB holds the database but not the report's PNGs.
    const r = inTmpfs(
      1024,
      `cp small.db "$MNT/s.db"
$R report "$MNT/s.db" --out "$MNT/new-report"; echo "new $?"
mkdir "$MNT/old-report"; echo '<p>old</p>' > "$MNT/old-report/report.html"; echo mine > "$MNT/old-report/notes.txt"
$R report "$MNT/s.db" --out "$MNT/old-report"; echo "old $?"
ls -A "$MNT"; echo ---; ls -A "$MNT/old-report"; echo ---; cat "$MNT/old-report/report.html"`,
    );
    expect(r.stdout.match(/^(new|old) \d+$/gm)).toEqual(['new 1', 'old 1']);
    const said = r.stderr.trim().split('\n');
    expect(said).toHaveLength(2);
    for (const line of said) expect(line).toMatch(/^regsweep: \S+\/(new|old)-report: cannot write it: the disk is full$/);
    const [top, old, page] = r.stdout.split('---\n');
    // After the two exit lines: the folder holds the database and the old report, no new-report and no .tmp folder.
    expect(top.trim().split('\n').slice(2).filter((f) => !/^s\.db/.test(f))).toEqual(['old-report']);
    expect(old.trim().split('\n')).toEqual(['notes.txt', 'report.html']);
    expect(page.trim()).toBe('<p>old</p>');
  });

  it('--lock-timeout 3 against a rollback-journal lock: gives up after about 3 s, saying how long it waited', async () => {
    run('locked', `name: locked\ndata: {path: ${join(FIXTURES, 'diabetes.csv')}}\nsweep: {kind: grid, penalty: [l1], lambda: [10, 1, 0.1], extend: 0}\nworkers: 1\n`);
    // What a command that opens this database takes here without a lock (start-up, which a loaded machine stretches).
    const unlocked = Date.now();
    expect(cli(['query', 'locked.db', '--list']).status).toBe(0);
    const startup = (Date.now() - unlocked) / 1000;
    const holder = spawn('python3', ['-c', `import sqlite3, time\nc = sqlite3.connect('locked.db', isolation_level=None)\nc.execute('PRAGMA journal_mode=DELETE')\nc.execute('BEGIN EXCLUSIVE')\nprint('held', flush=True)\ntime.sleep(30)\n`], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    try {
      const started = Date.now();
      const r = cli(['run', 'locked.yaml', '--out', 'locked.db', '--new', '--quiet', '--lock-timeout', '3']);
      const took = (Date.now() - started) / 1000;
      expect(r.status).toBe(1);
      expect(oneLine(r)).toBe('regsweep: locked.db: the database is locked by another process (waited 3 s); finished work is kept, run again to resume');
      expect(took).toBeGreaterThan(2.9);
      // One wait of 3 s, not two: a second wait (a retried write after the first gave up) would take 6 s or more.
      expect(took).toBeLessThan(3 + startup + 1.5);
    } finally {
      holder.kill();
    }
  });
});

describe('siblings: the same classes of mistake elsewhere', () => {
  it('a message that names a column with a line break or an escape sequence is still one line, shown as written', () => {
    writeFile(dir, 'names.csv', `"a\nb","c\u001b[31md",y\n1,2,3\n4,x,6\n`);
    writeFile(dir, 'names.yaml', `name: names\ndata: {path: names.csv}\nsweep: {kind: grid, penalty: [l1], lambda: [1]}\n`);
    const r = cli(['run', 'names.yaml', '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('\u001b');
    expect(oneLine(r)).toBe('regsweep: names.csv:4:2: column "c\\u001b[31md": "x" is not a number (the rows above hold numbers; list the column in data.categorical to read it as categories)');
  });

  it('--max-attempts is bounded (a task that always throws is not tried a billion times)', () => {
    const r = cli(['run', 'small.yaml', '--max-attempts', '1000000000']);
    expect(r.status).toBe(2);
    expect(oneLine(r)).toBe('regsweep: --max-attempts 1000000000: expected a whole number from 1 to 100 (a task that always throws is tried that often)');
  });

  it('an output file left half-written by a process that was killed is removed by the next write to that folder', () => {
    const left = join(dir, '.pred.csv.999999.0badf00d.tmp');
    writeFileSync(left, 'half');
    const mine = join(dir, `.other.csv.${process.pid}.0badf00d.tmp`);
    writeFileSync(mine, 'a live writer');
    const r = cli(['predict', 'small.db', '--data', join(FIXTURES, 'diabetes.csv'), '--out', 'pred.csv']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(left)).toBe(false);
    expect(existsSync(mine)).toBe(true);
  });
});
