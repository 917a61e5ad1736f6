// What the commands print: tables, JSON records and writes that wait for a slow reader.
import { settingsLabel, type Selection } from '../domain.js';
import type { Comparison } from '../results/compare.js';
import { selectionRecord } from '../results/records.js';
import { fmt } from '../select/cv.js';

export function selectionTable(rows: Selection[]): string {
  const varied = rows.some((s) => s.settings);
  // Several classes or responses: coefficients and, as glmnet counts them, the features in the model.
  const byFeature = rows.some((s) => s.featuresMin !== undefined);
  const lines = rows.map((s) => ({
    penalty: s.penalty,
    l1_ratio: s.penalty === 'elasticnet' ? fmt(s.l1Ratio) : '',
    ...(varied ? { settings: settingsLabel(s.settings) } : {}),
    lambda_min: fmt(s.lambdaMin),
    // One validation set (a holdout) has no standard error.
    [s.metric]: `${fmt(s.meanMin)} ± ${s.seMin > 0 ? fmt(s.seMin) : '—'}`,
    nnz: s.nnzMin ?? '',
    ...(byFeature ? { features: s.featuresMin ?? '' } : {}),
    lambda_1se: fmt(s.lambda1se),
    nnz_1se: s.nnz1se ?? '',
    ...(byFeature ? { features_1se: s.features1se ?? '' } : {}),
    note: s.edge ? `λ_min on the ${s.edge === 'largest' ? 'upper' : 'lower'} edge of the grid` : '',
  }));
  return table(lines);
}

export function comparisonTable(c: Comparison): string {
  const side = (label: string, sel: Selection | null) => ({
    [`${label}: lambda_min`]: sel ? fmt(sel.lambdaMin) + (sel.penalty === 'elasticnet' ? ` (l1_ratio ${fmt(sel.l1Ratio)})` : '') : '—',
    [`${label}: ${c.metric}`]: sel ? `${fmt(sel.meanMin)} ± ${sel.seMin > 0 ? fmt(sel.seMin) : '—'}` : '—',
    [`${label}: nnz`]: sel?.nnzMin ?? '',
  });
  return table(c.rows.map((r) => ({ penalty: r.penalty, ...side('A', r.a), ...side('B', r.b), better: r.verdict })));
}

export function comparisonRecord(c: Comparison, report: string | undefined): Record<string, unknown> {
  return {
    metric: c.metric,
    same_data: c.sameData,
    comparable: c.incomparable === null,
    sweeps: c.sweeps.map((s) => ({ label: s.label, database: s.location, name: s.sweep.name, id: s.sweep.id, model: s.sweep.modelKind, rows: s.sweep.n, features: s.sweep.p, data_hash: s.sweep.dataHash })),
    best: c.rows.map((r) => ({ penalty: r.penalty, A: r.a && selectionRecord(c.sweeps[0].sweep, r.a), B: r.b && selectionRecord(c.sweeps[1].sweep, r.b), better: r.verdict || null })),
    notes: c.notes,
    ...(report ? { report } : {}),
  };
}

export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const cols = Object.keys(rows[0]);
  const text = rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = cols.map((c, k) => Math.max(c.length, ...text.map((t) => t[k].length)));
  const line = (cells: string[]) => cells.map((s, k) => s.padEnd(widths[k])).join('  ').trimEnd();
  return [line(cols), ...text.map(line)].join('\n') + '\n';
}

/** Writes to standard output, waiting when the reader is slower (a large export is not buffered whole). */
export function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

export async function print(rows: Record<string, unknown>[], json: boolean) {
  const shown = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? `<${v.length} bytes>` : v])));
  if (json) await write(JSON.stringify(shown, null, 1) + '\n');
  else await write(table(shown));
}
