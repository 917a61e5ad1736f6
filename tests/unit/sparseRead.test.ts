import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { readSparseDesign } from '../../src/data/sparse.js';
import { Rng } from '../../src/util/random.js';

const dir = mkdtempSync(join(tmpdir(), 'regsweep-sparse-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Matrix Market file of the given entries (1-based row, column, value) in the order given. */
function matrixMarket(name: string, n: number, p: number, entries: [number, number, number][]): string {
  const path = join(dir, name);
  writeFileSync(path, `%%MatrixMarket matrix coordinate real general\n${n} ${p} ${entries.length}\n${entries.map((e) => e.join(' ')).join('\n')}\n`);
  return path;
}

describe('the Matrix Market reader', () => {
  // A 40 × 30 matrix, a fifth of it nonzero, its columns compressed here from a dense copy: the reference.
  const rng = new Rng(3);
  const n = 40;
  const p = 30;
  const dense = Array.from({ length: p }, () => Array.from({ length: n }, () => (rng.uniform() < 0.2 ? Math.round(rng.normal() * 100) / 10 || 1 : 0)));
  const byColumn: [number, number, number][] = [];
  for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) if (dense[j][i] !== 0) byColumn.push([i + 1, j + 1, dense[j][i]]);
  const expected = { starts: [0], rows: [] as number[], values: [] as number[] };
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) if (dense[j][i] !== 0) expected.rows.push(i), expected.values.push(dense[j][i]);
    expected.starts.push(expected.rows.length);
  }
  const read = (path: string) => {
    const { sparse } = readSparseDesign(path, 'matrix-market', path);
    return { starts: Array.from(sparse.starts), rows: Array.from(sparse.rows), values: Array.from(sparse.values) };
  };

  it('gives the same compressed columns whatever the order of the entries, and drops explicit zeros', () => {
    const byRow = [...byColumn].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const shuffled = [...byColumn];
    for (let k = shuffled.length - 1; k > 0; k--) {
      const r = Math.floor(rng.uniform() * (k + 1));
      [shuffled[k], shuffled[r]] = [shuffled[r], shuffled[k]];
    }
    // In column order for its first half, then not: the reader switches from counting columns to keeping them.
    const half = Math.floor(byColumn.length / 2);
    const switched = [...byColumn.slice(0, half), ...byColumn.slice(half).reverse()];
    const withZeros = [...byColumn.slice(0, 5), [n, p, 0] as [number, number, number], ...byColumn.slice(5), [1, p, 0] as [number, number, number]];
    for (const [name, entries] of [
      ['columns.mtx', byColumn],
      ['rows.mtx', byRow],
      ['shuffled.mtx', shuffled],
      ['switched.mtx', switched],
      ['zeros.mtx', withZeros],
    ] as const)
      expect(read(matrixMarket(name, n, p, entries)), name).toEqual(expected);
  });

  it('refuses an entry given twice, next to each other in column order or apart', () => {
    const twiceInOrder = [...byColumn.slice(0, 3), byColumn[2], ...byColumn.slice(3)];
    const twiceApart = [...byColumn, byColumn[0]];
    for (const [name, entries] of [
      ['twice-in-order.mtx', twiceInOrder],
      ['twice-apart.mtx', twiceApart],
    ] as const) {
      const path = matrixMarket(name, n, p, entries);
      expect(() => readSparseDesign(path, 'matrix-market', name)).toThrow(UserError);
      expect(() => readSparseDesign(path, 'matrix-market', name)).toThrow(/both give row \d+, column \d+/);
    }
  });
});
