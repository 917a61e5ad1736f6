// `regsweep export`: a stored table as rows, with one name per column; CSV or JSON.
import type { Sweep } from '../domain.js';
import { UserError } from '../errors.js';
import type { SweepSelector } from '../store/contract.js';
import { sweepConfig, withResults } from './open.js';
import { cvPointRecord, selectionRecord, trialRecord } from './records.js';

export const EXPORT_TABLES = ['trials', 'summary', 'selections', 'coefficients'] as const;
export type ExportTable = (typeof EXPORT_TABLES)[number];

/** The folds a sweep has: "all" and 0 … K−1 (none with validation kind none). */
function foldsOf(sweep: Sweep): string[] {
  const v = sweepConfig(sweep).validation;
  const count = v.kind === 'kfold' ? v.folds : v.kind === 'holdout' ? 1 : 0;
  return ['all', ...Array.from({ length: count }, (_, k) => String(k))];
}

/** Rows of one table as plain objects, columns in a stable order. */
export async function exportRows(location: string, options: { table: ExportTable; fold?: string; sweep?: SweepSelector }): Promise<Record<string, unknown>[]> {
  return withResults(location, options.sweep, async ({ store, sweep }) => {
    if (options.fold !== undefined) {
      const folds = foldsOf(sweep);
      if (!folds.includes(options.fold))
        throw new UserError(`--fold ${options.fold}: sweep "${sweep.name}" has folds ${folds.join(', ')} ("all" is the fit on all rows)${/lambda|min|1se/i.test(options.fold) ? '; λ_min and λ_1se are in --table selections' : ''}`);
      if (options.table === 'summary' || options.table === 'selections') throw new UserError(`--fold: the ${options.table} table is over folds already; --fold applies to trials and coefficients`);
    }
    const filter = options.fold !== undefined ? { fold: options.fold } : {};
    switch (options.table) {
      case 'trials':
        return (await store.trials(sweep.id, filter)).map((t) => trialRecord(sweep, t));
      case 'summary':
        return (await store.summary(sweep.id)).map((r) => cvPointRecord(sweep, r));
      case 'selections':
        return (await store.selections(sweep.id)).map((r) => selectionRecord(sweep, r));
      case 'coefficients': {
        const config = sweepConfig(sweep);
        if (config.model.kind === 'mlp' && config.model.hidden.length > 0)
          throw new UserError(
            `--table coefficients: sweep "${sweep.name}" trains networks with hidden layers ${JSON.stringify(config.model.hidden)}, which have no coefficient per feature; ` +
              `their losses are in --table trials (and learning curves in the epochs table)`,
          );
        const columns = coefficientColumns(sweep);
        return (await store.coefficients(sweep.id, filter)).map((c) => {
          const row: Record<string, unknown> = { sweep: sweep.name, penalty: c.penalty, lambda: c.lambda, l1_ratio: c.l1Ratio, fold: c.fold };
          if (c.intercept.length === 1) row.intercept = c.intercept[0];
          else sweep.targetNames.forEach((t, k) => (row[`intercept:${t}`] = c.intercept[k]));
          columns.forEach((name, j) => (row[name] = c.coefs[j]));
          return row;
        });
      }
    }
  });
}

/** Feature names as in the data header; with several targets, "target:feature". */
export function coefficientColumns(sweep: Sweep): string[] {
  if (sweep.targetNames.length === 1) return sweep.featureNames;
  return sweep.targetNames.flatMap((t) => sweep.featureNames.map((f) => `${t}:${f}`));
}

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV lines (header first), a line at a time, so a large export is never one string. */
export function* csvLines(rows: Record<string, unknown>[]): Generator<string> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  yield columns.map(csvCell).join(',') + '\n';
  for (const r of rows) yield columns.map((c) => csvCell(r[c])).join(',') + '\n';
}

export function toCsv(rows: Record<string, unknown>[]): string {
  return [...csvLines(rows)].join('');
}
