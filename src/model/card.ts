// `export --model --format json`: a model card — what the model is, how it was chosen, and its coefficients on the
// original scale — complete enough to predict from and to reproduce the fit.
import { packageVersion } from '../builtFile.js';
import { ruleLabel } from '../select/model.js';
import type { Model } from './load.js';

/** The objective the model minimizes, in the notation of the docs. */
export function objectiveText(model: Pick<Model, 'family'>): string {
  const loss = model.family === 'binomial' ? '-(1/n)·loglik(y; b0 + Xb)' : '(1/2n)·||y - b0 - Xb||²';
  return `${loss} + lambda·(l1_ratio·||b||₁ + (1 - l1_ratio)/2·||b||²), intercept not penalized`;
}

/** Per target (one entry per output), or the value itself for a single target. */
function perTarget<T>(model: Model, value: (k: number) => T): T | Record<string, T> {
  return model.targets.length === 1 ? value(0) : Object.fromEntries(model.targets.map((t, k) => [t, value(k)]));
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
    },
    model: config.model.kind,
    family: model.family,
    objective: objectiveText(model),
    penalty: model.penalty,
    lambda: model.lambda,
    l1_ratio: model.l1Ratio,
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
    target: perTarget(model, (k) => model.targets[k]),
    ...(model.classes ? { classes: { negative: model.classes[0], positive: model.classes[1] } } : {}),
    intercept: perTarget(model, (k) => model.intercepts[k]),
    coefficients: perTarget(model, (k) => Object.fromEntries(model.features.map((f, j) => [f, model.coefs[k][j]]))),
    nonzero: model.nonzero,
    notes: model.notes,
  };
}
