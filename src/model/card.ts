// `export --model --format json`: a model card — what the model is, how it was chosen, and its coefficients on the
// original scale — complete enough to predict from and to reproduce the fit.
import { packageVersion } from '../builtFile.js';
import { settingsOf } from '../domain.js';
import { fmt } from '../select/cv.js';
import { ruleLabel } from '../select/model.js';
import type { Model } from './load.js';

/** Lines about where the model comes from, for the scripts' headers (each becomes a comment line). */
export function provenance(model: Model, location: string): string[] {
  const cv = model.cv ? `; cross-validated loss ${fmt(model.cv.mean)} ± ${fmt(model.cv.se)} over ${model.cv.folds} folds` : '';
  const kind = model.family === 'multinomial' ? `multinomial${model.grouped ? ' (grouped)' : ''}` : model.config.model.kind;
  return [
    `regsweep model: sweep "${model.sweep.name}" (id ${model.sweep.id}) in ${location}`,
    ...(model.partial ? [`PARTIAL: ${model.partial}`] : []),
    `${kind} ${model.penalty === 'elasticnet' ? `elasticnet l1_ratio=${model.l1Ratio}` : model.penalty}, lambda=${model.lambda} (--select ${ruleLabel(model.rule)})${cv}`,
    `fitted on ${model.trial.nTrain} rows${model.trial.fold === 'all' ? ' (all rows)' : ' (the training rows of a holdout split)'}; data sha256 ${model.sweep.dataHash.slice(0, 16)}…; ${model.nonzero} nonzero coefficients`,
    `objective: ${objectiveText(model)}`,
  ];
}

/** The objective the model minimizes, in the notation of the docs. */
function objectiveText(model: Pick<Model, 'family' | 'outputs' | 'grouped'>): string {
  const several = model.outputs.length > 1;
  const loss =
    model.family === 'binomial' || model.family === 'multinomial'
      ? '-(1/n)·loglik(y; b0 + Xb)'
      : model.family === 'poisson'
        ? '-(1/n)·Σ(y·η - exp(η)), η = b0 + Xb (+ offset)'
        : model.family === 'cox'
          ? '-(1/n)·log partial likelihood (Breslow ties), η = Xb'
        : several
          ? '(1/2n)·Σ_i ||y_i - b0 - B x_i||²'
          : '(1/2n)·||y - b0 - Xb||²';
  const grouped = (model.family === 'gaussian' && several) || model.grouped;
  const penalty = grouped
    ? "lambda·Σ_j (l1_ratio·||b_j||₂ + (1 - l1_ratio)/2·||b_j||²), b_j a feature's coefficients across outputs"
    : `lambda·(l1_ratio·||b||₁ + (1 - l1_ratio)/2·||b||²)${several ? ' summed over outputs' : ''}`;
  return `${loss} + ${penalty}, ${model.family === 'cox' ? 'no intercept' : 'intercepts not penalized'}`;
}

/** Per output (a target, or a class of a multinomial model), or the value itself for a single one. */
function perOutput<T>(model: Model, value: (k: number) => T): T | Record<string, T> {
  return model.outputs.length === 1 ? value(0) : Object.fromEntries(model.outputs.map((t, k) => [t, value(k)]));
}

export function modelCard(model: Model, location: string): Record<string, unknown> {
  const { sweep, config, trial } = model;
  return {
    regsweep_model: 1,
    regsweep_version: packageVersion(),
    sweep: {
      name: sweep.name,
      id: sweep.id,
      database: location,
      data: config.data.path ?? 'synthetic',
      data_hash: sweep.dataHash,
      rows: sweep.n,
      created_at: sweep.createdAt,
      status: sweep.status,
    },
    ...(model.partial ? { partial: model.partial } : {}),
    model: config.model.kind,
    family: model.family,
    objective: objectiveText(model),
    penalty: model.penalty,
    lambda: model.lambda,
    l1_ratio: model.l1Ratio,
    ...(model.settings ? { settings: settingsOf(model.settings) } : {}),
    standardize: config.data.standardize,
    standardization: config.data.standardize
      ? 'features scaled by their population sd (over the rows fitted) while fitting; the coefficients below are on the original scale'
      : 'none; the coefficients are on the original scale',
    selection: {
      rule: ruleLabel(model.rule),
      metric: 'val_loss',
      validation: config.validation.kind,
      cv_mean: model.cv?.mean ?? null,
      cv_se: model.cv?.se ?? null,
      folds: model.cv?.folds ?? 0,
      lambda_min: model.selection?.lambdaMin ?? null,
      lambda_1se: model.selection?.lambda1se ?? null,
    },
    fit: {
      trial_id: trial.id,
      fold: trial.fold,
      rows: trial.nTrain,
      converged: trial.converged,
      train_loss: trial.trainLoss,
      passes: trial.passes,
      epochs: trial.epochsRun,
    },
    features: model.features,
    target: model.family === 'cox' ? { time: model.targets[0], status: model.targets[1] } : model.targets.length === 1 ? model.targets[0] : model.targets,
    ...(model.family === 'binomial' ? { classes: { negative: model.classes![0], positive: model.classes![1] } } : model.classes ? { classes: model.classes } : {}),
    ...(model.offset ? { offset: model.offset } : {}),
    // How new rows become the features: each category's levels, the value each gap is filled with (from every row).
    ...(model.encoding ? { encoding: model.encoding } : {}),
    // Per-feature penalty factors (rescaled to sum to the number of features, as glmnet) and bounds, where not 1 / none.
    ...(model.featurePenalty ? { feature_penalty: featurePenaltyCard(model) } : {}),
    ...(model.family === 'multinomial' ? { grouped: model.grouped } : {}),
    ...(model.family === 'cox' ? {} : { intercept: perOutput(model, (k) => model.intercepts[k]) }),
    coefficients: perOutput(model, (k) => Object.fromEntries(model.features.map((f, j) => [f, model.coefs[k][j]]))),
    // A Cox model's survival at time t is exp(−H0(t)·exp(x·b)), H0 the step at the last death time not after t.
    ...(model.baseline ? { baseline_hazard: { method: 'breslow', times: Array.from(model.baseline.times), cumulative_hazard: Array.from(model.baseline.hazard) } } : {}),
    nonzero: model.nonzero,
    notes: model.notes,
  };
}

/** The features whose penalty factor is not 1 or whose coefficient is bounded, by name. */
function featurePenaltyCard(model: Model) {
  const { factor, lower, upper } = model.featurePenalty!;
  const bound = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    factors: factor ? Object.fromEntries(model.features.flatMap((f, j) => (factor[j] !== 1 ? [[f, factor[j]]] : []))) : {},
    limits: lower ? Object.fromEntries(model.features.flatMap((f, j) => (lower[j] !== -Infinity || upper![j] !== Infinity ? [[f, [bound(lower[j]), bound(upper![j])]]] : []))) : {},
  };
}
