import { describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
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
    expect(await errorOf('a,b,y\n1,2,3\n4,x5,6\n')).toBe('d.csv:3:2: column "b": "x5" is not a number');
  });
  it('names line of a ragged row', async () => {
    expect(await errorOf('a,b,y\n1,2,3\n4,5\n7,8,9\n')).toBe('d.csv:3: expected 3 fields as in the header, found 2');
  });
  it('counts lines past blank lines, whitespace-only lines and quoted line breaks', async () => {
    expect(await errorOf('a,b,y\n1,2,3\n\n  \n4,  ,1\n')).toMatch(/^d.csv:5:2: column "b": empty cell/);
    expect(await errorOf('a,"b\nc",y\n1,2,3\n4,z,6\n')).toBe('d.csv:4:2: column "b\nc": "z" is not a number');
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
    expect(await errorOf('a,b,y\n1,NaN,3\n')).toBe('d.csv:2:2: column "b": NaN is not allowed');
    expect(await errorOf('a,b,y\n1,2,3\n1,2,-Infinity\n')).toBe('d.csv:3:3: column "y": "-Infinity" is infinite');
    expect(await errorOf('a,b,y\n1,,3\n')).toMatch(/^d.csv:2:2: column "b": empty cell/);
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
});
