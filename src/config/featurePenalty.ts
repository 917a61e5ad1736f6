// Per-feature penalties and bounds (model.penalty_factor, model.limits, model.nonnegative) resolved against the
// design's features: a categorical column's name stands for all its indicators. glmnet's conventions: factors
// rescaled to sum to the number of features, bounds on the original scale with lower ≤ 0 ≤ upper.
import type { KeyPath } from './messages.js';
import type { ModelConfig } from './schema.js';
import { encodedSpans, isFactorGroup, type Encoding } from '../domain.js';
import { UserError } from '../errors.js';

/** The per-feature penalty a sweep's fits take, as plain arrays (p long, or null where the config sets none). */
export interface FeaturePenaltySettings {
  factor: number[] | null;
  lower: number[] | null;
  upper: number[] | null;
}

/** These keys act on one linear predictor fitted by coordinate descent: anything else is one line at the key. */
function requireOneLinearPredictor(model: Exclude<ModelConfig, { kind: 'mlp' }>, family: string, key: string, where: (path: KeyPath) => string): void {
  if (family === 'cox') throw new UserError(`${where(['model', key])}: model.${key}: not built for cox models yet (linear with one target, logistic with two classes, poisson)`);
  if (family !== 'gaussian' && family !== 'binomial' && family !== 'poisson')
    throw new UserError(`${where(['model', key])}: model.${key}: applies to models with one linear predictor (linear with one target, logistic with two classes, poisson); this sweep fits ${family}`);
  if (model.solver === 'fista') throw new UserError(`${where(['model', key])}: model.${key}: needs solver cd (the fista cross-check takes one penalty for all)`);
}

/** What the keys may name: each feature, and each categorical column (its features). */
function nameIndex(features: string[], encoding: Encoding | null | undefined): Map<string, number[]> {
  const index = new Map<string, number[]>(features.map((f, j) => [f, [j]]));
  for (const { column, values, gap } of encoding ? encodedSpans(encoding) : [])
    if (column.kind === 'categorical' && !index.has(column.name)) index.set(column.name, gap >= 0 ? [...values, gap] : values);
  return index;
}

/**
 * The sweep's per-feature penalty, or undefined when the config sets none. `family` is the fitted family: these
 * apply to one linear predictor (gaussian, binomial, poisson). Errors name the key at `where`.
 */
export function featurePenalty(
  model: ModelConfig,
  family: string,
  features: string[],
  encoding: Encoding | null | undefined,
  where: (path: KeyPath) => string,
): FeaturePenaltySettings | undefined {
  if (model.kind === 'mlp') return undefined;
  const { penalty_factor: factors, limits, nonnegative } = model;
  const given = [factors && 'penalty_factor', limits && 'limits', nonnegative && 'nonnegative'].filter((k): k is string => !!k);
  if (given.length === 0) return undefined;
  const key = given[0];
  requireOneLinearPredictor(model, family, key, where);
  const p = features.length;
  const index = nameIndex(features, encoding);
  const columnsOf = (what: string, name: string) => {
    const js = index.get(name);
    if (!js) {
      const shown = features.slice(0, 12).join(', ') + (features.length > 12 ? ', …' : '');
      throw new UserError(`${where(['model', what, name])}: model.${what}: "${name}" is not a feature (features: ${shown})`);
    }
    return js;
  };
  let factor: number[] | null = null;
  if (factors) {
    factor = new Array<number>(p).fill(1);
    for (const [name, value] of Object.entries(factors)) for (const j of columnsOf('penalty_factor', name)) factor[j] = value;
    const sum = factor.reduce((a, b) => a + b, 0);
    if (sum === 0) throw new UserError(`${where(['model', 'penalty_factor'])}: model.penalty_factor: every factor is 0, so nothing is penalized and every λ gives the same fit`);
    factor = factor.map((f) => (f * p) / sum);
  }
  let lower: number[] | null = null;
  let upper: number[] | null = null;
  if (limits || nonnegative) {
    lower = new Array<number>(p).fill(nonnegative ? 0 : -Infinity);
    upper = new Array<number>(p).fill(Infinity);
    for (const [name, [lo, hi]] of Object.entries(limits ?? {}))
      for (const j of columnsOf('limits', name)) {
        lower[j] = lo ?? -Infinity;
        upper[j] = hi ?? Infinity;
      }
  }
  return { factor, lower, upper };
}

/**
 * The groups of model.group_categorical: each categorical column's level indicators (its gap indicator stays a
 * feature of its own), as lists of feature indices; undefined when the config does not ask for them.
 */
export function categoricalGroups(
  model: ModelConfig,
  family: string,
  encoding: Encoding | null | undefined,
  where: (path: KeyPath) => string,
): number[][] | undefined {
  if (model.kind === 'mlp' || !model.group_categorical) return undefined;
  requireOneLinearPredictor(model, family, 'group_categorical', where);
  const at = where(['model', 'group_categorical']);
  if (model.penalty_factor || model.limits || model.nonnegative)
    throw new UserError(`${at}: model.group_categorical: not with model.penalty_factor, model.limits or model.nonnegative (not built yet)`);
  const groups = (encoding ? encodedSpans(encoding) : []).filter(isFactorGroup).map((span) => span.values);
  if (groups.length === 0) throw new UserError(`${at}: model.group_categorical: no categorical column has two or more indicator columns to group`);
  return groups;
}
