import type { SweepConfig } from '../config/schema.js';
import { settingsLabel, type CvPoint, type Selection, type Sweep, type Trial, type TrialCoefficients, type TrialEpoch } from '../domain.js';
import { sweepConfig } from '../results/open.js';
import { countsLine, countTrials } from '../select/counts.js';
import { edgeWarning, pathEndNotes, selectionsToShow, selectLambdas, summarize, type Metric } from '../select/cv.js';
import type { Store } from '../store/contract.js';
import { readModel, type Model } from '../model/load.js';
import { metricNamed, type ModelRequest } from '../select/model.js';
import { UserError } from '../errors.js';

/** Everything the charts need, read from the store alone (no re-training). */
export interface ReportData {
  sweep: Sweep;
  config: SweepConfig;
  trials: Trial[];
  summary: CvPoint[];
  selections: Selection[];
  /** For the summary table: per penalty for random sweeps. */
  shownSelections: Selection[];
  /** Fits on all rows (fold "all"), one per (penalty, l1 ratio, λ). */
  coefficients: TrialCoefficients[];
  epochs: TrialEpoch[];
  /** What the curves and λ_min / λ_1se are of (report --metric; default the loss fitted). */
  metric: Metric;
  /** What a reader should know: the data's notes, grid edges, trials left out, a sweep not finished. */
  notes: string[];
  /** The model `predict` and `export --model` would use with the same options; why there is none otherwise. */
  model: Model | { missing: string };
}

/**
 * `request` null: the model is not looked for (the live page does not show it, and a large sweep's is slow to find).
 * `trials`: the sweep's trials when the caller has them already (the live server keeps them between states).
 */
export async function readReportData(store: Store, sweep: Sweep, request: ModelRequest | null = {}, trials?: Trial[]): Promise<ReportData> {
  trials ??= await store.trials(sweep.id);
  const metric = metricNamed(request?.metric);
  // Recomputed from the trials so that a sweep still running can be reported from what is there.
  const summary = summarize(trials, metric);
  const selections = selectLambdas(summary, metric);
  const config = sweepConfig(sweep);
  const kind = config.sweep.kind;
  // Notes recomputed below from the trials (the stored ones are the run's, of its finished sweep).
  const notes = sweep.notes.filter((n) => !/trials usable|the best λ|paths ended early/.test(n));
  if (metric.name !== 'val_loss' && summary.length === 0 && trials.some((t) => t.fold !== 'all' && t.status === 'ok'))
    notes.push(`--metric ${metric.name}: no trial of this sweep has it (${metric.name === 'auc' || metric.name === 'class' || metric.name === 'accuracy' ? 'a classifier\'s measure; ' : ''}sweeps made before it was kept lack mse, mae and class)`);
  for (const s of selectionsToShow(selections, kind, metric)) {
    const w = edgeWarning(s);
    if (w) notes.push(w);
  }
  notes.push(...pathEndNotes(trials));
  const counts = countTrials(trials, sweep.modelKind);
  if (counts.usable < counts.total) notes.push(`${countsLine(counts)}; the others are left out of the charts (status column in the trials table)`);
  if (sweep.status !== 'done') notes.push(`sweep "${sweep.name}" is ${sweep.status}: ${trials.length} of ${sweep.totalTrials} trials recorded`);
  return {
    sweep,
    config,
    trials,
    summary,
    selections,
    shownSelections: selectionsToShow(selections, kind, metric),
    metric,
    coefficients: await store.coefficients(sweep.id, { fold: 'all' }),
    epochs: await store.epochs(sweep.id),
    notes,
    model:
      request === null
        ? { missing: 'not looked for' }
        : await readModel(store, sweep, request, trials).catch((e: unknown) => {
            if (e instanceof UserError) return { missing: e.message };
            throw e;
          }),
  };
}

/** "l1", "l2", "elasticnet l1_ratio=0.5", "none", "l1 · l1_method=proximal": one panel or line each. */
export function groupLabel(penalty: string, l1Ratio: number, settings = ''): string {
  const base = penalty === 'elasticnet' ? `elasticnet l1_ratio=${Number(l1Ratio.toPrecision(3))}` : penalty;
  return settings ? `${base} · ${settingsLabel(settings)}` : base;
}
