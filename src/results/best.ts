// `regsweep query`: the best λ per penalty, the list of sweeps, and read-only SQL.
import type { Selection, Sweep } from '../domain.js';
import { countsLine, countTrials } from '../select/counts.js';
import { edgeWarning, relaxedChoices, relaxedGamma, selectLambdas, selectionsToShow, summarize } from '../select/cv.js';
import { metricNamed } from '../select/model.js';
import type { SweepSelector, TaskCounts } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { sweepConfig, withResults } from './open.js';

export interface BestResult {
  sweep: Sweep;
  metric: string;
  selections: Selection[];
  /** What a reader should know: the data's notes, grid edges, trials left out, a sweep not finished. */
  notes: string[];
  /** Trials recorded so far, for a sweep that is still running or was interrupted. */
  trialsDone: number;
  /** Per relaxed (penalty, l1 ratio): λ and γ chosen together, as cv.glmnet(relax = TRUE). */
  relaxed: RelaxedChoice[];
}

interface RelaxedChoice {
  penalty: string;
  l1Ratio: number;
  lambdaMin: number;
  gammaMin: number;
  lambda1se: number;
  gamma1se: number;
}

/** Best λ per (penalty, l1 ratio) for a metric (val_loss, accuracy, auc), with λ_1se, grid edges and notes. */
export async function bestTrials(location: string, options: { sweep?: SweepSelector; metric?: string } = {}): Promise<BestResult> {
  const metricName = options.metric ?? 'val_loss';
  const metric = metricNamed(metricName);
  return withResults(location, options.sweep, async ({ store, sweep }) => {
    const trials = await store.trials(sweep.id);
    const config = sweepConfig(sweep);
    // Computed from the trials, not read from the summary table, so a running sweep can be asked too.
    const points = summarize(trials, metric);
    const selections = selectionsToShow(selectLambdas(points, metric), config.sweep.kind, metric);
    const notes = sweep.notes.filter((n) => !/trials usable|the best λ/.test(n));
    const relaxed: RelaxedChoice[] = [];
    for (const { penalty, l1Ratio, min, oneSe, note } of relaxedChoices(points, metric)) {
      relaxed.push({ penalty, l1Ratio, lambdaMin: min.lambda, gammaMin: relaxedGamma(min.settings)!, lambda1se: oneSe.lambda, gamma1se: relaxedGamma(oneSe.settings)! });
      notes.push(note);
    }
    for (const s of selections) {
      const w = edgeWarning(s);
      if (w) notes.push(w);
    }
    const counts = countTrials(trials, sweep.modelKind);
    if (counts.usable < counts.total) notes.push(countsLine(counts));
    if (selections.length === 0) notes.push(whyNoSelection(config.validation.kind, metricName, trials.length, counts.usable));
    if (sweep.status !== 'done') notes.push(`sweep "${sweep.name}" is ${sweep.status}: ${trials.length} of ${sweep.totalTrials} trials recorded`);
    return { sweep, metric: metricName, selections, notes, trialsDone: trials.length, relaxed };
  });
}

function whyNoSelection(validation: string, metric: string, trials: number, usable: number): string {
  if (validation === 'none') return `no best λ: validation kind none holds out no rows, so there is no validation ${metric} (use kfold or holdout)`;
  if (trials === 0) return 'no best λ yet: no trial is recorded';
  if (usable === 0) return 'no best λ: no trial is usable (see above)';
  return `no best λ: no validation fold has a usable ${metric} yet`;
}

/** Every sweep of a store with its trial count. */
export async function listSweeps(location: string): Promise<{ sweep: Sweep; trialsDone: number; tasks: TaskCounts }[]> {
  const store = await openStore(location, { mode: 'read' });
  try {
    const sweeps = await store.listSweeps();
    const out = [];
    for (const sweep of sweeps) out.push({ sweep, trialsDone: await store.trialCount(sweep.id), tasks: await store.taskCounts(sweep.id) });
    return out;
  } finally {
    await store.close();
  }
}

/** Runs one SQL statement that only reads, stopped after `timeoutMs`. */
export async function runSql(location: string, sql: string, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
  const store = await openStore(location, { mode: 'read' });
  try {
    return await store.readOnlyQuery(sql, { timeoutMs });
  } finally {
    await store.close();
  }
}
