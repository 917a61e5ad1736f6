"""CSV loading anchors for `npm run bench -- load`: numpy loadtxt and pandas read_csv (C engine), each timed in its
own process, printing one JSON line {times, maxRssMb, n, p}.

usage: load_anchors.py numpy|pandas CSV REPEATS
"""
import json, resource, sys, time

tool, path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(repeats):
    t = time.perf_counter()
    if tool == "numpy":
        import numpy as np
        a = np.loadtxt(path, delimiter=",", skiprows=1)
    else:
        import pandas as pd
        a = pd.read_csv(path, engine="c").to_numpy(dtype="float64")
    times.append(time.perf_counter() - t)
    shape = a.shape
    del a
print(json.dumps({"times": times, "maxRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "n": shape[0], "p": shape[1] - 1}))
