// A TPE sweep's points (sweep.kind tpe): the search space a sweep file describes, its startup points, and each next
// batch proposed from the points finished so far. Every point is its own task on every fold, numbered in the order it
// was proposed ("…/point=K"), which is how its trials are found again.
import type { SweepSpec } from '../config/schema.js';
import { l1RatioOf, settingsKey, settingsOf, type FoldId, type Penalty, type Task, type Trial } from '../domain.js';
import { pointLosses, pointNumber } from '../select/points.js';
import { Rng } from '../util/random.js';
import { relevantSettings } from './settings.js';
import { taskId } from './tasks.js';
import { drawUniform, proposeTpe, type Dimension, type Observation } from './tpe.js';

type TpeSpec = Extract<SweepSpec, { kind: 'tpe' }>;
type Point = Record<string, number>;

interface Space {
  dimensions: [string, Dimension][];
  /** The values of each choice dimension, by index. */
  choices: Record<string, unknown[]>;
}

/** The search space: the penalty (when several), λ, the elastic net's l1 ratio, and each network setting drawn. */
function spaceOf(spec: TpeSpec): Space {
  const dimensions: [string, Dimension][] = [];
  const choices: Record<string, unknown[]> = {};
  if (spec.penalty.length > 1) {
    dimensions.push(['penalty', { kind: 'choice', count: spec.penalty.length }]);
    choices.penalty = spec.penalty;
  }
  dimensions.push(['lambda', { kind: 'float', low: spec.lambda.log_uniform[0], high: spec.lambda.log_uniform[1], log: true }]);
  dimensions.push(['l1_ratio', { kind: 'float', low: spec.l1_ratio.uniform[0], high: spec.l1_ratio.uniform[1], log: false }]);
  for (const [name, dist] of Object.entries(spec.model ?? {})) {
    if (dist === undefined) continue;
    const d = dist as { choice: unknown[] } | { uniform: [number, number] } | { log_uniform: [number, number] };
    if ('choice' in d) {
      dimensions.push([`setting:${name}`, { kind: 'choice', count: d.choice.length }]);
      choices[`setting:${name}`] = d.choice;
    } else if ('uniform' in d) dimensions.push([`setting:${name}`, { kind: 'float', low: d.uniform[0], high: d.uniform[1], log: false }]);
    else dimensions.push([`setting:${name}`, { kind: 'float', low: d.log_uniform[0], high: d.log_uniform[1], log: true }]);
  }
  return { dimensions, choices };
}

/** The penalty of a point. */
function penaltyOf(spec: TpeSpec, point: Point): Penalty {
  return spec.penalty.length > 1 ? spec.penalty[point.penalty] : spec.penalty[0];
}

/** Whether a dimension takes part, given the point so far: λ not for `none`, the l1 ratio for the elastic net only, a setting where its penalty uses it. */
function appliesIn(spec: TpeSpec): (name: string, point: Point) => boolean {
  return (name, point) => {
    const penalty = penaltyOf(spec, point);
    if (name === 'lambda') return penalty !== 'none';
    if (name === 'l1_ratio') return penalty === 'elasticnet' && spec.l1_ratio.uniform[0] < spec.l1_ratio.uniform[1];
    if (name.startsWith('setting:')) return Object.keys(relevantSettings(penalty, { [name.slice(8)]: 0 })).length > 0;
    return true;
  };
}

/** A point's tasks, one per fold ("all" first), numbered `index`. */
function pointTasks(spec: TpeSpec, space: Space, point: Point, index: number, foldCount: number): Task[] {
  const penalty = penaltyOf(spec, point);
  const ratio = point.l1_ratio ?? spec.l1_ratio.uniform[0];
  const l1Ratio = penalty === 'none' ? 0 : l1RatioOf(penalty, ratio);
  const drawn: Record<string, unknown> = {};
  for (const [name] of space.dimensions)
    if (name.startsWith('setting:') && point[name] !== undefined) drawn[name.slice(8)] = space.choices[name] ? space.choices[name][point[name]] : point[name];
  const settings = settingsKey(relevantSettings(penalty, drawn));
  const folds: FoldId[] = ['all', ...Array.from({ length: foldCount }, (_, k) => k)];
  return folds.map((fold) => ({
    id: `${taskId(penalty, l1Ratio, fold, settings)}/point=${index}`,
    penalty,
    l1Ratio,
    fold,
    lambdas: [penalty === 'none' ? 0 : point.lambda],
    ...(settings ? { settings } : {}),
  }));
}

/** The startup points (drawn uniformly, seeded by sweep.seed), numbered 1, 2, …. */
export function startupTasks(spec: TpeSpec, foldCount: number): Task[] {
  const space = spaceOf(spec);
  const rng = new Rng(spec.seed);
  const tasks: Task[] = [];
  for (let k = 1; k <= Math.min(spec.startup, spec.points); k++) tasks.push(...pointTasks(spec, space, drawUniform(space.dimensions, rng, appliesIn(spec)), k, foldCount));
  return tasks;
}

/** A finished point's values as the sampler reads them (a choice as its index), from one of its trials. */
function observed(spec: TpeSpec, space: Space, t: Trial): Point {
  const point: Point = {};
  if (spec.penalty.length > 1) point.penalty = spec.penalty.indexOf(t.penalty);
  if (t.penalty !== 'none') point.lambda = t.lambda;
  if (t.penalty === 'elasticnet') point.l1_ratio = t.l1Ratio;
  const settings = settingsOf(t.settings);
  for (const [name] of space.dimensions) {
    if (!name.startsWith('setting:') || !(name.slice(8) in settings)) continue;
    const value = settings[name.slice(8)];
    point[name] = space.choices[name] ? space.choices[name].findIndex((c) => JSON.stringify(c) === JSON.stringify(value)) : Number(value);
  }
  return point;
}

/**
 * The next batch of points once every point so far has finished: up to `batch` (and the sweep's budget), each proposed
 * by TPE from the finished points, the ones of this batch already proposed counted as bad (the constant liar), so the
 * batch spreads out. Seeded by sweep.seed and the batch's first number: the same trials give the same batch.
 */
export function nextTasks(spec: TpeSpec, trials: Trial[], foldCount: number, batch: number): Task[] {
  const space = spaceOf(spec);
  const losses = pointLosses(trials);
  const done = Math.max(0, ...losses.keys());
  const count = Math.min(batch, spec.points - done);
  if (count <= 0) return [];
  const firstTrial = new Map<number, Trial>();
  for (const t of trials) {
    const k = pointNumber(t.taskId);
    if (k !== undefined && !firstTrial.has(k)) firstTrial.set(k, t);
  }
  const observations: Observation[] = [...losses.keys()].sort((a, b) => a - b).map((k) => ({ values: observed(spec, space, firstTrial.get(k)!), loss: losses.get(k)! }));
  const rng = new Rng(spec.seed * 1_000_003 + done + 1);
  const applies = appliesIn(spec);
  const tasks: Task[] = [];
  for (let b = 0; b < count; b++) {
    const point = proposeTpe(space.dimensions, observations, rng, applies, spec.multivariate);
    observations.push({ values: point, loss: Infinity });
    tasks.push(...pointTasks(spec, space, point, done + b + 1, foldCount));
  }
  return tasks;
}
