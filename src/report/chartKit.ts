// What every chart of the report, the live page and the compare page share: the schema, the λ and loss axes, panel
// sizes and how numbers are written.
import type { TopLevelSpec } from 'vega-lite';
import { groupLabel } from './data.js';

export interface Chart {
  /** File stem: fit.vl.json, fit.svg, fit.png. */
  id: string;
  title: string;
  /** One sentence under the title saying how to read it. */
  caption: string;
  /** A paragraph reading the chart on this sweep's numbers (the report and the live page print it). */
  guide?: string;
  spec: TopLevelSpec;
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** A λ axis: log scale, powers written 1e-4 (never SI prefixes), labels that would overlap left out. */
export const LAMBDA_AXIS = { format: '.0e', labelOverlap: 'greedy', labelSeparation: 6 } as const;
export const lambdaAxis = { field: 'lambda', type: 'quantitative', scale: { type: 'log' }, title: 'λ (log scale)', axis: LAMBDA_AXIS } as const;
/**
 * A loss axis: plain decimals (6500, 0.25), never SI prefixes ("700m" reads as milli-units) nor exponents, labels
 * that would overlap left out.
 */
export const LOSS_AXIS = { format: '~r', labelOverlap: 'greedy', labelSeparation: 4 } as const;
export const PANEL = { width: 260, height: 180 };

/** Panels per row of a faceted chart: as many as there are up to three, and 2 × 2 for four (no empty panels). */
export function facetColumns(rows: Record<string, unknown>[], field: string): number {
  return panelColumns(new Set(rows.map((r) => r[field])).size);
}

export function panelColumns(count: number): number {
  return count === 4 ? 2 : Math.max(1, Math.min(3, count));
}

/** Three significant digits, as every number on a chart is shown. */
export const sig3 = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x));

/**
 * The fits of groups (penalty, l1 ratio, settings) with at least two λ: a random sweep's elastic-net points each have
 * their own l1 ratio, and a one-point "path" per point would make a panel or a legend entry each.
 */
export function onPaths<T extends { penalty: string; l1Ratio: number; settings: string; lambda: number }>(fits: T[]): T[] {
  const lambdas = new Map<string, Set<number>>();
  for (const f of fits) {
    const key = groupLabel(f.penalty, f.l1Ratio, f.settings);
    if (!lambdas.has(key)) lambdas.set(key, new Set());
    lambdas.get(key)!.add(f.lambda);
  }
  return fits.filter((f) => lambdas.get(groupLabel(f.penalty, f.l1Ratio, f.settings))!.size >= 2);
}
