// `regsweep export`: a stored table as rows, with one name per column; CSV or JSON.
import { outputNames, sweepFamily, type Sweep, type TrialCoefficients, type TrialPredictions } from '../domain.js';
import { UserError } from '../errors.js';
import type { Store, SweepSelector } from '../store/contract.js';
import { sweepConfig, withResults } from './open.js';
import type { ExportTable } from './tables.js';
import { cvPointRecord, selectionRecord, settingColumns, trialRecord } from './records.js';


/** The folds a sweep has: "all" and 0 … K−1 (none with validation kind none; repeats × folds with repeats). */
function foldsOf(sweep: Sweep, stored: { perRepeat: number; repeats: number } | undefined): string[] {
  const v = sweepConfig(sweep).validation;
  const count = stored ? stored.perRepeat * stored.repeats : v.kind === 'kfold' ? v.folds * (v.repeats ?? 1) : v.kind === 'holdout' ? 1 : 0;
  return ['all', ...Array.from({ length: count }, (_, k) => String(k))];
}

/** Rows of one table as plain objects, columns in a stable order. */
export async function exportRows(location: string, options: { table: ExportTable; fold?: string; sweep?: SweepSelector; layout?: 'wide' | 'long' }): Promise<Record<string, unknown>[]> {
  return withResults(location, options.sweep, async ({ store, sweep }) => {
    const stored = await store.folds(sweep.id);
    if (options.fold !== undefined) {
      const folds = foldsOf(sweep, stored);
      if (!folds.includes(options.fold))
        throw new UserError(`--fold ${options.fold}: sweep "${sweep.name}" has folds ${folds.join(', ')} ("all" is the fit on all rows)${/lambda|min|1se/i.test(options.fold) ? '; λ_min and λ_1se are in --table selections' : ''}`);
      if (options.table === 'summary' || options.table === 'selections' || options.table === 'folds') throw new UserError(`--fold: the ${options.table} table is over folds already; --fold applies to trials, coefficients and predictions`);
    }
    const filter = options.fold !== undefined ? { fold: options.fold } : {};
    switch (options.table) {
      case 'trials':
        return (await store.trials(sweep.id, filter)).map((t) => trialRecord(sweep, t));
      case 'summary':
        return (await store.summary(sweep.id)).map((r) => cvPointRecord(sweep, r));
      case 'selections':
        return (await store.selections(sweep.id)).map((r) => selectionRecord(sweep, r));
      case 'folds':
        return foldRows(sweep, stored);
      case 'predictions':
        return predictionRows(sweep, await store.predictions(sweep.id, filter));
      case 'coefficients': {
        const config = sweepConfig(sweep);
        if (config.model.kind === 'mlp' && config.model.hidden.length > 0 && !config.sweep.model?.hidden)
          throw new UserError(
            `--table coefficients: sweep "${sweep.name}" trains networks with hidden layers ${JSON.stringify(config.model.hidden)}, which have no coefficient per feature; ` +
              `their losses are in --table trials (and learning curves in the epochs table)`,
          );
        const columns = coefficientColumns(sweep);
        const coefficients = await store.coefficients(sweep.id, filter);
        if (options.layout === 'long') return longCoefficients(sweep, coefficients, columns);
        return coefficients.map((c) => {
          const row: Record<string, unknown> = { sweep: sweep.name, penalty: c.penalty, lambda: c.lambda, l1_ratio: c.l1Ratio, ...settingColumns(sweep, c.settings), fold: c.fold };
          // A Cox model has no intercept (the 0 stored is not one).
          if (sweepFamily(sweep) !== 'cox') {
            if (c.intercept.length === 1) row.intercept = c.intercept[0];
            else outputNames(sweep).forEach((t, k) => (row[`intercept:${t}`] = c.intercept[k]));
          }
          columns.forEach((name, j) => (row[name] = c.coefs[j]));
          return row;
        });
      }
    }
  });
}

/**
 * The coefficients as a row per fit and term with a nonzero value (`--layout long`), the intercepts always: what a
 * sweep over tens of thousands of sparse features needs instead of as many columns (glmnet's sparse coefficient matrix).
 */
function longCoefficients(sweep: Sweep, coefficients: TrialCoefficients[], columns: string[]): Record<string, unknown>[] {
  const outputs = outputNames(sweep);
  const rows: Record<string, unknown>[] = [];
  for (const c of coefficients) {
    const fit = { sweep: sweep.name, penalty: c.penalty, lambda: c.lambda, l1_ratio: c.l1Ratio, ...settingColumns(sweep, c.settings), fold: c.fold };
    if (sweepFamily(sweep) !== 'cox') c.intercept.forEach((value, k) => rows.push({ ...fit, term: c.intercept.length === 1 ? 'intercept' : `intercept:${outputs[k]}`, value }));
    columns.forEach((term, j) => {
      if (c.coefs[j] !== 0) rows.push({ ...fit, term, value: c.coefs[j] });
    });
  }
  return rows;
}

/**
 * validation.keep's out-of-fold predictions, a row per validation trial and data row (cv.glmnet's fit.preval, long):
 * the data row (1 = the first after the header), its target and the linear predictor with the prediction on the
 * response's scale — `probability` of the second class and `label` (binomial), `probability:<class>` and `label`
 * (multinomial), `prediction` (exp of it for poisson), or one of each per target (mgaussian).
 */
function predictionRows(sweep: Sweep, trials: TrialPredictions[]): Record<string, unknown>[] {
  const config = sweepConfig(sweep);
  if (!('keep' in config.validation && config.validation.keep))
    throw new UserError(`--table predictions: sweep "${sweep.name}" was run without validation.keep: true, so no out-of-fold predictions were stored; add keep: true under validation: and run it again (--new)`);
  const family = sweepFamily(sweep);
  const outputs = outputNames(sweep);
  const classes = sweep.classes ?? [];
  const rows: Record<string, unknown>[] = [];
  let taskRows: Int32Array | null = null;
  let observed: Float64Array | null = null;
  let task = '';
  for (const t of trials) {
    if (t.taskId !== task) {
      task = t.taskId;
      taskRows = t.rows;
      observed = t.observed;
    }
    if (!taskRows || !observed) continue;
    const m = taskRows.length;
    const head = { sweep: sweep.name, penalty: t.penalty, l1_ratio: t.l1Ratio, ...settingColumns(sweep, t.settings), lambda: t.lambda, fold: t.fold };
    for (let r = 0; r < m; r++) {
      const row: Record<string, unknown> = { ...head, row: taskRows[r] + 1 };
      if (family === 'binomial' || family === 'multinomial') {
        row.observed = classes[observed[r]] ?? observed[r];
        if (family === 'binomial') {
          const eta = t.link[r];
          row.link = eta;
          row.probability = 1 / (1 + Math.exp(-eta));
          row.label = classes[eta > 0 ? 1 : 0];
        } else {
          const K = classes.length;
          let top = -Infinity;
          for (let k = 0; k < K; k++) top = Math.max(top, t.link[k * m + r]);
          let sum = 0;
          for (let k = 0; k < K; k++) sum += Math.exp(t.link[k * m + r] - top);
          let best = 0;
          for (let k = 0; k < K; k++) {
            row[`probability:${classes[k]}`] = Math.exp(t.link[k * m + r] - top) / sum;
            if (t.link[k * m + r] > t.link[best * m + r]) best = k;
          }
          row.label = classes[best];
        }
      } else if (outputs.length > 1) {
        outputs.forEach((name, k) => {
          row[`observed:${name}`] = observed![k * m + r];
          row[`prediction:${name}`] = t.link[k * m + r];
        });
      } else {
        row.observed = observed[r];
        row.link = t.link[r];
        row.prediction = family === 'poisson' ? Math.exp(t.link[r]) : t.link[r];
      }
      rows.push(row);
    }
  }
  return rows;
}

/** Feature names as in the data header; with several targets or classes, "target:feature" or "class:feature". */
function coefficientColumns(sweep: Sweep): string[] {
  const outputs = outputNames(sweep);
  if (outputs.length === 1) return sweep.featureNames;
  return outputs.flatMap((t) => sweep.featureNames.map((f) => `${t}:${f}`));
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

/**
 * The row → fold assignment a sweep was cross-validated with: the data row (1 = the first after the header), the
 * repeat, and the validation fold ("" for a row never held out) — with its label for validation kind column.
 */
function foldRows(sweep: Sweep, stored: Awaited<ReturnType<Store['folds']>>): Record<string, unknown>[] {
  if (!stored)
    throw new UserError(`--table folds: sweep "${sweep.name}" was made before regsweep kept its folds; run it again with this version to record them`);
  const n = stored.foldOf.length / stored.repeats;
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < stored.repeats; r++)
    for (let i = 0; i < n; i++) {
      const f = stored.foldOf[r * n + i];
      rows.push({ sweep: sweep.name, row: i + 1, repeat: r + 1, fold: f < 0 ? null : f + r * stored.perRepeat, ...(stored.labels ? { fold_label: f < 0 ? null : stored.labels[f] } : {}) });
    }
  return rows;
}
