// Reading a results database: the library side of `regsweep query` and `regsweep export`.
import { UserError } from './errors.js';
import { METRICS, edgeWarning, selectLambdas, selectionsToShow, summarize } from './select/cv.js';
import { SqliteStore } from './store/sqlite.js';
import type { SelectionRow, SweepRecord } from './store/types.js';
import type { SweepConfig } from './config/schema.js';

/** The validated config a sweep was run with (stored as JSON with the sweep). */
export function sweepConfig(sweep: SweepRecord): SweepConfig {
  return JSON.parse(sweep.configJson) as SweepConfig;
}

export interface ResultsHandle {
  store: SqliteStore;
  sweep: SweepRecord;
}

/** Opens a database read-only and picks a sweep: the named one (latest of that name) or the latest. */
export function openResults(dbPath: string, sweepName?: string): ResultsHandle {
  const store = SqliteStore.openReadOnly(dbPath);
  const sweep = store.latestSweep(sweepName);
  if (!sweep) {
    const names = [...new Set(store.listSweeps().map((s) => s.name))];
    store.close();
    throw new UserError(
      sweepName ? `${dbPath}: no sweep named "${sweepName}" (sweeps: ${names.join(', ') || 'none'})` : `${dbPath}: the database holds no sweep yet`,
    );
  }
  return { store, sweep };
}

export function withResults<T>(dbPath: string, sweepName: string | undefined, fn: (h: ResultsHandle) => T): T {
  const handle = openResults(dbPath, sweepName);
  try {
    return fn(handle);
  } finally {
    handle.store.close();
  }
}

export interface BestResult {
  sweep: SweepRecord;
  metric: string;
  selections: SelectionRow[];
  warnings: string[];
  /** Trials finished / planned, for a sweep that is still running or was interrupted. */
  trialsDone: number;
}

/** Best λ per (penalty, l1_ratio) for a metric (val_loss, accuracy, auc), with λ_1se and edge warnings. */
export function bestTrials(dbPath: string, options: { sweep?: string; metric?: string } = {}): BestResult {
  const metricName = options.metric ?? 'val_loss';
  const metric = METRICS[metricName];
  if (!metric) throw new UserError(`--metric: unknown metric "${metricName}" (metrics: ${Object.keys(METRICS).join(', ')})`);
  return withResults(dbPath, options.sweep, ({ store, sweep }) => {
    const trials = store.trials(sweep.id);
    // Computed from the trials, not read from the summary table, so a running sweep can be asked too.
    const selections = selectionsToShow(selectLambdas(summarize(trials, metric), metric), sweepConfig(sweep).sweep.kind, metric);
    const warnings = selections.map(edgeWarning).filter((w): w is string => w !== undefined);
    if (selections.length === 0)
      warnings.push(`no validation results for ${metricName} (validation kind none, or no fold finished yet)`);
    if (sweep.status !== 'done') warnings.push(`sweep "${sweep.name}" is ${sweep.status}: ${trials.length} of ${sweep.totalTrials} trials recorded`);
    return { sweep, metric: metricName, selections, warnings, trialsDone: trials.length };
  });
}

/** Runs one SQL statement on a read-only connection; anything that would write is refused before it runs. */
export function runSql(dbPath: string, sql: string): Record<string, unknown>[] {
  const store = SqliteStore.openReadOnly(dbPath);
  try {
    let stmt;
    try {
      stmt = store.db.prepare(sql);
    } catch (e) {
      throw new UserError(`--sql: ${(e as Error).message}`);
    }
    if (!stmt.reader || !stmt.readonly) throw new UserError('--sql: only statements that read (SELECT ...) are allowed; the database was not changed');
    try {
      return stmt.all() as Record<string, unknown>[];
    } catch (e) {
      throw new UserError(`--sql: ${(e as Error).message}`);
    }
  } finally {
    store.close();
  }
}

export type ExportTable = 'trials' | 'summary' | 'coefficients' | 'selections';

/** Rows of one table as plain objects, columns in a stable order. */
export function exportRows(dbPath: string, options: { table: ExportTable; fold?: string; sweep?: string }): Record<string, unknown>[] {
  return withResults(dbPath, options.sweep, ({ store, sweep }) => {
    const filter = options.fold !== undefined ? { fold: options.fold } : {};
    switch (options.table) {
      case 'trials':
        return store.trials(sweep.id, filter).map(({ id, sweepId: _s, metrics, ...t }) => ({ sweep: sweep.name, trial_id: id, ...snake(t), ...metrics }));
      case 'summary':
        return store.summary(sweep.id).map((r) => ({ sweep: sweep.name, ...snake(r) }));
      case 'selections':
        return store.selections(sweep.id).map((r) => ({ sweep: sweep.name, ...snake(r) }));
      case 'coefficients': {
        const columns = coefficientColumns(sweep);
        return store.coefficients(sweep.id, filter).map((c) => {
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
function coefficientColumns(sweep: SweepRecord): string[] {
  if (sweep.targetNames.length === 1) return sweep.featureNames;
  return sweep.targetNames.flatMap((t) => sweep.featureNames.map((f) => `${t}:${f}`));
}

function snake(obj: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

export function toCsv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
