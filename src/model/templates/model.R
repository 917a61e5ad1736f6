#!/usr/bin/env Rscript
# REGSWEEP_HEADER
#
# This file is regsweep's template for `export --model --format glmnet`: the code below is fixed, and the model enters
# only as the literals assigned at the top (names and labels as string literals, numbers as numeric literals).

family <- REGSWEEP_FAMILY
features <- REGSWEEP_FEATURES
target <- REGSWEEP_TARGETS
outputs <- REGSWEEP_OUTPUTS
classes <- REGSWEEP_CLASSES
offset_column <- REGSWEEP_OFFSET
# The column of observation weights the model was fitted with (data.weights), or NULL: --refit weighs the rows by it.
weights_column <- REGSWEEP_WEIGHTS
columns <- REGSWEEP_COLUMNS
# One column of coefficients per output (a target, or a class), original scale; and the intercepts.
coefficients <- REGSWEEP_COEF
B <- matrix(coefficients, nrow = length(features))
a <- REGSWEEP_INTERCEPT
standardize <- REGSWEEP_STANDARDIZE
# How --refit fits the same objective: lm, glm or glmnet, and glmnet's arguments.
refit_with <- REGSWEEP_REFIT
# Set when the sweep was not finished (export --model --allow-partial): what the model was chosen from.
partial <- REGSWEEP_PARTIAL
# How the data's columns became the features (categories as indicators, gaps filled), or NULL when they are columns:
# per column its kind, levels, whether the first level has no indicator, the value a gap is filled with (NULL: a gap
# is an error) and whether a gap indicator follows.
encoding <- REGSWEEP_ENCODING
# The columns a row is read from.
inputs <- if (is.null(encoding)) features else vapply(encoding$columns, function(column) column$name, "")

# Ends with one line on standard error and exit status 1, as regsweep does.
fail <- function(message) {
  cat(message, "\n", sep = "", file = stderr())
  quit(save = "no", status = 1)
}
shown <- function(s) encodeString(s, quote = '"')
# Names and labels are trimmed of the white space JavaScript's trim() removes, as regsweep reads them; R's text
# connections turn a CR inside a quoted cell into LF, so names are compared with CRs made LFs on both sides.
space <- "[\\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
trim <- function(s) gsub(paste0("^", space, "+|", space, "+$"), "", s, perl = TRUE)
same_lines <- function(s) gsub("\r\n?", "\n", s)
csv_cell <- function(s) ifelse(grepl('[",\r\n]', s), paste0('"', gsub('"', '""', s), '"'), s)
# Output that a closed pipe (model.R new.csv | head) ends quietly, as Python's model.py does.
emit <- function(text) tryCatch(cat(text, sep = ""), error = function(e) if (grepl("SIGPIPE|pipe", conditionMessage(e))) quit(save = "no", status = 0) else stop(e))
csv_line <- function(cells) emit(paste0(paste(csv_cell(cells), collapse = ","), "\n"))
number_text <- function(v) sprintf("%.17g", v)

# A number as `regsweep predict` reads it: decimal notation, at most 1e150 in magnitude (no NaN, Inf or hex).
decimal <- "^[ \t]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[ \t]*$"
# A column of cells as numbers, or one line naming file:line:column and why not (the words of `regsweep predict`).
numbers <- function(cells, path, lines, j, column) {
  ok <- grepl(decimal, cells)
  v <- rep(NA_real_, length(cells))
  v[ok] <- as.numeric(cells[ok])
  bad <- which(!ok | abs(v) >= 1e150)
  if (length(bad)) {
    i <- bad[1]
    cell <- trim(cells[i])
    where <- sprintf("%s:%d:%d: column %s", path, lines[i], j, shown(column))
    if (ok[i] && is.infinite(v[i])) fail(sprintf("%s: %s is infinite", where, shown(cell)))
    if (ok[i]) fail(sprintf("%s: %s is too large in magnitude (at most 1e150: its square would overflow); rescale the column", where, cell))
    if (cell == "") fail(sprintf("%s: empty cell (a missing value: data.missing drops or fills them)", where))
    if (grepl("^[+-]?nan$", cell, ignore.case = TRUE)) fail(sprintf("%s: NaN is not allowed", where))
    if (grepl("^[+-]?Infinity$", cell)) fail(sprintf("%s: %s is infinite", where, shown(cell)))
    if (grepl("^[+-]?0[xXoObB][0-9a-fA-F]+$", cell)) fail(sprintf("%s: %s is not a decimal number", where, shown(cell)))
    fail(sprintf("%s: %s is not a number", where, shown(cell)))
  }
  v
}

# The line each record of a chunk starts on, counted as regsweep counts them (a cell's line breaks included), and
# the line after the chunk.
breaks_in <- function(cells) nchar(cells) - nchar(gsub("\n", "", cells, fixed = TRUE))
record_lines <- function(chunk, first) {
  breaks <- if (any(grepl("\n", unlist(chunk), fixed = TRUE))) rowSums(matrix(vapply(chunk, breaks_in, numeric(nrow(chunk))), nrow = nrow(chunk))) else numeric(nrow(chunk))
  first + cumsum(c(0, 1 + breaks))
}

# Reads a CSV as text, 10000 records at a time: each chunk goes to `use` with the line its first record is on. Every
# cell is kept as written ("NA" is a name or a value, not R's missing value); names are trimmed as regsweep trims them.
read_csv_chunks <- function(path, use) {
  if (!file.exists(path)) fail(sprintf("%s: cannot read the data file (no such file)", path))
  con <- file(path, "r", encoding = "UTF-8-BOM")
  on.exit(close(con))
  read <- function(n, names) {
    options <- list(con, header = FALSE, nrows = n, colClasses = "character", na.strings = character(0), quote = "\"", comment.char = "",
                    check.names = FALSE, strip.white = TRUE, fill = FALSE, blank.lines.skip = TRUE)
    if (!is.null(names)) options$col.names <- names
    tryCatch(do.call(read.csv, options),
             error = function(e) if (grepl("no lines available", conditionMessage(e))) NULL else fail(sprintf("%s: malformed CSV: %s", path, conditionMessage(e))))
  }
  first <- read(1, NULL)
  if (is.null(first) || nrow(first) == 0) fail(sprintf("%s: the file is empty", path))
  header <- trim(unname(unlist(first[1, ])))
  if (any(header == "")) fail(sprintf("%s:1:%d: the header has an empty column name", path, which(header == "")[1]))
  if (anyDuplicated(header)) fail(sprintf("%s:1:%d: column name %s appears twice in the header", path, anyDuplicated(header), shown(header[anyDuplicated(header)])))
  line <- 2 + sum(breaks_in(header))
  repeat {
    chunk <- read(10000, header)
    if (is.null(chunk) || nrow(chunk) == 0) break
    lines <- record_lines(chunk, line)
    use(chunk, lines[-length(lines)], header)
    line <- lines[length(lines)]
  }
}

columns_of <- function(path, header, names) {
  at <- match(same_lines(names), same_lines(header))
  if (anyNA(at)) fail(sprintf("%s: not a column: %s", path, paste(shown(names[is.na(at)]), collapse = ", ")))
  at
}

predict_rows <- function(x, off) {
  eta <- sweep(as.matrix(x %*% B), 2, a, "+") + off
  if (family == "binomial") return(list(number_text(1 / (1 + exp(-eta[, 1]))), csv_cell(ifelse(eta[, 1] > 0, classes[2], classes[1]))))
  if (family == "multinomial") {
    P <- exp(eta - apply(eta, 1, max))
    P <- P / rowSums(P)
    return(c(lapply(seq_len(ncol(P)), function(k) number_text(P[, k])), list(csv_cell(classes[max.col(eta, ties.method = "first")]))))
  }
  if (family == "poisson") return(list(number_text(exp(eta[, 1]))))
  if (family == "cox") return(list(number_text(eta[, 1]), number_text(exp(eta[, 1]))))
  lapply(seq_len(ncol(eta)), function(k) number_text(eta[, k]))
}

matrix_of <- function(chunk, path, line, at, header) {
  x <- vapply(at, function(j) numbers(chunk[[j]], path, line, j, header[j]), numeric(nrow(chunk)))
  matrix(x, nrow = nrow(chunk))
}

gaps_of <- function(cells) trim(cells) %in% trim(encoding$naValues)

# The features of a chunk's rows from the input columns at `at`: numbers, each category as indicators of its fixed
# levels (factor(levels = …)), gaps filled with the model's values (the words of `regsweep predict`).
design_of <- function(chunk, path, line, at, header, unknown_zero = FALSE) {
  if (is.null(encoding)) return(matrix_of(chunk, path, line, at, header))
  parts <- list()
  for (k in seq_along(encoding$columns)) {
    column <- encoding$columns[[k]]
    j <- at[k]
    cells <- trim(chunk[[j]])
    gap <- gaps_of(cells)
    where <- function(i) sprintf("%s:%d:%d: column %s", path, line[i], j, shown(column$name))
    if (any(gap) && is.null(column$fill)) {
      i <- which(gap)[1]
      fail(sprintf("%s: missing value (%s); the model was fitted with data.missing: %s, so it has no value to fill a gap with", where(i), if (cells[i] == "") "an empty cell" else shown(cells[i]), encoding$missing))
    }
    if (column$kind == "numeric") {
      v <- rep(NA_real_, length(cells))
      if (any(!gap)) v[!gap] <- numbers(chunk[[j]][!gap], path, line[!gap], j, column$name)
      v[gap] <- column$fill
      parts[[length(parts) + 1]] <- matrix(v)
    } else {
      # Compared with CRs made LFs on both sides, as names and labels are (R's connection reads a CR as LF).
      cells[gap] <- column$fill
      cells <- same_lines(cells)
      levels <- factor(cells, levels = same_lines(column$levels))
      unknown <- which(is.na(levels))
      if (length(unknown) && !unknown_zero)
        fail(sprintf("%s: level %s was not seen in training (levels: %s); --unknown-level zero encodes it as all zeros", where(unknown[1]), shown(cells[unknown[1]]), paste(column$levels, collapse = ", ")))
      codes <- as.integer(levels)
      kept <- if (isTRUE(column$dropFirst)) column$levels[-1] else column$levels
      indicators <- vapply(match(kept, column$levels), function(l) as.numeric(!is.na(codes) & codes == l), numeric(length(cells)))
      parts[[length(parts) + 1]] <- matrix(indicators, nrow = length(cells))
    }
    if (isTRUE(column$indicator)) parts[[length(parts) + 1]] <- matrix(as.numeric(gap))
  }
  matrix(do.call(cbind, parts), nrow = nrow(chunk))
}

# Rows whose input or target columns have a gap: left out of a refit of a model fitted with data.missing: drop.
dropped_rows <- function(chunk, at) {
  if (is.null(encoding) || encoding$missing != "drop") return(rep(FALSE, nrow(chunk)))
  Reduce(`|`, lapply(at, function(j) gaps_of(chunk[[j]])), rep(FALSE, nrow(chunk)))
}

is_sparse <- function(path) grepl("[.](svm|svmlight|libsvm|mtx)$", tolower(path))

# A sparse file as a dgCMatrix of the model's features by position: Matrix Market (readMM) or svmlight (labels not read;
# 1-based indices unless one is 0, as regsweep and scikit-learn read them).
sparse_rows <- function(path) {
  if (!file.exists(path)) fail(sprintf("%s: no such file", path))
  if (grepl("[.]mtx$", tolower(path))) {
    x <- tryCatch(as(Matrix::readMM(path), "CsparseMatrix"), error = function(e) fail(sprintf("%s: %s", path, conditionMessage(e))))
  } else {
    lines <- sub("#.*$", "", readLines(path, warn = FALSE))
    lines <- lines[grepl("[^[:space:]]", lines)]
    pairs <- lapply(strsplit(trimws(lines), "[[:space:]]+"), function(t) t[-1])
    counts <- lengths(pairs)
    flat <- unlist(pairs)
    index <- as.integer(sub(":.*$", "", flat))
    value <- as.numeric(sub("^[^:]*:", "", flat))
    if (anyNA(index) || anyNA(value)) fail(sprintf("%s: an index:value pair that is not two numbers", path))
    base <- if (length(index) && min(index) == 0) 0L else 1L
    x <- Matrix::sparseMatrix(i = rep(seq_along(lines), counts), j = index - base + 1L, x = value, dims = c(length(lines), max(c(0L, index - base + 1L))))
  }
  if (ncol(x) > length(features)) fail(sprintf("%s: column %d has a value, but the model has %d features", path, ncol(x), length(features)))
  if (ncol(x) < length(features)) x <- cbind(x, Matrix::Matrix(0, nrow(x), length(features) - ncol(x), sparse = TRUE))
  x
}

predict_file <- function(path, keep, unknown_zero = FALSE) {
  if (is_sparse(path)) {
    if (length(keep)) fail(sprintf("--keep: a sparse file (%s) has no named columns", path))
    csv_line(columns)
    cells <- predict_rows(sparse_rows(path), 0)
    cells <- lapply(cells, as.vector)
    emit(paste0(do.call(paste, c(cells, sep = ",")), "\n"))
    return(invisible())
  }
  started <- FALSE
  read_csv_chunks(path, function(chunk, line, header) {
    at <- columns_of(path, header, inputs)
    kept_at <- columns_of(path, header, keep)
    if (!started) {
      if (!is.null(offset_column)) columns_of(path, header, offset_column)
      csv_line(c(keep, columns))
      started <<- TRUE
    }
    x <- design_of(chunk, path, line, at, header, unknown_zero)
    off <- if (is.null(offset_column)) 0 else { j <- columns_of(path, header, offset_column); numbers(chunk[[j]], path, line, j, offset_column) }
    cells <- c(lapply(kept_at, function(j) csv_cell(chunk[[j]])), predict_rows(x, off))
    emit(paste0(do.call(paste, c(cells, sep = ",")), "\n"))
  })
  if (!started) csv_line(c(keep, columns))
}

# The refit's data: the features, the response and the offset of every row of a CSV.
training_data <- function(path) {
  xs <- list(); ys <- list(); offs <- list(); ws <- list()
  read_csv_chunks(path, function(chunk, line, header) {
    at <- columns_of(path, header, inputs)
    target_at <- columns_of(path, header, target)
    weight_at <- if (is.null(weights_column)) integer(0) else columns_of(path, header, weights_column)
    drop <- dropped_rows(chunk, c(at, target_at, weight_at))
    if (all(drop)) return(invisible())
    chunk <- chunk[!drop, , drop = FALSE]
    line <- line[!drop]
    xs[[length(xs) + 1]] <<- design_of(chunk, path, line, at, header)
    if (family %in% c("binomial", "multinomial")) {
      labels <- same_lines(trim(chunk[[target_at[1]]]))
      code <- match(labels, same_lines(classes))
      if (anyNA(code)) fail(sprintf("%s:%d: label %s is not one of the model's classes", path, line[which(is.na(code))[1]], shown(labels[is.na(code)][1])))
      ys[[length(ys) + 1]] <<- code
    } else {
      ys[[length(ys) + 1]] <<- matrix_of(chunk, path, line, target_at, header)
    }
    if (!is.null(offset_column)) { j <- columns_of(path, header, offset_column); offs[[length(offs) + 1]] <<- numbers(chunk[[j]], path, line, j, offset_column) }
    if (length(weight_at)) ws[[length(ws) + 1]] <<- numbers(chunk[[weight_at]], path, line, weight_at, weights_column)
  })
  x <- do.call(rbind, xs)
  colnames(x) <- features
  y <- if (family == "binomial") as.integer(unlist(ys) == 2) else if (family == "multinomial") factor(unlist(ys), levels = seq_along(classes)) else do.call(rbind, ys)
  if (!(family %in% c("binomial", "multinomial")) && ncol(y) == 1) y <- y[, 1]
  # glmnet keeps a row censored at a death time at risk by adding 100·eps to censored times, which rounding loses at
  # large times: the times are scaled to (0, 1] (the model reads only their order).
  if (family == "cox") y <- cbind(time = y[, 1] / max(y[, 1]), status = y[, 2])
  list(x = x, y = y, off = if (is.null(offset_column)) NULL else unlist(offs), w = if (is.null(weights_column)) NULL else unlist(ws))
}

refit <- function(path) {
  if (refit_with$fit == "none") fail(refit_with$why)
  d <- training_data(path)
  x <- d$x; y <- d$y; off <- d$off; w <- d$w
  if (refit_with$fit == "lm") {
    b <- as.matrix(coef(lm(y ~ x, weights = w)))
  } else if (refit_with$fit == "glm") {
    glm_family <- if (family == "binomial") binomial() else poisson()
    fit <- if (is.null(off)) glm(y ~ x, family = glm_family, weights = w, control = glm.control(epsilon = 1e-14, maxit = 100)) else glm(y ~ x + offset(off), family = glm_family, weights = w, control = glm.control(epsilon = 1e-14, maxit = 100))
    b <- as.matrix(coef(fit))
  } else {
    suppressPackageStartupMessages(library(glmnet))
    args <- refit_with$args
    if (!is.null(w)) args$weights <- w
    if (isTRUE(refit_with$translate)) {
      # glmnet scales y by its population sd (weighted): translate (alpha, lambda) so that the objective is regsweep's.
      u <- if (is.null(w)) rep(1, length(y)) else w
      s <- sqrt(sum(u * (y - sum(u * y) / sum(u))^2) / sum(u))
      r <- args$alpha
      args$alpha <- r / (r + s * (1 - r))
      args$lambda <- args$lambda * (r + s * (1 - r))
    }
    if (!is.null(off)) args$offset <- off
    # glmnet wants two columns at least: a zero column is fitted a zero coefficient and dropped.
    if (ncol(x) == 1) x <- cbind(x, 0)
    fit <- do.call(glmnet, c(list(x = x, y = y), args))
    b <- do.call(cbind, lapply(if (is.list(coef(fit))) coef(fit) else list(coef(fit)), function(m) as.matrix(m)[, 1]))
    if (!is.null(refit_with$gamma)) {
      # The relaxed lasso as glmnet's relax = TRUE does it (the unpenalized fit on the active features), blended with
      # gamma exactly: glmnet's own blend raises a gamma of 0 to 1e-5.
      slopes <- if (family == "cox") b[, 1] else b[-1, 1]
      active <- which(slopes[seq_len(length(features))] != 0)
      if (length(active) > 0 && length(active) <= nrow(x) - 3) {
        args$lambda <- 0
        args$exclude <- setdiff(seq_len(ncol(x)), active)
        unpenalized <- do.call(glmnet, c(list(x = x, y = y), args))
        b <- refit_with$gamma * b + (1 - refit_with$gamma) * as.matrix(coef(unpenalized))[, 1]
      }
    }
    if (family == "cox") b <- rbind(0, b)   # the Cox model has no intercept
  }
  b <- as.matrix(b)[seq_len(length(features) + 1), , drop = FALSE]
  model <- rbind(a, B)
  if (family == "multinomial") b[1, ] <- b[1, ] - mean(b[1, ])   # determined up to a constant: centered, as regsweep keeps them
  names <- if (length(outputs) > 1) outer(c("(intercept)", features), outputs, function(f, o) paste0(o, ":", f)) else matrix(c("(intercept)", features))
  csv_line(c("term", "refit", "model"))
  emit(paste0(csv_cell(as.vector(names)), ",", number_text(as.vector(b)), ",", number_text(as.vector(model)), "\n"))
}

if (!is.null(partial)) cat("note: ", partial, "\n", sep = "", file = stderr())
args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2 && args[1] == "--refit") {
  if (is_sparse(args[2])) fail("--refit: reads the training data as a CSV; refit a sparse design with glmnet on its dgCMatrix (Matrix::readMM)")
  refit(args[2])
} else {
  keep <- character(0)
  unknown_zero <- FALSE
  if ("--unknown-level" %in% args) {
    k <- match("--unknown-level", args)
    if (k == length(args) || !(args[k + 1] %in% c("error", "zero"))) fail("--unknown-level: error or zero")
    unknown_zero <- args[k + 1] == "zero"
    args <- args[-c(k, k + 1)]
  }
  while ("--keep" %in% args) {
    k <- match("--keep", args)
    if (k == length(args)) fail("--keep: name a column")
    keep <- c(keep, args[k + 1])
    args <- args[-c(k, k + 1)]
  }
  if (length(args) != 1) fail("usage: Rscript model.R new.csv [--keep COLUMN] [--unknown-level error|zero] | Rscript model.R --refit train.csv")
  predict_file(args[1], keep, unknown_zero)
}
