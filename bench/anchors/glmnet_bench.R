# R glmnet anchors for `npm run bench`: load the CSV (not timed), time the fit only, print one JSON line.
# usage: Rscript glmnet_bench.R WORKLOAD CSV PARAMS_JSON_FILE
suppressMessages({ library(glmnet); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
workload <- args[1]
d <- as.matrix(read.csv(args[2]))
X <- d[, -ncol(d)]; y <- d[, ncol(d)]
params <- fromJSON(args[3])
num <- function(key) as.numeric(params[[key]])
one <- num
repeats <- one("repeats")
times <- c(); extra <- ""
json <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]")
if (workload %in% c("path-lasso", "path-enet")) {
  for (r in 1:repeats) times <- c(times, system.time(fit <- glmnet(X, y, alpha = one("alpha"), lambda = num("lambdas"), standardize = FALSE))[["elapsed"]])
  B <- as.matrix(coef(fit)); l <- ncol(B)
  extra <- sprintf(',"coef":%s,"intercept":%.17g', json(B[-1, l]), B[1, l])
} else if (workload == "cv-enet") {
  foldid <- as.integer(num("foldid")) + 1L
  for (r in 1:repeats) times <- c(times, system.time({
    fits <- lapply(num("alphas"), function(a) cv.glmnet(X, y, alpha = a, nlambda = 100, lambda.min.ratio = 1e-3, foldid = foldid))
  })[["elapsed"]])
  best <- which.min(sapply(fits, function(f) min(f$cvm)))
  extra <- sprintf(',"best":{"lambda":%.17g,"alpha":%s}', fits[[best]]$lambda.min, num("alphas")[best])
} else if (workload == "separable") {
  foldid <- seq_len(nrow(X)) %% 10 + 1
  for (r in 1:repeats) times <- c(times, system.time(cv <- cv.glmnet(X, y, family = "binomial", nlambda = 100, lambda.min.ratio = 1e-4, foldid = foldid))[["elapsed"]])
  extra <- sprintf(',"best":{"lambda_min":%.17g,"lambda_1se":%.17g},"lambdas":%d', cv$lambda.min, cv$lambda.1se, length(cv$lambda))
} else if (workload == "path-logit-l1") {
  for (r in 1:repeats) times <- c(times, system.time(fit <- glmnet(X, y, family = "binomial", alpha = 1, lambda = num("lambdas"), standardize = FALSE))[["elapsed"]])
  B <- as.matrix(coef(fit)); l <- ncol(B)
  extra <- sprintf(',"coef":%s,"intercept":%.17g', json(B[-1, l]), B[1, l])
}
cat(sprintf('{"times":%s%s}\n', json(times), extra))
