// `export --model --format sklearn`: a standalone Python file with the equivalent scikit-learn estimator, its
// coefficients set from the model (no refit), that predicts a CSV as `regsweep predict` does and can refit from scratch.
import { UserError } from '../errors.js';
import { fmt } from '../select/cv.js';
import { ruleLabel } from '../select/model.js';
import { objectiveText } from './card.js';
import type { Model } from './load.js';

/** A double as a Python float literal that reads back to the same value. */
export function pyFloat(v: number): string {
  const s = String(v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

const pyString = (s: string) => JSON.stringify(s);

/** The estimator's constructor in scikit-learn's conventions for the same objective; `tight` adds refit tolerances. */
export function sklearnEstimator(model: Model, n: number, tight: boolean): { imports: string; call: string } {
  const { penalty, lambda, l1Ratio } = model;
  if (model.family === 'gaussian') {
    const exact = tight ? ', tol=1e-12, max_iter=1000000' : '';
    switch (penalty) {
      case 'none':
        return { imports: 'LinearRegression', call: 'LinearRegression()' };
      case 'l2':
        // Ridge minimizes ||y - Xb||² + alpha·||b||²: the objective times 2n.
        return { imports: 'Ridge', call: `Ridge(alpha=${pyFloat(n * lambda)})` };
      case 'l1':
        return { imports: 'Lasso', call: `Lasso(alpha=${pyFloat(lambda)}${exact})` };
      case 'elasticnet':
        return { imports: 'ElasticNet', call: `ElasticNet(alpha=${pyFloat(lambda)}, l1_ratio=${pyFloat(l1Ratio)}${exact})` };
    }
  }
  // LogisticRegression minimizes C·Σ loss + penalty: the objective divided by λ, so C = 1/(n·λ).
  const C = pyFloat(1 / (n * lambda));
  const exact = tight ? ', tol=1e-12, max_iter=1000000' : '';
  switch (penalty) {
    case 'none':
      return { imports: 'LogisticRegression', call: `LogisticRegression(penalty=None, solver="${tight ? 'newton-cholesky' : 'lbfgs'}"${tight ? ', tol=1e-12, max_iter=1000' : ''})` };
    case 'l2':
      return { imports: 'LogisticRegression', call: `LogisticRegression(penalty="l2", C=${C}, solver="${tight ? 'newton-cholesky' : 'lbfgs'}"${tight ? ', tol=1e-12, max_iter=1000' : ''})` };
    case 'l1':
      return { imports: 'LogisticRegression', call: `LogisticRegression(penalty="l1", C=${C}, solver="saga"${exact})` };
    case 'elasticnet':
      return { imports: 'LogisticRegression', call: `LogisticRegression(penalty="elasticnet", C=${C}, l1_ratio=${pyFloat(l1Ratio)}, solver="saga"${exact})` };
  }
}

/** One line about where the model comes from, shared by the Python and R scripts. */
export function provenance(model: Model, location: string): string[] {
  const cv = model.cv ? `; cross-validated loss ${fmt(model.cv.mean)} ± ${fmt(model.cv.se)} over ${model.cv.folds} folds` : '';
  return [
    `regsweep model: sweep "${model.sweep.name}" (id ${model.sweep.id}) in ${location}`,
    `${model.config.model.kind} ${model.penalty === 'elasticnet' ? `elasticnet l1_ratio=${model.l1Ratio}` : model.penalty}, lambda=${model.lambda} (--select ${ruleLabel(model.rule)})${cv}`,
    `fitted on ${model.trial.nTrain} rows${model.trial.fold === 'all' ? ' (all rows)' : ' (the training rows of a holdout split)'}; data sha256 ${model.sweep.dataHash.slice(0, 16)}…; ${model.nonzero} nonzero coefficients`,
    `objective: ${objectiveText(model)}`,
  ];
}

/** The model as a scikit-learn script; refuses models scikit-learn has no estimator for. */
export function sklearnScript(model: Model, location: string): string {
  if (model.config.model.kind === 'mlp')
    throw new UserError(`export --model --format sklearn: sweep "${model.sweep.name}" trains a network by ${model.config.model.optimizer}; scikit-learn has no estimator that refits its objective (use --format json for its weights)`);
  const n = model.trial.nTrain;
  const standardize = model.config.data.standardize;
  const binomial = model.family === 'binomial';
  const fitted = sklearnEstimator(model, n, false);
  const refit = sklearnEstimator(model, n, true);
  const coefs = model.coefs[0];
  const features = model.features;
  const lines = (xs: string[], indent = '    ') => xs.map((x) => `${indent}${x},`).join('\n');
  const header = provenance(model, location).map((l) => `# ${l}`);
  return `#!/usr/bin/env python3
${header.join('\n')}
#
# Run it:
#   python3 model.py new.csv [--keep COLUMN] > predictions.csv   the columns of \`regsweep predict\`: ${binomial ? 'probability, label' : 'prediction'}
#   python3 model.py --refit train.csv                           refits from scratch, prints both coefficient sets
#
# estimator() below carries regsweep's coefficients (original scale): nothing is refitted. To refit from scratch with
# the same objective${standardize ? ' (features standardized by their population sd while fitting, as StandardScaler does)' : ''}:
#
#     from sklearn.pipeline import make_pipeline
#     from sklearn.preprocessing import StandardScaler
#     from sklearn.linear_model import ${refit.imports}
#     pipe = make_pipeline(${standardize ? 'StandardScaler(), ' : ''}${refit.call})
#     pipe.fit(X, y)   # X: the FEATURES columns of the training rows; y: the ${pyString(model.targets[0])} column${binomial ? ` (1 = ${pyString(model.classes![1])})` : ''}
#     coef = ${refit.call.startsWith('Logistic') ? 'pipe[-1].coef_[0]' : 'pipe[-1].coef_'}${standardize ? ' / pipe[0].scale_' : ''}   # original scale${standardize ? `
#     intercept = ${refit.call.startsWith('Logistic') ? 'pipe[-1].intercept_[0]' : 'pipe[-1].intercept_'} - coef @ pipe[0].mean_` : ''}
#
# scikit-learn's conventions for regsweep's lambda = ${model.lambda} on n = ${n} rows: ${binomial ? 'C = 1/(n·lambda)' : model.penalty === 'l2' ? 'Ridge alpha = n·lambda' : 'alpha = lambda'}${model.penalty === 'elasticnet' ? ', l1_ratio as is' : ''}.
# Needs scikit-learn >= 1.2 and numpy.
import csv
import signal
import sys

import numpy as np

FEATURES = [
${lines(features.map(pyString))}
]
TARGET = ${pyString(model.targets[0])}
${binomial ? `CLASSES = [${model.classes!.map(pyString).join(', ')}]  # negative, positive` : 'CLASSES = None'}
COEF = np.array([
${lines(Array.from(coefs, pyFloat))}
])
INTERCEPT = ${pyFloat(model.intercepts[0])}


def estimator():
    """The estimator with regsweep's coefficients set: predict() and ${binomial ? 'predict_proba()' : 'score()'} work without fitting."""
    from sklearn.linear_model import ${fitted.imports}

    est = ${fitted.call}
    est.coef_ = ${binomial ? 'COEF.reshape(1, -1).copy()' : 'COEF.copy()'}
    est.intercept_ = ${binomial ? 'np.array([INTERCEPT])' : 'INTERCEPT'}
    est.n_features_in_ = len(FEATURES)${binomial ? `
    est.classes_ = np.array(CLASSES, dtype=object)` : ''}
    return est


def refit(path):
    """Fits the same objective from scratch on a CSV; returns (coefficients, intercept) on the original scale."""
    from sklearn.linear_model import ${refit.imports}
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    header, rows = read_all(path)
    X = np.array([[float(r[header.index(f)]) for f in FEATURES] for r in rows])
    target = [r[header.index(TARGET)].strip() for r in rows]
    y = ${binomial ? 'np.array([1 if t == CLASSES[1] else 0 for t in target])' : 'np.array([float(t) for t in target])'}
    pipe = make_pipeline(${standardize ? 'StandardScaler(), ' : ''}${refit.call})
    pipe.fit(X, y)
    coef = np.ravel(pipe[-1].coef_)${standardize ? ' / pipe[0].scale_' : ''}
    intercept = float(np.ravel(pipe[-1].intercept_)[0])${standardize ? ' - float(coef @ pipe[0].mean_)' : ''}
    return coef, intercept


def read_all(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        return header, [r for r in reader if any(c.strip() for c in r)]


def predict_file(path, keep, out):
    """Predicts a CSV 10000 rows at a time, writing the columns of \`regsweep predict\`."""
    est = estimator()
    writer = csv.writer(out, lineterminator="\\n")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        missing = [c for c in FEATURES + keep if c not in header]
        if missing:
            sys.exit(f"{path}: not a column: {', '.join(missing)}")
        at = [header.index(c) for c in FEATURES]
        kept_at = [header.index(c) for c in keep]
        writer.writerow(keep + ${binomial ? '["probability", "label"]' : '["prediction"]'})

        def flush(rows):
            if not rows:
                return
            X = np.array([[float(r[j]) for j in at] for r in rows])
${binomial ? `            probability = est.predict_proba(X)[:, 1]
            label = est.predict(X)
            for r, p, l in zip(rows, probability, label):
                writer.writerow([r[j] for j in kept_at] + [repr(float(p)), l])` : `            prediction = est.predict(X)
            for r, p in zip(rows, prediction):
                writer.writerow([r[j] for j in kept_at] + [repr(float(p))])`}

        rows = []
        for r in reader:
            if not any(c.strip() for c in r):
                continue
            rows.append(r)
            if len(rows) == 10000:
                flush(rows)
                rows = []
        flush(rows)


def main(argv):
    if len(argv) == 2 and argv[0] == "--refit":
        coef, intercept = refit(argv[1])
        print("term,refit,model")
        print(f"(intercept),{intercept!r},{INTERCEPT!r}")
        for name, a, b in zip(FEATURES, coef, COEF):
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
