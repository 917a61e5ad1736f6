"""scikit-learn anchors for `npm run bench`: load the CSV (not timed), time the fit only, print one JSON line.

usage: sklearn_bench.py WORKLOAD CSV PARAMS_JSON
"""
import json, sys, time
import numpy as np

workload, path, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
data = np.loadtxt(path, delimiter=",", skiprows=1)
X, y = data[:, :-1], data[:, -1]
repeats = params.get("repeats", 3)
out = {"times": []}

if workload in ("path-lasso", "path-enet"):
    from sklearn.linear_model import enet_path
    # Centered by hand (enet_path fits no intercept), no standardization, the given λ grid.
    Xc, yc = X - X.mean(0), y - y.mean()

    def fit():
        t = time.perf_counter()
        _, coefs, _ = enet_path(Xc, yc, alphas=params["lambdas"], l1_ratio=params["alpha"])
        out["times"].append(time.perf_counter() - t)
        return coefs

    if params.get("paired"):
        # Paired rounds: one untimed fit, then one timed fit per "fit" line on stdin (the bench times regsweep in
        # between), each answered with its seconds; the closing JSON line once stdin ends.
        coefs = fit()
        out["times"].clear()
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() != "fit":
                break
            coefs = fit()
            print(json.dumps({"seconds": out["times"][-1]}), flush=True)
    else:
        for _ in range(repeats):
            coefs = fit()
    b = coefs[:, -1]
    out["coef"], out["intercept"] = b.tolist(), float(y.mean() - X.mean(0) @ b)
elif workload == "cv-enet":
    from sklearn.linear_model import ElasticNetCV
    from sklearn.model_selection import KFold
    for _ in range(repeats):
        t = time.perf_counter()
        m = ElasticNetCV(l1_ratio=params["alphas"], n_alphas=100, eps=1e-3, cv=KFold(5, shuffle=True, random_state=0), n_jobs=2).fit(X, y)
        out["times"].append(time.perf_counter() - t)
    out["best"] = {"lambda": float(m.alpha_), "alpha": float(m.l1_ratio_)}
elif workload == "grid-enet":
    from sklearn.linear_model import ElasticNet
    from sklearn.model_selection import GridSearchCV, KFold
    grid = {"alpha": params["lambdas"], "l1_ratio": params["alphas"]}
    for _ in range(repeats):
        t = time.perf_counter()
        g = GridSearchCV(ElasticNet(max_iter=100000), grid, cv=KFold(5, shuffle=True, random_state=0), n_jobs=2, scoring="neg_mean_squared_error").fit(X, y)
        out["times"].append(time.perf_counter() - t)
    out["best"] = {"lambda": float(g.best_params_["alpha"]), "alpha": float(g.best_params_["l1_ratio"])}
elif workload == "wide-ridge":
    from sklearn.linear_model import Ridge
    # Standardized and centered once (population sd, as regsweep's standardize), then Ridge(alpha = n·λ) per λ of the
    # grid: Ridge minimizes ||y − Xb||² + alpha·||b||², regsweep (1/2n)||y − Xb||² + λ/2·||b||².
    n = len(y)
    Xs = (X - X.mean(0)) / X.std(0)
    for _ in range(repeats):
        t = time.perf_counter()
        for lam in params["lambdas"]:
            m = Ridge(alpha=n * lam).fit(Xs, y)
        out["times"].append(time.perf_counter() - t)
    b = m.coef_ / X.std(0)
    out["coef"], out["intercept"] = b.tolist(), float(y.mean() - X.mean(0) @ b)
elif workload == "path-logit-l1":
    from sklearn.linear_model import LogisticRegression
    Xc = X - X.mean(0)
    n = len(y)
    for _ in range(repeats):
        t = time.perf_counter()
        m = LogisticRegression(penalty="l1", solver="liblinear", warm_start=True, max_iter=1000)
        for lam in params["lambdas"]:
            m.set_params(C=1.0 / (n * lam)).fit(Xc, y)
        out["times"].append(time.perf_counter() - t)
    b = m.coef_.ravel()
    # liblinear penalizes its intercept, so its objective differs slightly from glmnet's and ours.
    out["coef"], out["intercept"] = b.tolist(), float(m.intercept_[0] - X.mean(0) @ b)
print(json.dumps(out))
