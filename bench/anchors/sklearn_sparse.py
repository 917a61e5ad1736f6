"""scikit-learn on CSR for `npm run bench -- sparse`: read the svmlight file (not timed), time the lasso path at the
given λ with warm starts — Lasso for gaussian, LogisticRegression(penalty='l1') with liblinear and with saga for binomial
(C = 1/(n λ): the same objective as glmnet's at standardize = FALSE, except that liblinear also penalizes the
intercept) — and print one JSON line with the times and each solver's last coefficients.
usage: python3 sklearn_sparse.py SVM Y_CSV FAMILY PARAMS_JSON_FILE"""
import json, sys, time, warnings
import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression

warnings.simplefilter('ignore', ConvergenceWarning)
path, targets, family, params = sys.argv[1], sys.argv[2], sys.argv[3], json.load(open(sys.argv[4]))
X, _ = load_svmlight_file(path, n_features=params['p'])
X = X.tocsr()
columns = open(targets).readline().strip().split(',')
Y = np.loadtxt(targets, delimiter=',', skiprows=1)
y = Y[:, columns.index('label' if family == 'binomial' else 'response')]
n = X.shape[0]
lambdas = params['lambdas']
out = {}
def timed(name, make):
    times = []
    for _ in range(params['repeats']):
        start = time.perf_counter()
        model = make()
        for lam in lambdas:
            model.set_params(**({'alpha': lam} if family == 'gaussian' else {'C': 1 / (n * lam)}))
            model.fit(X, y)
        times.append(time.perf_counter() - start)
    out[name] = {'times': times, 'coef': model.coef_.ravel().tolist(), 'intercept': float(np.ravel(model.intercept_)[0])}
if family == 'gaussian':
    timed('Lasso', lambda: Lasso(warm_start=True, max_iter=100000))
else:
    timed('liblinear', lambda: LogisticRegression(penalty='l1', solver='liblinear', intercept_scaling=100, max_iter=1000))
    if params.get('saga', True):
        timed('saga', lambda: LogisticRegression(penalty='l1', solver='saga', warm_start=True, max_iter=1000))
print(json.dumps(out))
