// regsweep's tables in a schema of their own ("regsweep"), so that a database can hold other things too.
export const SCHEMA_VERSION = 1;

/** Added since schema 1 without a new version: idempotent, run whenever a database is opened for writing. */
export const ADDITIONS = `
-- Columns added since: each only when missing, so that opening a database that has them takes no table lock (ALTER
-- TABLE takes an exclusive one even when the column exists, and every worker opens the store for writing).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'datasets' AND column_name = 'has_offset') THEN
    ALTER TABLE regsweep.datasets ADD COLUMN has_offset boolean NOT NULL DEFAULT false;
  END IF;
  -- Observation weights (data.weights) stored after the offset.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'datasets' AND column_name = 'has_weights') THEN
    ALTER TABLE regsweep.datasets ADD COLUMN has_weights boolean NOT NULL DEFAULT false;
  END IF;
  -- SHA-256 of the stored values, checked when a worker fetches them (absent for data stored before it was kept).
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'datasets' AND column_name = 'values_sha256') THEN
    ALTER TABLE regsweep.datasets ADD COLUMN values_sha256 text;
  END IF;
  -- A sparse design's nonzeros (its compressed columns stored in place of X), null for a dense one.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'datasets' AND column_name = 'nnz') THEN
    ALTER TABLE regsweep.datasets ADD COLUMN nnz bigint;
  END IF;
  -- How the data's columns became the features (categories, gaps), for predict and the exported scripts.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'sweeps' AND column_name = 'encoding') THEN
    ALTER TABLE regsweep.sweeps ADD COLUMN encoding jsonb;
  END IF;
  -- Each feature's population sd, for charts and counts on the standardized scale.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'sweeps' AND column_name = 'feature_scales') THEN
    ALTER TABLE regsweep.sweeps ADD COLUMN feature_scales jsonb;
  END IF;
  -- A Cox fit's baseline hazard on all rows (survival predictions).
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'coefficients' AND column_name = 'baseline') THEN
    ALTER TABLE regsweep.coefficients ADD COLUMN baseline bytea;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'tasks' AND column_name = 'warm_from') THEN
    ALTER TABLE regsweep.tasks ADD COLUMN warm_from double precision;
  END IF;
  -- The lease a claim was taken with: a claim whose lease has run down by two renewals has an owner that stopped.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'tasks' AND column_name = 'lease_ms') THEN
    ALTER TABLE regsweep.tasks ADD COLUMN lease_ms integer;
  END IF;
  -- The transaction that recorded a trial: completions commit in any order, and a reader asks for trials of
  -- transactions not yet finished when it last looked (newTrials), not for ids above the last one it saw.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'trials' AND column_name = 'recorded_xid') THEN
    ALTER TABLE regsweep.trials ADD COLUMN recorded_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
    CREATE INDEX IF NOT EXISTS trials_by_xid ON regsweep.trials (sweep_id, recorded_xid);
  END IF;
END $$;
-- Model settings as sweep dimensions (a settings column in every key) and the pruned status: once, on the first
-- write-open of a database made before them (ALTER TABLE locks the table, so it is not repeated on every open).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'regsweep' AND table_name = 'trials' AND column_name = 'settings') THEN
    ALTER TABLE regsweep.tasks ADD COLUMN IF NOT EXISTS settings text NOT NULL DEFAULT '';
    ALTER TABLE regsweep.trials ADD COLUMN settings text NOT NULL DEFAULT '';
    ALTER TABLE regsweep.summary ADD COLUMN IF NOT EXISTS settings text NOT NULL DEFAULT '';
    ALTER TABLE regsweep.selections ADD COLUMN IF NOT EXISTS settings text NOT NULL DEFAULT '';
    ALTER TABLE regsweep.trials DROP CONSTRAINT IF EXISTS trials_sweep_id_penalty_l1_ratio_lambda_fold_key;
    CREATE UNIQUE INDEX IF NOT EXISTS trials_point ON regsweep.trials (sweep_id, penalty, l1_ratio, settings, lambda, fold);
    ALTER TABLE regsweep.summary DROP CONSTRAINT IF EXISTS summary_pkey;
    CREATE UNIQUE INDEX IF NOT EXISTS summary_point ON regsweep.summary (sweep_id, penalty, l1_ratio, settings, lambda, metric);
    ALTER TABLE regsweep.selections DROP CONSTRAINT IF EXISTS selections_pkey;
    CREATE UNIQUE INDEX IF NOT EXISTS selections_group ON regsweep.selections (sweep_id, penalty, l1_ratio, settings, metric);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'trials_status' AND conrelid = 'regsweep.trials'::regclass) THEN
    ALTER TABLE regsweep.trials DROP CONSTRAINT IF EXISTS trials_status_check;
    ALTER TABLE regsweep.trials ADD CONSTRAINT trials_status CHECK (status IN ('ok', 'diverged', 'failed', 'pruned')) NOT VALID;
  END IF;
END $$;
-- The checks and indexes a completion no longer pays for (see the tables below): dropped once from a database made with
-- them. A trial's rows in other tables carry no foreign key; the trials' other indexes serve every query by sweep.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname IN ('coefficients_trial_id_fkey', 'epochs_trial_id_fkey', 'predictions_trial_id_fkey') AND connamespace = 'regsweep'::regnamespace) THEN
    ALTER TABLE IF EXISTS regsweep.coefficients DROP CONSTRAINT IF EXISTS coefficients_trial_id_fkey;
    ALTER TABLE IF EXISTS regsweep.epochs DROP CONSTRAINT IF EXISTS epochs_trial_id_fkey;
    ALTER TABLE IF EXISTS regsweep.predictions DROP CONSTRAINT IF EXISTS predictions_trial_id_fkey;
  END IF;
  -- A trial is written under the claim of its task, whose row carries the sweep's key: the trial's own check took a
  -- share lock on the sweep's row for every row written, which every process's completions then contended for.
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'trials_sweep_id_fkey' AND connamespace = 'regsweep'::regnamespace) THEN
    ALTER TABLE regsweep.trials DROP CONSTRAINT trials_sweep_id_fkey;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_class WHERE relname IN ('trials_by_sweep', 'trials_by_task') AND relnamespace = 'regsweep'::regnamespace) THEN
    DROP INDEX IF EXISTS regsweep.trials_by_sweep;
    DROP INDEX IF EXISTS regsweep.trials_by_task;
  END IF;
END $$;
-- Successive halving across processes: each process's losses at the rung epochs, read by the others.
CREATE TABLE IF NOT EXISTS regsweep.rung_reports (
  id bigserial PRIMARY KEY,
  sweep_id bigint NOT NULL REFERENCES regsweep.sweeps(id) ON DELETE CASCADE,
  owner text NOT NULL,
  rung integer NOT NULL,
  loss double precision NOT NULL,
  recorded_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX IF NOT EXISTS rung_reports_by_xid ON regsweep.rung_reports (sweep_id, recorded_xid);
-- The processes working on a sweep, each as it last reported itself (status, /metrics).
CREATE TABLE IF NOT EXISTS regsweep.processes (
  sweep_id bigint NOT NULL REFERENCES regsweep.sweeps(id) ON DELETE CASCADE,
  owner text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  command text NOT NULL,
  threads integer NOT NULL,
  lease_ms integer NOT NULL,
  state text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  tasks_done integer NOT NULL,
  tasks_failed integer NOT NULL,
  retries integer NOT NULL,
  fenced integer NOT NULL,
  leases_lost integer NOT NULL,
  taken_over integer NOT NULL,
  PRIMARY KEY (sweep_id, owner)
);
CREATE TABLE IF NOT EXISTS regsweep.fold_assignments (
  sweep_id bigint PRIMARY KEY REFERENCES regsweep.sweeps(id) ON DELETE CASCADE,
  per_repeat integer NOT NULL,
  repeats integer NOT NULL,
  labels jsonb,
  folds bytea NOT NULL
);
`;

export const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS regsweep;
CREATE TABLE IF NOT EXISTS regsweep.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS regsweep.datasets (
  hash text PRIMARY KEY,
  n integer NOT NULL,
  p integer NOT NULL,
  outputs integer NOT NULL,
  feature_names jsonb NOT NULL,
  target_names jsonb NOT NULL,
  classes jsonb,
  chunks integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS regsweep.dataset_chunks (
  hash text NOT NULL REFERENCES regsweep.datasets(hash) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (hash, seq)
);
-- Float64 values do not compress: stored as they are, read without decompressing.
ALTER TABLE regsweep.dataset_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS regsweep.sweeps (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  config_json text NOT NULL,
  config_hash text NOT NULL,
  data_hash text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'interrupted', 'done')),
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  n integer NOT NULL,
  p integer NOT NULL,
  model text NOT NULL,
  feature_names jsonb NOT NULL,
  target_names jsonb NOT NULL,
  classes jsonb,
  total_tasks integer NOT NULL,
  total_trials integer NOT NULL,
  notes jsonb NOT NULL DEFAULT '[]',
  run_notes jsonb NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS regsweep.tasks (
  sweep_id bigint NOT NULL REFERENCES regsweep.sweeps(id) ON DELETE CASCADE,
  task_id text NOT NULL,
  position integer NOT NULL,
  penalty text NOT NULL,
  l1_ratio double precision NOT NULL,
  fold text NOT NULL,
  fold_rank integer NOT NULL,
  lambdas double precision[] NOT NULL,
  n_lambdas integer NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempt integer NOT NULL DEFAULT 0,
  owner text,
  lease_until timestamptz,
  error text,
  finished_at timestamptz,
  PRIMARY KEY (sweep_id, task_id)
);
CREATE INDEX IF NOT EXISTS tasks_claimable ON regsweep.tasks (sweep_id, status, fold_rank);
CREATE TABLE IF NOT EXISTS regsweep.trials (
  id bigserial PRIMARY KEY,
  sweep_id bigint NOT NULL,
  task_id text NOT NULL,
  penalty text NOT NULL,
  lambda double precision NOT NULL,
  l1_ratio double precision NOT NULL,
  fold text NOT NULL,
  status text NOT NULL CHECK (status IN ('ok', 'diverged', 'failed')),
  converged boolean NOT NULL,
  error text,
  train_loss double precision,
  val_loss double precision,
  n_train integer NOT NULL,
  n_val integer NOT NULL,
  nnz integer NOT NULL,
  zero_fraction double precision NOT NULL,
  near_zero_fraction double precision NOT NULL,
  l1_norm double precision NOT NULL,
  l2_norm double precision NOT NULL,
  passes integer NOT NULL,
  epochs_run integer NOT NULL,
  seconds double precision NOT NULL,
  metrics jsonb NOT NULL DEFAULT '{}',
  UNIQUE (sweep_id, penalty, l1_ratio, lambda, fold)
);
-- A trial's coefficients, learning curve and held-out predictions are written in its transaction and deleted with it
-- (recordOutcomes): no foreign key, whose check (a lookup and a row lock) every row of a completion paid.
CREATE TABLE IF NOT EXISTS regsweep.coefficients (
  trial_id bigint PRIMARY KEY,
  intercept double precision[] NOT NULL,
  coef bytea NOT NULL
);
ALTER TABLE regsweep.coefficients ALTER COLUMN coef SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS regsweep.epochs (
  trial_id bigint NOT NULL,
  epoch integer NOT NULL,
  train_loss double precision,
  val_loss double precision,
  PRIMARY KEY (trial_id, epoch)
);
-- validation.keep: a validation trial's linear predictors over its fold's rows (float64, K blocks); the task's first
-- trial also holds the rows (int32) and their targets (float64), the same for every λ of the task.
CREATE TABLE IF NOT EXISTS regsweep.predictions (
  trial_id bigint PRIMARY KEY,
  link bytea NOT NULL,
  rows bytea,
  observed bytea
);
ALTER TABLE regsweep.predictions ALTER COLUMN link SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS regsweep.summary (
  sweep_id bigint NOT NULL REFERENCES regsweep.sweeps(id) ON DELETE CASCADE,
  penalty text NOT NULL,
  l1_ratio double precision NOT NULL,
  lambda double precision NOT NULL,
  metric text NOT NULL,
  folds integer NOT NULL,
  mean double precision NOT NULL,
  se double precision NOT NULL,
  train_mean double precision,
  nnz_all integer,
  PRIMARY KEY (sweep_id, penalty, l1_ratio, lambda, metric)
);
CREATE TABLE IF NOT EXISTS regsweep.selections (
  sweep_id bigint NOT NULL REFERENCES regsweep.sweeps(id) ON DELETE CASCADE,
  penalty text NOT NULL,
  l1_ratio double precision NOT NULL,
  metric text NOT NULL,
  lambda_min double precision NOT NULL,
  lambda_1se double precision NOT NULL,
  mean_min double precision NOT NULL,
  se_min double precision NOT NULL,
  mean_1se double precision NOT NULL,
  nnz_min integer,
  nnz_1se integer,
  edge text,
  PRIMARY KEY (sweep_id, penalty, l1_ratio, metric)
);
`;
