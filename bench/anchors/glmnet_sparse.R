# R glmnet on a dgCMatrix for `npm run bench -- sparse`: read the Matrix Market file and the targets (not timed), time
# the lasso path at the given λ (standardize = FALSE: the objective scikit-learn also solves) and cv.glmnet with the
# given foldid, each `repeats` times; print one JSON line with the times, the last λ's coefficients and the CV's λ_min.
# usage: Rscript glmnet_sparse.R MTX Y_CSV FAMILY PARAMS_JSON_FILE
suppressMessages({ library(glmnet); library(Matrix); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
X <- as(readMM(args[1]), "CsparseMatrix")
targets <- read.csv(args[2])
family <- args[3]
params <- fromJSON(args[4])
y <- if (family == "binomial") targets$label else targets$response
lambdas <- as.numeric(params$lambdas)
json <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]")
times <- c()
for (r in seq_len(params$repeats)) times <- c(times, system.time(fit <- glmnet(X, y, family = family, lambda = lambdas, standardize = FALSE))[["elapsed"]])
B <- as.matrix(coef(fit)); l <- ncol(B)
foldid <- as.integer(params$foldid)
# As many CV repeats as regsweep's (one process each there): the median of each side is compared.
cv_times <- c()
for (r in seq_len(params$repeats)) cv_times <- c(cv_times, system.time(cv <- cv.glmnet(X, y, family = family, lambda = lambdas, standardize = FALSE, foldid = foldid))[["elapsed"]])
cat(sprintf('{"times":%s,"coef":%s,"intercept":%.17g,"cv_seconds":%.6g,"cv_times":%s,"lambda_min":%.17g}\n', json(times), json(B[-1, l]), B[1, l], median(cv_times), json(cv_times), cv$lambda.min))
