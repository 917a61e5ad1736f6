// The generated scripts as programs built from data (issue 34, case 1): every value from the data or the file system
// reaches model.py / model.R through an emitter, checked here by the languages themselves — Python and R read back
// every literal exactly — and a sweep whose labels, feature names, target name and database path carry code is
// exported, parsed, and run: the scripts predict what `regsweep predict` does, and nothing else happens.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { python, r, type Literal } from '../../src/model/emit.js';
import { PYTHON, ROOT, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');
const dir = tempDir('regsweep-scripts-');
const cli = (args: string[], cwd = dir) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
const tool = (cmd: string, args: string[], cwd: string) => spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });

/** What a successful injection would leave behind: a file named pwned, anywhere under the test folder. */
const PAYLOAD = "import os; os.system('touch pwned') #";
const pwned = () => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.split('/').at(-1) === 'pwned');

/** Names that end a comment, a string or a statement in Python or R, or that R or a CSV reader treats specially. */
const HOSTILE_FEATURES = [
  "c'd",
  'e\\f',
  '"""',
  'NA',
  `x\n${PAYLOAD}`,
  '");system("touch pwned");("',
  `a\r${PAYLOAD}`,
  "'''",
  '# -*- coding: utf-7 -*-',
  '\\',
  '$(touch pwned)',
  'café\u202e`touch pwned`',
];
const HOSTILE_LABELS = [`x\n${PAYLOAD}`, 'y"); system("touch pwned"); #', `z\r\nsystem('touch pwned')`];
const HOSTILE_TARGET = `t\n${PAYLOAD}`;
/** A folder whose name ends a comment line and a file name that asks Python to read its source as UTF-7. */
const DB_DIR = `d\n${PAYLOAD}`;
const DB_FILE = '+AAo-import os+ADs-os.system(+ACc-touch pwned+ACc-) coding: utf-7 -*- .db';

const quoteAll = (cells: string[]) => cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(',');

/** A seeded normal sample (Box–Muller on an LCG): the same data on every run. */
function normals(seed: number) {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A categorical column whose name and levels carry code, for the frame case (its encoding is written into the scripts). */
const HOSTILE_CATEGORY = `kind"\r\n${PAYLOAD}`;

/**
 * A CSV with hostile names: every field quoted (CR and LF inside names and labels), the target last. With `frame`, a
 * categorical column with hostile levels, and gaps (NA) in it and in the first feature.
 */
function hostileCsv(classes: string[] | null, seed: number, frame = false): string {
  const z = normals(seed);
  const lines = [quoteAll([...HOSTILE_FEATURES, ...(frame ? [HOSTILE_CATEGORY] : []), HOSTILE_TARGET])];
  for (let i = 0; i < 240; i++) {
    const x = HOSTILE_FEATURES.map(() => z());
    const level = i % 3;
    const signal = x[0] - 2 * x[1] + x[3] + 0.8 * x[11] + (frame ? level : 0);
    const y = classes ? classes[classes.length === 2 ? (signal + z() > 0 ? 1 : 0) : Math.min(2, Math.max(0, Math.round(signal / 2 + 1 + 0.5 * z())))] : String(signal + 0.5 * z());
    const cells = x.map((v, j) => (frame && j === 0 && i % 11 === 5 ? 'NA' : v.toFixed(6)));
    lines.push(quoteAll([...cells, ...(frame ? [i % 7 === 3 ? 'NA' : HOSTILE_LABELS[level]] : []), y]));
  }
  return lines.join('\n') + '\n';
}

const cases = [
  { name: 'binomial', kind: 'logistic', classes: HOSTILE_LABELS.slice(0, 2), penalty: 'l1' },
  { name: 'multinomial', kind: 'logistic', classes: HOSTILE_LABELS, penalty: 'l2' },
  { name: 'gaussian', kind: 'linear', classes: null, penalty: 'elasticnet' },
  // A data frame: its encoding (hostile levels, fill values, gap indicators) is written into the scripts too.
  { name: 'frame', kind: 'linear', classes: null, penalty: 'elasticnet' },
] as const;

beforeAll(() => {
  mkdirSync(join(dir, DB_DIR));
  for (const c of cases) {
    const frame = c.name === 'frame';
    writeFile(dir, `${c.name}.csv`, hostileCsv(c.classes ? [...c.classes] : null, c.name.length, frame));
    writeFile(
      dir,
      `${c.name}.yaml`,
      `name: ${c.name}\ndata: {path: ${c.name}.csv${frame ? ', missing: mean, missing_indicator: true' : ''}}\nvalidation: {kind: kfold, folds: 3, seed: 0}\nmodel: {kind: ${c.kind}, tol: 1e-12}\nsweep: {kind: grid, penalty: [${c.penalty}], lambda: {auto: 12, ratio: 0.01}, l1_ratio: [0.5], extend: 0}\nworkers: 1\n`,
    );
    const run = cli(['run', `${c.name}.yaml`, '--out', join(DB_DIR, `${c.name}-${DB_FILE}`), '--quiet']);
    expect(run.status, run.stderr).toBe(0);
  }
}, 180_000);

describe('emitters: Python and R read back every literal exactly', () => {
  const strings = [
    ...Array.from({ length: 0x3000 }, (_, k) => String.fromCharCode(k)).filter((c) => c < '\ud800' || c > '\udfff'),
    ...HOSTILE_FEATURES,
    ...HOSTILE_LABELS,
    DB_DIR,
    '😀 astral',
    'lone \ud800 surrogate',
    // Longer than a 4096-byte line of R source: the R emitter pastes it from short pieces.
    'é\n'.repeat(3000),
  ].filter((s) => !s.includes('\u0000'));
  const numbers = [0, -0, 1, -1, 0.1, 1 / 3, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e21, 123456789012345680000, -(2 ** 53), 1e-7, 100000000];
  const utf8Hex = (s: string) => Buffer.from((s as string & { toWellFormed(): string }).toWellFormed(), 'utf8').toString('hex');

  it('Python: strings byte for byte, doubles to the bit, NaN and ±Inf as values', () => {
    const data: Literal = { strings, numbers, special: [NaN, Infinity, -Infinity], flags: [true, false, null] };
    const file = writeFile(dir, 'literals.py', `import json, struct\nx = ${python.literal(data)}\nprint(json.dumps({"strings": [s.encode("utf-8").hex() for s in x["strings"]], "numbers": [struct.pack("<d", n).hex() for n in x["numbers"]], "special": [str(v) for v in x["special"]], "flags": x["flags"]}))\n`);
    const out = tool(PYTHON, [file], dir);
    expect(out.status, out.stderr).toBe(0);
    const read = JSON.parse(out.stdout) as { strings: string[]; numbers: string[]; special: string[]; flags: unknown[] };
    expect(read.strings).toEqual(strings.map(utf8Hex));
    // The bits of each double as Python holds it, against the bits JavaScript holds.
    expect(read.numbers).toEqual(numbers.map((v) => Buffer.from(Float64Array.of(v).buffer).toString('hex')));
    expect(read.special).toEqual(['nan', 'inf', '-inf']);
    expect(read.flags).toEqual([true, false, null]);
  });

  it('R: strings byte for byte (non-ASCII escaped, so a C locale reads them too), doubles to the bit', () => {
    const file = writeFile(
      dir,
      'literals.R',
      `${r.assign('s', strings).join('\n')}\n${r.assign('n', numbers).join('\n')}\nv <- ${r.literal([NaN, Infinity, -Infinity])}\ncat(vapply(s, function(x) paste(as.character(charToRaw(enc2utf8(x))), collapse = ""), ""), sep = "\\n")\ncat("--\\n")\ncat(sprintf("%a", n), sep = "\\n")\ncat("--\\n")\ncat(format(v), sep = "\\n")\n`,
    );
    expect(readFileSync(file, 'utf8')).toMatch(/^[\x00-\x7f]*$/);
    for (const env of [process.env, { ...process.env, LANG: 'C', LC_ALL: 'C' }]) {
      const out = spawnSync('Rscript', [file], { cwd: dir, encoding: 'utf8', env, maxBuffer: 1 << 26 });
      expect(out.status, out.stderr).toBe(0);
      const [texts, doubles, special] = out.stdout.trimEnd().split('\n--\n');
      expect(texts.split('\n')).toEqual(strings.map(utf8Hex));
      // %a prints the exact binary value: parsed back (JavaScript has no hex-float parser) by its parts.
      const fromHex = (h: string) => {
        const m = /^(-?)0x([01])\.?([0-9a-f]*)p([+-]\d+)$/.exec(h.trim())!;
        const mantissa = Number(m[2]) + (m[3] ? parseInt(m[3], 16) / 16 ** m[3].length : 0);
        return (m[1] ? -1 : 1) * mantissa * 2 ** Number(m[4]);
      };
      const back = doubles.split('\n').map((h) => (/^-?0x0p\+0$/.test(h.trim()) ? (h.startsWith('-') ? -0 : 0) : fromHex(h)));
      back.forEach((v, k) => expect(Object.is(v, numbers[k]), `${doubles.split('\n')[k]} vs ${numbers[k]}`).toBe(true));
      expect(special.split('\n').map((s) => s.trim())).toEqual(['NaN', 'Inf', '-Inf']);
    }
  });

  it('a comment line stays one line: CR, LF, the Unicode line separators and the BOM are shown as escapes', () => {
    const text = `a\nb\rc\r\nd\u2028e\u2029f\u0085g\u000bh\u000ci\ufeffj\u202ek`;
    const line = python.comment(text);
    expect(line).not.toMatch(/[\n\r\u2028\u2029\u0085\u000b\u000c\ufeff\u202e]/);
    expect(line).toBe('a\\nb\\rc\\r\\nd\\u2028e\\u2029f\\u0085g\\u000bh\\u000ci\\ufeffj\\u202ek');
    expect(r.comment(text)).toBe(line);
  });
});

describe('hostile labels, feature names, target names and database paths', () => {
  it.each(cases)('$name: model.py and model.R parse, predict what regsweep predict does, and run nothing else', ({ name }) => {
    const db = join(DB_DIR, `${name}-${DB_FILE}`);
    const work = join(dir, `run-${name}`);
    mkdirSync(work);
    const py = cli(['export', db, '--model', '--format', 'sklearn', '--out', join(work, 'model.py')]);
    expect(py.status, py.stderr).toBe(0);
    const rs = cli(['export', db, '--model', '--format', 'glmnet', '--out', join(work, 'model.R')]);
    expect(rs.status, rs.stderr).toBe(0);
    const pyText = readFileSync(join(work, 'model.py'), 'utf8');
    // The fixed second line keeps a name in a later comment from choosing the source's encoding (PEP 263).
    expect(pyText.split('\n')[1]).toBe('# -*- coding: utf-8 -*-');
    expect(tool(PYTHON, ['-m', 'py_compile', 'model.py'], work).status).toBe(0);
    const parsed = tool('Rscript', ['-e', 'invisible(parse(file = "model.R")); cat("parsed\\n")'], work);
    expect(parsed.stdout, parsed.stderr).toBe('parsed\n');

    const data = join(dir, `${name}.csv`);
    const keep = HOSTILE_FEATURES[4];
    const expected = cli(['predict', db, '--data', data, '--keep', keep]);
    expect(expected.status, expected.stderr).toBe(0);
    const want = Papa.parse<string[]>(expected.stdout.trimEnd()).data;
    for (const [cmd, script] of [
      [PYTHON, 'model.py'],
      ['Rscript', 'model.R'],
    ]) {
      const out = tool(cmd, [script, data, '--keep', keep], work);
      expect(out.status, `${script}: ${out.stderr}`).toBe(0);
      const got = Papa.parse<string[]>(out.stdout.trimEnd()).data;
      expect(got[0], script).toEqual(want[0]);
      expect(got.length).toBe(want.length);
      got.slice(1).forEach((row, i) =>
        row.forEach((cell, k) => {
          const w = want[i + 1][k];
          if (Number.isNaN(Number(w)) || w.trim() === '') expect(cell, `${script} row ${i + 1}`).toBe(w);
          else expect(Math.abs(Number(cell) - Number(w)), `${script} row ${i + 1} column ${k}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(Number(w))));
        }),
      );
      // The refit reads the same hostile header and labels.
      const refit = tool(cmd, [script, '--refit', data], work);
      expect(refit.status, `${script} --refit: ${refit.stderr}`).toBe(0);
      expect(Papa.parse<string[]>(refit.stdout.trimEnd()).data.length).toBeGreaterThan(HOSTILE_FEATURES.length);
    }
    expect(pwned()).toEqual([]);
    expect(existsSync(join(work, 'pwned'))).toBe(false);
  });

  it('a NaN, an empty cell, "NA" or a hex number stops each script with one line and exit 1, as predict refuses it', () => {
    const db = join(DB_DIR, `binomial-${DB_FILE}`);
    const work = join(dir, 'run-binomial');
    const rows = Papa.parse<string[]>(readFileSync(join(dir, 'binomial.csv'), 'utf8').trimEnd()).data;
    for (const [cell, why] of [
      ['NaN', 'NaN is not allowed'],
      ['', 'empty cell (a missing value: data.missing drops or fills them)'],
      ['NA', '"NA" is not a number'],
      ['0x1A', '"0x1A" is not a decimal number'],
      ['Infinity', '"Infinity" is infinite'],
    ]) {
      const bad = rows.slice(0, 5).map((row) => [...row]);
      bad[3][3] = cell;
      const file = writeFile(dir, 'bad.csv', bad.map(quoteAll).join('\n') + '\n');
      const predict = cli(['predict', db, '--data', file]);
      expect(predict.status).toBe(2);
      const said = predict.stderr.trim().split('\n').at(-1)!.replace(/^regsweep: /, '');
      expect(said).toContain(`column "NA": ${why}`);
      for (const [cmd, script] of [
        [PYTHON, 'model.py'],
        ['Rscript', 'model.R'],
      ]) {
        const out = tool(cmd, [script, file], work);
        expect(out.status, script).toBe(1);
        expect(out.stderr.trim().split('\n'), script).toHaveLength(1);
        expect(out.stderr, script).not.toMatch(/Traceback|Error in/);
        expect(out.stderr.trim(), script).toMatch(new RegExp(`bad\\.csv:\\d+:4: column "NA": ${why.replace(/[()]/g, '\\$&')}$`));
      }
      // The Python script says the line predict says (R's connection turns the CR in a header name into a line).
      expect(tool(PYTHON, [join(work, 'model.py'), 'bad.csv'], dir).stderr.trim()).toBe(said);
    }
    expect(pwned()).toEqual([]);
  });
});
