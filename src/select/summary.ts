import type { Sweep, Trial } from '../domain.js';
import { countsLine, countTrials } from './counts.js';
import { edgeWarning, pathEndNotes, relaxedChoices, selectLambdas, selectionsToShow, summarize } from './cv.js';

/**
 * What finishing a sweep stores: the CV summary of every point, λ_min and λ_1se per (penalty, l1 ratio), and the
 * run's notes — λ_min on a grid edge, trials stopped at max_iter, trials not usable.
 */
export function summarizeSweep(trials: Trial[], sweep: Pick<Sweep, 'modelKind'> & { sweepKind: string }) {
  const points = summarize(trials);
  const selections = selectLambdas(points);
  const notes: string[] = [];
  for (const s of selectionsToShow(selections, sweep.sweepKind)) {
    const w = edgeWarning(s);
    if (w) notes.push(w);
  }
  notes.push(...relaxedChoices(points).map((c) => c.note));
  notes.push(...pathEndNotes(trials));
  const notConverged = trials.filter((t) => t.status === 'ok' && !t.converged).length;
  if (notConverged) notes.push(`${notConverged} trial(s) stopped at max_iter before converging (column converged = 0); raise model.max_iter or tol`);
  const counts = countTrials(trials, sweep.modelKind);
  if (counts.usable < counts.total) notes.push(countsLine(counts));
  return { points, selections, notes };
}
