import type Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { builtFile } from '../../builtFile.js';
import type { CvPoint, NewSweep, Penalty, Selection, Sweep, SweepStatus, Task, TaskOutcome, Trial, TrialCoefficients, TrialEpoch, TrialPredictions, TrialTally } from '../../domain.js';
import { OutsideError, UserError, errorCode } from '../../errors.js';
import { fileIdentity } from '../../util/files.js';
import { displayPath } from '../../util/paths.js';
import { isAlive, thisProcess } from '../../util/process.js';
import {
  failedTrials,
  type Claim,
  type ClaimOptions,
  type Completion,
  type CompletionVerdict,
  type OpenOptions,
  type ProcessReport,
  type ProcessState,
  type ReadOnlyQueryOptions,
  type StoredDataset,
  type StoredFolds,
  type Store,
  type SweepSelector,
  type SweepSummary,
  type TaskCounts,
  type TaskState,
  type TrialFilter,
} from '../contract.js';
import { inClaimOrder, toTaskRow } from '../taskOrder.js';
import { rowCount } from '../../util/coefficientRows.js';
import { baselineBytes, baselineOf, bytesOf, coefficientBytes, coefficientsOf, pickSweep, predictionsFromRow, processFromRow, storableFigures, tallyFromRow, taskStateFromRow, metricsFromText } from '../common.js';
import { openForReading, openForWriting, sqliteError } from './file.js';

/** How long one attempt waits for a lock inside SQLite before the store backs off and tries again (ms). */
const BUSY_SLICE_MS = 250;
const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isBusy = (e: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(errorCode(e) ?? '');

/**
 * SQLite store: WAL, one writer (the coordinator), readers opened read-only. Writes that meet a lock held by another
 * process are retried with backoff up to the lock timeout, then fail with that cause.
 */
export class SqliteStore implements Store {
  readonly location: string;
  readonly shared = false;
  /** The file opened (device and inode): a file deleted or replaced under an open store is noticed. */
  private readonly identity: { dev: number; ino: number } | undefined;
  private readonly lockTimeoutMs: number;

  private constructor(
    readonly path: string,
    readonly db: Database.Database,
    private readonly writable: boolean,
    lockTimeoutMs: number,
  ) {
    this.location = path;
    this.lockTimeoutMs = lockTimeoutMs;
    this.identity = fileIdentity(path);
  }

  /**
   * A statement of fixed text, prepared once per store: claiming and recording run per task, on the thread that may
   * be the sweep's bottleneck. Not for text with values written in (the map would grow with them).
   */
  private readonly prepared = new Map<string, Database.Statement>();
  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Opens (creating when absent) a database to write sweeps into; see openForWriting for what is refused. */
  static async openForWrite(location: string, options: Partial<OpenOptions> & { mustExist?: boolean } = {}): Promise<SqliteStore> {
    // Relative to the working folder when that is shorter: it opens the same file and reads better in messages.
    const path = displayPath(location);
    const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const db = await retryBusy(path, lockTimeoutMs, () => openForWriting(path, Math.min(BUSY_SLICE_MS, lockTimeoutMs), options));
    return new SqliteStore(path, db, true, lockTimeoutMs);
  }

  /** Opens an existing database read-only: query, export and report cannot change it. */
  static openReadOnly(location: string): SqliteStore {
    const path = displayPath(location);
    return new SqliteStore(path, openForReading(path), false, 0);
  }

  /** Writes run one at a time in call order: each waits for a lock on its own, not behind others' busy waits. */
  private writes: Promise<unknown> = Promise.resolve();
  private write<T>(doing: string, fn: () => T): Promise<T> {
    if (!this.writable) throw new Error('this store was opened for reading');
    const next = this.writes.then(() => retryBusy(this.path, this.lockTimeoutMs, fn, doing));
    this.writes = next.catch(() => undefined);
    return next;
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw sqliteError(this.path, e, 'read the database');
    }
  }

  async listSweeps(): Promise<Sweep[]> {
    return this.read(() => (this.db.prepare('SELECT * FROM sweeps ORDER BY id').all() as Record<string, unknown>[]).map(toSweep));
  }

  async latestSweep(name: string): Promise<Sweep | undefined> {
    return this.read(() => {
      const row = this.db.prepare('SELECT * FROM sweeps WHERE name = ? ORDER BY id DESC LIMIT 1').get(name);
      return row ? toSweep(row as Record<string, unknown>) : undefined;
    });
  }

  async findSweep(selector: SweepSelector = {}): Promise<Sweep> {
    return pickSweep(this.location, await this.listSweeps(), selector);
  }

  async createSweep(s: NewSweep, tasks: Task[], _dataset?: StoredDataset, folds?: StoredFolds, ifLatest?: number | null): Promise<{ sweep: Sweep; created: boolean }> {
    const me = thisProcess();
    const made = await this.write('create the sweep', () =>
      this.db.transaction(() => {
        if (ifLatest !== undefined) {
          const latest = (this.db.prepare('SELECT max(id) AS id FROM sweeps WHERE name = ?').get(s.name) as { id: number | null }).id;
          if (latest !== ifLatest) return { id: latest!, created: false };
        }
        const info = this.db
          .prepare(
            `INSERT INTO sweeps (name, config_json, config_hash, data_hash, status, created_at, n, p, model, feature_names, target_names, classes,
               encoding, feature_scales, total_tasks, total_trials, notes, writer_pid, writer_host, writer_started)
             VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            s.name, s.configJson, s.configHash, s.dataHash, new Date().toISOString(), s.n, s.p, s.modelKind, JSON.stringify(s.featureNames),
            JSON.stringify(s.targetNames), s.classes ? JSON.stringify(s.classes) : null, s.encoding ? JSON.stringify(s.encoding) : null,
            s.featureScales ? JSON.stringify(s.featureScales) : null, s.totalTasks, s.totalTrials, JSON.stringify(s.notes),
            me.pid, me.host, me.started,
          );
        const sweepId = Number(info.lastInsertRowid);
        this.insertTasks(sweepId, tasks);
        if (folds)
          this.db
            .prepare('INSERT INTO fold_assignments (sweep_id, per_repeat, repeats, labels, folds) VALUES (?, ?, ?, ?, ?)')
            .run(sweepId, folds.perRepeat, folds.repeats, folds.labels ? JSON.stringify(folds.labels) : null, Buffer.from(folds.foldOf.buffer, folds.foldOf.byteOffset, folds.foldOf.byteLength));
        return { id: sweepId, created: true };
      })(),
    );
    return { sweep: this.sweepById(made.id), created: made.created };
  }

  async addTasks(sweepId: number, tasks: Task[]): Promise<void> {
    await this.write('add tasks', () =>
      this.db.transaction(() => {
        this.insertTasks(sweepId, tasks);
        this.db
          .prepare(
            `UPDATE sweeps SET total_tasks = max(total_tasks, (SELECT count(*) FROM tasks WHERE sweep_id = @id)),
               total_trials = max(total_trials, (SELECT coalesce(sum(json_array_length(lambdas)), 0) FROM tasks WHERE sweep_id = @id)) WHERE id = @id`,
          )
          .run({ id: sweepId });
      })(),
    );
  }

  async reopenSweep(sweepId: number): Promise<void> {
    await this.write('reopen the sweep', () => this.db.prepare(`UPDATE sweeps SET status = 'running', finished_at = NULL WHERE id = ?`).run(sweepId));
  }

  async folds(sweepId: number): Promise<StoredFolds | undefined> {
    return this.read(() => {
      const table = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fold_assignments'`).get();
      if (!table) return undefined;
      const row = this.db.prepare('SELECT * FROM fold_assignments WHERE sweep_id = ?').get(sweepId) as { per_repeat: number; repeats: number; labels: string | null; folds: Buffer } | undefined;
      if (!row) return undefined;
      const copy = new Uint8Array(row.folds);
      return { foldOf: new Int32Array(copy.buffer, 0, copy.length / 4), perRepeat: row.per_repeat, repeats: row.repeats, labels: row.labels ? (JSON.parse(row.labels) as string[]) : null };
    });
  }

  /** Task rows for a sweep; rows that exist keep their status (a migrated row gets its definition). */
  private insertTasks(sweepId: number, tasks: Task[]): void {
    const insert = this.db.prepare(
      `INSERT INTO tasks (sweep_id, task_id, position, penalty, l1_ratio, settings, fold, lambdas, warm_from, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
       ON CONFLICT (sweep_id, task_id) DO UPDATE SET position = excluded.position, penalty = excluded.penalty, l1_ratio = excluded.l1_ratio,
         settings = excluded.settings, fold = excluded.fold, lambdas = excluded.lambdas WHERE tasks.lambdas IS NULL`,
    );
    tasks.forEach((t, k) => insert.run(sweepId, t.id, k, t.penalty, t.l1Ratio, t.settings ?? '', String(t.fold), JSON.stringify(t.lambdas), t.warmFrom ?? null));
  }

  private sweepById(id: number): Sweep {
    return this.read(() => toSweep(this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as Record<string, unknown>));
  }

  async beginWriting(sweepId: number): Promise<void> {
    const me = thisProcess();
    await this.write('mark the sweep as running', () =>
      this.db.transaction(() => {
        const row = this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(sweepId) as Record<string, unknown>;
        const writer = writerOf(row);
        if (row.status === 'running' && writer && !(writer.pid === me.pid && writer.host === me.host) && isAlive(writer))
          throw new UserError(
            `${this.location}: sweep "${row.name}" is being run by process ${writer.pid} on ${writer.host}; wait for it to finish, or stop it and run again`,
          );
        this.db
          .prepare(`UPDATE sweeps SET status = 'running', finished_at = NULL, writer_pid = ?, writer_host = ?, writer_started = ? WHERE id = ?`)
          .run(me.pid, me.host, me.started, sweepId);
        // Tasks claimed by a process that is gone (one writer at a time) go back to the queue.
        this.db.prepare(`UPDATE tasks SET status = 'pending', owner = NULL, lease_until = NULL WHERE sweep_id = ? AND status = 'running'`).run(sweepId);
      })(),
    );
  }

  async setSweepStatus(sweepId: number, status: SweepStatus): Promise<void> {
    await this.write('record the sweep status', () =>
      this.db
        .prepare(status === 'running' ? 'UPDATE sweeps SET status = ?, finished_at = ? WHERE id = ?' : 'UPDATE sweeps SET status = ?, finished_at = ?, writer_pid = NULL, writer_host = NULL, writer_started = NULL WHERE id = ?')
        .run(status, status === 'done' ? new Date().toISOString() : null, sweepId),
    );
  }

  async setNotes(sweepId: number, notes: string[]): Promise<void> {
    await this.write('record the notes', () => this.db.prepare('UPDATE sweeps SET notes = ? WHERE id = ?').run(JSON.stringify(notes), sweepId));
  }

  async finishedTaskIds(sweepId: number): Promise<Set<string>> {
    const rows = this.read(() => this.db.prepare(`SELECT task_id FROM tasks WHERE sweep_id = ? AND status = 'done'`).all(sweepId)) as { task_id: string }[];
    return new Set(rows.map((r) => r.task_id));
  }

  async loadDataset(): Promise<StoredDataset | undefined> {
    return undefined;
  }

  async claimBatches(sweepId: number, { owner, leaseMs, bundleFolds, batches }: ClaimOptions): Promise<Claim[][]> {
    return this.write('claim tasks', () =>
      this.db.transaction(() => {
        const now = Date.now();
        const rows = this.statement(`SELECT * FROM tasks WHERE sweep_id = ? AND (status = 'pending' OR (status = 'running' AND lease_until < ?))`).all(sweepId, now) as Record<
          string,
          unknown
        >[];
        const chosen = inClaimOrder(rows.map(toTaskRow), bundleFolds).slice(0, batches);
        const claim = this.statement(`UPDATE tasks SET status = 'running', owner = ?, lease_until = ?, attempt = attempt + 1 WHERE sweep_id = ? AND task_id = ?`);
        return chosen.map((batch) =>
          batch.map((row) => {
            claim.run(owner, now + leaseMs, sweepId, row.task.id);
            return { task: row.task, attempt: row.attempt + 1, owner };
          }),
        );
      })(),
    );
  }

  async renewLeases(sweepId: number, owner: string, claims: Claim[], leaseMs: number): Promise<Claim[]> {
    return this.write('renew leases', () =>
      this.db.transaction(() => {
        const renew = this.statement(`UPDATE tasks SET lease_until = ? WHERE sweep_id = ? AND task_id = ? AND owner = ? AND attempt = ? AND status = 'running'`);
        return claims.filter((c) => renew.run(Date.now() + leaseMs, sweepId, c.task.id, owner, c.attempt).changes === 0);
      })(),
    );
  }

  async completeTask(sweepId: number, claim: Claim, outcome: TaskOutcome, outputs: number, maxAttempts: number): Promise<CompletionVerdict> {
    return (await this.completeTasks(sweepId, [{ claim, outcome, outputs }], maxAttempts))[0];
  }

  async completeTasks(sweepId: number, completions: Completion[], maxAttempts: number): Promise<CompletionVerdict[]> {
    return this.write('record tasks', () =>
      this.db.transaction(() =>
        completions.map(({ claim, outcome, outputs }): CompletionVerdict => {
          const { task } = claim;
          const row = this.statement('SELECT status, attempt, owner FROM tasks WHERE sweep_id = ? AND task_id = ?').get(sweepId, task.id) as
            | { status: string; attempt: number; owner: string | null }
            | undefined;
          if (!row || row.attempt !== claim.attempt || row.owner !== claim.owner) return 'fenced';
          // The same claim completed again (a retry whose first try went through): recorded already.
          if (row.status === 'done' || row.status === 'failed') return 'recorded';
          if (row.status !== 'running') return 'fenced';
          if ('error' in outcome && claim.attempt < maxAttempts) {
            this.statement(`UPDATE tasks SET status = 'pending', owner = NULL, lease_until = NULL, error = ? WHERE sweep_id = ? AND task_id = ?`).run(outcome.error, sweepId, task.id);
            return 'retry';
          }
          this.recordOutcome(sweepId, task, outcome, outputs);
          return 'recorded';
        }),
      )(),
    );
  }


  /** A task's trials, coefficients and learning curves, and its status (inside the caller's transaction). */
  private recordOutcome(sweepId: number, task: Task, outcome: TaskOutcome, outputs: number): void {
    const failure = 'error' in outcome ? outcome.error : null;
    const result = 'error' in outcome ? undefined : outcome;
    const trials = result ? result.trials : failedTrials(task, failure!);
    const insertTrial = this.statement(
      `INSERT INTO trials (sweep_id, task_id, penalty, lambda, l1_ratio, settings, fold, status, converged, error, train_loss, val_loss, n_train, n_val,
         nnz, zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds, metrics)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertCoef = this.statement('INSERT INTO coefficients (trial_id, intercept, coef, baseline) VALUES (?, ?, ?, ?)');
    const insertEpoch = this.statement('INSERT INTO epochs (trial_id, epoch, train_loss, val_loss) VALUES (?, ?, ?, ?)');
    const insertPrediction = this.statement('INSERT INTO predictions (trial_id, link, rows, observed) VALUES (?, ?, ?, ?)');
    const heldOut = result?.heldOut;
    const linkWidth = heldOut && trials.length ? heldOut.link.length / trials.length : 0;
    const coefficientRows = result && rowCount(result.coefficients) === trials.length ? result.coefficients : undefined;
    const fold = String(task.fold);
    // A task that failed before is replaced whole.
    this.statement('DELETE FROM trials WHERE sweep_id = ? AND task_id = ?').run(sweepId, task.id);
    trials.forEach((figures, l) => {
      const t = storableFigures(figures);
      const metrics = Object.keys(t.metrics).length === 0 ? '{}' : JSON.stringify(t.metrics);
      const info = insertTrial.run(
        sweepId, task.id, task.penalty, t.lambda, task.l1Ratio, task.settings ?? '', fold, t.status, t.converged ? 1 : 0, t.error, t.trainLoss, t.valLoss,
        t.nTrain, t.nVal, t.nnz, t.zeroFraction, t.nearZeroFraction, t.l1Norm, t.l2Norm, t.passes, t.epochsRun, t.seconds, metrics,
      );
      const trialId = Number(info.lastInsertRowid);
      if (result && coefficientRows && t.status !== 'failed') {
        const row = coefficientBytes(coefficientRows, l);
        insertCoef.run(trialId, JSON.stringify(Array.from(result.intercepts.subarray(l * outputs, (l + 1) * outputs))), row, result.baseline ? baselineBytes(result.baseline, l) : null);
      }
      for (const e of ('epochs' in t ? t.epochs : undefined) ?? []) insertEpoch.run(trialId, e.epoch, e.trainLoss, e.valLoss);
      if (heldOut && linkWidth > 0 && t.status !== 'failed')
        insertPrediction.run(trialId, bytesOf(heldOut.link, l * linkWidth, linkWidth), l === 0 ? bytesOf(heldOut.rows) : null, l === 0 ? bytesOf(heldOut.observed) : null);
    });
    const failed = trials.some((t) => t.status === 'failed');
    this.statement(`UPDATE tasks SET status = ?, lease_until = NULL, error = ?, finished_at = ? WHERE sweep_id = ? AND task_id = ?`).run(
      failed ? 'failed' : 'done',
      failure,
      new Date().toISOString(),
      sweepId,
      task.id,
    );
  }

  async releaseClaims(sweepId: number, owner: string, claims: Claim[]): Promise<void> {
    await this.write('give tasks back', () =>
      this.db.transaction(() => {
        const release = this.statement(`UPDATE tasks SET status = 'pending', owner = NULL, lease_until = NULL WHERE sweep_id = ? AND task_id = ? AND owner = ? AND attempt = ? AND status = 'running'`);
        for (const c of claims) release.run(sweepId, c.task.id, owner, c.attempt);
      })(),
    );
  }

  async exchangeRungReports(): Promise<{ reports: { id: number; rung: number; loss: number }[]; cursor: string }> {
    return { reports: [], cursor: '' };
  }

  async heartbeat(sweepId: number, r: ProcessReport): Promise<void> {
    const now = new Date().toISOString();
    await this.write('record a heartbeat', () =>
      this.db
        .prepare(
          `INSERT INTO processes (sweep_id, owner, host, pid, command, threads, lease_ms, state, started_at, heartbeat_at, tasks_done, tasks_failed, retries, fenced, leases_lost, taken_over)
           VALUES (@sweepId, @owner, @host, @pid, @command, @threads, @leaseMs, @state, @now, @now, @tasksDone, @tasksFailed, @retries, @fenced, @leasesLost, @takenOver)
           ON CONFLICT (sweep_id, owner) DO UPDATE SET state = excluded.state, heartbeat_at = excluded.heartbeat_at, tasks_done = excluded.tasks_done,
             tasks_failed = excluded.tasks_failed, retries = excluded.retries, fenced = excluded.fenced, leases_lost = excluded.leases_lost, taken_over = excluded.taken_over`,
        )
        .run({ ...r, sweepId, now }),
    );
  }

  async processes(sweepId: number): Promise<ProcessState[]> {
    try {
      return this.read(() =>
        (this.db.prepare('SELECT * FROM processes WHERE sweep_id = ? ORDER BY heartbeat_at DESC').all(sweepId) as Record<string, unknown>[]).map((r) =>
          processFromRow(r, (Date.now() - Date.parse(r.heartbeat_at as string)) / 1000),
        ),
      );
    } catch (e) {
      // A database made before processes were kept, opened for reading.
      if (/no such table/.test((e as Error).message)) return [];
      throw e;
    }
  }

  async requeueFailed(sweepId: number): Promise<{ failed: number; released: number }> {
    // One writer: a claim of an earlier run is run again on resume anyway, none is stale.
    const failed = await this.write('queue failed tasks again', () => this.db.prepare(`UPDATE tasks SET status = 'pending', attempt = 0, error = NULL WHERE sweep_id = ? AND status = 'failed'`).run(sweepId).changes);
    return { failed, released: 0 };
  }

  async taskCounts(sweepId: number): Promise<TaskCounts> {
    return this.read(() => {
      const rows = this.db.prepare('SELECT status, count(*) AS c FROM tasks WHERE sweep_id = ? GROUP BY status').all(sweepId) as { status: string; c: number }[];
      const by = Object.fromEntries(rows.map((r) => [r.status, r.c]));
      const trials = (this.db.prepare(`SELECT coalesce(sum(json_array_length(lambdas)), 0) AS c FROM tasks WHERE sweep_id = ? AND status IN ('done', 'failed')`).get(sweepId) as { c: number }).c;
      const folds = (this.db.prepare(`SELECT count(DISTINCT fold) AS c FROM tasks WHERE sweep_id = ? AND status IN ('pending', 'running')`).get(sweepId) as { c: number }).c;
      const counts = { pending: by.pending ?? 0, running: by.running ?? 0, done: by.done ?? 0, failed: by.failed ?? 0 };
      return { ...counts, total: counts.pending + counts.running + counts.done + counts.failed, trialsRecorded: trials, openFolds: folds, stale: 0 };
    });
  }

  async waitForChange(_sweepId: number, timeoutMs: number, until?: AbortSignal): Promise<void> {
    // One writer: nothing changes the tasks but this process; a claim whose lease ran out is all there is to wait for.
    if (until?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        until?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      until?.addEventListener('abort', done, { once: true });
    });
  }

  async finishSweep(sweepId: number, summarize: (trials: Trial[], sweep: Sweep) => SweepSummary): Promise<boolean> {
    return this.write('record the summary', () =>
      this.db.transaction(() => {
        const sweep = this.sweepById(sweepId);
        const open = (this.db.prepare(`SELECT count(*) AS c FROM tasks WHERE sweep_id = ? AND status IN ('pending', 'running')`).get(sweepId) as { c: number }).c;
        if (open > 0 || (sweep.status === 'done' && sweep.finishedAt)) return false;
        const trials = this.readTrials('sweep_id = ?', [sweepId]);
        const { points, selections, notes } = summarize(trials, sweep);
        const insertSummary = this.db.prepare(
          `INSERT INTO summary (sweep_id, penalty, l1_ratio, settings, lambda, metric, folds, mean, se, train_mean, nnz_all)
           VALUES (@sweepId, @penalty, @l1Ratio, @settings, @lambda, @metric, @folds, @mean, @se, @trainMean, @nnzAll)`,
        );
        const insertSelection = this.db.prepare(
          `INSERT INTO selections (sweep_id, penalty, l1_ratio, settings, metric, lambda_min, lambda_1se, mean_min, se_min, mean_1se, nnz_min, nnz_1se, edge)
           VALUES (@sweepId, @penalty, @l1Ratio, @settings, @metric, @lambdaMin, @lambda1se, @meanMin, @seMin, @mean1se, @nnzMin, @nnz1se, @edge)`,
        );
        this.db.prepare('DELETE FROM summary WHERE sweep_id = ?').run(sweepId);
        this.db.prepare('DELETE FROM selections WHERE sweep_id = ?').run(sweepId);
        for (const p of points) insertSummary.run({ sweepId, ...p });
        for (const s of selections) insertSelection.run({ sweepId, ...s });
        this.db
          .prepare(`UPDATE sweeps SET status = 'done', finished_at = ?, run_notes = ?, writer_pid = NULL, writer_host = NULL, writer_started = NULL WHERE id = ?`)
          .run(new Date().toISOString(), JSON.stringify(notes), sweepId);
        return true;
      })(),
    );
  }

  async ensureIntact(): Promise<void> {
    const now = fileIdentity(this.path);
    if (!this.identity) return;
    // A reader trusts its cached pages while the WAL index says nothing changed: a file overwritten in place (cp) would
    // be read as it was. Without them, the next read sees the file as it is now.
    if (!this.writable) this.db.pragma('shrink_memory');
    if (!now)
      throw new OutsideError(
        this.writable ? `${this.location}: the database file was deleted while the sweep ran; the results are lost (run the sweep again)` : `${this.location}: the database file was deleted after it was opened`,
      );
    if (now.dev !== this.identity.dev || now.ino !== this.identity.ino)
      throw new OutsideError(
        this.writable
          ? `${this.location}: the database file was replaced by another file while the sweep ran; the results went to the old one`
          : `${this.location}: the database file was replaced by another file after it was opened`,
      );
  }

  async trials(sweepId: number, filter: TrialFilter = {}): Promise<Trial[]> {
    const { where, params } = trialWhere(sweepId, filter);
    return this.read(() => this.readTrials(where, params));
  }

  /** Rows as arrays (better-sqlite3's own row objects are slower to build), in the contract's order. */
  private readTrials(where: string, params: unknown[]): Trial[] {
    const statement = this.db.prepare(`SELECT * FROM trials WHERE ${where} ORDER BY penalty, l1_ratio, settings, lambda DESC, fold`).raw();
    return (statement.all(...params) as unknown[][]).map(trialReader(statement.columns().map((c) => c.name)));
  }

  /** One writer records tasks one after another: ids follow commit order, and the cursor is the last id read. */
  async newTrials(sweepId: number, cursor: string | undefined): Promise<{ trials: Trial[]; cursor: string }> {
    const after = cursor === undefined ? 0 : Number(cursor);
    const trials = this.read(() => this.readTrials('sweep_id = ? AND id > ?', [sweepId, after]));
    return { trials, cursor: String(trials.reduce((m, t) => Math.max(m, t.id), after)) };
  }

  async trialTally(sweepId: number): Promise<TrialTally> {
    return this.read(() => {
      const r = this.db
        .prepare(
          `SELECT count(*) AS total, coalesce(sum(status = 'diverged'), 0) AS diverged, coalesce(sum(status = 'failed'), 0) AS failed, coalesce(sum(status = 'pruned'), 0) AS pruned,
             (SELECT error FROM trials WHERE sweep_id = @id AND status = 'failed' LIMIT 1) AS first_error,
             (SELECT min(json_extract(metrics, '$.diverged_epoch')) FROM trials WHERE sweep_id = @id AND status = 'diverged') AS first_epoch
           FROM trials WHERE sweep_id = @id`,
        )
        .get({ id: sweepId }) as Record<string, number | string | null>;
      return tallyFromRow(r);
    });
  }

  async trialCount(sweepId: number): Promise<number> {
    return (this.read(() => this.db.prepare('SELECT count(*) AS c FROM trials WHERE sweep_id = ?').get(sweepId)) as { c: number }).c;
  }

  async lastTrialId(sweepId: number): Promise<number> {
    return (this.read(() => this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM trials WHERE sweep_id = ?').get(sweepId)) as { id: number }).id;
  }

  async runningAndFailedTasks(sweepId: number): Promise<TaskState[]> {
    const rows = this.read(() =>
      this.db
        .prepare(`SELECT task_id, penalty, l1_ratio, settings, fold, status, owner, attempt, error FROM tasks WHERE sweep_id = ? AND status IN ('running', 'failed') ORDER BY position`)
        .all(sweepId),
    ) as Record<string, unknown>[];
    return rows.map(taskStateFromRow);
  }

  async coefficients(sweepId: number, filter: TrialFilter = {}): Promise<TrialCoefficients[]> {
    const { where, params } = trialWhere(sweepId, filter, 't.');
    return this.read(() =>
      (
        this.db
          .prepare(
            `SELECT t.id, t.penalty, t.lambda, t.l1_ratio, t.settings, t.fold, c.intercept, c.coef, c.baseline FROM trials t JOIN coefficients c ON c.trial_id = t.id
             WHERE ${where} ORDER BY t.penalty, t.l1_ratio, t.settings, t.lambda DESC, t.fold`,
          )
          .all(...params) as { id: number; penalty: Penalty; lambda: number; l1_ratio: number; settings: string; fold: string; intercept: string; coef: Buffer; baseline: Buffer | null }[]
      ).map((r) => ({
      trialId: r.id,
      penalty: r.penalty,
      lambda: r.lambda,
      l1Ratio: r.l1_ratio,
      settings: r.settings,
      fold: r.fold,
      intercept: JSON.parse(r.intercept) as number[],
      coefs: coefficientsOf(r.coef),
      ...(r.baseline ? { baseline: baselineOf(r.baseline) } : {}),
    })),
    );
  }

  async predictions(sweepId: number, filter: TrialFilter = {}): Promise<TrialPredictions[]> {
    const { where, params } = trialWhere(sweepId, filter, 't.');
    return this.read(() => {
      if (!this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'predictions'`).get()) return [];
      const rows = this.db
        .prepare(
          `SELECT t.id, t.task_id, t.penalty, t.lambda, t.l1_ratio, t.settings, t.fold, p.link, p.rows, p.observed FROM trials t JOIN predictions p ON p.trial_id = t.id
           WHERE ${where} ORDER BY t.task_id, t.id`,
        )
        .all(...params) as Record<string, unknown>[];
      return rows.map(predictionsFromRow);
    });
  }

  async epochs(sweepId: number): Promise<TrialEpoch[]> {
    const rows = this.read(() =>
      this.db
        .prepare(
          `SELECT t.id, t.penalty, t.lambda, t.l1_ratio, t.settings, t.fold, e.epoch, e.train_loss, e.val_loss FROM epochs e JOIN trials t ON t.id = e.trial_id
           WHERE t.sweep_id = ? ORDER BY t.id, e.epoch`,
        )
        .all(sweepId),
    ) as Record<string, number | string | null>[];
    return rows.map((r) => ({
      trialId: r.id as number,
      penalty: r.penalty as Penalty,
      lambda: r.lambda as number,
      l1Ratio: r.l1_ratio as number,
      settings: r.settings as string,
      fold: r.fold as string,
      epoch: r.epoch as number,
      trainLoss: r.train_loss as number | null,
      valLoss: r.val_loss as number | null,
    }));
  }

  async summary(sweepId: number): Promise<CvPoint[]> {
    const rows = this.read(() => this.db.prepare('SELECT * FROM summary WHERE sweep_id = ? ORDER BY penalty, l1_ratio, settings, lambda DESC').all(sweepId)) as Record<string, unknown>[];
    return rows.map((r) => ({
      penalty: r.penalty as Penalty,
      l1Ratio: r.l1_ratio as number,
      settings: r.settings as string,
      lambda: r.lambda as number,
      metric: r.metric as string,
      folds: r.folds as number,
      mean: r.mean as number,
      se: r.se as number,
      trainMean: r.train_mean as number | null,
      nnzAll: r.nnz_all as number | null,
    }));
  }

  async selections(sweepId: number): Promise<Selection[]> {
    const rows = this.read(() => this.db.prepare('SELECT * FROM selections WHERE sweep_id = ? ORDER BY penalty, l1_ratio, settings').all(sweepId)) as Record<string, unknown>[];
    return rows.map((r) => ({
      penalty: r.penalty as Penalty,
      l1Ratio: r.l1_ratio as number,
      settings: r.settings as string,
      metric: r.metric as string,
      lambdaMin: r.lambda_min as number,
      lambda1se: r.lambda_1se as number,
      meanMin: r.mean_min as number,
      seMin: r.se_min as number,
      mean1se: r.mean_1se as number,
      nnzMin: r.nnz_min as number | null,
      nnz1se: r.nnz_1se as number | null,
      edge: r.edge as Selection['edge'],
    }));
  }

  /**
   * Runs in a child process that opens the file read-only, so a statement that never ends (a recursive CTE without a
   * bound) is stopped by ending the process: SQLite's own interrupt is not reachable from here.
   */
  async readOnlyQuery(sql: string, { timeoutMs }: ReadOnlyQueryOptions): Promise<Record<string, unknown>[]> {
    const child = fork(builtFile(join('src', 'store', 'sqlite', 'queryProcess.js')), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new UserError(`--sql: stopped after ${timeoutMs / 1000} s (--timeout); the statement may not end (a recursive query without a bound?)`));
      }, timeoutMs);
      child.once('message', (m: { rows?: Record<string, unknown>[]; error?: string; user?: boolean }) => {
        clearTimeout(timer);
        child.kill();
        if (m.rows) resolve(m.rows);
        else reject(m.user ? new UserError(m.error!) : new Error(m.error));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the query process ended (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
      });
      child.send({ path: this.path, sql });
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Runs fn, retrying while another process holds the lock, until `timeoutMs`; then fails with that cause. */
async function retryBusy<T>(path: string, timeoutMs: number, fn: () => T, doing = 'open the database'): Promise<T> {
  const started = Date.now();
  let wait = 50;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      const waited = Date.now() - started;
      if (!isBusy(e)) throw sqliteError(path, e, doing);
      if (waited >= timeoutMs)
        throw new OutsideError(`${path}: the database is locked by another process (waited ${Math.round(waited / 1000)} s); finished work is kept, run again to resume`);
      await sleep(Math.min(wait, timeoutMs - waited));
      wait = Math.min(wait * 2, 1000);
    }
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

function writerOf(r: Record<string, unknown>) {
  return r.writer_pid === null || r.writer_pid === undefined ? undefined : { pid: r.writer_pid as number, host: r.writer_host as string, started: (r.writer_started as string | null) ?? null };
}

function toSweep(r: Record<string, unknown>): Sweep {
  const writer = writerOf(r);
  // A sweep left "running" by a process that is gone (killed, crashed) was interrupted.
  const status = r.status === 'running' && writer && !isAlive(writer) ? 'interrupted' : (r.status as SweepStatus);
  return {
    id: r.id as number,
    name: r.name as string,
    configJson: r.config_json as string,
    configHash: r.config_hash as string,
    dataHash: r.data_hash as string,
    status,
    createdAt: r.created_at as string,
    finishedAt: r.finished_at as string | null,
    n: r.n as number,
    p: r.p as number,
    modelKind: r.model as string,
    featureNames: JSON.parse(r.feature_names as string),
    targetNames: JSON.parse(r.target_names as string),
    classes: r.classes ? JSON.parse(r.classes as string) : null,
    encoding: r.encoding ? JSON.parse(r.encoding as string) : null,
    featureScales: r.feature_scales ? JSON.parse(r.feature_scales as string) : null,
    totalTasks: r.total_tasks as number,
    totalTrials: r.total_trials as number,
    notes: [...JSON.parse((r.notes as string | undefined) ?? '[]'), ...JSON.parse((r.run_notes as string | undefined) ?? '[]')],
    runNotes: JSON.parse((r.run_notes as string | undefined) ?? '[]'),
    writer: writer ? `${writer.pid}@${writer.host}` : null,
  };
}

/**
 * A reader of trials rows given as arrays of values in the order of `columns` (0/1 for booleans, NULL for a NaN norm,
 * metrics as text). Arrays, not row objects: a live page reads every trial of a sweep.
 */
function trialReader(columns: string[]): (values: unknown[]) => Trial {
  const at = (name: string) => {
    const k = columns.indexOf(name);
    if (k < 0) throw new Error(`a trials row without the column ${name}`);
    return k;
  };
  const [id, sweepId, taskId, penalty, lambda, l1Ratio, settings, fold, status, converged, error, trainLoss, valLoss, nTrain, nVal, nnz, zeroFraction, nearZeroFraction, l1Norm, l2Norm, passes, epochsRun, seconds, metrics] = [
    'id', 'sweep_id', 'task_id', 'penalty', 'lambda', 'l1_ratio', 'settings', 'fold', 'status', 'converged', 'error', 'train_loss', 'val_loss', 'n_train', 'n_val', 'nnz',
    'zero_fraction', 'near_zero_fraction', 'l1_norm', 'l2_norm', 'passes', 'epochs_run', 'seconds', 'metrics',
  ].map(at);
  return (v) => {
    return {
      id: Number(v[id]),
      sweepId: Number(v[sweepId]),
      taskId: v[taskId] as string,
      penalty: v[penalty] as Penalty,
      lambda: v[lambda] as number,
      l1Ratio: v[l1Ratio] as number,
      settings: (v[settings] as string | undefined) ?? '',
      fold: v[fold] as string,
      status: v[status] as Trial['status'],
      converged: v[converged] === 1,
      error: v[error] as string | null,
      trainLoss: v[trainLoss] as number | null,
      valLoss: v[valLoss] as number | null,
      nTrain: v[nTrain] as number,
      nVal: v[nVal] as number,
      nnz: v[nnz] as number,
      zeroFraction: v[zeroFraction] as number,
      nearZeroFraction: v[nearZeroFraction] as number,
      l1Norm: (v[l1Norm] as number | null) ?? NaN,
      l2Norm: (v[l2Norm] as number | null) ?? NaN,
      passes: v[passes] as number,
      epochsRun: v[epochsRun] as number,
      seconds: v[seconds] as number,
      metrics: metricsFromText(v[metrics] as string),
    };
  };
}
