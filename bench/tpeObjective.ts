// The objective of `npm run bench -- tpe` for Optuna's sampler: a sweep file's data, folds and model, and for each point
// read from standard input (a JSON line: penalty, lambda, l1_ratio, settings) its cross-validated validation loss on a
// line of standard output — the loss a TPE sweep of that file computes for the same point (fitTask on each fold).
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/load.js';
import { loadData } from '../src/data/load.js';
import { l1RatioOf, settingsKey, type FoldId, type Penalty } from '../src/domain.js';
import { fitTask } from '../src/fitting/fitTask.js';
import { sharedData } from '../src/pool/coordinator.js';
import { fitSettings } from '../src/pool/work.js';
import { planSweep } from '../src/plan/plan.js';
import { threadKernelContext } from '../workers/kernelContext.js';

const loaded = loadConfig(process.argv[2]);
const data = await loadData(loaded);
const plan = planSweep(loaded, data);
const shared = sharedData(data, plan.folds, loaded.config.model);
const settings = fitSettings(loaded.config, 1);
const context = threadKernelContext();
const folds: FoldId[] = Array.from({ length: plan.folds.count }, (_, k) => k);

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const point = JSON.parse(line) as { penalty: Penalty; lambda: number; l1_ratio?: number; settings?: Record<string, unknown> };
  const key = settingsKey(point.settings ?? {});
  let weighted = 0;
  let rows = 0;
  let failed = false;
  for (const fold of folds) {
    const result = fitTask(context, shared, { id: `point/${fold}`, penalty: point.penalty, l1Ratio: l1RatioOf(point.penalty, point.l1_ratio ?? 1), fold, lambdas: [point.lambda], ...(key ? { settings: key } : {}) }, settings);
    const trial = result.trials[0];
    if (trial.status !== 'ok' || trial.valLoss === null || !Number.isFinite(trial.valLoss)) failed = true;
    else {
      weighted += trial.valLoss * trial.nVal;
      rows += trial.nVal;
    }
  }
  process.stdout.write(`${failed ? 'Infinity' : weighted / rows}\n`);
}
