import type { Trial, TrialTally } from '../domain.js';

/** Trials by how they ended, and the first error or divergence a user should hear about. */
export interface TrialCounts {
  total: number;
  usable: number;
  diverged: number;
  failed: number;
  /** Networks stopped early by successive halving (not errors, but not in the selection either). */
  pruned: number;
  /** Why trials were not usable: the first error, and what to change. */
  reason?: string;
}

/** Trials by status; `modelKind` decides the advice for diverged ones. */
export function countTrials(trials: Trial[], modelKind: string): TrialCounts {
  const diverged = trials.filter((t) => t.status === 'diverged');
  const failed = trials.filter((t) => t.status === 'failed');
  const epochs = diverged.map((t) => t.metrics.diverged_epoch).filter((e): e is number => e !== undefined);
  return countsOf(
    {
      total: trials.length,
      diverged: diverged.length,
      failed: failed.length,
      pruned: trials.filter((t) => t.status === 'pruned').length,
      firstError: failed.length ? (failed[0].error ?? 'failed') : null,
      firstDivergedEpoch: epochs.length ? Math.min(...epochs) : null,
    },
    modelKind,
  );
}

/** The counts and the advice from a tally. */
export function countsOf(t: TrialTally, modelKind: string): TrialCounts {
  const counts: TrialCounts = { total: t.total, usable: t.total - t.diverged - t.failed - t.pruned, diverged: t.diverged, failed: t.failed, pruned: t.pruned };
  if (t.failed) counts.reason = t.firstError ?? 'failed';
  else if (t.diverged)
    counts.reason = modelKind === 'mlp' ? `first at epoch ${t.firstDivergedEpoch ?? '?'}; lower model.lr` : 'coefficients became non-finite; check the scale of the target and features';
  return counts;
}

/** "0 of 24 trials usable: 24 diverged (first at epoch 1; lower model.lr)". */
export function countsLine(c: TrialCounts): string {
  const parts = [c.pruned ? `${c.pruned} pruned` : '', c.diverged ? `${c.diverged} diverged` : '', c.failed ? `${c.failed} failed` : ''].filter(Boolean).join(', ');
  return `${c.usable} of ${c.total} trials usable${parts ? `: ${parts}` : ''}${c.reason ? ` (${c.reason})` : ''}`;
}
