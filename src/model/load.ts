// The chosen model of a stored sweep, with its coefficients: what predict, export --model and compare hand on.
import type { SweepConfig } from '../config/schema.js';
import { outputNames, settingsOf, sweepFamily, type BaselineHazard, type Encoding, type Family, type Sweep, type Trial } from '../domain.js';
import { UserError } from '../errors.js';
import { featurePenalty, type FeaturePenaltySettings } from '../config/featurePenalty.js';
import { chooseModel, type ModelChoice, type ModelRequest } from '../select/model.js';
import type { Store, SweepSelector } from '../store/contract.js';
import { sweepConfig, withResults } from '../results/open.js';

/**
 * How predictions come from the linear predictors η = b0 + x·b: as they are (gaussian, one or several responses),
 * through the logistic function (binomial) or the softmax (multinomial), as the count e^η (poisson), or as a relative
 * risk e^η and survival probabilities exp(−H0(t)·e^η) (cox).
 */
/** A model's family as the model card names it (several targets are gaussian, one η per target). */
type ModelFamily = Exclude<Family, 'mgaussian'>;

export interface Model extends ModelChoice {
  sweep: Sweep;
  config: SweepConfig;
  family: ModelFamily;
  features: string[];
  targets: string[];
  /** The labels in class order ([negative, positive] for a binomial model). */
  classes: string[] | null;
  /** What each coefficient vector predicts: the targets, or the classes of a multinomial model. */
  outputs: string[];
  /** One per output. */
  intercepts: number[];
  /** Per output, the coefficients of every feature on the original scale. */
  coefs: Float64Array[];
  /** A Cox model fitted on all rows: Breslow's baseline cumulative hazard (survival predictions); else null. */
  baseline: BaselineHazard | null;
  /** The column added to η (data.offset of a poisson model), if any. */
  offset: string | null;
  /** A multinomial model with one group per feature across classes. */
  grouped: boolean;
  /** How the data's columns became the features (categories, gaps), or null when the features are columns. */
  encoding: Encoding | null;
  /** Per-feature penalty factors (rescaled as glmnet does) and bounds, when the sweep set them. */
  featurePenalty: FeaturePenaltySettings | null;
  nonzero: number;
  /** How the sweep was left unfinished (the model is chosen from the trials it has), or null for a finished sweep. */
  partial: string | null;
}

export interface ModelOptions extends ModelRequest {
  sweep?: SweepSelector;
  /** Use a sweep that is not finished (its model is chosen from part of its trials); refused otherwise. */
  allowPartial?: boolean;
}

/** Reads the model a request names from a store that is open already (`trials`: the sweep's, when read already). */
export async function readModel(store: Store, sweep: Sweep, request: ModelRequest, known?: Trial[]): Promise<Model> {
  const config = sweepConfig(sweep);
  const trials = known ?? (await store.trials(sweep.id));
  const modelFold = trials.some((t) => t.fold === 'all') ? 'all' : '0';
  const choice = chooseModel(trials, sweep.name, modelFold, request);
  const hidden = config.model.kind === 'mlp' ? ((settingsOf(choice.settings).hidden as number[] | undefined) ?? config.model.hidden) : [];
  if (hidden.length > 0)
    throw new UserError(
      `sweep "${sweep.name}" trains networks with hidden layers ${JSON.stringify(hidden)}; their weights are not stored, so there is no model to use (losses are in export --table trials)`,
    );
  const stored = (await store.coefficients(sweep.id, { fold: modelFold, penalty: choice.penalty })).find((c) => c.trialId === choice.trial.id);
  if (!stored) throw new UserError(`sweep "${sweep.name}": the coefficients of trial ${choice.trial.id} are not stored`);
  const p = sweep.p;
  const outputs = outputNames(sweep);
  const coefs = Array.from({ length: outputs.length }, (_, k) => stored.coefs.slice(k * p, (k + 1) * p));
  const family = sweepFamily(sweep);
  const partial = sweep.status === 'done' ? null : `sweep "${sweep.name}" (id ${sweep.id}) is ${sweep.status}: ${trials.length} of ${sweep.totalTrials} trials recorded; the model is chosen from those`;
  return {
    ...choice,
    sweep,
    config,
    family: family === 'network' || family === 'mgaussian' ? 'gaussian' : family,
    features: sweep.featureNames,
    targets: sweep.targetNames,
    classes: sweep.classes,
    outputs,
    intercepts: stored.intercept,
    coefs,
    baseline: stored.baseline ?? null,
    offset: config.data.offset ?? null,
    grouped: (config.model.kind === 'logistic' || config.model.kind === 'multinomial') && config.model.grouped,
    encoding: sweep.encoding,
    featurePenalty: featurePenalty(config.model, family, sweep.featureNames, sweep.encoding, () => `sweep "${sweep.name}"`) ?? null,
    nonzero: coefs.reduce((s, c) => s + c.reduce((m, v) => m + (v !== 0 ? 1 : 0), 0), 0),
    notes: partial ? [...choice.notes, partial] : choice.notes,
    partial,
  };
}

/** Opens a store read-only and reads the model a request names (the latest sweep unless a selector says otherwise). */
export async function loadModel(location: string, options: ModelOptions = {}): Promise<Model> {
  return withResults(location, options.sweep, async ({ store, sweep }) => {
    if (sweep.status !== 'done' && !options.allowPartial) {
      const recorded = await store.trialCount(sweep.id);
      throw new UserError(
        `sweep "${sweep.name}" (id ${sweep.id}) is ${sweep.status}: ${recorded} of ${sweep.totalTrials} trials recorded, so its λ would be chosen from part of its folds; finish it (run the same command again) or pass --allow-partial`,
      );
    }
    return readModel(store, sweep, options);
  });
}
