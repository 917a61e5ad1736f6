// `export --model --format glmnet`: an R script with the model's coefficients that predicts a CSV as `regsweep predict`
// does, and shows (and runs, with --refit) the glmnet call that refits the same objective. The code is
// src/model/templates/model.R; the model enters it only through the R emitter (emit.ts).
import { UserError } from '../errors.js';
import { relaxedGamma } from '../select/cv.js';
import { provenance } from './card.js';
import { fillTemplate, modelValues, r, readTemplate, type Literal } from './emit.js';
import type { Model } from './load.js';
import { predictionColumns } from './predict.js';

/** glmnet's convergence settings for a refit: far below its default thresh 1e-7, which stops short by more than 1e-6. */
const EXACT = { thresh: 1e-20, maxit: 1e8 };

/** How model.R refits: lm or glm for an unpenalized model, else glmnet with these arguments. */
type Refit = { fit: 'lm' } | { fit: 'glm' } | { fit: 'glmnet'; args: { [name: string]: Literal }; translate: boolean; gamma?: number } | { fit: 'none'; why: string };

/** glmnet has no group lasso over several features: a model of model.group_categorical is not refitted. */
export const NO_GROUP_REFIT = 'glmnet and scikit-learn have no group lasso over a category\'s indicators (model.group_categorical); the script predicts with the stored coefficients but cannot refit';

/** A penalized model of model.group_categorical: neither script can refit it. */
export function groupedCategories(model: Model): boolean {
  return model.config.model.kind !== 'mlp' && !!model.config.model.group_categorical && model.penalty !== 'none';
}

/**
 * The refit for the model. glmnet's single-response gaussian family scales y to unit variance internally, which turns
 * the ridge part of its penalty into λ(1−r)/(2·sd(y)); asking it for alpha = r/(r + s(1−r)) and lambda = λ(r + s(1−r)),
 * with s the population sd of y, gives back λr for the lasso part and λ(1−r) for the ridge part: regsweep's objective
 * (`translate`). mgaussian, binomial, multinomial, poisson and cox need no translation.
 */
function refitOf(model: Model): Refit {
  const { family, penalty, lambda, l1Ratio } = model;
  if (groupedCategories(model)) return { fit: 'none', why: NO_GROUP_REFIT };
  const standardize = model.config.data.standardize;
  if (penalty === 'none' && !model.featurePenalty && family !== 'cox') {
    if (family === 'gaussian') return { fit: 'lm' };
    if (family === 'binomial' || family === 'poisson') return { fit: 'glm' };
    if (family === 'multinomial') return { fit: 'glmnet', args: { family: 'multinomial', lambda: 0, standardize, ...EXACT }, translate: false };
  }
  const glmnetFamily = family === 'gaussian' && model.outputs.length > 1 ? 'mgaussian' : family;
  const multinomial: { [name: string]: Literal } = family === 'multinomial' ? { 'type.multinomial': model.grouped ? 'grouped' : 'ungrouped' } : {};
  const perFeature = model.featurePenalty;
  const limits: { [name: string]: Literal } = perFeature
    ? {
        ...(perFeature.factor ? { 'penalty.factor': perFeature.factor } : {}),
        ...(perFeature.lower ? { 'lower.limits': perFeature.lower, 'upper.limits': perFeature.upper! } : {}),
      }
    : {};
  const gamma = relaxedGamma(model.settings);
  return {
    fit: 'glmnet',
    args: { family: glmnetFamily, ...multinomial, alpha: penalty === 'none' ? 0 : l1Ratio, lambda: penalty === 'none' ? 0 : lambda, ...limits, standardize, ...EXACT },
    translate: glmnetFamily === 'gaussian' && penalty !== 'none' && l1Ratio !== 1,
    // A relaxed model (sweep.gamma): the fit at λ blended with the unpenalized refit on its active features.
    ...(gamma !== undefined && gamma < 1 ? { gamma } : {}),
  };
}

/** The refit as R a reader would type, for the script's comments. */
function refitText(model: Model, refit: Refit): string[] {
  const response: Record<string, string> = {
    binomial: 'y <- as.integer(d[[target[1]]] == classes[2])',
    multinomial: 'y <- factor(d[[target[1]]], levels = classes)',
    // Times scaled to (0, 1]: glmnet's 100·eps that keeps a row censored at a death time at risk is lost at large times.
    cox: 'y <- cbind(time = d[[target[1]]] / max(d[[target[1]]]), status = d[[target[2]]])',
  };
  const lines = [
    'library(glmnet)',
    `x <- as.matrix(d[, features])${model.offset ? '; off <- d[[offset_column]]' : ''}; ${response[model.family] ?? (model.outputs.length > 1 ? 'y <- as.matrix(d[, target])' : 'y <- d[[target[1]]]')}`,
  ];
  if (refit.fit === 'none') return [refit.why];
  if (refit.fit === 'lm') return [...lines, 'fit <- lm(y ~ x)'];
  if (refit.fit === 'glm') return [...lines, `fit <- glm(y ~ x${model.offset ? ' + offset(off)' : ''}, family = ${model.family}(), control = glm.control(epsilon = 1e-14, maxit = 100))`];
  const args = Object.entries(refit.args).map(([k, v]) => `${k} = ${r.literal(v)}`);
  const offset = model.offset ? ', offset = off' : '';
  if (refit.gamma !== undefined)
    return [
      ...lines,
      `fit <- glmnet(x, y, ${args.join(', ')}, relax = TRUE${offset})`,
      `coef(fit, gamma = ${r.number(refit.gamma)})   # the relaxed lasso: gamma·fit + (1 − gamma)·(unpenalized refit on its active features)`,
      '(glmnet blends with a gamma of at least 1e-5; model.R --refit blends exactly)',
    ];
  if (!refit.translate) return [...lines, `fit <- glmnet(x, y, ${args.join(', ')}${offset})`];
  const rest = args.filter((a) => !/^(alpha|lambda) =/.test(a));
  return [
    ...lines,
    "s <- sqrt(mean((y - mean(y))^2))   # glmnet scales y by its population sd: translate (alpha, lambda) so the objective is regsweep's",
    `r <- ${r.number(model.l1Ratio)}`,
    `fit <- glmnet(x, y, alpha = r / (r + s * (1 - r)), lambda = ${r.number(model.lambda)} * (r + s * (1 - r)), ${rest.join(', ')})`,
    '',
    '(glmnet(x, y, alpha = r, lambda = lambda) alone would fit a ridge part of lambda·(1 - r)/(2·sd(y)) instead of',
    'lambda·(1 - r)/2: the two agree only when sd(y) = 1 or r = 1; the translation above makes them the same.)',
  ];
}

export function glmnetScript(model: Model, location: string): string {
  if (model.config.model.kind === 'mlp')
    throw new UserError(`export --model --format glmnet: sweep "${model.sweep.name}" trains a network by ${model.config.model.optimizer}; glmnet does not refit its objective (use --format json for its weights)`);
  const refit = refitOf(model);
  const header = [
    ...provenance(model, location),
    '',
    'Run it:',
    `  Rscript model.R new.csv [--keep COLUMN] > predictions.csv   the columns of \`regsweep predict\`: ${predictionColumns(model).join(', ')}`,
    '  Rscript model.R --refit train.csv                           refits with glmnet, prints both coefficient sets',
    '',
    "The coefficients below are regsweep's (original scale): predicting needs no package. To refit from scratch (with a",
    "threshold far below glmnet's default 1e-7, which stops short of the optimum by more than 1e-6 here):",
    '',
    ...refitText(model, refit).map((line) => (line === '' ? '' : `  ${line}`)),
  ];
  return fillTemplate(readTemplate('model.R'), r, {
    comments: { REGSWEEP_HEADER: header },
    values: { ...modelValues(model, predictionColumns(model)), REGSWEEP_REFIT: refit },
  });
}
