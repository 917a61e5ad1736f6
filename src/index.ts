// The library API: what the CLI and the tests call.
export { loadConfig, parseConfig, type LoadedConfig } from './config/load.js';
export { configSchema, type SweepConfig } from './config/schema.js';
export { loadCsv } from './data/csv.js';
export { syntheticDataset } from './data/synthetic.js';
export { loadData } from './data/load.js';
export type { Dataset } from './data/dataset.js';
export { planTasks, sweepGroups, trialCount, type Task } from './plan/tasks.js';
export { assignFolds, foldWeights } from './plan/folds.js';
export { runSweep, runLoadedSweep, hashConfig, type RunOptions, type RunResult } from './pool/coordinator.js';
export { bestTrials, exportRows, runSql, toCsv, openResults } from './results.js';
export { summarize, selectLambdas } from './select/cv.js';
export { SqliteStore } from './store/sqlite.js';
export type { Store } from './store/types.js';
export { UserError, EXIT } from './errors.js';
