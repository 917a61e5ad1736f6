// A data cell as a number, as every reader of text data checks it: decimal, finite, not too large.
import { UserError } from '../errors.js';

/** Past this magnitude a column's sum of squares overflows double precision (its sd would be infinite). */
export const LARGEST_VALUE = 1e150;
/** Number() also reads hexadecimal, octal and binary literals; a data cell is decimal. */
const NOT_DECIMAL = /[xXoObB]/;

/** A cell as a number; `line` is asked for only when there is something to report. */
export function parseCell(cell: string, file: string, line: () => number, j: number, column: string): number {
  const v = Number(cell);
  // Number() reads surrounding spaces as part of the number, and a blank cell as 0.
  if (Number.isFinite(v) && (v !== 0 || cell.trim() !== '') && Math.abs(v) < LARGEST_VALUE && !NOT_DECIMAL.test(cell)) return v;
  const where = `${file}:${line()}:${j + 1}: column "${column}"`;
  cell = cell.trim();
  if (Number.isFinite(v) && NOT_DECIMAL.test(cell)) throw new UserError(`${where}: "${cell}" is not a decimal number`);
  if (Number.isFinite(v) && Math.abs(v) >= LARGEST_VALUE)
    throw new UserError(`${where}: ${cell} is too large in magnitude (at most 1e150: its square would overflow); rescale the column`);
  if (cell === '') throw new UserError(`${where}: empty cell (a missing value: data.missing drops or fills them)`);
  if (Number.isNaN(v)) {
    if (/^[+-]?nan$/i.test(cell)) throw new UserError(`${where}: NaN is not allowed`);
    throw new UserError(`${where}: "${cell}" is not a number`);
  }
  if (!Number.isFinite(v)) throw new UserError(`${where}: "${cell}" is infinite`);
  return v;
}

