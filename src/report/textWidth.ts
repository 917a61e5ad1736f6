// Text measured without a browser, for vega: the widths chromium gives its default font (scripts/measure-text.mjs),
// so that a chart drawn here (the live server's drawings, the report's SVG and PNG files) has the layout the browser
// gives it. vega's own fallback (0.8 em a character) cut legend labels such as "elasticnet l1_ratio=0.95" short.
import { SANS_SERIF_WIDTHS } from './textWidths.js';

export type WidthTable = typeof SANS_SERIF_WIDTHS;

/**
 * The width in pixels of a vega text item's line: its font size (vega's default 11) and weight, capped at its
 * `limit` (vega truncates longer text to it). Self-contained, so that the live page runs the same function (its source).
 */
export function textWidth(table: WidthTable, item: { fontSize?: unknown; fontWeight?: unknown; limit?: unknown }, text: unknown): number {
  const line = text == null ? '' : String(text).trim();
  const size = item.fontSize != null ? +(item.fontSize as number) || 0 : 11;
  const weight = item.fontWeight;
  const ems = weight === 'bold' || weight === 'bolder' || +(weight as number) >= 600 ? table.bold : table.normal;
  let em = 0;
  for (const c of line) {
    const k = table.chars.indexOf(c);
    // A character not measured counts as a digit's width.
    em += k < 0 ? ems[16] : ems[k];
  }
  const limit = +(item.limit as number) || 0;
  return limit > 0 ? Math.min(em * size, limit) : em * size;
}

/** vega's text width, for vega's textMetrics. */
export const vegaTextWidth = (item: Parameters<typeof textWidth>[1], text: unknown) => textWidth(SANS_SERIF_WIDTHS, item, text);
