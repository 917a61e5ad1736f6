// `export --model --format glmnet`: an R script with the model's coefficients that predicts a CSV as `regsweep predict`
// does, and shows (and runs, with --refit) the glmnet call that refits the same objective.
import { UserError } from '../errors.js';
import type { Model } from './load.js';
import { provenance } from './sklearn.js';

const rString = (s: string) => JSON.stringify(s);
/** A double as an R literal that reads back to the same value (to the last bit or one ulp: R's parser). */
const rNumber = (v: number) => String(v);

/**
 * The glmnet call for the model. glmnet's gaussian family scales y to unit variance internally, which turns the ridge
 * part of its penalty into λ(1−r)/(2·sd(y)); asking it for alpha = r/(r + s(1−r)) and lambda = λ(r + s(1−r)), with s
 * the population sd of y, gives back λr for the lasso part and λ(1−r) for the ridge part: the objective regsweep fits.
 */
function refitCall(model: Model): string[] {
  const standardize = model.config.data.standardize ? 'TRUE' : 'FALSE';
  if (model.penalty === 'none')
    return model.family === 'binomial'
      ? ['fit <- glm(y ~ x, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))', 'b <- coef(fit)']
      : ['fit <- lm(y ~ x)', 'b <- coef(fit)'];
  if (model.family === 'binomial')
    return [
      `fit <- glmnet(x, y, family = "binomial", alpha = ${rNumber(model.l1Ratio)}, lambda = ${rNumber(model.lambda)}, standardize = ${standardize}, thresh = 1e-20, maxit = 1e8)`,
      'b <- as.matrix(coef(fit))[, 1]',
    ];
  if (model.l1Ratio === 1)
    return [
      `fit <- glmnet(x, y, family = "gaussian", alpha = 1, lambda = ${rNumber(model.lambda)}, standardize = ${standardize}, thresh = 1e-20, maxit = 1e8)`,
      'b <- as.matrix(coef(fit))[, 1]',
    ];
  return [
    's <- sqrt(mean((y - mean(y))^2))   # glmnet scales y by its population sd: translate (alpha, lambda) so the objective is regsweep\'s',
    `r <- ${rNumber(model.l1Ratio)}`,
    `fit <- glmnet(x, y, family = "gaussian", alpha = r / (r + s * (1 - r)), lambda = ${rNumber(model.lambda)} * (r + s * (1 - r)), standardize = ${standardize}, thresh = 1e-20, maxit = 1e8)`,
    'b <- as.matrix(coef(fit))[, 1]',
  ];
}

export function glmnetScript(model: Model, location: string): string {
  if (model.config.model.kind === 'mlp')
    throw new UserError(`export --model --format glmnet: sweep "${model.sweep.name}" trains a network by ${model.config.model.optimizer}; glmnet does not refit its objective (use --format json for its weights)`);
  const binomial = model.family === 'binomial';
  const coefs = model.coefs[0];
  const call = refitCall(model);
  const header = provenance(model, location).map((l) => `# ${l}`);
  const vector = (xs: string[]) => xs.map((x) => `  ${x}`).join(',\n');
  return `#!/usr/bin/env Rscript
${header.join('\n')}
#
# Run it:
#   Rscript model.R new.csv [--keep COLUMN] > predictions.csv   the columns of \`regsweep predict\`: ${binomial ? 'probability, label' : 'prediction'}
#   Rscript model.R --refit train.csv                           refits with glmnet, prints both coefficient sets
#
# The coefficients below are regsweep's (original scale): predicting needs no package. To refit from scratch (with a
# threshold far below glmnet's default 1e-7, which stops short of the optimum by more than 1e-6 here):
#
#   library(glmnet)
#   x <- as.matrix(d[, features]); y <- ${binomial ? 'as integer: d[[target]] == classes[2]' : 'd[[target]]'}
${call.map((l) => `#   ${l}`).join('\n')}
#${model.family === 'gaussian' && model.penalty !== 'none' && model.l1Ratio !== 1 ? `
# (glmnet(x, y, alpha = r, lambda = lambda) alone would fit a ridge part of lambda·(1 - r)/(2·sd(y)) instead of
# lambda·(1 - r)/2: the two agree only when sd(y) = 1 or r = 1; the translation above makes them the same.)
#` : ''}
features <- c(
${vector(model.features.map(rString))}
)
target <- ${rString(model.targets[0])}
classes <- ${binomial ? `c(${model.classes!.map(rString).join(', ')})  # negative, positive` : 'NULL'}
beta <- c(
${vector(Array.from(coefs, rNumber))}
)
intercept <- ${rNumber(model.intercepts[0])}

csv_cell <- function(s) ifelse(grepl('[",\\r\\n]', s), paste0('"', gsub('"', '""', s), '"'), s)
number <- function(v) sprintf("%.17g", v)

predict_rows <- function(x) {
  eta <- intercept + drop(x %*% beta)
  ${binomial ? 'list(probability = number(1 / (1 + exp(-eta))), label = csv_cell(ifelse(eta > 0, classes[2], classes[1])))' : 'list(prediction = number(eta))'}
}

predict_file <- function(path, keep) {
  con <- file(path, "r", encoding = "UTF-8-BOM")
  on.exit(close(con))
  header <- trimws(scan(text = readLines(con, n = 1), what = "", sep = ",", quiet = TRUE))
  missing <- setdiff(c(features, keep), header)
  if (length(missing)) stop(paste0(path, ": not a column: ", paste(missing, collapse = ", ")), call. = FALSE)
  cat(paste(c(keep, ${binomial ? '"probability", "label"' : '"prediction"'}), collapse = ","), "\\n", sep = "")
  repeat {
    chunk <- tryCatch(read.csv(con, header = FALSE, nrows = 10000, col.names = header, check.names = FALSE, colClasses = "character", strip.white = TRUE),
                      error = function(e) NULL)
    if (is.null(chunk) || nrow(chunk) == 0) break
    x <- matrix(as.numeric(as.matrix(chunk[, features, drop = FALSE])), nrow(chunk))
    cells <- c(lapply(keep, function(k) csv_cell(chunk[[k]])), predict_rows(x))
    cat(paste0(do.call(paste, c(cells, sep = ",")), "\\n"), sep = "")
  }
}

refit <- function(path) {
  suppressPackageStartupMessages(library(glmnet))
  d <- read.csv(path, check.names = FALSE, strip.white = TRUE)
  x <- as.matrix(d[, features, drop = FALSE])
  y <- ${binomial ? 'as.integer(as.character(d[[target]]) == classes[2])' : 'd[[target]]'}
  # glmnet wants two columns at least: a zero column is fitted a zero coefficient and dropped.
  one <- ncol(x) == 1
  if (one${model.penalty === 'none' ? ' && FALSE' : ''}) x <- cbind(x, 0)
${call.map((l) => `  ${l}`).join('\n')}
  b <- unname(b)[seq_len(length(features) + 1)]
  cat("term,refit,model\\n")
  cat(sprintf("%s,%.17g,%.17g\\n", c("(intercept)", features), b, c(intercept, beta)), sep = "")
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2 && args[1] == "--refit") {
  refit(args[2])
} else {
  keep <- character(0)
  while ("--keep" %in% args) {
    k <- match("--keep", args)
    keep <- c(keep, args[k + 1])
    args <- args[-c(k, k + 1)]
  }
  if (length(args) != 1) stop("usage: Rscript model.R new.csv [--keep COLUMN] | Rscript model.R --refit train.csv", call. = FALSE)
  predict_file(args[1], keep)
}
`;
}
