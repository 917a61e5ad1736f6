"""Optuna anchor for grid-enet: GridSampler over (λ, α) with SQLite storage and 2 jobs; each trial is a 5-fold CV
of scikit-learn's ElasticNet, as a user would write it. usage: optuna_grid.py CSV PARAMS_JSON DB"""
import json, sys, time, os
import numpy as np
import optuna
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import KFold, cross_val_score

optuna.logging.set_verbosity(optuna.logging.WARNING)
path, params, db = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
data = np.loadtxt(path, delimiter=",", skiprows=1)
X, y = data[:, :-1], data[:, -1]
if os.path.exists(db):
    os.remove(db)
t = time.perf_counter()
study = optuna.create_study(storage=f"sqlite:///{db}", sampler=optuna.samplers.GridSampler({"lambda": params["lambdas"], "alpha": params["alphas"]}))
def objective(trial):
    lam, alpha = trial.suggest_float("lambda", min(params["lambdas"]), max(params["lambdas"]), log=True), trial.suggest_float("alpha", 0, 1)
    m = ElasticNet(alpha=lam, l1_ratio=alpha, max_iter=100000)
    return -cross_val_score(m, X, y, cv=KFold(5, shuffle=True, random_state=0), scoring="neg_mean_squared_error").mean()
study.optimize(objective, n_trials=len(params["lambdas"]) * len(params["alphas"]), n_jobs=2)
elapsed = time.perf_counter() - t
print(json.dumps({"times": [elapsed], "best": {"lambda": study.best_params["lambda"], "alpha": study.best_params["alpha"]}}))
