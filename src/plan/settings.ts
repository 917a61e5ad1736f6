// Model settings as sweep dimensions (`sweep.model`): the combinations a grid sweeps, the draws of a random sweep,
// and which settings matter for which penalty.
import type { SweepSpec } from '../config/schema.js';
import { settingsKey, type Penalty } from '../domain.js';
import type { Rng } from '../util/random.js';

/** Settings that act only through one part of the penalty: l1_method on its L1 part, l2_method on its L2 part. */
const PENALTY_PART: Record<string, (penalty: Penalty) => boolean> = {
  l1_method: (penalty) => penalty === 'l1' || penalty === 'elasticnet',
  l2_method: (penalty) => penalty === 'l2' || penalty === 'elasticnet',
};

/** The settings of a combination that a penalty can use (l1_method means nothing to l2, for one). */
export function relevantSettings(penalty: Penalty, settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([name]) => PENALTY_PART[name]?.(penalty) ?? true));
}

/** Every combination of a grid's settings for one penalty, as settings keys, without repeats ([""] when none vary). */
export function gridSettings(spec: Extract<SweepSpec, { kind: 'grid' }>, penalty: Penalty): string[] {
  let combinations: Record<string, unknown>[] = [{}];
  // The relaxed lasso's γ, for the penalties with an L1 part; γ = 1 (the plain path) is always among them, as cv.glmnet.
  if (spec.gamma && (penalty === 'l1' || penalty === 'elasticnet')) combinations = relaxedGammas(spec.gamma).map((gamma) => ({ gamma }));
  for (const [name, values] of Object.entries(spec.model ?? {})) {
    if (values === undefined || !(PENALTY_PART[name]?.(penalty) ?? true)) continue;
    combinations = combinations.flatMap((c) => (values as unknown[]).map((v) => ({ ...c, [name]: v })));
  }
  return [...new Set(combinations.map(settingsKey))];
}

/** One random point's settings for a penalty, drawn after its λ and l1 ratio (nothing is drawn when none vary). */
export function drawSettings(spec: Extract<SweepSpec, { kind: 'random' | 'tpe' }>, penalty: Penalty, rng: Rng): string {
  const drawn: Record<string, unknown> = {};
  for (const [name, dist] of Object.entries(spec.model ?? {})) {
    if (dist === undefined) continue;
    const d = dist as { choice: unknown[] } | { uniform: [number, number] } | { log_uniform: [number, number] };
    const value = 'choice' in d ? d.choice[rng.int(d.choice.length)] : 'uniform' in d ? d.uniform[0] + rng.uniform() * (d.uniform[1] - d.uniform[0]) : Math.exp(Math.log(d.log_uniform[0]) + rng.uniform() * Math.log(d.log_uniform[1] / d.log_uniform[0]));
    drawn[name] = value;
  }
  return settingsKey(relevantSettings(penalty, drawn));
}

/** The rung epochs of successive halving: min_epochs·reduction^k below the epochs a trial trains. */
export function pruneRungs(prune: { min_epochs: number; reduction: number }, epochs: number): number[] {
  const rungs: number[] = [];
  for (let e = prune.min_epochs; e < epochs && rungs.length < 16; e *= prune.reduction) rungs.push(e);
  return rungs;
}

/** A sweep's γ in ascending order, without repeats, with 1 added when absent. */
function relaxedGammas(gammas: number[]): number[] {
  return [...new Set([...gammas, 1])].sort((a, b) => a - b);
}
