import { METRICS, edgeWarning, selectLambdas, selectionsToShow, summarize } from '../select/cv.js';
import { sweepConfig } from '../results.js';
import type { SweepConfig } from '../config/schema.js';
import type { Store, SweepRecord, TrialRow, SummaryRow, SelectionRow, CoefficientRow, EpochRow } from '../store/types.js';

/** Everything the charts need, read from the store alone (no re-training). */
export interface ReportData {
  sweep: SweepRecord;
  config: SweepConfig;
  trials: TrialRow[];
  summary: SummaryRow[];
  selections: SelectionRow[];
  /** For the summary table: per penalty for random sweeps. */
  shownSelections: SelectionRow[];
  /** Fits on all rows (fold "all"), one per (penalty, l1_ratio, λ). */
  coefficients: CoefficientRow[];
  epochs: EpochRow[];
  warnings: string[];
}

export function readReportData(store: Store, sweep: SweepRecord): ReportData {
  const trials = store.trials(sweep.id);
  // Recomputed from the trials so that a sweep still running can be reported from what is there.
  const summary = summarize(trials, METRICS.val_loss);
  const selections = selectLambdas(summary, METRICS.val_loss);
  const config = sweepConfig(sweep);
  const kind = config.sweep.kind;
  const warnings = selectionsToShow(selections, kind).map(edgeWarning).filter((w): w is string => w !== undefined);
  if (sweep.status !== 'done') warnings.push(`sweep "${sweep.name}" is ${sweep.status}: ${trials.length} of ${sweep.totalTrials} trials recorded`);
  const failed = trials.filter((t) => t.status !== 'ok').length;
  if (failed) warnings.push(`${failed} trial(s) failed or diverged; they are left out of the charts (status column in the trials table)`);
  return { sweep, config, trials, summary, selections, shownSelections: selectionsToShow(selections, kind), coefficients: store.coefficients(sweep.id, { fold: 'all' }), epochs: store.epochs(sweep.id), warnings };
}

/** "l1", "l2", "elasticnet α=0.5", "none": one panel each. */
export function groupLabel(penalty: string, l1Ratio: number): string {
  return penalty === 'elasticnet' ? `elasticnet α=${l1Ratio}` : penalty;
}
