// A new row's cells as the model's features, by the encoding the sweep was fitted with: categories as their
// indicators (a level not seen in training refused, or all zeros when asked), gaps filled with the final model's values.
import type { Encoding } from '../domain.js';
import { UserError } from '../errors.js';
import { parseCell } from '../data/cells.js';

export type UnknownLevel = 'error' | 'zero';

/**
 * Writes one row's features into `row` from its cells (`cells[c]`: the cell of the encoding's column c, `at[c]` its
 * column in the file).
 */
export function rowEncoder(encoding: Encoding, unknownLevel: UnknownLevel) {
  const missing = new Set(encoding.naValues.map((t) => t.trim()));
  const levelIndex = encoding.columns.map((c) => (c.kind === 'categorical' ? new Map(c.levels.map((l, k) => [l, k])) : undefined));
  return (cells: string[], file: string, line: number, at: number[], row: Float64Array): void => {
    let out = 0;
    encoding.columns.forEach((column, c) => {
      const raw = cells[c];
      const text = raw.trim();
      const where = () => `${file}:${line}:${at[c] + 1}: column "${column.name}"`;
      const gap = missing.has(text);
      if (gap && column.fill === null)
        throw new UserError(
          `${where()}: missing value (${text === '' ? 'an empty cell' : `"${text}"`}); the model was fitted with data.missing: ${encoding.missing}, so it has no value to fill a gap with`,
        );
      if (column.kind === 'numeric') row[out++] = gap ? (column.fill as number) : parseCell(raw, file, () => line, at[c], column.name);
      else {
        const level = gap ? (column.fill as string) : text;
        const k = levelIndex[c]!.get(level);
        if (k === undefined && unknownLevel === 'error')
          throw new UserError(`${where()}: level "${level}" was not seen in training (levels: ${column.levels.join(', ')}); --unknown-level zero encodes it as all zeros`);
        const first = column.dropFirst ? 1 : 0;
        const width = column.levels.length - first;
        for (let l = 0; l < width; l++) row[out + l] = k === l + first ? 1 : 0;
        out += width;
      }
      if (column.indicator) row[out++] = gap ? 1 : 0;
    });
  };
}
