// One stretch of a numeric CSV's lines, parsed straight into the columns the whole file goes to (shared memory): the
// part of the CSV reader that runs on several threads at once (data/csv.ts splits the file at line starts). Anything
// this does not read as the one-thread reader would — text, a quote, a cell that fails a check, a gap the rules
// refuse, a wrong number of fields — stops it at that line, and the one-thread reader goes on from there, with its
// messages and its file:line:column.
import { parseCell } from './cells.js';
import { readDecimal } from './decimal.js';

/** How each column of the file is read, and where its numbers go. */
export interface ChunkLayout {
  name: string;
  header: string[];
  /** Per column: 1 when its cells are read past (data.ignore), 2 when they are labels, 3 fold labels, 0 numbers. */
  kind: Uint8Array;
  /** Per column: the array its numbers go to, and the column within it (row r at column × capacity + r). */
  array: Int32Array;
  column: Int32Array;
  arrays: Float64Array[];
  capacities: number[];
  /** Per column: 1 when data.missing allows a gap there (a number's is NaN, a label's null). */
  gapAllowed: Uint8Array;
  missing: string[];
  /** The column of a poisson target (non-negative integers) and of the observation weights (≥ 0), or −1. */
  countsColumn: number;
  weightsColumn: number;
}

export interface ChunkJob {
  /** The file's bytes (shared among the threads). */
  bytes: Uint8Array;
  /** Byte range: starts at a line's start, ends after a newline (or at the end of the file). */
  start: number;
  end: number;
  /** The 1-based line number of the line at `start`, and the row its first data line goes to. */
  firstLine: number;
  firstRow: number;
}

/** Rows written from firstRow on, their labels and fold labels; where it stopped (a line the one-thread reader must read), or null. */
export interface ChunkDone {
  rows: number;
  labels: (string | null)[];
  foldLabels: (string | null)[];
  stopped: { at: number; line: number } | null;
}

/** What a column of the layout holds. */
export const enum CellKind {
  Number = 0,
  Skip = 1,
  Label = 2,
  FoldLabel = 3,
}

/** Blank, or commas and blanks only: skipped, as Papa Parse's skipEmptyLines 'greedy' does. */
export function blank(b: Uint8Array, start: number, end: number): boolean {
  let k = start;
  while (k < end && (b[k] === 32 || b[k] === 9 || b[k] === 44)) k++;
  return k === end;
}

/** Parses the lines of a job into the layout's arrays. */
export function parseChunk(layout: ChunkLayout, job: ChunkJob): ChunkDone {
  const { bytes: b, end: chunkEnd } = job;
  const { kind, array, column, arrays, capacities, gapAllowed, countsColumn, weightsColumn } = layout;
  const columns = kind.length;
  const labels: (string | null)[] = [];
  const foldLabels: (string | null)[] = [];
  // A stopped line's labels are left to the one-thread reader.
  const stop = (at: number, line: number, labelsBefore: number, foldLabelsBefore: number): ChunkDone => ({
    rows,
    labels: labels.slice(0, labelsBefore),
    foldLabels: foldLabels.slice(0, foldLabelsBefore),
    stopped: { at, line },
  });
  const missing = new Set(layout.missing);
  const at = new Int32Array(columns);
  let rows = 0;
  let line = job.firstLine;
  for (let start = job.start; start < chunkEnd; line++) {
    let nl = b.indexOf(10, start);
    if (nl < 0 || nl >= chunkEnd) nl = chunkEnd;
    let end = nl;
    if (end > start && b[end - 1] === 13) end--;
    const lineStart = start;
    start = nl + 1;
    if (blank(b, lineStart, end)) continue;
    const row = job.firstRow + rows;
    const labelsBefore = labels.length;
    const foldLabelsBefore = foldLabels.length;
    for (let j = 0; j < columns; j++) at[j] = column[j] * capacities[array[j]] + row;
    let k = lineStart;
    let j = 0;
    let ok = true;
    for (;;) {
      if (j === columns) {
        ok = false;
        break;
      }
      const out = arrays[array[j]];
      let next = kind[j] === CellKind.Number ? readDecimal(b, k, end, out, at[j]) : -1;
      if (next < 0 || (next < end && b[next] !== 44)) {
        let fieldEnd = b.indexOf(44, k);
        if (fieldEnd < 0 || fieldEnd > end) fieldEnd = end;
        const list = kind[j] === CellKind.Label ? labels : kind[j] === CellKind.FoldLabel ? foldLabels : undefined;
        if (!readText(b, k, fieldEnd, j, line, layout, missing, out, at[j], list, gapAllowed[j] === 1)) {
          ok = false;
          break;
        }
        next = fieldEnd;
      }
      if (j === countsColumn) {
        const v = out[at[j]];
        if (!(Number.isInteger(v) && v >= 0)) {
          ok = false;
          break;
        }
      } else if (j === weightsColumn && !(out[at[j]] >= 0)) {
        ok = false;
        break;
      }
      j++;
      if (next >= end) break;
      k = next + 1;
    }
    if (!ok || j !== columns) return stop(lineStart, line, labelsBefore, foldLabelsBefore);
    rows++;
  }
  return { rows, labels, foldLabels, stopped: null };
}

/**
 * A cell that is not a plain decimal: read past, a label (into `labels`), a gap, or a number Number() reads; false
 * when the reader must see it.
 */
function readText(b: Uint8Array, start: number, end: number, j: number, line: number, layout: ChunkLayout, missing: Set<string>, out: Float64Array, at: number, labels: (string | null)[] | undefined, gapAllowed: boolean): boolean {
  for (let k = start; k < end; k++) if (b[k] === 34 || b[k] === 13) return false;
  if (layout.kind[j] === CellKind.Skip) return true;
  const text = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
  const cell = text.trim();
  if (missing.has(cell)) {
    if (!gapAllowed) return false;
    if (labels) labels.push(null);
    else out[at] = NaN;
    return true;
  }
  if (labels) {
    if (cell === '') return false;
    labels.push(cell);
    return true;
  }
  if (Number.isNaN(Number(cell))) return false;
  try {
    out[at] = parseCell(text, layout.name, () => line, j, layout.header[j]);
    return true;
  } catch {
    return false;
  }
}
