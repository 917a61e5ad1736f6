# R glmnet on a dgCMatrix for `npm run bench -- sparse`: read the Matrix Market file and the targets (not timed), then
# either time the lasso path at the given λ (standardize = FALSE: the objective scikit-learn also solves) `repeats` times
# and print the times and the last λ's coefficients, or (MODE cv) time cv.glmnet once with the given foldid and print
# its time and λ_min — the bench runs that in turn with regsweep's CV processes, so that both see the same machine.
# usage: Rscript glmnet_sparse.R MTX Y_CSV FAMILY PARAMS_JSON_FILE [path|cv]
suppressMessages({ library(glmnet); library(Matrix); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
X <- as(readMM(args[1]), "CsparseMatrix")
targets <- read.csv(args[2])
family <- args[3]
params <- fromJSON(args[4])
y <- if (family == "binomial") targets$label else targets$response
lambdas <- as.numeric(params$lambdas)
json <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]")
if (length(args) >= 5 && args[5] == "cv") {
  foldid <- as.integer(params$foldid)
  cv_time <- system.time(cv <- cv.glmnet(X, y, family = family, lambda = lambdas, standardize = FALSE, foldid = foldid))[["elapsed"]]
  cat(sprintf('{"cv_seconds":%.6g,"lambda_min":%.17g}\n', cv_time, cv$lambda.min))
} else {
  times <- c()
  for (r in seq_len(params$repeats)) times <- c(times, system.time(fit <- glmnet(X, y, family = family, lambda = lambdas, standardize = FALSE))[["elapsed"]])
  B <- as.matrix(coef(fit)); l <- ncol(B)
  cat(sprintf('{"times":%s,"coef":%s,"intercept":%.17g}\n', json(times), json(B[-1, l]), B[1, l]))
}
