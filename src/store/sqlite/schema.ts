import type Database from 'better-sqlite3';

/** The schema this version writes; older databases are migrated when opened for writing (or in memory for reading). */
export const SCHEMA_VERSION = 3;

/** The tables of a regsweep database: a file with other tables and none of these is someone else's. */
export const REGSWEEP_TABLES = ['sweeps', 'tasks', 'trials', 'coefficients', 'epochs', 'summary', 'selections', 'fold_assignments', 'processes', 'predictions'];

/**
 * Tables added without a new schema version: a database without them is read as it is (nothing to migrate in memory),
 * and they are made when it is next opened for writing.
 */
export const ADDED_TABLES = `
CREATE TABLE IF NOT EXISTS processes (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  owner TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  command TEXT NOT NULL,
  threads INTEGER NOT NULL,
  lease_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  started_at TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL,
  tasks_done INTEGER NOT NULL,
  tasks_failed INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  fenced INTEGER NOT NULL,
  leases_lost INTEGER NOT NULL,
  taken_over INTEGER NOT NULL,
  PRIMARY KEY (sweep_id, owner)
);
-- validation.keep: a validation trial's linear predictors over its fold's rows (float64, K blocks); the task's first
-- trial also holds the rows (int32) and their targets (float64), the same for every λ of the task.
CREATE TABLE IF NOT EXISTS predictions (
  trial_id INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
  link BLOB NOT NULL,
  rows BLOB,
  observed BLOB
);
CREATE TABLE IF NOT EXISTS fold_assignments (
  sweep_id INTEGER PRIMARY KEY REFERENCES sweeps(id) ON DELETE CASCADE,
  per_repeat INTEGER NOT NULL,
  repeats INTEGER NOT NULL,
  labels TEXT,
  folds BLOB NOT NULL
);
`;

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
  total_trials INTEGER NOT NULL,
  notes TEXT NOT NULL DEFAULT '[]',
  run_notes TEXT NOT NULL DEFAULT '[]',
  writer_pid INTEGER,
  writer_host TEXT,
  writer_started TEXT
);
CREATE TABLE IF NOT EXISTS tasks (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  position INTEGER,
  penalty TEXT,
  l1_ratio REAL,
  settings TEXT NOT NULL DEFAULT '',
  fold TEXT,
  lambdas TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempt INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  lease_until REAL,
  error TEXT,
  finished_at TEXT,
  PRIMARY KEY (sweep_id, task_id)
);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (sweep_id, status);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  penalty TEXT NOT NULL,
  lambda REAL NOT NULL,
  l1_ratio REAL NOT NULL,
  settings TEXT NOT NULL DEFAULT '',
  fold TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'diverged', 'failed', 'pruned')),
  converged INTEGER NOT NULL,
  error TEXT,
  train_loss REAL,
  val_loss REAL,
  n_train INTEGER NOT NULL,
  n_val INTEGER NOT NULL,
  nnz INTEGER NOT NULL,
  zero_fraction REAL NOT NULL,
  near_zero_fraction REAL NOT NULL,
  l1_norm REAL,
  l2_norm REAL,
  passes INTEGER NOT NULL,
  epochs_run INTEGER NOT NULL DEFAULT 0,
  seconds REAL NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',
  UNIQUE (sweep_id, penalty, l1_ratio, settings, lambda, fold)
);
CREATE INDEX IF NOT EXISTS trials_by_task ON trials (sweep_id, task_id);
CREATE TABLE IF NOT EXISTS coefficients (
  trial_id INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
  intercept TEXT NOT NULL,
  coef BLOB NOT NULL,
  baseline BLOB
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
  settings TEXT NOT NULL DEFAULT '',
  lambda REAL NOT NULL,
  metric TEXT NOT NULL,
  folds INTEGER NOT NULL,
  mean REAL NOT NULL,
  se REAL NOT NULL,
  train_mean REAL,
  nnz_all INTEGER,
  PRIMARY KEY (sweep_id, penalty, l1_ratio, settings, lambda, metric)
);
CREATE TABLE IF NOT EXISTS selections (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  penalty TEXT NOT NULL,
  l1_ratio REAL NOT NULL,
  settings TEXT NOT NULL DEFAULT '',
  metric TEXT NOT NULL,
  lambda_min REAL NOT NULL,
  lambda_1se REAL NOT NULL,
  mean_min REAL NOT NULL,
  se_min REAL NOT NULL,
  mean_1se REAL NOT NULL,
  nnz_min INTEGER,
  nnz_1se INTEGER,
  edge TEXT,
  PRIMARY KEY (sweep_id, penalty, l1_ratio, settings, metric)
);
`;

/** The CREATE TABLE statement of one table of SCHEMA, under another name. */
function createTableAs(table: string, as: string): string {
  const start = SCHEMA.indexOf(`CREATE TABLE IF NOT EXISTS ${table} (`);
  const end = SCHEMA.indexOf(');', start) + 2;
  return SCHEMA.slice(start, end).replace(`CREATE TABLE IF NOT EXISTS ${table} (`, `CREATE TABLE ${as} (`);
}

/**
 * Schema 1 → 2: the vocabulary of the architecture change (zero_fraction, near_zero_fraction; iterations split into
 * passes and epochs_run), trial ids that are never reused (AUTOINCREMENT, so "new since id N" misses nothing), task
 * rows for pending and running tasks, and the sweep's notes and writer. tasks and trials are rebuilt with their rows
 * the way SQLite documents for changing a table (new table, copy, drop, rename), so the tables that reference
 * trials keep referring to it by name.
 */
function migrate1to2(db: Database.Database): void {
  db.exec(`
ALTER TABLE sweeps ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sweeps ADD COLUMN run_notes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sweeps ADD COLUMN writer_pid INTEGER;
ALTER TABLE sweeps ADD COLUMN writer_host TEXT;
ALTER TABLE sweeps ADD COLUMN writer_started TEXT;
${createTableAs('tasks', 'tasks_new')}
INSERT INTO tasks_new (sweep_id, task_id, status, finished_at) SELECT sweep_id, task_id, status, finished_at FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
${createTableAs('trials', 'trials_new')}
INSERT INTO trials_new (id, sweep_id, task_id, penalty, lambda, l1_ratio, fold, status, converged, error, train_loss, val_loss, n_train, n_val,
  nnz, zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds, metrics)
SELECT t.id, t.sweep_id, t.task_id, t.penalty, t.lambda, t.l1_ratio, t.fold, t.status, t.converged, t.error, t.train_loss, t.val_loss, t.n_train, t.n_val,
  t.nnz, t.zero_frac, t.near_zero_frac, t.l1_norm, t.l2_norm,
  CASE WHEN s.model = 'mlp' THEN 0 ELSE t.iterations END, CASE WHEN s.model = 'mlp' THEN t.iterations ELSE 0 END, t.seconds, t.metrics
FROM trials t JOIN sweeps s ON s.id = t.sweep_id;
DROP TABLE trials;
ALTER TABLE trials_new RENAME TO trials;
CREATE INDEX IF NOT EXISTS trials_by_task ON trials (sweep_id, task_id);
`);
}

/**
 * Schema 2 → 3: model settings as sweep dimensions. tasks, trials, summary and selections get a settings column
 * ("" for every existing row), and it joins the keys of trials, summary and selections (tables rebuilt as above);
 * a trial's status may be "pruned".
 */
function migrate2to3(db: Database.Database): void {
  const copy = (table: string, columns: string) => `
${createTableAs(table, `${table}_new`)}
INSERT INTO ${table}_new (${columns}) SELECT ${columns} FROM ${table};
DROP TABLE ${table};
ALTER TABLE ${table}_new RENAME TO ${table};`;
  // A schema-1 database's tasks were rebuilt from this version's schema just before, settings included.
  const taskColumns = (db.prepare('PRAGMA table_info(tasks)').all() as { name: string }[]).map((c) => c.name);
  if (!taskColumns.includes('settings')) db.exec("ALTER TABLE tasks ADD COLUMN settings TEXT NOT NULL DEFAULT ''");
  db.exec(`
${copy('trials', 'id, sweep_id, task_id, penalty, lambda, l1_ratio, fold, status, converged, error, train_loss, val_loss, n_train, n_val, nnz, zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds, metrics')}
CREATE INDEX IF NOT EXISTS trials_by_task ON trials (sweep_id, task_id);
${copy('summary', 'sweep_id, penalty, l1_ratio, lambda, metric, folds, mean, se, train_mean, nnz_all')}
${copy('selections', 'sweep_id, penalty, l1_ratio, metric, lambda_min, lambda_1se, mean_min, se_min, mean_1se, nnz_min, nnz_1se, edge')}
`);
}

/**
 * Brings a database to SCHEMA_VERSION: creates the tables in a new one, migrates an older one. Foreign keys are off
 * while tables are rebuilt (a rebuilt table keeps its ids, so the rows that reference them stay right).
 */
export function applySchema(db: Database.Database, version: number): void {
  if (version === SCHEMA_VERSION) return;
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      if (version === 0) db.exec(SCHEMA);
      else {
        if (version === 1) migrate1to2(db);
        if (version <= 2) migrate2to3(db);
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}
