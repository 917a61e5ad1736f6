# CSV loading anchor for `npm run bench -- load`: data.table's fread (as a double matrix), timed in R.
# usage: Rscript load_fread.R CSV REPEATS ; prints one JSON line {times, n, p}.
suppressMessages(library(data.table))
args <- commandArgs(trailingOnly = TRUE)
times <- c()
for (r in seq_len(as.integer(args[2]))) {
  t <- proc.time()[["elapsed"]]
  m <- as.matrix(fread(args[1], header = TRUE, nThread = 2))
  times <- c(times, proc.time()[["elapsed"]] - t)
}
cat(sprintf('{"times": [%s], "n": %d, "p": %d}\n', paste(times, collapse = ", "), nrow(m), ncol(m) - 1))
