// `export --model --format sklearn`: a standalone Python file with the equivalent scikit-learn estimator, its
// coefficients set from the model (no refit), that predicts a CSV as `regsweep predict` does and can refit from scratch.
import { UserError } from '../errors.js';
import { fmt } from '../select/cv.js';
import { ruleLabel } from '../select/model.js';
import { objectiveText } from './card.js';
import type { Model } from './load.js';
import { predictionColumns } from './predict.js';

/** A double as a Python float literal that reads back to the same value. */
export function pyFloat(v: number): string {
  const s = String(v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

const pyString = (s: string) => JSON.stringify(s);

interface Estimator {
  /** The class to import from sklearn.linear_model. */
  name: string;
  /** Its construction with scikit-learn's hyperparameters for the model. */
  call: string;
}

/**
 * The estimator in scikit-learn's conventions for the same objective (`tight` adds refit tolerances), or undefined
 * where scikit-learn has none (a grouped multinomial, a poisson model with an L1 part or an offset) — the estimator
 * for predicting is then the family's, whose penalty does not matter once the coefficients are set.
 */
export function sklearnEstimator(model: Model, n: number, tight: boolean): Estimator | undefined {
  const { penalty, lambda, l1Ratio, family } = model;
  const several = model.outputs.length > 1;
  const exact = tight ? ', tol=1e-12, max_iter=1000000' : '';
  if (family === 'gaussian') {
    switch (penalty) {
      case 'none':
        return { name: 'LinearRegression', call: 'LinearRegression()' };
      case 'l2':
        // Ridge minimizes ||y - Xb||² + alpha·||b||²: the objective times 2n (per response).
        return { name: 'Ridge', call: `Ridge(alpha=${pyFloat(n * lambda)})` };
      case 'l1':
        return several ? { name: 'MultiTaskLasso', call: `MultiTaskLasso(alpha=${pyFloat(lambda)}${exact})` } : { name: 'Lasso', call: `Lasso(alpha=${pyFloat(lambda)}${exact})` };
      case 'elasticnet':
        return several
          ? { name: 'MultiTaskElasticNet', call: `MultiTaskElasticNet(alpha=${pyFloat(lambda)}, l1_ratio=${pyFloat(l1Ratio)}${exact})` }
          : { name: 'ElasticNet', call: `ElasticNet(alpha=${pyFloat(lambda)}, l1_ratio=${pyFloat(l1Ratio)}${exact})` };
    }
  }
  if (family === 'poisson') {
    // PoissonRegressor minimizes (1/2n)·deviance + alpha/2·||b||²: alpha = λ; it has no L1 part and no offset.
    if ((penalty !== 'l2' && penalty !== 'none') || model.offset) return undefined;
    return { name: 'PoissonRegressor', call: `PoissonRegressor(alpha=${penalty === 'none' ? '0.0' : pyFloat(lambda)}${tight ? ', solver="newton-cholesky", tol=1e-12, max_iter=1000' : ''})` };
  }
  if (family === 'multinomial' && model.grouped) return undefined;
  // LogisticRegression minimizes C·Σ loss + penalty: the objective divided by λ, so C = 1/(n·λ).
  const C = pyFloat(1 / (n * lambda));
  // Newton's methods converge to the last digits; scikit-learn's newton-cholesky is binary only.
  const smooth = tight ? (family === 'multinomial' ? 'newton-cg' : 'newton-cholesky') : 'lbfgs';
  const smoothTol = tight ? ', tol=1e-12, max_iter=1000' : '';
  switch (penalty) {
    case 'none':
      return { name: 'LogisticRegression', call: `LogisticRegression(penalty=None, solver="${smooth}"${smoothTol})` };
    case 'l2':
      return { name: 'LogisticRegression', call: `LogisticRegression(penalty="l2", C=${C}, solver="${smooth}"${smoothTol})` };
    case 'l1':
      return { name: 'LogisticRegression', call: `LogisticRegression(penalty="l1", C=${C}, solver="saga"${exact})` };
    case 'elasticnet':
      return { name: 'LogisticRegression', call: `LogisticRegression(penalty="elasticnet", C=${C}, l1_ratio=${pyFloat(l1Ratio)}, solver="saga"${exact})` };
  }
}

/** The estimator that carries the coefficients for predicting when scikit-learn has none for the objective. */
function carrier(model: Model): Estimator {
  if (model.family === 'poisson') return { name: 'PoissonRegressor', call: 'PoissonRegressor()' };
  return { name: 'LogisticRegression', call: 'LogisticRegression()' };
}

/** Lines about where the model comes from, shared by the Python and R scripts. */
export function provenance(model: Model, location: string): string[] {
  const cv = model.cv ? `; cross-validated loss ${fmt(model.cv.mean)} ± ${fmt(model.cv.se)} over ${model.cv.folds} folds` : '';
  const kind = model.family === 'multinomial' ? `multinomial${model.grouped ? ' (grouped)' : ''}` : model.config.model.kind;
  return [
    `regsweep model: sweep "${model.sweep.name}" (id ${model.sweep.id}) in ${location}`,
    `${kind} ${model.penalty === 'elasticnet' ? `elasticnet l1_ratio=${model.l1Ratio}` : model.penalty}, lambda=${model.lambda} (--select ${ruleLabel(model.rule)})${cv}`,
    `fitted on ${model.trial.nTrain} rows${model.trial.fold === 'all' ? ' (all rows)' : ' (the training rows of a holdout split)'}; data sha256 ${model.sweep.dataHash.slice(0, 16)}…; ${model.nonzero} nonzero coefficients`,
    `objective: ${objectiveText(model)}`,
  ];
}

/** Why a refit is not offered, in one line, or undefined when it is. */
export function noSklearnRefit(model: Model): string | undefined {
  if (sklearnEstimator(model, 1, false)) return undefined;
  if (model.family === 'multinomial') return 'scikit-learn has no grouped multinomial penalty; refit with glmnet (export --model --format glmnet)';
  return model.offset
    ? "scikit-learn's PoissonRegressor takes no offset; refit with glmnet (export --model --format glmnet)"
    : "scikit-learn's PoissonRegressor has only the L2 penalty; refit with glmnet (export --model --format glmnet)";
}

/** The model as a scikit-learn script; refuses models scikit-learn has no estimator for. */
export function sklearnScript(model: Model, location: string): string {
  if (model.config.model.kind === 'mlp')
    throw new UserError(`export --model --format sklearn: sweep "${model.sweep.name}" trains a network by ${model.config.model.optimizer}; scikit-learn has no estimator that refits its objective (use --format json for its weights)`);
  const n = model.trial.nTrain;
  const standardize = model.config.data.standardize;
  const { family } = model;
  const fitted = sklearnEstimator(model, n, false) ?? carrier(model);
  const refit = sklearnEstimator(model, n, true);
  const noRefit = noSklearnRefit(model);
  const lines = (xs: string[], indent = '    ') => xs.map((x) => `${indent}${x},`).join('\n');
  const header = provenance(model, location).map((l) => `# ${l}`);
  const columns = predictionColumns(model);
  const classifier = family === 'binomial' || family === 'multinomial';
  const targetDescription = family === 'gaussian' && model.outputs.length > 1 ? `the ${model.targets.map(pyString).join(', ')} columns` : `the ${pyString(model.targets[0])} column`;
  const refitBlock = refit
    ? `#     from sklearn.pipeline import make_pipeline
#     from sklearn.preprocessing import StandardScaler
#     from sklearn.linear_model import ${refit.name}
#     pipe = make_pipeline(${standardize ? 'StandardScaler(), ' : ''}${refit.call})
#     pipe.fit(X, y)   # X: the FEATURES columns of the training rows; y: ${targetDescription}${classifier ? ' (as class codes 0, 1, … in the order of CLASSES)' : ''}
#     coef = np.atleast_2d(pipe[-1].coef_)${standardize ? ' / pipe[0].scale_' : ''}   # original scale, one row per output${standardize ? `
#     intercept = np.atleast_1d(pipe[-1].intercept_) - coef @ pipe[0].mean_` : ''}
#
# scikit-learn's conventions for regsweep's lambda = ${model.lambda} on n = ${n} rows: ${classifier ? 'C = 1/(n·lambda)' : model.penalty === 'l2' && family === 'gaussian' ? 'Ridge alpha = n·lambda' : 'alpha = lambda'}${model.penalty === 'elasticnet' ? ', l1_ratio as is' : ''}.`
    : `#     ${noRefit}.`;
  return `#!/usr/bin/env python3
${header.join('\n')}
#
# Run it:
#   python3 model.py new.csv [--keep COLUMN] > predictions.csv   the columns of \`regsweep predict\`: ${columns.join(', ')}
#   python3 model.py --refit train.csv                           refits from scratch, prints both coefficient sets
#
# estimator() below carries regsweep's coefficients (original scale): nothing is refitted. To refit from scratch with
# the same objective${standardize ? ' (features standardized by their population sd while fitting, as StandardScaler does)' : ''}:
#
${refitBlock}
# Needs scikit-learn >= 1.2 and numpy.
import csv
import signal
import sys

import numpy as np

FAMILY = ${pyString(family)}
FEATURES = [
${lines(model.features.map(pyString))}
]
TARGETS = [${model.targets.map(pyString).join(', ')}]
OUTPUTS = [${model.outputs.map(pyString).join(', ')}]
CLASSES = ${model.classes ? `[${model.classes.map(pyString).join(', ')}]` : 'None'}
OFFSET = ${model.offset ? pyString(model.offset) : 'None'}
COLUMNS = [${columns.map(pyString).join(', ')}]
# One row of coefficients per output (a target, or a class), original scale.
COEF = np.array([
${model.coefs.map((c) => `    [${Array.from(c, pyFloat).join(', ')}],`).join('\n')}
])
INTERCEPT = np.array([${model.intercepts.map(pyFloat).join(', ')}])
REFIT = ${refit ? 'True' : 'False'}


def estimator():
    """The estimator with regsweep's coefficients set: predict()${classifier ? ' and predict_proba()' : ''} work without fitting."""
    from sklearn.linear_model import ${fitted.name}

    est = ${fitted.call}${family === 'poisson' ? `
    # Fitted once on two constant rows so that predict() knows its link; then the coefficients are replaced.
    est.fit(np.zeros((2, len(FEATURES))), [1.0, 1.0])` : ''}
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


def predictions(est, X, offset):
    """The columns of \`regsweep predict\` for rows X, one list per column."""
    if FAMILY == "binomial":
        return [est.predict_proba(X)[:, 1], est.predict(X)]
    if FAMILY == "multinomial":
        proba = est.predict_proba(X)
        return [proba[:, k] for k in range(len(OUTPUTS))] + [est.predict(X)]
    if FAMILY == "poisson":
        return [est.predict(X) * np.exp(offset)]
    return [col for col in np.atleast_2d(est.predict(X).T)]


def read_all(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        return header, [r for r in reader if any(c.strip() for c in r)]


def refit(path):
    """Fits the same objective from scratch on a CSV; returns (coefficients, intercepts) on the original scale."""
    if not REFIT:
        sys.exit(${pyString(noRefit ?? '')})
    from sklearn.linear_model import ${refit?.name ?? fitted.name}
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    header, rows = read_all(path)
    X = np.array([[float(r[header.index(f)]) for f in FEATURES] for r in rows])
    if FAMILY in ("binomial", "multinomial"):
        y = np.array([CLASSES.index(r[header.index(TARGETS[0])].strip()) for r in rows])
    elif len(TARGETS) > 1:
        y = np.array([[float(r[header.index(t)]) for t in TARGETS] for r in rows])
    else:
        y = np.array([float(r[header.index(TARGETS[0])]) for r in rows])
    pipe = make_pipeline(${standardize ? 'StandardScaler(), ' : ''}${refit?.call ?? fitted.call})
    pipe.fit(X, y)
    coef = np.atleast_2d(pipe[-1].coef_)${standardize ? ' / pipe[0].scale_' : ''}
    intercept = np.atleast_1d(pipe[-1].intercept_).astype(float)${standardize ? ' - coef @ pipe[0].mean_' : ''}
    if FAMILY == "multinomial":
        intercept = intercept - intercept.mean()  # determined up to a constant: centered, as regsweep keeps them
    return coef, intercept


def predict_file(path, keep, out):
    """Predicts a CSV 10000 rows at a time, writing the columns of \`regsweep predict\`."""
    est = estimator()
    writer = csv.writer(out, lineterminator="\\n")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        missing = [c for c in FEATURES + keep + ([OFFSET] if OFFSET else []) if c not in header]
        if missing:
            sys.exit(f"{path}: not a column: {', '.join(missing)}")
        at = [header.index(c) for c in FEATURES]
        kept_at = [header.index(c) for c in keep]
        writer.writerow(keep + COLUMNS)

        def flush(rows):
            if not rows:
                return
            X = np.array([[float(r[j]) for j in at] for r in rows])
            offset = np.array([float(r[header.index(OFFSET)]) for r in rows]) if OFFSET else 0.0
            cols = predictions(est, X, offset)
            for i, r in enumerate(rows):
                cells = [c[i] if isinstance(c[i], str) else repr(float(c[i])) for c in cols]
                writer.writerow([r[j] for j in kept_at] + cells)

        rows = []
        for r in reader:
            if not any(c.strip() for c in r):
                continue
            rows.append(r)
            if len(rows) == 10000:
                flush(rows)
                rows = []
        flush(rows)


def terms():
    """The names of the intercepts and coefficients, output by output."""
    prefix = (lambda o: f"{o}:") if len(OUTPUTS) > 1 else (lambda o: "")
    return [[prefix(o) + "(intercept)"] + [prefix(o) + f for f in FEATURES] for o in OUTPUTS]


def main(argv):
    if len(argv) == 2 and argv[0] == "--refit":
        coef, intercept = refit(argv[1])
        print("term,refit,model")
        for k, names in enumerate(terms()):
            mine = [intercept[k]] + list(coef[k])
            theirs = [INTERCEPT[k]] + list(COEF[k])
            for name, a, b in zip(names, mine, theirs):
                print(f"{name},{float(a)!r},{float(b)!r}")
        return
    keep = []
    args = list(argv)
    while "--keep" in args:
        k = args.index("--keep")
        keep.append(args[k + 1])
        del args[k : k + 2]
    if len(args) != 1:
        sys.exit("usage: python3 model.py new.csv [--keep COLUMN] | python3 model.py --refit train.csv")
    predict_file(args[0], keep, sys.stdout)


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a closed pipe (model.py new.csv | head) ends quietly
    main(sys.argv[1:])
`;
}
