// A grid whose best λ sits on its edge is extended past that edge by a decade, at the grid's own spacing, and the new
// λ are run on every fold (below the edge, warm-started from the edge's solution).
import type { FoldId, Selection, Task, Trial } from '../domain.js';
import { fmt, selectionName } from '../select/cv.js';
import { taskId } from '../plan/tasks.js';

/** How many times the grid was extended already: the largest "/ext=K" among the trials' tasks. */
export function extensionsDone(trials: Trial[]): number {
  let done = 0;
  for (const t of trials) {
    const m = /\/ext=(\d+)$/.exec(t.taskId);
    if (m) done = Math.max(done, Number(m[1]));
  }
  return done;
}

/** New λ past a decade at most. */
const MAX_NEW_LAMBDAS = 50;

/** The tasks of extension `round` for every selection on an edge, with a line per extended grid. */
export function extensionTasks(trials: Trial[], selections: Selection[], foldCount: number, round: number): { tasks: Task[]; notes: string[] } {
  const tasks: Task[] = [];
  const notes: string[] = [];
  const folds: FoldId[] = ['all', ...Array.from({ length: foldCount }, (_, k) => k)];
  for (const s of selections) {
    if (!s.edge || s.penalty === 'none') continue;
    const lambdas = [...new Set(trials.filter((t) => t.penalty === s.penalty && t.l1Ratio === s.l1Ratio && t.settings === s.settings).map((t) => t.lambda))].sort((a, b) => b - a);
    if (lambdas.length < 2) continue;
    const downward = s.edge === 'smallest';
    const [outer, inner] = downward ? [lambdas[lambdas.length - 1], lambdas[lambdas.length - 2]] : [lambdas[0], lambdas[1]];
    if (!(outer > 0 && inner > 0)) continue;
    const step = downward ? inner / outer : outer / inner;
    if (!(step > 1)) continue;
    const count = Math.min(MAX_NEW_LAMBDAS, Math.ceil(Math.log(10) / Math.log(step) - 1e-9));
    const fresh = Array.from({ length: count }, (_, i) => (downward ? outer / step ** (i + 1) : outer * step ** (count - i)));
    const what = selectionName(s);
    notes.push(
      `${what}: the best λ (${fmt(s.lambdaMin)}) is on the ${downward ? 'lower' : 'upper'} edge of the grid; extending it to ${fmt(downward ? fresh[fresh.length - 1] : fresh[0])} (${count} new λ, extension ${round})`,
    );
    for (const fold of folds)
      tasks.push({
        id: `${taskId(s.penalty, s.l1Ratio, fold, s.settings)}/ext=${round}`,
        penalty: s.penalty,
        l1Ratio: s.l1Ratio,
        fold,
        lambdas: fresh,
        ...(s.settings ? { settings: s.settings } : {}),
        ...(downward ? { warmFrom: outer } : {}),
      });
  }
  return { tasks, notes };
}
