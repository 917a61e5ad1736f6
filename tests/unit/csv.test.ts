import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { parseChunk, type ChunkJob, type ChunkLayout } from '../../src/data/csvChunk.js';
import { UserError } from '../../src/errors.js';
import { tempDir, writeFile } from '../helpers.js';

const dir = tempDir();
async function errorOf(text: string, options: Parameters<typeof loadCsv>[1] = {}): Promise<string> {
  const path = writeFile(dir, 'd.csv', text);
  try {
    await loadCsv(path, { displayName: 'd.csv', ...options });
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected the CSV to be refused');
}

describe('CSV loading', () => {
  it('loads column-major on a SharedArrayBuffer, target last by default', async () => {
    const data = await loadCsv(writeFile(dir, 'ok.csv', 'a,b,y\n1,2,3\n4,5,6\n\n7,8.5,9\n'));
    expect(data.X.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([data.n, data.p]).toEqual([3, 2]);
    expect(Array.from(data.X)).toEqual([1, 4, 7, 2, 5, 8.5]);
    expect(Array.from(data.y)).toEqual([3, 6, 9]);
    expect(data.featureNames).toEqual(['a', 'b']);
  });

  it('takes a named target from the middle', async () => {
    const data = await loadCsv(writeFile(dir, 'mid.csv', 'a,y,b\n1,2,3\n4,5,6\n'), { target: 'y' });
    expect(data.featureNames).toEqual(['a', 'b']);
    expect(Array.from(data.y)).toEqual([2, 5]);
  });

  it('names line and column of a non-numeric cell', async () => {
    expect(await errorOf('a,b,y\n1,2,3\n4,x5,6\n')).toBe('d.csv:3:2: column "b": "x5" is not a number (the rows above hold numbers; list the column in data.categorical to read it as categories)');
    expect(await errorOf('a,b,y\n1,x5,3\n4,2,6\n', { categorical: 'none' })).toBe('d.csv:2:2: column "b": "x5" is not a number (data.categorical is none: auto reads text columns as categories)');
    // Text from the first value on is a category (data.categorical auto): an indicator per level.
    const frame = await loadCsv(writeFile(dir, 'cat.csv', 'a,b,y\n1,x5,3\n4,2,6\n5,x5,1\n'));
    expect(frame.featureNames).toEqual(['a', 'b=2', 'b=x5']);
    expect(Array.from(frame.X)).toEqual([1, 4, 5, 0, 1, 0, 1, 0, 1]);
  });
  it('names line of a ragged row', async () => {
    expect(await errorOf('a,b,y\n1,2,3\n4,5\n7,8,9\n')).toBe('d.csv:3: expected 3 fields as in the header, found 2');
  });
  it('counts lines past blank lines, whitespace-only lines and quoted line breaks', async () => {
    expect(await errorOf('a,b,y\n1,2,3\n\n  \n4,  ,1\n')).toMatch(/^d.csv:5:2: column "b": missing value \(an empty cell\); set data.missing to/);
    expect(await errorOf('a,"b\nc",y\n1,2,3\n4,z,6\n')).toMatch(/^d.csv:4:2: column "b\nc": "z" is not a number/);
    expect(await errorOf('a,b,y\n1,2,3\n4,"5,6\n7,8,9\n')).toBe('d.csv:3: malformed CSV: Quoted field unterminated');
  });
  it('reads commas only: a semicolon file is one column per line, refused as such', async () => {
    expect(await errorOf('a;b;y\n1;2;3\n4;5;6\n')).toBe('d.csv:1: no feature columns besides the target');
  });
  it('trims spaces around names and numbers, and reads a UTF-8 byte order mark', async () => {
    const data = await loadCsv(writeFile(dir, 'bom.csv', '\ufeff a , b ,y\n 1 , 2.5,3\n'));
    expect(data.featureNames).toEqual(['a', 'b']);
    expect(Array.from(data.X)).toEqual([1, 2.5]);
  });
  it('refuses NaN, Inf and empty cells with their place', async () => {
    expect(await errorOf('a,b,y\n1,NaN,3\n')).toMatch(/^d.csv:2:2: column "b": missing value \("NaN"\); set data.missing to/);
    expect(await errorOf('a,b,y\n1,NaN,3\n', { naValues: [] })).toBe('d.csv:2:2: column "b": NaN is not allowed');
    expect(await errorOf('a,b,y\n1,2,3\n1,2,-Infinity\n')).toBe('d.csv:3:3: column "y": "-Infinity" is infinite');
    expect(await errorOf('a,b,y\n1,,3\n')).toMatch(/^d.csv:2:2: column "b": missing value \(an empty cell\)/);
    expect(await errorOf('a,b,y\n1,,3\n', { naValues: ['NA'] })).toMatch(/^d.csv:2:2: column "b": empty cell \(a missing value: data.missing drops or fills them\)/);
  });
  it('refuses an empty file, a header alone and a missing target', async () => {
    expect(await errorOf('')).toBe('d.csv: the file is empty');
    expect(await errorOf('a,b,y\n')).toBe('d.csv: a header but no data rows');
    expect(await errorOf('a,b,y\n1,2,3\n', { target: 'z' })).toBe('d.csv:1: target column "z" is not in the header (columns: a, b, y)');
  });
  it('warns about a constant column and keeps it', async () => {
    const data = await loadCsv(writeFile(dir, 'c.csv', 'a,k,y\n1,5,3\n2,5,6\n3,5,7\n'), { displayName: 'c.csv' });
    expect(data.p).toBe(2);
    expect(data.warnings).toEqual(['c.csv: 1 constant column: "k" (kept with coefficient 0)']);
  });
  it('maps two string labels in sorted order; three to three classes, or refuses them for a binomial model', async () => {
    const data = await loadCsv(writeFile(dir, 'l.csv', 'a,label\n1,yes\n2,no\n3,yes\n'), { classification: true });
    expect(data.classes).toEqual(['no', 'yes']);
    expect(Array.from(data.y)).toEqual([1, 0, 1]);
    const three = await loadCsv(writeFile(dir, 'm.csv', 'a,label\n1,yes\n2,no\n3,maybe\n4,no\n5,yes\n6,maybe\n7,no\n'), { classification: true });
    expect(three.classes).toEqual(['maybe', 'no', 'yes']);
    expect(Array.from(three.y)).toEqual([2, 1, 0, 1, 2, 0, 1]);
    const numbered = await loadCsv(writeFile(dir, 'n.csv', 'a,label\n1,10\n2,9\n3,2\n4,9\n5,10\n6,2\n'), { classification: true });
    expect(numbered.classes).toEqual(['2', '9', '10']);
    const ordered = await loadCsv(writeFile(dir, 'o.csv', 'a,label\n1,yes\n2,no\n3,maybe\n4,no\n5,yes\n6,maybe\n7,no\n'), { classification: true, classes: ['no', 'maybe', 'yes'] });
    expect(Array.from(ordered.y)).toEqual([2, 0, 1, 0, 2, 1, 0]);
    expect(await errorOf('a,label\n1,yes\n2,no\n3,maybe\n', { classification: true, binary: true })).toMatch(
      /^d.csv: column "label": a binomial model needs exactly two distinct labels, found 3/,
    );
    expect(await errorOf('a,label\n1,yes\n2,no\n3,maybe\n4,no\n5,yes\n6,no\n', { classification: true, classes: ['no', 'yes'] })).toMatch(/label "maybe" of the column is not in data.classes \(no, yes\)/);
    expect(await errorOf('a,label\n1,1.5\n2,2.5\n3,3.5\n4,4.5\n', { classification: true })).toMatch(/4 distinct labels in 4 rows .*for a numeric target use model.kind linear or poisson/);
  });

  it('counts for poisson: a negative or fractional count names its cell', async () => {
    expect(await errorOf('a,n\n1,3\n2,-1\n', { counts: true })).toMatch(/^d.csv:3:2: column "n": -1 is not a count \(a poisson model needs non-negative integers\)/);
    expect(await errorOf('a,n\n1,3\n2,1.5\n', { counts: true })).toMatch(/^d.csv:3:2: column "n": 1.5 is not a count/);
  });

  it('an offset and a fold column are read apart from the features', async () => {
    const data = await loadCsv(writeFile(dir, 'f.csv', 'a,exposure,fold,b,n\n1,0.5,x,4,3\n2,0.25,y,5,1\n3,1,x,6,0\n'), { target: 'n', counts: true, offset: 'exposure', foldColumn: 'fold' });
    expect(data.featureNames).toEqual(['a', 'b']);
    expect(Array.from(data.offset!)).toEqual([0.5, 0.25, 1]);
    expect(data.foldLabels).toEqual(['x', 'y', 'x']);
    expect(await errorOf('a,n\n1,3\n', { target: 'n', offset: 'exposure' })).toMatch(/offset \(data.offset\) column "exposure" is not in the header/);
  });

  it('streams a file of several chunks: every number as Number() reads it, the hash of the bytes, lines across chunk ends', async () => {
    // 9 MB: three reads of 4 MB, rows cut by every read's end; long rows first and short ones after, so that the row
    // estimate from the first chunk is short and the matrix grows; CRLF line ends.
    let seed = 3;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows: string[][] = [];
    for (let i = 0; i < 60_000; i++) {
      const cells = [String((next() - 0.5) * 10 ** Math.floor(next() * 6)), i < 20_000 ? String(next()) : String(Math.floor(next() * 9)), (next() * 1e-7).toExponential(12), String(i % 3)];
      rows.push(cells);
    }
    const text = 'a,b,c,y\r\n' + rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
    const path = writeFile(dir, 'big.csv', text);
    const data = await loadCsv(path);
    expect([data.n, data.p]).toEqual([60_000, 3]);
    for (let i = 0; i < data.n; i += 1) {
      for (let j = 0; j < 3; j++) if (!Object.is(data.X[j * data.n + i], Number(rows[i][j]))) throw new Error(`row ${i + 2} column ${j + 1}: ${data.X[j * data.n + i]} against ${rows[i][j]}`);
      expect(data.y[i]).toBe(Number(rows[i][3]));
    }
    expect(data.hash).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it('reads a quoted file with Papa Parse to the same arrays as its plain twin, and the same hash as its bytes', async () => {
    const plain = await loadCsv(writeFile(dir, 'plain.csv', 'a,b,label\n1,2.5,yes\n3,4,no\n5,6e-3,yes\n'), { classification: true });
    const quotedPath = writeFile(dir, 'quoted.csv', '"a","b","label"\n1,"2.5",yes\n3,4,"no"\n5,6e-3,yes\n');
    const quoted = await loadCsv(quotedPath, { classification: true });
    expect(Array.from(quoted.X)).toEqual(Array.from(plain.X));
    expect(Array.from(quoted.y)).toEqual(Array.from(plain.y));
    expect(quoted.classes).toEqual(plain.classes);
    expect(quoted.hash).toBe(createHash('sha256').update(readFileSync(quotedPath)).digest('hex'));
    // A quote far into a file: the fast path gives way to Papa Parse, the same rows either way.
    const many = Array.from({ length: 5000 }, (_, i) => `${i},${i / 7}`);
    const late = await loadCsv(writeFile(dir, 'late.csv', ['x,y', ...many, '"5000",1'].join('\n')));
    expect(late.n).toBe(5001);
    expect(late.X[4999]).toBe(4999);
    expect(late.X[5000]).toBe(5000);
  });

  it('finds the line of the first byte that is not UTF-8, past the first chunk, and a character cut by a chunk end is fine', async () => {
    const filler = 'a,y\n' + 'é,1\n'.repeat(1).replace('é', '1') + Array.from({ length: 800_000 }, (_, i) => `${i % 10},${i % 3}`).join('\n') + '\n';
    const lines = filler.split('\n').length;
    const bad = Buffer.concat([Buffer.from(filler), Buffer.from([0x31, 0xff, 0x2c, 0x31, 0x0a])]);
    writeFileSync(join(dir, 'bad.csv'), bad);
    const data = await loadCsv(join(dir, 'bad.csv'), { displayName: 'bad.csv' }).catch((e: Error) => e);
    // The cell itself is not a number: the message names it; the UTF-8 warning is for files that load.
    expect(String(data)).toMatch(new RegExp(`bad.csv:${lines}:1: column "a": "1\uFFFD" is not a number \\(the rows above hold numbers`));
    // A label with a byte that is not UTF-8 loads (as U+FFFD), with a warning that names its line.
    const labels = Buffer.concat([Buffer.from(filler), Buffer.from('1,\xff\n', 'latin1')]);
    writeFileSync(join(dir, 'labels.csv'), labels);
    const loaded = await loadCsv(join(dir, 'labels.csv'), { displayName: 'labels.csv', classification: true, target: 'y' });
    expect(loaded.warnings).toEqual([`labels.csv:${lines}: not valid UTF-8 (read as U+FFFD); save the file as UTF-8`]);
    expect(loaded.classes).toContain('\uFFFD');
    // Two-byte characters at every position around a 4 MB read boundary: valid UTF-8, no warning.
    const names = 'é'.repeat(3);
    const ok = await loadCsv(writeFile(dir, 'ok8.csv', `${names},y\n` + Array.from({ length: 700_000 }, (_, i) => `${i},${i % 2 ? 'é' : 'ü'}`).join('\n') + '\n'), { classification: true });
    expect(ok.warnings).toEqual([]);
    expect(ok.classes).toEqual(['é', 'ü'].sort());
  });
});

describe('a large CSV parsed on several threads (24 MB and more)', () => {
  // 260 000 rows of 8 numbers (~25 MB); `edit` replaces or adds lines by their index (0 is the first data line).
  function big(name: string, edit: Record<number, string> = {}, header = 'a,b,c,d,e,f,g,y', crlfEvery = 0, labelled = false, count = 290_000): string {
    let seed = 11;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const cells = Array.from({ length: 8 }, (_, j) => (j === 2 ? (next() * 1e-7).toExponential(9) : ((next() - 0.5) * 10 ** ((i + j) % 5)).toPrecision(9)));
      if (labelled) cells[7] = ['no', 'yes', 'maybe'][i % 3];
      const row = i in edit ? edit[i] : cells.join(',');
      lines.push(crlfEvery && i % crlfEvery === 0 ? `${row}\r` : row);
    }
    return writeFile(dir, name, `${header}\n${lines.join('\n')}\n`);
  }
  const both = async (path: string, options: Parameters<typeof loadCsv>[1] = {}) => {
    const read = async (threads: number) => {
      try {
        return await loadCsv(path, { displayName: 'big.csv', ...options, threads });
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as Error).message;
      }
    };
    // Past the size at which the reader splits a file among threads.
    expect(statSync(path).size).toBeGreaterThan(24 << 20);
    return { one: await read(1), two: await read(2) };
  };
  const same = (a: unknown, b: unknown) => {
    if (typeof a === 'string' || typeof b === 'string') return expect(b).toBe(a);
    const x = a as Awaited<ReturnType<typeof loadCsv>>;
    const y = b as Awaited<ReturnType<typeof loadCsv>>;
    expect([y.n, y.p, y.hash, y.warnings, y.featureNames]).toEqual([x.n, x.p, x.hash, x.warnings, x.featureNames]);
    expect(Buffer.from(y.X.buffer, y.X.byteOffset, y.X.byteLength).equals(Buffer.from(x.X.buffer, x.X.byteOffset, x.X.byteLength))).toBe(true);
    expect(Buffer.from(y.y.buffer, y.y.byteOffset, y.y.byteLength).equals(Buffer.from(x.y.buffer, x.y.byteOffset, x.y.byteLength))).toBe(true);
  };

  it('gives every number bit for bit as one thread does, past blank lines, CRLF ends, a byte order mark and numbers Number() must read', async () => {
    const path = big('plain.csv', { 5: '', 90_000: ' , ,', 120_000: '1e-80,1.00000000000000000001,0x,4,5,6,7,8'.replace('0x', '12345678901234567890123'), 150_000: '\t' }, '\uFEFFa,b,c,d,e,f,g,y', 7);
    const { one, two } = await both(path);
    expect(typeof one).not.toBe('string');
    same(one, two);
    expect((one as { n: number }).n).toBe(290_000 - 3);
    expect(Array.from({ length: 3 }, (_, j) => (one as { X: Float64Array; n: number }).X[j * (one as { n: number }).n + 120_000 - 2])).toEqual([1e-80, 1, 12345678901234567890123]);
  });

  it('a bad cell, a ragged row, a negative weight, text under numbers or an empty label, in either stretch: the same one line, file:line:column', async () => {
    for (const [edit, options, message] of [
      [{ 140_000: '1,2,3,4,x5,6,7,8' }, {}, 'big.csv:140002:5: column "e": "x5" is not a number (the rows above hold numbers; list the column in data.categorical to read it as categories)'],
      [{ 100_001: '1,2,3,4,5,6,7' }, {}, 'big.csv:100003: expected 8 fields as in the header, found 7'],
      [{ 160_000: '1,2,-0.5,4,5,6,7,8' }, { weights: 'c' }, 'big.csv:160002:3: column "c": -0.5 is negative; an observation weight (data.weights) is 0 or more'],
      [{ 130_000: '1,2,3,4,5,6,NA,8' }, {}, 'big.csv:130002:7: column "g": missing value ("NA"); set data.missing to drop (drop such rows), or mean, median or most_frequent (fill a feature\'s gaps)'],
      [{ 150_000: '1,2,3,4,5,6,7, ' }, { classification: true, labelled: true }, 'big.csv:150002:8: column "y": missing label (an empty cell); data.missing: drop drops such rows (a gap is filled only in a feature)'],
    ] as [Record<number, string>, Parameters<typeof loadCsv>[1], string][]) {
      const { labelled, ...rest } = options as { labelled?: boolean };
      const { one, two } = await both(big('bad.csv', edit, undefined, 0, labelled), rest);
      expect(one).toBe(message);
      expect(two).toBe(message);
    }
  });

  it('a file of several windows (16 MB each): the same bits, a line across a window\'s end, a stop in the first window read on one thread to the end', async () => {
    const path = big('windows.csv', { 5: '', 400_000: ' , ,', 650_000: '1e-80,2,3,4,5,6,7,8' }, undefined, 5, false, 700_000);
    const many = await both(path);
    same(many.one, many.two);
    expect((many.two as { n: number }).n).toBe(700_000 - 2);
    // The last line without its newline.
    const open = await both(writeFile(dir, 'windows-open.csv', readFileSync(path, 'latin1').trimEnd()));
    same(open.one, open.two);
    expect((open.two as { n: number }).n).toBe(700_000 - 2);
    // A gap in the weights that data.missing drops: the threads leave it (and what follows) to the one-thread reader.
    const stopped = await both(big('windows-stop.csv', { 100_000: '1,2,NA,4,5,6,7,8' }, undefined, 0, false, 700_000), { weights: 'c', missing: 'drop' });
    same(stopped.one, stopped.two);
    expect((stopped.two as { n: number }).n).toBe(700_000 - 1);
    const late = await both(big('windows-late.csv', { 600_000: '1,2,3,4,x5,6,7,8' }, undefined, 0, false, 700_000));
    expect(late.two).toBe('big.csv:600002:5: column "e": "x5" is not a number (the rows above hold numbers; list the column in data.categorical to read it as categories)');
    expect(late.one).toBe(late.two);
  });

  it('gaps that data.missing drops, a column read past, a quote (the general parser), labels, and categories (read on one thread) past the middle: the same data', async () => {
    const gaps = await both(big('gaps.csv', { 110_000: '1,2,3,NA,5,6,7,8', 165_000: ',2,3,4,5,6,7,8' }), { missing: 'drop' });
    same(gaps.one, gaps.two);
    expect((gaps.two as { n: number }).n).toBe(290_000 - 2);
    const ignored = await both(big('ignored.csv', { 120_000: '1,2,3,4,5,six,7,8' }), { ignore: ['f'] });
    same(ignored.one, ignored.two);
    const quoted = await both(big('quoted.csv', { 150_000: '1,2,3,4,5,"6",7,8' }));
    same(quoted.one, quoted.two);
    const labels = await both(big('labels.csv', { 1: '1,2,3,4,5,6,7,pos', 160_000: '1,2,3,4,5,6,7,pos', 170_000: '1,2,3,4,5,6,7,NA' }, undefined, 0, true), { classification: true, missing: 'drop' });
    same(labels.one, labels.two);
    expect((labels.two as { classes: string[] }).classes).toEqual(['maybe', 'no', 'pos', 'yes']);
    expect((labels.two as { n: number }).n).toBe(290_000 - 1);
    const categories = await both(big('categories.csv', { 0: '1,2,3,4,5,6,seven,8', 160_000: '1,2,3,4,5,6,eight,8' }));
    same(categories.one, categories.two);
  });
});

describe('parseChunk: one stretch of lines, as a reader thread parses it', () => {
  const layout = (capacity: number, options: { gapAllowed?: number[]; kind?: number[] } = {}): ChunkLayout => ({
    name: 'd.csv',
    header: ['a', 'b', 'y'],
    kind: Uint8Array.from(options.kind ?? [0, 0, 0]),
    array: Int32Array.of(0, 0, 1),
    column: Int32Array.of(0, 1, 0),
    arrays: [new Float64Array(2 * capacity), new Float64Array(capacity)],
    capacities: [capacity, capacity],
    gapAllowed: Uint8Array.from(options.gapAllowed ?? [0, 0, 0]),
    missing: ['', 'NA'],
    countsColumn: -1,
    weightsColumn: -1,
  });
  const job = (text: string, firstRow = 0): ChunkJob => ({ bytes: Buffer.from(text), start: 0, end: Buffer.byteLength(text), firstLine: 10, firstRow });

  it('reads plain and Number()-read numbers at their rows past blank lines and CRLF ends, without stopping', () => {
    const l = layout(8);
    expect(parseChunk(l, job('1,2,3\r\n\n , ,\n4.5,1e-80,6\n12345678901234567890123,8,9', 2))).toEqual({ rows: 3, labels: [], foldLabels: [], stopped: null });
    expect(Array.from(l.arrays[0])).toEqual([0, 0, 1, 4.5, 12345678901234567890123, 0, 0, 0, 0, 0, 2, 1e-80, 8, 0, 0, 0]);
    expect(Array.from(l.arrays[1]).slice(2, 5)).toEqual([3, 6, 9]);
  });

  it('stops at the line the one-thread reader must read: text, a quote, a ragged row, a gap not allowed', () => {
    for (const [text, rows, at, line] of [
      ['1,2,3\n4,x,6\n', 1, 6, 11],
      ['1,2,3\n4,5,6\n7,"8",9\n', 2, 12, 12],
      ['1,2,3,4\n', 0, 0, 10],
      ['1,2\n', 0, 0, 10],
      ['1,2,3\n\n4,NA,6\n', 1, 7, 12],
    ] as [string, number, number, number][])
      expect(parseChunk(layout(4), job(text))).toEqual({ rows, labels: [], foldLabels: [], stopped: { at, line } });
    // A gap the rules allow is NaN; a column read past may hold text.
    const l = layout(4, { gapAllowed: [1, 1, 0], kind: [0, 1, 0] });
    expect(parseChunk(l, job('NA,text,3\n'))).toEqual({ rows: 1, labels: [], foldLabels: [], stopped: null });
    expect(l.arrays[0][0]).toBeNaN();
    // Labels and fold labels in row order; a gap in them only where allowed, an empty label stops (with the labels
    // before its line).
    expect(parseChunk(layout(4, { kind: [0, 3, 2], gapAllowed: [0, 0, 1] }), job('1, f1 ,yes\n2,f2,NA\n3,f1,\n4,f2,no\n'))).toEqual({
      rows: 4, labels: ['yes', null, null, 'no'], foldLabels: ['f1', 'f2', 'f1', 'f2'], stopped: null,
    });
    expect(parseChunk(layout(4, { kind: [0, 3, 2] }), job('1, f1 ,yes\n2,f2,NA\n3,f1,no\n'))).toEqual({ rows: 1, labels: ['yes'], foldLabels: ['f1'], stopped: { at: 11, line: 11 } });
  });
});
