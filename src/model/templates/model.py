#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# REGSWEEP_HEADER
#
# This file is regsweep's template for `export --model --format sklearn`: the code below is fixed, and the model
# enters only as the literals assigned at the top (names and labels as string literals, numbers as float literals).
import csv
import json
import re
import signal
import sys

import numpy as np

FAMILY = REGSWEEP_FAMILY
FEATURES = REGSWEEP_FEATURES
TARGETS = REGSWEEP_TARGETS
OUTPUTS = REGSWEEP_OUTPUTS
CLASSES = REGSWEEP_CLASSES
OFFSET = REGSWEEP_OFFSET
# The column of observation weights the model was fitted with (data.weights), or None: --refit weighs the rows by it.
WEIGHTS = REGSWEEP_WEIGHTS
COLUMNS = REGSWEEP_COLUMNS
COEFFICIENTS = REGSWEEP_COEF
# One row of coefficients per output (a target, or a class), original scale; and the intercepts.
COEF = np.array(COEFFICIENTS, dtype=float).reshape(len(OUTPUTS), len(FEATURES))
INTERCEPT = np.array(REGSWEEP_INTERCEPT, dtype=float)
STANDARDIZE = REGSWEEP_STANDARDIZE
# The scikit-learn estimator that carries the coefficients for predicting, and the one that refits the same objective
# (None where scikit-learn has none; NO_REFIT then says why): a class of sklearn.linear_model and its parameters.
CARRIER = REGSWEEP_CARRIER
REFIT = REGSWEEP_REFIT
NO_REFIT = REGSWEEP_NO_REFIT
# Set when the sweep was not finished (export --model --allow-partial): what the model was chosen from.
PARTIAL = REGSWEEP_PARTIAL
# How the data's columns became the FEATURES (categories as indicators, gaps filled), or None when they are columns:
# per column its kind, levels, whether the first level has no indicator, the value a gap is filled with (None: a gap
# is an error) and whether a gap indicator follows.
ENCODING = REGSWEEP_ENCODING
# The columns a row is read from.
INPUTS = [c["name"] for c in ENCODING["columns"]] if ENCODING else FEATURES

# A number as `regsweep predict` reads it: decimal notation, at most 1e150 in magnitude (no NaN, Inf or hex).
NUMBER = re.compile(r"[ \t]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t]*\Z", re.ASCII)
LARGEST = 1e150


# The white space JavaScript's trim() removes: names and labels are trimmed of it, as regsweep reads them.
SPACE = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
TRIM = re.compile(f"^{SPACE}+|{SPACE}+$")


def trim(text):
    return TRIM.sub("", text)


def fail(message):
    """Ends with one line on standard error and exit status 1, as regsweep does."""
    sys.stderr.write(message + "\n")
    sys.exit(1)


def shown(text):
    return json.dumps(text, ensure_ascii=False)


def number(cell, where, column):
    """A cell as a number, or one line naming file:line:column and why not (the words of `regsweep predict`)."""
    text = trim(cell)
    where = f"{where}: column {shown(column)}"
    if NUMBER.match(cell):
        value = float(cell)
        if abs(value) < LARGEST:
            return value
        if value in (float("inf"), float("-inf")):
            fail(f"{where}: {shown(text)} is infinite")
        fail(f"{where}: {text} is too large in magnitude (at most 1e150: its square would overflow); rescale the column")
    if text == "":
        fail(f"{where}: empty cell (a missing value: data.missing drops or fills them)")
    if re.fullmatch(r"[+-]?nan", text, re.IGNORECASE):
        fail(f"{where}: NaN is not allowed")
    if re.fullmatch(r"[+-]?Infinity", text):
        fail(f"{where}: {shown(text)} is infinite")
    if re.fullmatch(r"[+-]?0[xXoObB][0-9a-fA-F]+", text):
        fail(f"{where}: {shown(text)} is not a decimal number")
    fail(f"{where}: {shown(text)} is not a number")


def gap_text(text):
    return "an empty cell" if text == "" else shown(text)


def frame_row(r, at, where, unknown_zero):
    """One row's INPUTS cells as the preprocessor takes them: numbers, levels, NaN for a gap (the words of `regsweep predict`)."""
    gaps = {trim(t) for t in ENCODING["naValues"]}
    out = []
    for c, j in zip(ENCODING["columns"], at):
        text = trim(r[j])
        here = f"{where}:{j + 1}: column {shown(c['name'])}"
        if text in gaps:
            if c["fill"] is None:
                fail(f"{here}: missing value ({gap_text(text)}); the model was fitted with data.missing: {ENCODING['missing']}, so it has no value to fill a gap with")
            out.append(np.nan)
        elif c["kind"] == "numeric":
            out.append(number(r[j], f"{where}:{j + 1}", c["name"]))
        else:
            if text not in c["levels"] and not unknown_zero:
                fail(f"{here}: level {shown(text)} was not seen in training (levels: {', '.join(c['levels'])}); --unknown-level zero encodes it as all zeros")
            out.append(text)
    return out


def has_gap(r, at):
    gaps = {trim(t) for t in ENCODING["naValues"]}
    return any(trim(r[j]) in gaps for j in at)


def preprocessor(unknown_zero):
    """The encoding as scikit-learn transformers: each gap filled with the model's value, categories one-hot with fixed levels."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    parts = []
    for k, c in enumerate(ENCODING["columns"]):
        steps = []
        if c["fill"] is not None:
            steps.append(SimpleImputer(missing_values=np.nan, strategy="constant", fill_value=c["fill"]))
        if c["kind"] == "categorical":
            steps.append(OneHotEncoder(categories=[c["levels"]], drop="first" if c["dropFirst"] else None, handle_unknown="ignore" if unknown_zero else "error"))
        else:
            steps.append(FunctionTransformer(lambda x: np.asarray(x, dtype=float)))
        parts.append((f"column{k}", make_pipeline(*steps), [k]))
        if c["indicator"]:
            parts.append((f"gaps{k}", MissingIndicator(missing_values=np.nan, features="all"), [k]))
    encoder = ColumnTransformer(parts, sparse_threshold=0)
    # The transformers hold no fitted state but their fixed parameters: fitted on one row of the model's own values.
    first = [c["levels"][0] if c["kind"] == "categorical" else 0.0 for c in ENCODING["columns"]]
    return encoder.fit(np.array([first], dtype=object))


def make(spec):
    """An estimator from its class name and parameters."""
    import sklearn.linear_model

    return getattr(sklearn.linear_model, spec["estimator"])(**spec["params"])


def estimator():
    """The estimator with regsweep's coefficients set: predict() (and predict_proba()) work without fitting."""
    est = make(CARRIER)
    if FAMILY == "poisson":
        # Fitted once on two constant rows so that predict() knows its link; then the coefficients are replaced.
        est.fit(np.zeros((2, len(FEATURES))), [1.0, 1.0])
    if FAMILY in ("binomial", "multinomial"):
        est.coef_ = COEF.copy()
        est.intercept_ = INTERCEPT.copy()
        est.classes_ = np.array(CLASSES, dtype=object)
    elif len(OUTPUTS) > 1:
        est.coef_ = COEF.copy()
        est.intercept_ = INTERCEPT.copy()
    else:
        est.coef_ = COEF[0].copy()
        est.intercept_ = float(INTERCEPT[0])
    est.n_features_in_ = len(FEATURES)
    return est


def model(unknown_zero=False):
    """What predicts the rows: the estimator, after the encoding's transformers when the model has one."""
    if not ENCODING:
        return estimator()
    from sklearn.pipeline import Pipeline

    return Pipeline([("encode", preprocessor(unknown_zero)), ("model", estimator())])


def predictions(est, X, offset):
    """The columns of `regsweep predict` for rows X, one list per column."""
    if FAMILY == "binomial":
        return [est.predict_proba(X)[:, 1], est.predict(X)]
    if FAMILY == "multinomial":
        proba = est.predict_proba(X)
        return [proba[:, k] for k in range(len(OUTPUTS))] + [est.predict(X)]
    if FAMILY == "poisson":
        return [est.predict(X) * np.exp(offset)]
    if FAMILY == "cox":
        # The linear predictor x·b (no intercept) and the relative risk exp(x·b).
        eta = est.predict(X)
        return [eta, np.exp(eta)]
    return [col for col in np.atleast_2d(est.predict(X).T)]


def records(path):
    """The header (names trimmed) and each data record with the line it ends on; blank lines are skipped."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        fail(f"{path}: cannot read the data file ({e.strerror})")
    with f:
        reader = csv.reader(f)
        # Lines are counted as regsweep counts them: a record starts on the line after the last one's LFs.
        line = 1
        try:
            header = None
            for record in reader:
                at = line
                line += 1 + sum(field.count("\n") for field in record)
                if len(record) == 0 or (len(record) == 1 and trim(record[0]) == ""):
                    continue
                if header is None:
                    header = [trim(h) for h in record]
                    seen = set()
                    for j, name in enumerate(header):
                        if name == "":
                            fail(f"{path}:{at}:{j + 1}: the header has an empty column name")
                        if name in seen:
                            fail(f"{path}:{at}:{j + 1}: column name {shown(name)} appears twice in the header")
                        seen.add(name)
                    yield header, None
                    continue
                if len(record) != len(header):
                    fail(f"{path}:{at}: expected {len(header)} fields as in the header, found {len(record)}")
                yield record, at
        except (csv.Error, UnicodeDecodeError) as e:
            fail(f"{path}:{line}: malformed CSV: {e}")
        if header is None:
            fail(f"{path}: the file is empty")


def columns_of(path, header, names):
    missing = [c for c in names if c not in header]
    if missing:
        fail(f"{path}: not a column: {', '.join(shown(m) for m in missing)}")
    return [header.index(c) for c in names]


def refit(path):
    """Fits the same objective from scratch on a CSV; returns (coefficients, intercepts) on the original scale."""
    if REFIT is None:
        fail(NO_REFIT)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = records(path)
    header, _ = next(rows)
    at = columns_of(path, header, INPUTS)
    target_at = columns_of(path, header, TARGETS)
    weight_at = columns_of(path, header, [WEIGHTS])[0] if WEIGHTS is not None else None
    X, y, w = [], [], []
    for r, line in rows:
        if ENCODING and ENCODING["missing"] == "drop" and has_gap(r, at + target_at + ([weight_at] if weight_at is not None else [])):
            continue
        if weight_at is not None:
            w.append(number(r[weight_at], f"{path}:{line}:{weight_at + 1}", header[weight_at]))
        X.append(frame_row(r, at, f"{path}:{line}", False) if ENCODING else [number(r[j], f"{path}:{line}:{j + 1}", header[j]) for j in at])
        if FAMILY in ("binomial", "multinomial"):
            label = trim(r[target_at[0]])
            if label not in CLASSES:
                fail(f"{path}:{line}: label {shown(label)} is not one of the model's classes")
            y.append(CLASSES.index(label))
        else:
            y.append([number(r[j], f"{path}:{line}:{j + 1}", header[j]) for j in target_at])
    X = preprocessor(False).transform(np.array(X, dtype=object)) if ENCODING else np.array(X)
    y = np.array(y) if FAMILY in ("binomial", "multinomial") or len(TARGETS) > 1 else np.array(y)[:, 0]
    pipe = make_pipeline(*([StandardScaler()] if STANDARDIZE else []), make(REFIT))
    if WEIGHTS is None:
        pipe.fit(X, y)
    else:
        # Scaled to sum to the rows of positive weight, the n the estimator's parameters were written for; the scaler
        # standardizes with the same weights, as regsweep and glmnet do.
        w = np.array(w)
        w = w * np.count_nonzero(w) / w.sum()
        pipe.fit(X, y, **{f"{name}__sample_weight": w for name, _ in pipe.steps})
    coef = np.atleast_2d(pipe[-1].coef_)
    intercept = np.atleast_1d(pipe[-1].intercept_).astype(float)
    if STANDARDIZE:
        # A constant column (a level no training row has) has scale 0 in the scaler, which leaves it as it is.
        coef = coef / pipe[0].scale_
        intercept = intercept - coef @ pipe[0].mean_
    if FAMILY == "multinomial":
        intercept = intercept - intercept.mean()  # determined up to a constant: centered, as regsweep keeps them
    return coef, intercept


def is_sparse(path):
    return path.lower().endswith((".svm", ".svmlight", ".libsvm", ".mtx"))


def sparse_rows(path):
    """A sparse file as CSR rows of the model's features by position: svmlight (its labels not read) or Matrix Market."""
    try:
        if path.lower().endswith(".mtx"):
            from scipy.io import mmread

            X = mmread(path).tocsr()
        else:
            from sklearn.datasets import load_svmlight_file

            X = load_svmlight_file(path)[0]
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if X.shape[1] > len(FEATURES):
        fail(f"{path}: column {X.shape[1]} has a value, but the model has {len(FEATURES)} features")
    X.resize((X.shape[0], len(FEATURES)))
    return X


def predict_sparse(path, keep, out):
    """Predicts a sparse file's rows (no columns to keep, no offset: a sparse design has neither)."""
    if keep:
        fail(f"--keep: a sparse file ({path}) has no named columns")
    X = sparse_rows(path)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    cols = predictions(estimator(), X, np.zeros(X.shape[0]))
    for i in range(X.shape[0]):
        writer.writerow([c[i] if isinstance(c[i], str) else repr(float(c[i])) for c in cols])


def predict_file(path, keep, out, unknown_zero=False):
    """Predicts a CSV 10000 rows at a time, writing the columns of `regsweep predict`."""
    if is_sparse(path):
        return predict_sparse(path, keep, out)
    est = model(unknown_zero)
    writer = csv.writer(out, lineterminator="\n")
    rows = records(path)
    header, _ = next(rows)
    at = columns_of(path, header, INPUTS)
    kept_at = columns_of(path, header, keep)
    offset_at = columns_of(path, header, [OFFSET])[0] if OFFSET is not None else None
    writer.writerow(keep + COLUMNS)

    def flush(chunk):
        if not chunk:
            return
        X = np.array([x for x, _, _ in chunk], dtype=object if ENCODING else float)
        offset = np.array([o for _, o, _ in chunk])
        cols = predictions(est, X, offset)
        for i, (_, _, kept) in enumerate(chunk):
            cells = [c[i] if isinstance(c[i], str) else repr(float(c[i])) for c in cols]
            writer.writerow(kept + cells)

    chunk = []
    for r, line in rows:
        x = frame_row(r, at, f"{path}:{line}", unknown_zero) if ENCODING else [number(r[j], f"{path}:{line}:{j + 1}", header[j]) for j in at]
        o = number(r[offset_at], f"{path}:{line}:{offset_at + 1}", header[offset_at]) if offset_at is not None else 0.0
        chunk.append((x, o, [r[j] for j in kept_at]))
        if len(chunk) == 10000:
            flush(chunk)
            chunk = []
    flush(chunk)


def terms():
    """The names of the intercepts and coefficients, output by output."""
    prefix = (lambda o: f"{o}:") if len(OUTPUTS) > 1 else (lambda o: "")
    return [[prefix(o) + "(intercept)"] + [prefix(o) + f for f in FEATURES] for o in OUTPUTS]


def main(argv):
    if PARTIAL is not None:
        sys.stderr.write(f"note: {PARTIAL}\n")
    if len(argv) == 2 and argv[0] == "--refit":
        if is_sparse(argv[1]):
            fail(f"--refit: reads the training data as a CSV; refit a sparse design with model.R (glmnet on a dgCMatrix) or scikit-learn on load_svmlight_file's matrix")
        coef, intercept = refit(argv[1])
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["term", "refit", "model"])
        for k, names in enumerate(terms()):
            mine = [intercept[k]] + list(coef[k])
            theirs = [INTERCEPT[k]] + list(COEF[k])
            for name, a, b in zip(names, mine, theirs):
                writer.writerow([name, repr(float(a)), repr(float(b))])
        return
    keep = []
    args = list(argv)
    unknown_zero = False
    if "--unknown-level" in args:
        k = args.index("--unknown-level")
        if k + 1 >= len(args) or args[k + 1] not in ("error", "zero"):
            fail("--unknown-level: error or zero")
        unknown_zero = args[k + 1] == "zero"
        del args[k : k + 2]
    while "--keep" in args:
        k = args.index("--keep")
        if k + 1 >= len(args):
            fail("--keep: name a column")
        keep.append(args[k + 1])
        del args[k : k + 2]
    if len(args) != 1:
        fail("usage: python3 model.py new.csv [--keep COLUMN] [--unknown-level error|zero] | python3 model.py --refit train.csv")
    predict_file(args[0], keep, sys.stdout, unknown_zero)


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a closed pipe (model.py new.csv | head) ends quietly
    main(sys.argv[1:])
