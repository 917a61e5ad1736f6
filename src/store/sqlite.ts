import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import type { Task } from '../plan/tasks.js';
import type { TrialResult } from '../pool/protocol.js';
import type {
  CoefficientRow,
  EpochRow,
  NewSweep,
  SelectionRow,
  Store,
  SummaryRow,
  SweepRecord,
  SweepStatus,
  TrialFilter,
  TrialRow,
} from './types.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sweeps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  data_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'done')),
  created_at TEXT NOT NULL,
  finished_at TEXT,
  n INTEGER NOT NULL,
  p INTEGER NOT NULL,
  model TEXT NOT NULL,
  feature_names TEXT NOT NULL,
  target_names TEXT NOT NULL,
  classes TEXT,
  total_tasks INTEGER NOT NULL,
  total_trials INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  finished_at TEXT NOT NULL,
  PRIMARY KEY (sweep_id, task_id)
);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  penalty TEXT NOT NULL,
  lambda REAL NOT NULL,
  l1_ratio REAL NOT NULL,
  fold TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'diverged', 'failed')),
  converged INTEGER NOT NULL,
  error TEXT,
  train_loss REAL,
  val_loss REAL,
  n_train INTEGER NOT NULL,
  n_val INTEGER NOT NULL,
  nnz INTEGER NOT NULL,
  zero_frac REAL NOT NULL,
  near_zero_frac REAL NOT NULL,
  l1_norm REAL NOT NULL,
  l2_norm REAL NOT NULL,
  iterations INTEGER NOT NULL,
  seconds REAL NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',
  UNIQUE (sweep_id, penalty, l1_ratio, lambda, fold)
);
CREATE INDEX IF NOT EXISTS trials_by_task ON trials (sweep_id, task_id);
CREATE TABLE IF NOT EXISTS coefficients (
  trial_id INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
  intercept TEXT NOT NULL,
  coef BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS epochs (
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  train_loss REAL,
  val_loss REAL,
  PRIMARY KEY (trial_id, epoch)
);
CREATE TABLE IF NOT EXISTS summary (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  penalty TEXT NOT NULL,
  l1_ratio REAL NOT NULL,
  lambda REAL NOT NULL,
  metric TEXT NOT NULL,
  folds INTEGER NOT NULL,
  mean REAL NOT NULL,
  se REAL NOT NULL,
  train_mean REAL,
  nnz_all INTEGER,
  PRIMARY KEY (sweep_id, penalty, l1_ratio, lambda, metric)
);
CREATE TABLE IF NOT EXISTS selections (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  penalty TEXT NOT NULL,
  l1_ratio REAL NOT NULL,
  metric TEXT NOT NULL,
  lambda_min REAL NOT NULL,
  lambda_1se REAL NOT NULL,
  mean_min REAL NOT NULL,
  se_min REAL NOT NULL,
  mean_1se REAL NOT NULL,
  nnz_min INTEGER,
  nnz_1se INTEGER,
  edge TEXT,
  PRIMARY KEY (sweep_id, penalty, l1_ratio, metric)
);
`;

/** SQLite store: WAL, a busy timeout, and one writer (the coordinator); readers open read-only. */
export class SqliteStore implements Store {
  readonly db: Database.Database;

  private constructor(readonly path: string, readonly: boolean) {
    this.db = new Database(path, { readonly, fileMustExist: readonly, timeout: 10_000 });
    if (!readonly) {
      // 8 KB pages (a new file only): a trial's coefficients (8 bytes × p) then spill into fewer overflow pages;
      // writing the CV benchmark's 2 400 trials of 500 coefficients took a quarter less time than with 4 KB pages.
      this.db.pragma('page_size = 8192');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version !== 0 && version !== SCHEMA_VERSION)
        throw new UserError(`${path}: made by another regsweep version (schema ${version}, this one writes ${SCHEMA_VERSION})`);
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  }

  /** Opens (creating if needed) a database to write a sweep into. */
  static openForWrite(path: string): SqliteStore {
    mkdirSync(dirname(path), { recursive: true });
    return new SqliteStore(path, false);
  }

  /** Opens an existing database read-only: query, export and report cannot change it. */
  static openReadOnly(path: string): SqliteStore {
    if (!existsSync(path)) throw new UserError(`${path}: no such database (run a sweep first: regsweep run <config>)`);
    let store: SqliteStore;
    try {
      store = new SqliteStore(path, true);
      store.db.prepare('SELECT 1 FROM sweeps LIMIT 1').get();
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${path}: not a regsweep database (${(e as Error).message})`);
    }
    return store;
  }

  latestSweep(name?: string): SweepRecord | undefined {
    const row = name
      ? this.db.prepare('SELECT * FROM sweeps WHERE name = ? ORDER BY id DESC LIMIT 1').get(name)
      : this.db.prepare('SELECT * FROM sweeps ORDER BY id DESC LIMIT 1').get();
    return row ? toSweep(row as Record<string, unknown>) : undefined;
  }

  listSweeps(): SweepRecord[] {
    return (this.db.prepare('SELECT * FROM sweeps ORDER BY id').all() as Record<string, unknown>[]).map(toSweep);
  }

  createSweep(s: NewSweep): SweepRecord {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(
        `INSERT INTO sweeps (name, config_json, config_hash, data_hash, status, created_at, n, p, model, feature_names, target_names, classes, total_tasks, total_trials)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.name, s.configJson, s.configHash, s.dataHash, now, s.n, s.p, s.modelKind, JSON.stringify(s.featureNames), JSON.stringify(s.targetNames), s.classes ? JSON.stringify(s.classes) : null, s.totalTasks, s.totalTrials);
    return this.latestSweepById(Number(info.lastInsertRowid));
  }

  private latestSweepById(id: number): SweepRecord {
    return toSweep(this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as Record<string, unknown>);
  }

  setSweepStatus(sweepId: number, status: SweepStatus): void {
    this.db
      .prepare('UPDATE sweeps SET status = ?, finished_at = ? WHERE id = ?')
      .run(status, status === 'done' ? new Date().toISOString() : null, sweepId);
  }

  finishedTaskIds(sweepId: number): Set<string> {
    const rows = this.db.prepare(`SELECT task_id FROM tasks WHERE sweep_id = ? AND status = 'done'`).all(sweepId) as { task_id: string }[];
    return new Set(rows.map((r) => r.task_id));
  }

  recordTask(sweepId: number, task: Task, trials: TrialResult[], coefs: Float64Array | null, intercepts: Float64Array | null, outputs: number): void {
    // Positional parameters and coefficient blobs that view the task's coefficient array (no copy per trial): this
    // runs on the coordinator's thread while the workers compute, so its time is taken from them on a machine with as
    // many cores as workers.
    const insertTrial = this.db.prepare(
      `INSERT INTO trials (sweep_id, task_id, penalty, lambda, l1_ratio, fold, status, converged, error, train_loss, val_loss, n_train, n_val,
         nnz, zero_frac, near_zero_frac, l1_norm, l2_norm, iterations, seconds, metrics)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertCoef = this.db.prepare('INSERT INTO coefficients (trial_id, intercept, coef) VALUES (?, ?, ?)');
    const insertEpoch = this.db.prepare('INSERT INTO epochs (trial_id, epoch, train_loss, val_loss) VALUES (?, ?, ?, ?)');
    const width = coefs && trials.length ? coefs.length / trials.length : 0;
    const failed = trials.some((t) => t.status === 'failed');
    const fold = String(task.fold);
    this.db.transaction(() => {
      // A task that failed before is replaced whole.
      this.db.prepare('DELETE FROM trials WHERE sweep_id = ? AND task_id = ?').run(sweepId, task.id);
      trials.forEach((t, l) => {
        const metrics = Object.keys(t.metrics).length === 0 ? '{}' : JSON.stringify(t.metrics);
        const info = insertTrial.run(
          sweepId, task.id, task.penalty, t.lambda, task.alpha, fold, t.status, t.converged ? 1 : 0, t.error, t.trainLoss, t.valLoss,
          t.nTrain, t.nVal, t.nnz, t.zeroFraction, t.nearZeroFraction, t.l1Norm, t.l2Norm, t.iterations, t.seconds, metrics,
        );
        const trialId = Number(info.lastInsertRowid);
        if (coefs && intercepts && width > 0 && t.status !== 'failed') {
          const row = Buffer.from(coefs.buffer, coefs.byteOffset + l * width * 8, width * 8);
          insertCoef.run(trialId, JSON.stringify(Array.from(intercepts.subarray(l * outputs, (l + 1) * outputs))), row);
        }
        for (const e of t.epochs ?? []) insertEpoch.run(trialId, e.epoch, e.trainLoss, e.valLoss);
      });
      this.db
        .prepare('INSERT OR REPLACE INTO tasks (sweep_id, task_id, status, finished_at) VALUES (?, ?, ?, ?)')
        .run(sweepId, task.id, failed ? 'failed' : 'done', new Date().toISOString());
    })();
  }

  trials(sweepId: number, filter: TrialFilter = {}): TrialRow[] {
    const { where, params } = trialWhere(sweepId, filter);
    const rows = this.db.prepare(`SELECT * FROM trials WHERE ${where} ORDER BY penalty, l1_ratio, lambda DESC, fold`).all(...params) as Record<string, unknown>[];
    return rows.map(toTrial);
  }

  coefficients(sweepId: number, filter: TrialFilter = {}): CoefficientRow[] {
    const { where, params } = trialWhere(sweepId, filter, 't.');
    const rows = this.db
      .prepare(
        `SELECT t.id, t.penalty, t.lambda, t.l1_ratio, t.fold, c.intercept, c.coef FROM trials t JOIN coefficients c ON c.trial_id = t.id
         WHERE ${where} ORDER BY t.penalty, t.l1_ratio, t.lambda DESC, t.fold`,
      )
      .all(...params) as { id: number; penalty: string; lambda: number; l1_ratio: number; fold: string; intercept: string; coef: Buffer }[];
    return rows.map((r) => ({
      trialId: r.id,
      penalty: r.penalty,
      lambda: r.lambda,
      l1Ratio: r.l1_ratio,
      fold: r.fold,
      intercept: JSON.parse(r.intercept) as number[],
      // Copy out of the Buffer's pool so the alignment is right for a Float64Array.
      coefs: new Float64Array(r.coef.buffer.slice(r.coef.byteOffset, r.coef.byteOffset + r.coef.byteLength)),
    }));
  }

  epochs(sweepId: number): EpochRow[] {
    const rows = this.db
      .prepare(
        `SELECT t.id, t.penalty, t.lambda, t.l1_ratio, t.fold, e.epoch, e.train_loss, e.val_loss FROM epochs e JOIN trials t ON t.id = e.trial_id
         WHERE t.sweep_id = ? ORDER BY t.id, e.epoch`,
      )
      .all(sweepId) as Record<string, number | string | null>[];
    return rows.map((r) => ({
      trialId: r.id as number,
      penalty: r.penalty as string,
      lambda: r.lambda as number,
      l1Ratio: r.l1_ratio as number,
      fold: r.fold as string,
      epoch: r.epoch as number,
      trainLoss: r.train_loss as number,
      valLoss: r.val_loss as number | null,
    }));
  }

  writeSummary(sweepId: number, summary: SummaryRow[], selections: SelectionRow[]): void {
    const insertSummary = this.db.prepare(
      `INSERT INTO summary (sweep_id, penalty, l1_ratio, lambda, metric, folds, mean, se, train_mean, nnz_all)
       VALUES (@sweepId, @penalty, @l1Ratio, @lambda, @metric, @folds, @mean, @se, @trainMean, @nnzAll)`,
    );
    const insertSelection = this.db.prepare(
      `INSERT INTO selections (sweep_id, penalty, l1_ratio, metric, lambda_min, lambda_1se, mean_min, se_min, mean_1se, nnz_min, nnz_1se, edge)
       VALUES (@sweepId, @penalty, @l1Ratio, @metric, @lambdaMin, @lambda1se, @meanMin, @seMin, @mean1se, @nnzMin, @nnz1se, @edge)`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM summary WHERE sweep_id = ?').run(sweepId);
      this.db.prepare('DELETE FROM selections WHERE sweep_id = ?').run(sweepId);
      for (const s of summary) insertSummary.run({ sweepId, ...s });
      for (const s of selections) insertSelection.run({ sweepId, ...s });
    })();
  }

  summary(sweepId: number): SummaryRow[] {
    return (this.db.prepare('SELECT * FROM summary WHERE sweep_id = ? ORDER BY penalty, l1_ratio, lambda DESC').all(sweepId) as Record<string, unknown>[]).map((r) => ({
      penalty: r.penalty as string,
      l1Ratio: r.l1_ratio as number,
      lambda: r.lambda as number,
      metric: r.metric as string,
      folds: r.folds as number,
      mean: r.mean as number,
      se: r.se as number,
      trainMean: r.train_mean as number | null,
      nnzAll: r.nnz_all as number | null,
    }));
  }

  selections(sweepId: number): SelectionRow[] {
    return (this.db.prepare('SELECT * FROM selections WHERE sweep_id = ? ORDER BY penalty, l1_ratio').all(sweepId) as Record<string, unknown>[]).map((r) => ({
      penalty: r.penalty as string,
      l1Ratio: r.l1_ratio as number,
      metric: r.metric as string,
      lambdaMin: r.lambda_min as number,
      lambda1se: r.lambda_1se as number,
      meanMin: r.mean_min as number,
      seMin: r.se_min as number,
      mean1se: r.mean_1se as number,
      nnzMin: r.nnz_min as number | null,
      nnz1se: r.nnz_1se as number | null,
      edge: r.edge as SelectionRow['edge'],
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function trialWhere(sweepId: number, filter: TrialFilter, prefix = '') {
  const clauses = [`${prefix}sweep_id = ?`];
  const params: (string | number)[] = [sweepId];
  if (filter.fold !== undefined) {
    clauses.push(`${prefix}fold = ?`);
    params.push(filter.fold);
  }
  if (filter.penalty !== undefined) {
    clauses.push(`${prefix}penalty = ?`);
    params.push(filter.penalty);
  }
  return { where: clauses.join(' AND '), params };
}

function toSweep(r: Record<string, unknown>): SweepRecord {
  return {
    id: r.id as number,
    name: r.name as string,
    configJson: r.config_json as string,
    configHash: r.config_hash as string,
    dataHash: r.data_hash as string,
    status: r.status as SweepStatus,
    createdAt: r.created_at as string,
    finishedAt: r.finished_at as string | null,
    n: r.n as number,
    p: r.p as number,
    modelKind: r.model as string,
    featureNames: JSON.parse(r.feature_names as string),
    targetNames: JSON.parse(r.target_names as string),
    classes: r.classes ? JSON.parse(r.classes as string) : null,
    totalTasks: r.total_tasks as number,
    totalTrials: r.total_trials as number,
  };
}

function toTrial(r: Record<string, unknown>): TrialRow {
  return {
    id: r.id as number,
    sweepId: r.sweep_id as number,
    taskId: r.task_id as string,
    penalty: r.penalty as string,
    lambda: r.lambda as number,
    l1Ratio: r.l1_ratio as number,
    fold: r.fold as string,
    status: r.status as TrialRow['status'],
    converged: r.converged === 1,
    error: r.error as string | null,
    trainLoss: r.train_loss as number | null,
    valLoss: r.val_loss as number | null,
    nTrain: r.n_train as number,
    nVal: r.n_val as number,
    nnz: r.nnz as number,
    zeroFraction: r.zero_frac as number,
    nearZeroFraction: r.near_zero_frac as number,
    l1Norm: r.l1_norm as number,
    l2Norm: r.l2_norm as number,
    iterations: r.iterations as number,
    seconds: r.seconds as number,
    metrics: JSON.parse(r.metrics as string),
  };
}
