"""Optuna's TPESampler (its defaults: 10 random startup points, 24 candidates) on a regsweep objective: each point
asked of Optuna is evaluated by the evaluator process (bench/tpeObjective.ts: the same cross-validated loss a regsweep
TPE sweep computes) and told back. Prints, per seed, the best loss after each number of points asked for, as JSON.
With --multivariate, TPESampler(multivariate=True, group=True).
Usage: optuna_tpe.py SPACE_JSON POINTS SEEDS CHECKPOINTS [--multivariate] -- EVALUATOR ARGS..."""
import json
import subprocess
import sys
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
split = sys.argv.index("--")
space = json.loads(sys.argv[1])
points = int(sys.argv[2])
seeds = [int(s) for s in sys.argv[3].split(",")]
checkpoints = [int(c) for c in sys.argv[4].split(",")]
multivariate = "--multivariate" in sys.argv[5:split]
evaluator = subprocess.Popen(sys.argv[split + 1 :], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)


def evaluate(point):
    evaluator.stdin.write(json.dumps(point) + "\n")
    evaluator.stdin.flush()
    return float(evaluator.stdout.readline())


out = {}
for seed in seeds:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, multivariate=multivariate, group=multivariate))
    best = float("inf")
    bests = []
    for t in range(points):
        trial = study.ask()
        penalty = trial.suggest_categorical("penalty", space["penalty"]) if len(space["penalty"]) > 1 else space["penalty"][0]
        point = {"penalty": penalty, "lambda": trial.suggest_float("lambda", *space["lambda"], log=True), "settings": {}}
        if penalty == "elasticnet":
            point["l1_ratio"] = trial.suggest_float("l1_ratio", *space["l1_ratio"])
        for name, dist in space.get("settings", {}).items():
            if name == "l1_method" and penalty not in ("l1", "elasticnet"):
                continue
            if "choice" in dist:
                point["settings"][name] = trial.suggest_categorical(name, dist["choice"])
            else:
                point["settings"][name] = trial.suggest_float(name, *dist["log_uniform"], log=True)
        loss = evaluate(point)
        study.tell(trial, loss if loss != float("inf") else 1e300)
        best = min(best, loss)
        if t + 1 in checkpoints:
            bests.append(best)
    out[seed] = bests
evaluator.stdin.close()
print(json.dumps(out))
