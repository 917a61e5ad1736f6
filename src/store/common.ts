// What every store shares: picking a sweep by selector, and figures as a database can hold them.
import type { Penalty, Sweep, Trial, TrialFigures } from '../domain.js';
import { UserError } from '../errors.js';
import { parseSweepName, type SweepSelector, type TaskState } from './contract.js';

/** The sweep a selector means, or one line saying which sweeps there are. */
export function pickSweep(location: string, sweeps: Sweep[], selector: SweepSelector): Sweep {
  const available = () => {
    const counts = new Map<string, number>();
    for (const s of sweeps) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    const seen = new Map<string, number>();
    return sweeps.map((s) => {
      const k = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, k);
      return counts.get(s.name)! > 1 ? `${s.name}@${k} (id ${s.id})` : `${s.name} (id ${s.id})`;
    }).join(', ') || 'none';
  };
  if (selector.id !== undefined) {
    const hit = sweeps.find((s) => s.id === selector.id);
    if (!hit) throw new UserError(`${location}: no sweep with id ${selector.id} (sweeps: ${available()})`);
    return hit;
  }
  if (selector.name !== undefined) {
    const { name, ordinal } = parseSweepName(selector.name);
    const named = sweeps.filter((s) => s.name === name);
    const hit = ordinal !== undefined ? named[ordinal - 1] : named.at(-1);
    if (!hit) throw new UserError(`${location}: no sweep ${ordinal !== undefined ? `"${name}" number ${ordinal}` : `named "${name}"`} (sweeps: ${available()})`);
    return hit;
  }
  const latest = sweeps.at(-1);
  if (!latest) throw new UserError(`${location}: the database holds no sweep yet`);
  return latest;
}


/**
 * A trial's figures as stored: a loss that is not finite (a diverged fit) is stored as missing; a norm that is not
 * finite stays NaN (read back as NaN from a store that cannot hold it).
 */
export function storableFigures(t: TrialFigures): TrialFigures {
  const finite = (x: number | null) => x === null || Number.isFinite(x);
  if (finite(t.trainLoss) && finite(t.valLoss)) return t;
  return { ...t, trainLoss: finite(t.trainLoss) ? t.trainLoss : null, valLoss: finite(t.valLoss) ? t.valLoss : null };
}

/** Metrics with their keys in one order, whichever store kept them (PostgreSQL's jsonb reorders keys). */
export function sortedMetrics(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(metrics).sort().map((k) => [k, metrics[k]]));
}

/**
 * A trials row as either store returns it: SQLite gives 0/1 for booleans, NULL for a NaN norm and metrics as text;
 * PostgreSQL gives booleans, NaN, jsonb objects and bigint ids as strings.
 */
export function trialFromRow(r: Record<string, unknown>): Trial {
  return {
    id: Number(r.id),
    sweepId: Number(r.sweep_id),
    taskId: r.task_id as string,
    penalty: r.penalty as Penalty,
    lambda: r.lambda as number,
    l1Ratio: r.l1_ratio as number,
    settings: (r.settings as string | undefined) ?? '',
    fold: r.fold as string,
    status: r.status as Trial['status'],
    converged: r.converged === true || r.converged === 1,
    error: r.error as string | null,
    trainLoss: r.train_loss as number | null,
    valLoss: r.val_loss as number | null,
    nTrain: r.n_train as number,
    nVal: r.n_val as number,
    nnz: r.nnz as number,
    zeroFraction: r.zero_fraction as number,
    nearZeroFraction: r.near_zero_fraction as number,
    l1Norm: (r.l1_norm as number | null) ?? NaN,
    l2Norm: (r.l2_norm as number | null) ?? NaN,
    passes: r.passes as number,
    epochsRun: r.epochs_run as number,
    seconds: r.seconds as number,
    metrics: sortedMetrics(typeof r.metrics === 'string' ? JSON.parse(r.metrics) : (r.metrics as Record<string, number>)),
  };
}

/** A tasks row (SQLite or PostgreSQL) as the live page shows it. */
export function taskStateFromRow(r: Record<string, unknown>): TaskState {
  return {
    taskId: String(r.task_id),
    penalty: String(r.penalty),
    l1Ratio: Number(r.l1_ratio),
    settings: String(r.settings ?? ''),
    fold: String(r.fold),
    status: r.status as TaskState['status'],
    owner: (r.owner as string | null) ?? null,
    attempt: Number(r.attempt),
    error: (r.error as string | null) ?? null,
  };
}
