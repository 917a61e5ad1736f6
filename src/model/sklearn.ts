// `export --model --format sklearn`: a standalone Python file with the equivalent scikit-learn estimator, its
// coefficients set from the model (no refit), that predicts a CSV as `regsweep predict` does and can refit from scratch.
// The code is src/model/templates/model.py; the model enters it only through the Python emitter (emit.ts).
import { UserError } from '../errors.js';
import { provenance } from './card.js';
import { fillTemplate, modelValues, python, readTemplate, type Literal } from './emit.js';
import type { Model } from './load.js';
import { predictionColumns } from './predict.js';
import { groupedCategories, NO_GROUP_REFIT } from './glmnet.js';
import { relaxedGamma } from '../select/cv.js';

/** A class of sklearn.linear_model and the parameters it is made with. */
interface Estimator {
  estimator: string;
  params: { [name: string]: Literal };
}

/** The estimator as Python code, for the script's comments. */
function callText({ estimator, params }: Estimator): string {
  return `${estimator}(${Object.entries(params).map(([k, v]) => `${k}=${python.literal(v)}`).join(', ')})`;
}

/**
 * The estimator in scikit-learn's conventions for the same objective (`tight` adds refit tolerances), or undefined
 * where scikit-learn has none (a grouped multinomial, a poisson model with an L1 part or an offset) — the estimator
 * for predicting is then the family's, whose penalty does not matter once the coefficients are set.
 */
function sklearnEstimator(model: Model, n: number, tight: boolean): Estimator | undefined {
  const { penalty, lambda, l1Ratio, family } = model;
  // scikit-learn has no Cox model (scikit-survival's CoxnetSurvivalAnalysis is glmnet's path, not part of it).
  if (family === 'cox') return undefined;
  const several = model.outputs.length > 1;
  const exact: Estimator['params'] = tight ? { tol: 1e-12, max_iter: 1000000 } : {};
  if (family === 'gaussian') {
    switch (penalty) {
      case 'none':
        return { estimator: 'LinearRegression', params: {} };
      case 'l2':
        // Ridge minimizes ||y - Xb||² + alpha·||b||²: the objective times 2n (per response).
        return { estimator: 'Ridge', params: { alpha: n * lambda } };
      case 'l1':
        return { estimator: several ? 'MultiTaskLasso' : 'Lasso', params: { alpha: lambda, ...exact } };
      case 'elasticnet':
        return { estimator: several ? 'MultiTaskElasticNet' : 'ElasticNet', params: { alpha: lambda, l1_ratio: l1Ratio, ...exact } };
    }
  }
  if (family === 'poisson') {
    // PoissonRegressor minimizes (1/2n)·deviance + alpha/2·||b||²: alpha = λ; it has no L1 part and no offset.
    if ((penalty !== 'l2' && penalty !== 'none') || model.offset) return undefined;
    return { estimator: 'PoissonRegressor', params: { alpha: penalty === 'none' ? 0 : lambda, ...(tight ? { solver: 'newton-cholesky', tol: 1e-12, max_iter: 1000 } : {}) } };
  }
  if (family === 'multinomial' && model.grouped) return undefined;
  // LogisticRegression minimizes C·Σ loss + penalty: the objective divided by λ, so C = 1/(n·λ).
  const C = 1 / (n * lambda);
  // Newton's methods converge to the last digits; scikit-learn's newton-cholesky is binary only.
  const smooth: Estimator['params'] = { solver: tight ? (family === 'multinomial' ? 'newton-cg' : 'newton-cholesky') : 'lbfgs', ...(tight ? { tol: 1e-12, max_iter: 1000 } : {}) };
  switch (penalty) {
    case 'none':
      return { estimator: 'LogisticRegression', params: { penalty: null, ...smooth } };
    case 'l2':
      return { estimator: 'LogisticRegression', params: { penalty: 'l2', C, ...smooth } };
    case 'l1':
      return { estimator: 'LogisticRegression', params: { penalty: 'l1', C, solver: 'saga', ...exact } };
    case 'elasticnet':
      return { estimator: 'LogisticRegression', params: { penalty: 'elasticnet', C, l1_ratio: l1Ratio, solver: 'saga', ...exact } };
  }
}

/**
 * The estimator that carries the coefficients for predicting when scikit-learn has none for the objective: a Cox
 * model's linear predictor is a linear regression's prediction with its coefficients and no intercept.
 */
function carrier(model: Model): Estimator {
  return { estimator: model.family === 'poisson' ? 'PoissonRegressor' : model.family === 'cox' ? 'LinearRegression' : 'LogisticRegression', params: {} };
}

/** Why a refit is not offered, in one line, or undefined when it is. */
function noSklearnRefit(model: Model): string | undefined {
  if (groupedCategories(model)) return NO_GROUP_REFIT;
  if (relaxed(model))
    return "scikit-learn has no relaxed lasso (the fit blended with an unpenalized refit on its active features); refit with glmnet (export --model --format glmnet)";
  if (model.featurePenalty)
    return 'scikit-learn has no per-feature penalty factors or coefficient bounds (model.penalty_factor, model.limits, model.nonnegative); refit with glmnet (export --model --format glmnet)';
  if (sklearnEstimator(model, 1, false)) return undefined;
  if (model.family === 'cox')
    return "scikit-learn has no Cox model; refit with glmnet (export --model --format glmnet), or with scikit-survival's CoxnetSurvivalAnalysis where it is installed";
  if (model.family === 'multinomial') return 'scikit-learn has no grouped multinomial penalty; refit with glmnet (export --model --format glmnet)';
  return model.offset
    ? "scikit-learn's PoissonRegressor takes no offset; refit with glmnet (export --model --format glmnet)"
    : "scikit-learn's PoissonRegressor has only the L2 penalty; refit with glmnet (export --model --format glmnet)";
}

/** The comment lines at the top of model.py: where the model comes from, how to run it, how to refit it by hand. */
function header(model: Model, location: string, refit: Estimator | undefined, n: number): string[] {
  const standardize = model.config.data.standardize;
  const { family } = model;
  const classifier = family === 'binomial' || family === 'multinomial';
  const quoted = (s: string) => JSON.stringify(s);
  const targetDescription = family === 'gaussian' && model.outputs.length > 1 ? `the ${model.targets.map(quoted).join(', ')} columns` : `the ${quoted(model.targets[0])} column`;
  const recipe = refit
    ? [
        '    from sklearn.pipeline import make_pipeline',
        '    from sklearn.preprocessing import StandardScaler',
        `    from sklearn.linear_model import ${refit.estimator}`,
        `    pipe = make_pipeline(${standardize ? 'StandardScaler(), ' : ''}${callText(refit)})`,
        `    pipe.fit(X, y)   # X: the FEATURES columns of the training rows; y: ${targetDescription}${classifier ? ' (as class codes 0, 1, … in the order of CLASSES)' : ''}`,
        `    coef = np.atleast_2d(pipe[-1].coef_)${standardize ? ' / pipe[0].scale_' : ''}   # original scale, one row per output`,
        ...(standardize ? ['    intercept = np.atleast_1d(pipe[-1].intercept_) - coef @ pipe[0].mean_'] : []),
        '',
        `scikit-learn's conventions for regsweep's lambda = ${model.lambda} on n = ${n} rows: ${classifier ? 'C = 1/(n·lambda)' : model.penalty === 'l2' && family === 'gaussian' ? 'Ridge alpha = n·lambda' : 'alpha = lambda'}${model.penalty === 'elasticnet' ? ', l1_ratio as is' : ''}.`,
      ]
    : [`    ${noSklearnRefit(model)}.`];
  return [
    ...provenance(model, location),
    '',
    'Run it:',
    `  python3 model.py new.csv [--keep COLUMN] > predictions.csv   the columns of \`regsweep predict\`: ${predictionColumns(model).join(', ')}`,
    '  python3 model.py --refit train.csv                           refits from scratch, prints both coefficient sets',
    '',
    "estimator() below carries regsweep's coefficients (original scale): nothing is refitted. To refit from scratch with",
    `the same objective${standardize ? ' (features standardized by their population sd while fitting, as StandardScaler does)' : ''}:`,
    '',
    ...recipe,
    'Needs scikit-learn >= 1.2 and numpy.',
  ];
}

/** The model as a scikit-learn script; refuses models scikit-learn has no estimator for. */
export function sklearnScript(model: Model, location: string): string {
  if (model.config.model.kind === 'mlp')
    throw new UserError(`export --model --format sklearn: sweep "${model.sweep.name}" trains a network by ${model.config.model.optimizer}; scikit-learn has no estimator that refits its objective (use --format json for its weights)`);
  const n = model.trial.nTrain;
  // Per-feature penalty factors and bounds have no scikit-learn estimator: the script predicts, glmnet refits.
  const refit = model.featurePenalty || groupedCategories(model) || relaxed(model) ? undefined : sklearnEstimator(model, n, true);
  return fillTemplate(readTemplate('model.py'), python, {
    comments: { REGSWEEP_HEADER: header(model, location, refit, n) },
    values: {
      ...modelValues(model, predictionColumns(model)),
      REGSWEEP_CARRIER: { ...(sklearnEstimator(model, n, false) ?? carrier(model)) },
      REGSWEEP_REFIT: refit ? { ...refit } : null,
      REGSWEEP_NO_REFIT: noSklearnRefit(model) ?? null,
    },
  });
}

/** A relaxed model (sweep.gamma below 1): its coefficients blend a penalized fit with an unpenalized refit. */
function relaxed(model: Model): boolean {
  const gamma = relaxedGamma(model.settings);
  return gamma !== undefined && gamma < 1;
}
