// The chosen model of a stored sweep, with its coefficients: what predict, export --model and compare hand on.
import type { SweepConfig } from '../config/schema.js';
import type { Penalty, Sweep } from '../domain.js';
import { UserError } from '../errors.js';
import { chooseModel, type ModelChoice, type ModelRequest } from '../select/model.js';
import type { Store, SweepSelector } from '../store/contract.js';
import { sweepConfig, withResults } from '../results/open.js';

/** How predictions come from the linear predictor η = b0 + x·b: as they are, or through the logistic function. */
export type ModelFamily = 'gaussian' | 'binomial';

export interface Model extends ModelChoice {
  sweep: Sweep;
  config: SweepConfig;
  family: ModelFamily;
  features: string[];
  targets: string[];
  /** [negative, positive] labels of a binomial model. */
  classes: string[] | null;
  /** One per target. */
  intercepts: number[];
  /** Per target, the coefficients of every feature on the original scale. */
  coefs: Float64Array[];
  nonzero: number;
}

export interface ModelOptions extends ModelRequest {
  sweep?: SweepSelector;
}

/** Reads the model a request names from a store that is open already. */
export async function readModel(store: Store, sweep: Sweep, request: ModelRequest): Promise<Model> {
  const config = sweepConfig(sweep);
  if (config.model.kind === 'mlp' && config.model.hidden.length > 0)
    throw new UserError(
      `sweep "${sweep.name}" trains networks with hidden layers ${JSON.stringify(config.model.hidden)}; their weights are not stored, so there is no model to use (losses are in export --table trials)`,
    );
  const trials = await store.trials(sweep.id);
  const modelFold = trials.some((t) => t.fold === 'all') ? 'all' : '0';
  const choice = chooseModel(trials, sweep.name, modelFold, request);
  const stored = (await store.coefficients(sweep.id, { fold: modelFold, penalty: choice.penalty })).find((c) => c.trialId === choice.trial.id);
  if (!stored) throw new UserError(`sweep "${sweep.name}": the coefficients of trial ${choice.trial.id} are not stored`);
  const p = sweep.p;
  const outputs = sweep.targetNames.length;
  const coefs = Array.from({ length: outputs }, (_, k) => stored.coefs.slice(k * p, (k + 1) * p));
  return {
    ...choice,
    sweep,
    config,
    family: config.model.kind === 'logistic' ? 'binomial' : 'gaussian',
    features: sweep.featureNames,
    targets: sweep.targetNames,
    classes: sweep.classes,
    intercepts: stored.intercept,
    coefs,
    nonzero: coefs.reduce((s, c) => s + c.reduce((m, v) => m + (v !== 0 ? 1 : 0), 0), 0),
  };
}

/** Opens a store read-only and reads the model a request names (the latest sweep unless a selector says otherwise). */
export async function loadModel(location: string, options: ModelOptions = {}): Promise<Model> {
  return withResults(location, options.sweep, ({ store, sweep }) => readModel(store, sweep, options));
}

/** "l1", "l2", "elasticnet (l1_ratio 0.5)". */
export function penaltyLabel(penalty: Penalty, l1Ratio: number): string {
  return penalty === 'elasticnet' ? `elasticnet (l1_ratio ${l1Ratio})` : penalty;
}
