// `export --model --format glmnet`: an R script with the model's coefficients that predicts a CSV as `regsweep predict`
// does, and shows (and runs, with --refit) the glmnet call that refits the same objective.
import { UserError } from '../errors.js';
import type { Model } from './load.js';
import { predictionColumns } from './predict.js';
import { provenance } from './sklearn.js';

const rString = (s: string) => JSON.stringify(s);
/** A double as an R literal that reads back to the same value (to the last bit or one ulp: R's parser). */
const rNumber = (v: number) => String(v);

const THRESH = 'thresh = 1e-20, maxit = 1e8';

/**
 * The refit for the model, as R lines that leave the coefficients in `b` (intercept first, then the features; one
 * column per output). glmnet's single-response gaussian family scales y to unit variance internally, which turns the
 * ridge part of its penalty into λ(1−r)/(2·sd(y)); asking it for alpha = r/(r + s(1−r)) and lambda = λ(r + s(1−r)),
 * with s the population sd of y, gives back λr for the lasso part and λ(1−r) for the ridge part: regsweep's objective.
 * mgaussian, binomial, multinomial and poisson need no translation.
 */
function refitCall(model: Model): string[] {
  const standardize = `standardize = ${model.config.data.standardize ? 'TRUE' : 'FALSE'}`;
  const { family, penalty, lambda, l1Ratio } = model;
  const several = model.outputs.length > 1;
  const offset = model.offset ? ', offset = off' : '';
  const glmnetB = 'b <- do.call(cbind, lapply(if (is.list(coef(fit))) coef(fit) else list(coef(fit)), function(m) as.matrix(m)[, 1]))';
  if (penalty === 'none') {
    if (family === 'gaussian') return ['fit <- lm(y ~ x)', 'b <- as.matrix(coef(fit))'];
    if (family === 'binomial') return ['fit <- glm(y ~ x, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))', 'b <- as.matrix(coef(fit))'];
    if (family === 'poisson') return [`fit <- glm(y ~ x${model.offset ? ' + offset(off)' : ''}, family = poisson(), control = glm.control(epsilon = 1e-14, maxit = 100))`, 'b <- as.matrix(coef(fit))'];
    return [`fit <- glmnet(x, y, family = "multinomial", lambda = 0, ${standardize}, ${THRESH})`, glmnetB];
  }
  if (family === 'gaussian' && several)
    return [`fit <- glmnet(x, y, family = "mgaussian", alpha = ${rNumber(l1Ratio)}, lambda = ${rNumber(lambda)}, ${standardize}, ${THRESH})`, glmnetB];
  if (family === 'gaussian' && l1Ratio !== 1)
    return [
      's <- sqrt(mean((y - mean(y))^2))   # glmnet scales y by its population sd: translate (alpha, lambda) so the objective is regsweep\'s',
      `r <- ${rNumber(l1Ratio)}`,
      `fit <- glmnet(x, y, family = "gaussian", alpha = r / (r + s * (1 - r)), lambda = ${rNumber(lambda)} * (r + s * (1 - r)), ${standardize}, ${THRESH})`,
      glmnetB,
    ];
  const familyArgument =
    family === 'multinomial' ? `family = "multinomial", type.multinomial = "${model.grouped ? 'grouped' : 'ungrouped'}"` : `family = "${family}"`;
  return [`fit <- glmnet(x, y, ${familyArgument}, alpha = ${rNumber(l1Ratio)}, lambda = ${rNumber(lambda)}${family === 'poisson' ? offset : ''}, ${standardize}, ${THRESH})`, glmnetB];
}

/** How the script's `y` is made from the data frame `d`. */
function responseLine(model: Model): string {
  switch (model.family) {
    case 'binomial':
      return 'y <- as.integer(as.character(d[[target[1]]]) == classes[2])';
    case 'multinomial':
      return 'y <- factor(as.character(d[[target[1]]]), levels = classes)';
    default:
      return model.outputs.length > 1 ? 'y <- as.matrix(d[, target])' : 'y <- d[[target[1]]]';
  }
}

export function glmnetScript(model: Model, location: string): string {
  if (model.config.model.kind === 'mlp')
    throw new UserError(`export --model --format glmnet: sweep "${model.sweep.name}" trains a network by ${model.config.model.optimizer}; glmnet does not refit its objective (use --format json for its weights)`);
  const { family } = model;
  const call = refitCall(model);
  const header = provenance(model, location).map((l) => `# ${l}`);
  const columns = predictionColumns(model);
  const vector = (xs: string[]) => xs.map((x) => `  ${x}`).join(',\n');
  const single = family === 'gaussian' && model.outputs.length === 1;
  const predictBody: Record<string, string> = {
    gaussian: 'lapply(seq_len(ncol(eta)), function(k) number(eta[, k]))',
    poisson: 'list(number(exp(eta[, 1])))',
    binomial: 'list(number(1 / (1 + exp(-eta[, 1]))), csv_cell(ifelse(eta[, 1] > 0, classes[2], classes[1])))',
    multinomial: `{
    P <- exp(eta - apply(eta, 1, max)); P <- P / rowSums(P)
    c(lapply(seq_len(ncol(P)), function(k) number(P[, k])), list(csv_cell(classes[max.col(eta, ties.method = "first")])))
  }`,
  };
  return `#!/usr/bin/env Rscript
${header.join('\n')}
#
# Run it:
#   Rscript model.R new.csv [--keep COLUMN] > predictions.csv   the columns of \`regsweep predict\`: ${columns.join(', ')}
#   Rscript model.R --refit train.csv                           refits with glmnet, prints both coefficient sets
#
# The coefficients below are regsweep's (original scale): predicting needs no package. To refit from scratch (with a
# threshold far below glmnet's default 1e-7, which stops short of the optimum by more than 1e-6 here):
#
#   library(glmnet)
#   x <- as.matrix(d[, features])${model.offset ? `; off <- d[[offset_column]]` : ''}; ${responseLine(model)}
${call.map((l) => `#   ${l}`).join('\n')}
#${single && model.penalty !== 'none' && model.l1Ratio !== 1 ? `
# (glmnet(x, y, alpha = r, lambda = lambda) alone would fit a ridge part of lambda·(1 - r)/(2·sd(y)) instead of
# lambda·(1 - r)/2: the two agree only when sd(y) = 1 or r = 1; the translation above makes them the same.)
#` : ''}
family <- ${rString(family)}
features <- c(
${vector(model.features.map(rString))}
)
target <- c(${model.targets.map(rString).join(', ')})
outputs <- c(${model.outputs.map(rString).join(', ')})
classes <- ${model.classes ? `c(${model.classes.map(rString).join(', ')})` : 'NULL'}
offset_column <- ${model.offset ? rString(model.offset) : 'NULL'}
columns <- c(${columns.map(rString).join(', ')})
# One column of coefficients per output (a target, or a class), original scale; and the intercepts.
B <- matrix(c(
${vector(model.coefs.flatMap((c) => Array.from(c, rNumber)))}
), nrow = length(features))
a <- c(${model.intercepts.map(rNumber).join(', ')})

csv_cell <- function(s) ifelse(grepl('[",\\r\\n]', s), paste0('"', gsub('"', '""', s), '"'), s)
number <- function(v) sprintf("%.17g", v)

predict_rows <- function(x, off) {
  eta <- sweep(x %*% B, 2, a, "+") + off
  ${predictBody[family]}
}

predict_file <- function(path, keep) {
  con <- file(path, "r", encoding = "UTF-8-BOM")
  on.exit(close(con))
  header <- trimws(scan(text = readLines(con, n = 1), what = "", sep = ",", quiet = TRUE))
  missing <- setdiff(c(features, keep, offset_column), header)
  if (length(missing)) stop(paste0(path, ": not a column: ", paste(missing, collapse = ", ")), call. = FALSE)
  cat(paste(c(keep, columns), collapse = ","), "\\n", sep = "")
  repeat {
    chunk <- tryCatch(read.csv(con, header = FALSE, nrows = 10000, col.names = header, check.names = FALSE, colClasses = "character", strip.white = TRUE),
                      error = function(e) NULL)
    if (is.null(chunk) || nrow(chunk) == 0) break
    x <- matrix(as.numeric(as.matrix(chunk[, features, drop = FALSE])), nrow(chunk))
    off <- if (is.null(offset_column)) 0 else as.numeric(chunk[[offset_column]])
    cells <- c(lapply(keep, function(k) csv_cell(chunk[[k]])), predict_rows(x, off))
    cat(paste0(do.call(paste, c(cells, sep = ",")), "\\n"), sep = "")
  }
}

refit <- function(path) {
  suppressPackageStartupMessages(library(glmnet))
  d <- read.csv(path, check.names = FALSE, strip.white = TRUE)
  x <- as.matrix(d[, features, drop = FALSE])
  ${responseLine(model)}
  off <- if (is.null(offset_column)) NULL else d[[offset_column]]
  # glmnet wants two columns at least: a zero column is fitted a zero coefficient and dropped.
  if (ncol(x) == 1) x <- cbind(x, 0)
${call.map((l) => `  ${l}`).join('\n')}
  b <- as.matrix(b)[seq_len(length(features) + 1), , drop = FALSE]
  model <- rbind(a, B)
  if (family == "multinomial") b[1, ] <- b[1, ] - mean(b[1, ])   # determined up to a constant: centered, as regsweep keeps them
  names <- if (length(outputs) > 1) outer(c("(intercept)", features), outputs, function(f, o) paste0(o, ":", f)) else matrix(c("(intercept)", features))
  cat("term,refit,model\\n")
  cat(sprintf("%s,%.17g,%.17g\\n", as.vector(names), as.vector(b), as.vector(model)), sep = "")
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
