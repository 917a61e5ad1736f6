// PostgreSQL: the results store and the work queue of a sweep that many machines share. Tasks are rows made with the
// sweep; a claim takes them with FOR UPDATE SKIP LOCKED and a lease on the server's clock; a result is recorded only
// under the claim's attempt (fencing); the data travel in the database.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { nodePostgres } from './driver.js';
import type { CvPoint, Encoding, NewSweep, Penalty, Selection, Sweep, SweepStatus, Task, TaskOutcome, Trial, TrialCoefficients, TrialEpoch, TrialPredictions, TrialTally } from '../../domain.js';
import { storedDesignLength, valuesChecksum } from '../../data/stored.js';
import { EmptyStoreError, OutsideError, UserError, errorCode } from '../../errors.js';
import { rowCount } from '../../util/coefficientRows.js';
import { baselineBytes, baselineOf, bytesOf, coefficientBytes, coefficientsOf, pickSweep, metricsFromText, predictionsOf, processFromRow, storableFigures, tallyFromRow, taskStateFromRow } from '../common.js';
import {
  failedTrials,
  type Claim,
  type ClaimOptions,
  type Completion,
  type CompletionVerdict,
  type ProcessReport,
  type ProcessState,
  type ReadOnlyQueryOptions,
  type Store,
  type StoredDataset,
  type StoredFolds,
  type SweepSelector,
  type SweepSummary,
  type TaskCounts,
  type TaskState,
  type TrialFilter,
} from '../contract.js';
import { foldRank, inClaimOrder, toTaskRow } from '../taskOrder.js';
import { behindTransactionPooler, connectionConfig, contended, isConnectionError, isContention, lostConnection, makePool, maskedLocation, openingError } from './connection.js';
import { BinaryRowReader, BinaryRows, copyChunksIn, copyChunksOut, copyRowsIn, copyRowsOut, literal } from './copy.js';
import { ADDITIONS, SCHEMA, SCHEMA_VERSION } from './schema.js';

/** How long an operation waits for a lost connection to come back before it gives up (--reconnect-timeout for run and worker). */
export const DEFAULT_RECONNECT_MS = 120_000;
/** Bounds of every transaction (SET LOCAL: nothing is left on a session a pooler may hand to another client). */
const LOCK_TIMEOUT = '5s';
const STATEMENT_TIMEOUT = '10min';
const IDLE_TIMEOUT = '20s';
const BEGIN_BOUNDED = `BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'; SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'; SET LOCAL idle_in_transaction_session_timeout = '${IDLE_TIMEOUT}'`;
/** Bytes per stored data chunk. */
const CHUNK_BYTES = 16 * 2 ** 20;
const CHANNEL = 'regsweep';

/** Waits ms, or until `stopped` settles (a store's one listener on its abort signal: many waits, one listener). */
const sleep = (ms: number, stopped?: Promise<void>) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void stopped?.then(() => (clearTimeout(timer), resolve()));
  });
/** A promise that settles when the signal is aborted (never without one). */
const abortedBy = (signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
type Query = pg.Pool | pg.PoolClient;

export class PostgresStore implements Store {
  readonly location: string;
  readonly shared = true;
  /** Set once the process waits for notifications: LISTEN is on its connection from then on. */
  private listening: Promise<void> | undefined;
  private listensOnConnect = false;
  private readonly listeningOn = new WeakSet<pg.ClientBase>();
  private readonly waiters = new Map<number, Set<() => void>>();

  private constructor(
    url: string,
    private readonly pool: pg.Pool,
    private readonly signal: AbortSignal | undefined,
    readonly reconnectMs: number,
  ) {
    this.location = maskedLocation(url);
    this.polling = behindTransactionPooler(url);
    this.stopped = abortedBy(signal);
  }
  /** Settles when the user stops the command: every wait for the server ends then. */
  private readonly stopped: Promise<void>;
  /** Waits by polling instead of LISTEN (behind PgBouncer in transaction mode). */
  private readonly polling: boolean;

  /** Connects and checks the database: regsweep's schema, or an empty database (given the schema when writable). */
  static async open(url: string, mode: 'read' | 'write', { mustExist = false, signal, reconnectMs = DEFAULT_RECONNECT_MS }: { mustExist?: boolean; signal?: AbortSignal; reconnectMs?: number } = {}): Promise<PostgresStore> {
    const location = maskedLocation(url);
    const config = connectionConfig(url);
    const pool = makePool(config);
    const store = new PostgresStore(url, pool, signal, reconnectMs);
    const started = Date.now();
    for (;;) {
      try {
        await store.checkSchema(mode, mustExist);
        return store;
      } catch (e) {
        // A server that is starting up (a restart, a pod coming up) is waited for, as a lost connection is.
        if (errorCode(e) === '57P03' && Date.now() - started < store.reconnectMs && !signal?.aborted) {
          await sleep(500, abortedBy(signal));
          continue;
        }
        await pool.end().catch(() => undefined);
        throw e instanceof UserError ? e : openingError(location, e, config);
      }
    }
  }

  private async checkSchema(mode: 'read' | 'write', mustExist: boolean): Promise<void> {
    const client = await this.pool.connect();
    try {
      // A writer looks and makes under one lock: two processes starting on an empty database at once make the tables
      // once, and neither sees the other's half-made schema.
      if (mode === 'write') {
        await client.query('BEGIN');
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('regsweep schema'))`);
      }
      const hasSchema = (await client.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'regsweep' AND table_name = 'meta'`)).rowCount! > 0;
      if (hasSchema) {
        const version = Number((await client.query(`SELECT value FROM regsweep.meta WHERE key = 'schema_version'`)).rows[0]?.value ?? 0);
        if (version > SCHEMA_VERSION) throw new UserError(`${this.location}: made by a newer regsweep (schema ${version}; this one reads up to ${SCHEMA_VERSION}); upgrade regsweep`);
        if (mode === 'write') {
          // Run once per version of them: every worker of a fleet opens the store for writing.
          const made = (await client.query(`SELECT value FROM regsweep.meta WHERE key = 'additions'`)).rows[0]?.value;
          if (made !== ADDITIONS_HASH) await makeAdditions(client);
          await client.query('COMMIT');
        }
        return;
      }
      // Tables of others; an extension's own (pg_stat_statements' views, PostGIS's spatial_ref_sys) do not count.
      const others = (
        await client.query(
          `SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
           ORDER BY 1 LIMIT 6`,
        )
      ).rows.map((r) => r.t as string);
      if (others.length > 0) throw new UserError(`${this.location}: not a regsweep database (it has tables: ${others.join(', ')}); give an empty database (createdb regsweep)`);
      if (mode === 'read' || mustExist) throw new EmptyStoreError(`${this.location}: the database holds no sweep yet (run one: regsweep run <config> --store ${this.location})`);
      await client.query(SCHEMA);
      await makeAdditions(client);
      await client.query(`INSERT INTO regsweep.meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING`, [String(SCHEMA_VERSION)]);
      await client.query('COMMIT');
    } catch (e) {
      if (mode === 'write') await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Runs an operation, waiting (with jittered backoff) for a lost connection or a held lock; gives up after reconnectMs. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    let wait = 200;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!isConnectionError(e) && !isContention(e)) throw e;
        const waited = Date.now() - started;
        if (waited > this.reconnectMs || this.signal?.aborted) throw isContention(e) ? contended(this.location, e, waited) : lostConnection(this.location, e, waited);
        // Jittered, so that a fleet that lost the server at once does not come back at once.
        await sleep(wait * (0.5 + Math.random()), this.stopped);
        wait = Math.min(wait * 2, 5000);
      }
    }
  }

  /**
   * One transaction on one client, bounded: a lock waited for longer than LOCK_TIMEOUT, a statement longer than
   * STATEMENT_TIMEOUT or a transaction left idle (its process paused) longer than IDLE_TIMEOUT ends on the server. It is
   * retried whole after a lost connection or a lock timeout (every write here is fenced or idempotent).
   */
  private transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.pool.connect();
      try {
        await client.query(BEGIN_BOUNDED);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    });
  }

  private query(text: string, values: unknown[] = [], on: Query = this.pool) {
    return this.retrying(() => on.query(text, values));
  }

  /** One statement that writes, in a bounded transaction of its own. */
  private write(text: string, values: unknown[] = []) {
    return this.transaction((c) => c.query(text, values));
  }

  async listSweeps(): Promise<Sweep[]> {
    return (await this.query(`${SWEEP_SELECT} ORDER BY s.id`)).rows.map(toSweep);
  }

  async latestSweep(name: string): Promise<Sweep | undefined> {
    const row = (await this.query(`${SWEEP_SELECT} WHERE s.name = $1 ORDER BY s.id DESC LIMIT 1`, [name])).rows[0];
    return row ? toSweep(row) : undefined;
  }

  async findSweep(selector: SweepSelector = {}): Promise<Sweep> {
    return pickSweep(this.location, await this.listSweeps(), selector);
  }

  private async sweepById(id: number, on: Query = this.pool): Promise<Sweep> {
    return toSweep((await this.query(`${SWEEP_SELECT} WHERE s.id = $1`, [id], on)).rows[0]);
  }

  async createSweep(s: NewSweep, tasks: Task[], dataset?: StoredDataset, folds?: StoredFolds, ifLatest?: number | null): Promise<{ sweep: Sweep; created: boolean }> {
    if (dataset) await this.saveDataset(dataset);
    const made = await this.transaction(async (c) => {
      if (ifLatest !== undefined) {
        // Runs of one name make their sweep one at a time; a run that finds a newer sweep than it saw joins that one.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('regsweep sweep'), hashtext($1))`, [s.name]);
        const latest = (await c.query('SELECT max(id) AS id FROM regsweep.sweeps WHERE name = $1', [s.name])).rows[0].id;
        if ((latest === null ? null : Number(latest)) !== ifLatest) return { id: Number(latest), created: false };
      }
      const row = await c.query(
        `INSERT INTO regsweep.sweeps (name, config_json, config_hash, data_hash, status, n, p, model, feature_names, target_names, classes, total_tasks, total_trials, notes, encoding, feature_scales)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
        [s.name, s.configJson, s.configHash, s.dataHash, s.n, s.p, s.modelKind, JSON.stringify(s.featureNames), JSON.stringify(s.targetNames), s.classes ? JSON.stringify(s.classes) : null, s.totalTasks, s.totalTrials, JSON.stringify(s.notes), s.encoding ? JSON.stringify(s.encoding) : null, s.featureScales ? JSON.stringify(s.featureScales) : null],
      );
      const sweepId = Number(row.rows[0].id);
      await insertTasks(c, sweepId, tasks);
      if (folds)
        await c.query('INSERT INTO regsweep.fold_assignments (sweep_id, per_repeat, repeats, labels, folds) VALUES ($1, $2, $3, $4, $5)', [
          sweepId,
          folds.perRepeat,
          folds.repeats,
          folds.labels ? JSON.stringify(folds.labels) : null,
          Buffer.from(folds.foldOf.buffer, folds.foldOf.byteOffset, folds.foldOf.byteLength),
        ]);
      return { id: sweepId, created: true };
    });
    return { sweep: await this.sweepById(made.id), created: made.created };
  }

  async folds(sweepId: number): Promise<StoredFolds | undefined> {
    const row = (await this.query('SELECT * FROM regsweep.fold_assignments WHERE sweep_id = $1', [sweepId]).catch((e: unknown) => {
      // A database made before folds were kept, opened for reading: no table yet.
      if ((e as { code?: string }).code === '42P01') return { rows: [] };
      throw e;
    })).rows[0];
    if (!row) return undefined;
    const bytes = new Uint8Array(row.folds as Buffer);
    return { foldOf: new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4).slice(), perRepeat: row.per_repeat, repeats: row.repeats, labels: row.labels ?? null };
  }

  /** The dataset once per hash, in chunks: X then y as little-endian float64. */
  private async saveDataset(d: StoredDataset): Promise<void> {
    const parts = [d.X, d.y, ...(d.offset ? [d.offset] : []), ...(d.weights ? [d.weights] : [])];
    const bytes = Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
    const count = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    await this.transaction(async (c) => {
      const inserted = await c.query(
        `INSERT INTO regsweep.datasets (hash, n, p, outputs, feature_names, target_names, classes, chunks, has_offset, has_weights, values_sha256, nnz) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (hash) DO NOTHING`,
        [d.hash, d.n, d.p, d.outputs, JSON.stringify(d.featureNames), JSON.stringify(d.targetNames), d.classes ? JSON.stringify(d.classes) : null, count, d.offset !== null, d.weights !== null, valuesChecksum(parts), d.nnz],
      );
      if (inserted.rowCount === 0) return;
      await copyChunksIn(c, d.hash, Array.from({ length: count }, (_, k) => bytes.subarray(k * CHUNK_BYTES, (k + 1) * CHUNK_BYTES)));
    });
  }

  async loadDataset(hash: string): Promise<StoredDataset | undefined> {
    const head = (await this.query('SELECT * FROM regsweep.datasets WHERE hash = $1', [hash])).rows[0];
    if (!head) return undefined;
    const nnz = head.nnz === null || head.nnz === undefined ? null : Number(head.nnz);
    const xLength = storedDesignLength(head.n, head.p, nnz);
    const offsetLength = head.has_offset ? head.n : 0;
    const weightsLength = head.has_weights ? head.n : 0;
    const total = 8 * (xLength + head.n * head.outputs + offsetLength + weightsLength);
    const bytes = await this.retrying(async () => {
      const client = await this.pool.connect();
      try {
        return await copyChunksOut(client, hash, total);
      } finally {
        client.release();
      }
    });
    const values = new Float64Array(bytes.buffer, bytes.byteOffset, total / 8);
    if (head.values_sha256 && valuesChecksum([values]) !== head.values_sha256)
      throw new OutsideError(`${this.location}: the stored data of ${hash.slice(0, 12)}… do not match their checksum (changed in the database); run the sweep again from its data file`);
    return {
      hash,
      n: head.n,
      p: head.p,
      outputs: head.outputs,
      featureNames: head.feature_names,
      targetNames: head.target_names,
      classes: head.classes ?? null,
      nnz,
      X: values.subarray(0, xLength),
      y: values.subarray(xLength, xLength + head.n * head.outputs),
      offset: offsetLength ? values.subarray(xLength + head.n * head.outputs, xLength + head.n * head.outputs + offsetLength) : null,
      weights: weightsLength ? values.subarray(xLength + head.n * head.outputs + offsetLength) : null,
    };
  }

  async addTasks(sweepId: number, tasks: Task[]): Promise<void> {
    await this.transaction(async (c) => {
      await insertTasks(c, sweepId, tasks);
      await c.query(
        `UPDATE regsweep.sweeps SET total_tasks = greatest(total_tasks, (SELECT count(*) FROM regsweep.tasks WHERE sweep_id = $1)),
           total_trials = greatest(total_trials, (SELECT coalesce(sum(n_lambdas), 0) FROM regsweep.tasks WHERE sweep_id = $1)) WHERE id = $1`,
        [sweepId],
      );
    });
  }

  async reopenSweep(sweepId: number): Promise<void> {
    await this.write(`UPDATE regsweep.sweeps SET status = 'running', finished_at = NULL WHERE id = $1`, [sweepId]);
  }

  async beginWriting(sweepId: number): Promise<void> {
    // Many processes may work on a sweep here; their leases, not a single writer, keep them apart.
    await this.write(`UPDATE regsweep.sweeps SET status = 'running', finished_at = NULL WHERE id = $1 AND status <> 'running'`, [sweepId]);
  }

  async setSweepStatus(sweepId: number, status: SweepStatus): Promise<void> {
    await this.write(`UPDATE regsweep.sweeps SET status = $1, finished_at = CASE WHEN $1 = 'done' THEN now() ELSE NULL END WHERE id = $2`, [status, sweepId]);
  }

  async setNotes(sweepId: number, notes: string[]): Promise<void> {
    await this.write('UPDATE regsweep.sweeps SET notes = $1 WHERE id = $2', [JSON.stringify(notes), sweepId]);
  }

  async claimBatches(sweepId: number, { owner, leaseMs, bundleFolds, batches }: ClaimOptions): Promise<Claim[][]> {
    const claimable = `sweep_id = $1 AND (status = 'pending' OR (status = 'running' AND lease_until < now()))`;
    const claim = (c: Query, fold: string | null, limit: number) =>
      c.query(
        `WITH picked AS (SELECT task_id, status AS was FROM regsweep.tasks WHERE ${claimable} AND ($4::text IS NULL OR fold = $4)
                         ORDER BY fold_rank, n_lambdas DESC, position LIMIT $5 FOR UPDATE SKIP LOCKED)
         UPDATE regsweep.tasks t SET status = 'running', owner = $2, lease_until = now() + $3 * interval '1 millisecond', lease_ms = $3, attempt = t.attempt + 1
         FROM picked WHERE t.sweep_id = $1 AND t.task_id = picked.task_id
         RETURNING t.task_id, t.position, t.penalty, t.l1_ratio, t.settings, t.fold, t.attempt, t.warm_from, array_to_json(t.lambdas)::text AS lambdas, picked.was`,
        [sweepId, owner, leaseMs, fold, limit],
      );
    // A task that was running when claimed had a lease that ran out: a takeover.
    const takenOver = new Set<string>();
    const rowsOf = (rows: Record<string, unknown>[]) => {
      for (const r of rows) if (r.was === 'running') takenOver.add(r.task_id as string);
      return rows.map(toTaskRow);
    };
    const asClaims = (batch: ReturnType<typeof toTaskRow>[]) => batch.map((r) => ({ task: r.task, attempt: r.attempt, owner, takenOver: takenOver.has(r.task.id) }));
    if (!bundleFolds) {
      const rows = (await this.transaction((c) => claim(c, null, Number.isFinite(batches) ? batches : 1_000_000))).rows;
      return inClaimOrder(rowsOf(rows), false).map(asClaims);
    }
    // A fold's tasks as one batch, so its Gram columns are computed once: a fold is taken by one process at a time
    // (an advisory lock for the claim's transaction), the next claimer goes to the next fold.
    const folds = (await this.query(`SELECT fold FROM regsweep.tasks WHERE ${claimable} GROUP BY fold, fold_rank ORDER BY fold_rank`, [sweepId])).rows.map((r) => r.fold as string);
    const out: Claim[][] = [];
    for (const fold of folds) {
      if (out.length >= batches) break;
      const rows = await this.transaction(async (c) => {
        const locked = (await c.query('SELECT pg_try_advisory_xact_lock($1::int, hashtext($2)) AS ok', [sweepId, fold])).rows[0].ok as boolean;
        return locked ? (await claim(c, fold, 1_000_000)).rows : [];
      });
      if (rows.length) out.push(asClaims(inClaimOrder(rowsOf(rows), true)[0]));
    }
    return out;
  }

  async renewLeases(sweepId: number, owner: string, claims: Claim[], leaseMs: number): Promise<Claim[]> {
    if (claims.length === 0) return [];
    const held = await this.write(
      `UPDATE regsweep.tasks SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE sweep_id = $1 AND owner = $2 AND status = 'running' AND (task_id, attempt) IN (SELECT * FROM unnest($4::text[], $5::int[]))
       RETURNING task_id`,
      [sweepId, owner, leaseMs, claims.map((c) => c.task.id), claims.map((c) => c.attempt)],
    );
    const kept = new Set(held.rows.map((r) => r.task_id as string));
    return claims.filter((c) => !kept.has(c.task.id));
  }

  async completeTask(sweepId: number, claim: Claim, outcome: TaskOutcome, outputs: number, maxAttempts: number): Promise<CompletionVerdict> {
    return (await this.completeTasks(sweepId, [{ claim, outcome, outputs }], maxAttempts))[0];
  }

  async completeTasks(sweepId: number, completions: Completion[], maxAttempts: number): Promise<CompletionVerdict[]> {
    if (completions.length === 0) return [];
    return this.transaction(async (c) => {
      // Only the tasks' rows are locked (in one order, so two processes cannot deadlock): completions of one sweep
      // commit side by side (readers follow them by transaction, newTrials), and a claim's attempt fences a late writer.
      const ids = completions.map((x) => x.claim.task.id);
      const rows = (await c.query('SELECT task_id, status, attempt, owner, finished_at FROM regsweep.tasks WHERE sweep_id = $1 AND task_id = ANY($2::text[]) ORDER BY task_id FOR UPDATE', [sweepId, ids])).rows;
      const byId = new Map(rows.map((r) => [r.task_id as string, r]));
      const verdicts = completions.map(({ claim, outcome }): CompletionVerdict | 'record' => {
        const row = byId.get(claim.task.id);
        if (!row || row.attempt !== claim.attempt || row.owner !== claim.owner) return 'fenced';
        // A retry after a lost connection may find its own result already recorded.
        if (row.status === 'done' || row.status === 'failed') return 'recorded';
        if (row.status !== 'running') return 'fenced';
        return 'error' in outcome && claim.attempt < maxAttempts ? 'retry' : 'record';
      });
      const retries = completions.filter((_, k) => verdicts[k] === 'retry');
      if (retries.length)
        await c.query(
          `UPDATE regsweep.tasks t SET status = 'pending', owner = NULL, lease_until = NULL, error = u.error FROM unnest($2::text[], $3::text[]) AS u(task_id, error)
           WHERE t.sweep_id = $1 AND t.task_id = u.task_id`,
          [sweepId, retries.map((x) => x.claim.task.id), retries.map((x) => ('error' in x.outcome ? x.outcome.error : null))],
        );
      // Trials of a task recorded before (failed, then queued again by --retry-failed) are replaced.
      const recordedBefore = new Set(rows.filter((r) => r.finished_at !== null).map((r) => r.task_id as string));
      await recordOutcomes(c, sweepId, completions.filter((_, k) => verdicts[k] === 'record'), recordedBefore);
      if (verdicts.some((v) => v === 'retry' || v === 'record')) await c.query(`SELECT pg_notify($1, $2)`, [CHANNEL, String(sweepId)]);
      return verdicts.map((v) => (v === 'record' ? 'recorded' : v));
    });
  }


  async releaseClaims(sweepId: number, owner: string, claims: Claim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.write(
      `UPDATE regsweep.tasks SET status = 'pending', owner = NULL, lease_until = NULL
       WHERE sweep_id = $1 AND owner = $2 AND status = 'running' AND (task_id, attempt) IN (SELECT * FROM unnest($3::text[], $4::int[]))`,
      [sweepId, owner, claims.map((c) => c.task.id), claims.map((c) => c.attempt)],
    );
    await this.query(`SELECT pg_notify($1, $2)`, [CHANNEL, String(sweepId)]);
  }

  async exchangeRungReports(sweepId: number, owner: string, own: { rung: number; loss: number }[], cursor: string | undefined) {
    if (own.length)
      await this.write(`INSERT INTO regsweep.rung_reports (sweep_id, owner, rung, loss) SELECT $1, $2, u.rung, u.loss FROM unnest($3::int[], $4::float8[]) AS u(rung, loss)`, [
        sweepId, owner, own.map((r) => r.rung), own.map((r) => r.loss),
      ]);
    // As newTrials: the others' reports of transactions not finished when the cursor was taken, and every one since.
    return this.retrying(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const horizon = (await client.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x')).rows[0].x as string;
        const rows = (
          await client.query(`SELECT id, rung, loss FROM regsweep.rung_reports WHERE sweep_id = $1 AND owner <> $2${cursor ? ' AND recorded_xid >= $3::xid8' : ''}`, [
            sweepId, owner, ...(cursor ? [cursor] : []),
          ])
        ).rows;
        await client.query('COMMIT');
        return { reports: rows.map((r) => ({ id: Number(r.id), rung: Number(r.rung), loss: Number(r.loss) })), cursor: horizon };
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    });
  }

  async heartbeat(sweepId: number, r: ProcessReport): Promise<void> {
    await this.write(
      `INSERT INTO regsweep.processes (sweep_id, owner, host, pid, command, threads, lease_ms, state, tasks_done, tasks_failed, retries, fenced, leases_lost, taken_over)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (sweep_id, owner) DO UPDATE SET state = excluded.state, heartbeat_at = now(), tasks_done = excluded.tasks_done, tasks_failed = excluded.tasks_failed,
         retries = excluded.retries, fenced = excluded.fenced, leases_lost = excluded.leases_lost, taken_over = excluded.taken_over`,
      [sweepId, r.owner, r.host, r.pid, r.command, r.threads, r.leaseMs, r.state, r.tasksDone, r.tasksFailed, r.retries, r.fenced, r.leasesLost, r.takenOver],
    );
  }

  async processes(sweepId: number): Promise<ProcessState[]> {
    const rows = (
      await this.query(`SELECT *, extract(epoch FROM now() - heartbeat_at)::float8 AS silent FROM regsweep.processes WHERE sweep_id = $1 ORDER BY heartbeat_at DESC`, [sweepId]).catch((e: unknown) => {
        // A database made before processes were kept, opened for reading: no table yet.
        if (errorCode(e) === '42P01') return { rows: [] };
        throw e;
      })
    ).rows;
    return rows.map((r) => processFromRow(r, Number(r.silent)));
  }

  async requeueFailed(sweepId: number): Promise<{ failed: number; released: number }> {
    const failed = (await this.write(`UPDATE regsweep.tasks SET status = 'pending', attempt = 0, error = NULL WHERE sweep_id = $1 AND status = 'failed'`, [sweepId])).rowCount ?? 0;
    // A released claim's late result is fenced off: the next claim raises its attempt.
    const released = (await this.write(`UPDATE regsweep.tasks SET status = 'pending', owner = NULL, lease_until = NULL WHERE sweep_id = $1 AND ${STALE}`, [sweepId])).rowCount ?? 0;
    if (released) await this.query(`SELECT pg_notify($1, $2)`, [CHANNEL, String(sweepId)]);
    return { failed, released };
  }

  async taskCounts(sweepId: number): Promise<TaskCounts> {
    const row = (
      await this.query(
        `SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'running') AS running,
                count(*) FILTER (WHERE status = 'done') AS done, count(*) FILTER (WHERE status = 'failed') AS failed,
                count(DISTINCT fold) FILTER (WHERE status IN ('pending', 'running')) AS open_folds, count(*) FILTER (WHERE ${STALE}) AS stale,
                coalesce(sum(n_lambdas) FILTER (WHERE status IN ('done', 'failed')), 0) AS recorded
         FROM regsweep.tasks WHERE sweep_id = $1`,
        [sweepId],
      )
    ).rows[0];
    const counts = { pending: Number(row.pending), running: Number(row.running), done: Number(row.done), failed: Number(row.failed) };
    return { ...counts, total: counts.pending + counts.running + counts.done + counts.failed, trialsRecorded: Number(row.recorded), openFolds: Number(row.open_folds), stale: Number(row.stale) };
  }

  /** Resolves on a NOTIFY for the sweep (a task finished or was given back), or after the timeout. */
  async waitForChange(sweepId: number, timeoutMs: number, until?: AbortSignal): Promise<void> {
    // Behind a transaction pooler a LISTEN would be on a connection that serves others next: poll, jittered.
    if (!this.polling) await this.listen().catch(() => undefined);
    if (until?.aborted) return;
    await new Promise<void>((resolve) => {
      const waiters = this.waiters.get(sweepId) ?? new Set();
      this.waiters.set(sweepId, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        until?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.polling ? timeoutMs * (0.5 + Math.random() / 2) : timeoutMs);
      waiters.add(done);
      until?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * LISTEN on the process's one connection, and on each one the pool makes after it (the server went away and came
   * back): notifications arrive between its transactions, and no second connection is held for them.
   */
  private listen(): Promise<void> {
    const listenOn = (client: pg.ClientBase) => {
      if (this.listeningOn.has(client)) return;
      this.listeningOn.add(client);
      client.on('notification', (m) => {
        for (const wake of this.waiters.get(Number(m.payload)) ?? []) wake();
      });
    };
    if (!this.listensOnConnect) {
      this.listensOnConnect = true;
      // Queued on a new client before any query of the pool's (pg-pool's way to set up a connection).
      this.pool.on('connect', (client) => {
        listenOn(client);
        client.query(`LISTEN ${CHANNEL}`).catch(() => undefined);
      });
    }
    // Then the connection the pool holds now (tried again on the next wait if the server is away).
    this.listening ??= (async () => {
      const client = await this.pool.connect();
      try {
        listenOn(client);
        await client.query(`LISTEN ${CHANNEL}`);
      } finally {
        client.release();
      }
    })().catch((e: unknown) => {
      this.listening = undefined;
      throw e;
    });
    return this.listening;
  }

  async finishSweep(sweepId: number, summarize: (trials: Trial[], sweep: Sweep) => SweepSummary): Promise<boolean> {
    // Looked at first without a lock: a process that ends while others still work does not queue behind the finisher.
    const open = async (c: Query) => Number((await c.query(`SELECT count(*) AS c FROM regsweep.tasks WHERE sweep_id = $1 AND status IN ('pending', 'running')`, [sweepId])).rows[0].c);
    if ((await this.query('SELECT status FROM regsweep.sweeps WHERE id = $1', [sweepId])).rows[0]?.status === 'done' || (await open(this.pool)) > 0) return false;
    return this.transaction(async (c) => {
      const status = (await c.query('SELECT status FROM regsweep.sweeps WHERE id = $1 FOR UPDATE', [sweepId])).rows[0]?.status;
      if (status === 'done' || (await open(c)) > 0) return false;
      const trials = await readCopy(c, trialsQuery(trialCondition(sweepId, {})), TRIAL_FIELDS, readTrials);
      const { points, selections, notes } = summarize(trials, await this.sweepById(sweepId, c));
      await c.query('DELETE FROM regsweep.summary WHERE sweep_id = $1', [sweepId]);
      await c.query('DELETE FROM regsweep.selections WHERE sweep_id = $1', [sweepId]);
      // Each table in one statement: a sweep of many groups has thousands of points.
      const of = <T, V>(xs: T[], f: (x: T) => V) => xs.map(f);
      await c.query(
        `INSERT INTO regsweep.summary (sweep_id, penalty, l1_ratio, lambda, metric, folds, mean, se, train_mean, nnz_all, settings)
         SELECT $1, u.* FROM unnest($2::text[], $3::float8[], $4::float8[], $5::text[], $6::int[], $7::float8[], $8::float8[], $9::float8[], $10::int[], $11::text[]) AS u`,
        [
          sweepId, of(points, (p) => p.penalty), of(points, (p) => p.l1Ratio), of(points, (p) => p.lambda), of(points, (p) => p.metric), of(points, (p) => p.folds),
          of(points, (p) => p.mean), of(points, (p) => p.se), of(points, (p) => p.trainMean), of(points, (p) => p.nnzAll), of(points, (p) => p.settings),
        ],
      );
      await c.query(
        `INSERT INTO regsweep.selections (sweep_id, penalty, l1_ratio, metric, lambda_min, lambda_1se, mean_min, se_min, mean_1se, nnz_min, nnz_1se, edge, settings)
         SELECT $1, u.* FROM unnest($2::text[], $3::float8[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::int[], $11::int[], $12::text[], $13::text[]) AS u`,
        [
          sweepId, of(selections, (x) => x.penalty), of(selections, (x) => x.l1Ratio), of(selections, (x) => x.metric), of(selections, (x) => x.lambdaMin),
          of(selections, (x) => x.lambda1se), of(selections, (x) => x.meanMin), of(selections, (x) => x.seMin), of(selections, (x) => x.mean1se),
          of(selections, (x) => x.nnzMin), of(selections, (x) => x.nnz1se), of(selections, (x) => x.edge), of(selections, (x) => x.settings),
        ],
      );
      await c.query(`UPDATE regsweep.sweeps SET status = 'done', finished_at = now(), run_notes = $2 WHERE id = $1`, [sweepId, JSON.stringify(notes)]);
      await c.query(`SELECT pg_notify($1, $2)`, [CHANNEL, String(sweepId)]);
      return true;
    });
  }


  async finishedTaskIds(sweepId: number): Promise<Set<string>> {
    return new Set((await this.query(`SELECT task_id FROM regsweep.tasks WHERE sweep_id = $1 AND status = 'done'`, [sweepId])).rows.map((r) => r.task_id as string));
  }

  async ensureIntact(): Promise<void> {
    await this.query('SELECT 1');
  }

  async trials(sweepId: number, filter: TrialFilter = {}): Promise<Trial[]> {
    return this.copyOut(trialsQuery(trialCondition(sweepId, filter)), TRIAL_FIELDS, readTrials);
  }

  /** Rows of a statement read with COPY in binary format (doubles and bytea as they are stored), on a client of the pool. */
  private copyOut<T>(query: string, columns: number, read: (rows: BinaryRowReader) => T): Promise<T> {
    return this.retrying(async () => {
      const client = await this.pool.connect();
      try {
        return await readCopy(client, query, columns, read);
      } finally {
        client.release();
      }
    });
  }

  /**
   * Trials of transactions that had not finished when the cursor was taken, and every trial recorded since: a
   * completion that commits after a later one is not missed. The cursor is the oldest transaction still running then.
   */
  async newTrials(sweepId: number, cursor: string | undefined): Promise<{ trials: Trial[]; cursor: string }> {
    return this.retrying(async () => {
      const client = await this.pool.connect();
      try {
        // One snapshot for the horizon and the rows.
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const horizon = (await client.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x')).rows[0].x as string;
        if (cursor !== undefined && !/^\d+$/.test(cursor)) throw new Error(`not a transaction id: ${cursor}`);
        const trials = await readCopy(client, trialsQuery(`${trialCondition(sweepId, {})}${cursor === undefined ? '' : ` AND recorded_xid >= '${cursor}'::xid8`}`), TRIAL_FIELDS, readTrials);
        await client.query('COMMIT');
        return { trials, cursor: horizon };
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    });
  }

  async trialTally(sweepId: number): Promise<TrialTally> {
    const { rows } = await this.query(
      `SELECT count(*) AS total, count(*) FILTER (WHERE status = 'diverged') AS diverged, count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status = 'pruned') AS pruned, min(error) FILTER (WHERE status = 'failed') AS first_error,
         min((metrics->>'diverged_epoch')::float8) FILTER (WHERE status = 'diverged') AS first_epoch
       FROM regsweep.trials WHERE sweep_id = $1`,
      [sweepId],
    );
    return tallyFromRow(rows[0]);
  }

  async trialCount(sweepId: number): Promise<number> {
    return Number((await this.query('SELECT count(*) AS c FROM regsweep.trials WHERE sweep_id = $1', [sweepId])).rows[0].c);
  }

  async lastTrialId(sweepId: number): Promise<number> {
    return Number((await this.query('SELECT coalesce(max(id), 0) AS id FROM regsweep.trials WHERE sweep_id = $1', [sweepId])).rows[0].id);
  }

  async runningAndFailedTasks(sweepId: number): Promise<TaskState[]> {
    const { rows } = await this.query(
      `SELECT task_id, penalty, l1_ratio, settings, fold, status, owner, attempt, error FROM regsweep.tasks WHERE sweep_id = $1 AND status IN ('running', 'failed') ORDER BY position`,
      [sweepId],
    );
    return rows.map(taskStateFromRow);
  }

  async coefficients(sweepId: number, filter: TrialFilter = {}): Promise<TrialCoefficients[]> {
    return this.copyOut(
      `SELECT t.id, t.penalty, t.lambda, t.l1_ratio, t.settings, t.fold, c.intercept, c.coef, c.baseline FROM regsweep.trials t JOIN regsweep.coefficients c ON c.trial_id = t.id
       WHERE ${trialCondition(sweepId, filter, 't.')} ORDER BY t.penalty, t.l1_ratio, t.settings, t.lambda DESC, t.fold`,
      9,
      (rows) => {
        const out: TrialCoefficients[] = [];
        while (rows.next()) {
          const head = { trialId: rows.int8()!, penalty: rows.text() as Penalty, lambda: rows.float8()!, l1Ratio: rows.float8()!, settings: rows.text()!, fold: rows.text()! };
          const intercept = rows.float8Array()!;
          const coefs = coefficientsOf(rows.bytea()!);
          const baseline = baselineOf(rows.bytea());
          out.push({ ...head, intercept, coefs, ...(baseline ? { baseline } : {}) });
        }
        return out;
      },
    );
  }

  async predictions(sweepId: number, filter: TrialFilter = {}): Promise<TrialPredictions[]> {
    return this.copyOut(
      `SELECT t.id, t.task_id, t.penalty, t.lambda, t.l1_ratio, t.settings, t.fold, p.link, p.rows, p.observed FROM regsweep.trials t JOIN regsweep.predictions p ON p.trial_id = t.id
       WHERE ${trialCondition(sweepId, filter, 't.')} ORDER BY t.task_id, t.id`,
      10,
      (rows) => {
        const out: TrialPredictions[] = [];
        while (rows.next()) {
          const head = { trialId: rows.int8()!, taskId: rows.text()!, penalty: rows.text() as Penalty, lambda: rows.float8()!, l1Ratio: rows.float8()!, settings: rows.text()!, fold: rows.text()! };
          out.push(predictionsOf(head, rows.bytea()!, rows.bytea(), rows.bytea()));
        }
        return out;
      },
    );
  }

  async epochs(sweepId: number): Promise<TrialEpoch[]> {
    const rows = (
      await this.query(
        `SELECT t.id, t.penalty, t.lambda, t.l1_ratio, t.settings, t.fold, e.epoch, e.train_loss, e.val_loss FROM regsweep.epochs e JOIN regsweep.trials t ON t.id = e.trial_id
         WHERE t.sweep_id = $1 ORDER BY t.id, e.epoch`,
        [sweepId],
      )
    ).rows;
    return rows.map((r) => ({ trialId: Number(r.id), penalty: r.penalty, lambda: r.lambda, l1Ratio: r.l1_ratio, settings: r.settings, fold: r.fold, epoch: r.epoch, trainLoss: r.train_loss, valLoss: r.val_loss }));
  }

  async summary(sweepId: number): Promise<CvPoint[]> {
    const rows = (await this.query('SELECT * FROM regsweep.summary WHERE sweep_id = $1 ORDER BY penalty, l1_ratio, settings, lambda DESC', [sweepId])).rows;
    return rows.map((r) => ({ penalty: r.penalty, l1Ratio: r.l1_ratio, settings: r.settings, lambda: r.lambda, metric: r.metric, folds: r.folds, mean: r.mean, se: r.se, trainMean: r.train_mean, nnzAll: r.nnz_all }));
  }

  async selections(sweepId: number): Promise<Selection[]> {
    const rows = (await this.query('SELECT * FROM regsweep.selections WHERE sweep_id = $1 ORDER BY penalty, l1_ratio, settings', [sweepId])).rows;
    return rows.map((r) => ({
      penalty: r.penalty, l1Ratio: r.l1_ratio, settings: r.settings, metric: r.metric, lambdaMin: r.lambda_min, lambda1se: r.lambda_1se, meanMin: r.mean_min, seMin: r.se_min,
      mean1se: r.mean_1se, nnzMin: r.nnz_min, nnz1se: r.nnz_1se, edge: r.edge,
    }));
  }

  /**
   * In a read-only transaction with a statement timeout; the extended query protocol takes one statement only, so a
   * "COMMIT; DELETE …" cannot leave the transaction.
   */
  async readOnlyQuery(sql: string, { timeoutMs }: ReadOnlyQueryOptions): Promise<Record<string, unknown>[]> {
    const client = await this.retrying(() => this.pool.connect());
    try {
      // The user's SQL names regsweep's tables without their schema.
      await client.query(`BEGIN READ ONLY; SET LOCAL search_path = regsweep; SET LOCAL statement_timeout = ${Math.max(1, Math.min(2 ** 31 - 1, Math.round(timeoutMs)))}`);
      const result = await client.query({ text: sql, queryMode: 'extended', types: { getTypeParser: readableTypes } } as pg.QueryConfig);
      return result.rows;
    } catch (e) {
      const code = errorCode(e);
      if (code === '25006') throw new UserError('--sql: only statements that read (SELECT ...) are allowed; the database was not changed');
      if (code === '57014') throw new UserError(`--sql: stopped after ${timeoutMs / 1000} s (--timeout); the statement may not end (a recursive query without a bound?)`);
      if (isConnectionError(e)) throw new OutsideError(`${this.location}: lost the connection to PostgreSQL while the statement ran (${(e as Error).message}); nothing was changed, run it again`);
      throw new UserError(`--sql: ${(e as Error).message}`);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  async close(): Promise<void> {
    for (const waiters of this.waiters.values()) for (const wake of waiters) wake();
    await this.pool.end().catch(() => undefined);
  }
}

/** A claimed task whose lease has run down by two renewals (renewed every third of it): its owner stopped renewing. */
const STALE = `status = 'running' AND lease_until < now() + coalesce(lease_ms, 0) / 3.0 * interval '1 millisecond'`;

/** A sweep row with its status as a reader should see it: "running" with no live lease and open tasks was interrupted. */
const SWEEP_SELECT = `SELECT s.*,
  CASE WHEN s.status = 'running'
        AND EXISTS (SELECT 1 FROM regsweep.tasks o WHERE o.sweep_id = s.id AND o.status IN ('pending', 'running'))
        AND NOT EXISTS (SELECT 1 FROM regsweep.tasks l WHERE l.sweep_id = s.id AND l.status = 'running' AND l.lease_until > now())
        AND s.created_at < now() - interval '10 seconds'
       THEN 'interrupted' ELSE s.status END AS shown_status
  FROM regsweep.sweeps s`;

const ADDITIONS_HASH = createHash('sha256').update(ADDITIONS).digest('hex');

/** The schema's additions, and a note of which (so that the next process to open the database skips them). */
async function makeAdditions(c: pg.PoolClient): Promise<void> {
  await c.query(ADDITIONS);
  await c.query(`INSERT INTO regsweep.meta (key, value) VALUES ('additions', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [ADDITIONS_HASH]);
}

async function insertTasks(c: pg.PoolClient, sweepId: number, tasks: Task[]): Promise<void> {
  if (tasks.length === 0) return;
  await c.query(
    `INSERT INTO regsweep.tasks (sweep_id, task_id, position, penalty, l1_ratio, settings, fold, fold_rank, lambdas, n_lambdas, warm_from, status)
     SELECT $1, t.id, t.position, t.penalty, t.l1_ratio, t.settings, t.fold, t.fold_rank, ARRAY(SELECT jsonb_array_elements_text(t.lambdas)::float8), jsonb_array_length(t.lambdas), t.warm_from, 'pending'
     FROM jsonb_to_recordset($2::jsonb) AS t(id text, position int, penalty text, l1_ratio float8, settings text, fold text, fold_rank int, lambdas jsonb, warm_from float8)
     ON CONFLICT (sweep_id, task_id) DO NOTHING`,
    [sweepId, JSON.stringify(tasks.map((t, k) => ({ id: t.id, position: k, penalty: t.penalty, l1_ratio: t.l1Ratio, settings: t.settings ?? '', fold: String(t.fold), fold_rank: foldRank(t.fold), lambdas: t.lambdas, warm_from: t.warmFrom ?? null })))],
  );
}

/**
 * Tasks' trials, coefficients and learning curves, and their status (inside the caller's transaction), each kind in
 * one statement whatever the number of tasks. A task recorded before (`recordedBefore`: a failure run again) is
 * replaced whole.
 */
async function recordOutcomes(c: pg.PoolClient, sweepId: number, completions: Completion[], recordedBefore: Set<string>): Promise<void> {
  if (completions.length === 0) return;
  const tasks = completions.map(({ claim, outcome, outputs }) => {
    const failure = 'error' in outcome ? outcome.error : null;
    const result = 'error' in outcome ? undefined : outcome;
    return { task: claim.task, failure, result, outputs, trials: (result ? result.trials : failedTrials(claim.task, failure!)).map(storableFigures) };
  });
  const again = tasks.filter((t) => recordedBefore.has(t.task.id)).map((t) => t.task);
  if (again.length) {
    // Found by the point index (a task is one group and fold); a trial's rows in other tables go with it (they carry
    // no foreign key that would cascade).
    const gone = (
      await c.query(
        `DELETE FROM regsweep.trials t USING unnest($2::text[], $3::text[], $4::float8[], $5::text[], $6::text[]) AS u(task_id, penalty, l1_ratio, settings, fold)
         WHERE t.sweep_id = $1 AND t.penalty = u.penalty AND t.l1_ratio = u.l1_ratio AND t.settings = u.settings AND t.fold = u.fold AND t.task_id = u.task_id RETURNING t.id`,
        [sweepId, again.map((t) => t.id), again.map((t) => t.penalty), again.map((t) => t.l1Ratio), again.map((t) => t.settings ?? ''), again.map((t) => String(t.fold))],
      )
    ).rows.map((r) => r.id as string);
    for (const table of ['coefficients', 'epochs', 'predictions']) await c.query(`DELETE FROM regsweep.${table} WHERE trial_id = ANY($1::bigint[])`, [gone]);
  }
  // Ids first (one round trip), so that the trials and their coefficients go in by COPY, not as parsed text.
  const count = tasks.reduce((s, t) => s + t.trials.length, 0);
  const ids = count ? (await c.query(`SELECT nextval('regsweep.trials_id_seq') AS id FROM generate_series(1, $1)`, [count])).rows.map((r) => Number(r.id)) : [];
  const trialRows = new BinaryRows();
  const coefficientRows = new BinaryRows();
  let coefficientCount = 0;
  const epochs: [number, number, number | null, number | null][] = [];
  const predictions: { id: number; link: Buffer; rows: Buffer | null; observed: Buffer | null }[] = [];
  let next = 0;
  for (const { task, result, outputs, trials } of tasks) {
    const packed = result && rowCount(result.coefficients) === trials.length ? result.coefficients : undefined;
    const heldOut = result?.heldOut;
    const linkWidth = heldOut && trials.length ? heldOut.link.length / trials.length : 0;
    trials.forEach((t, l) => {
      const id = ids[next++];
      trialRows
        .row(24)
        .int8(id).int8(sweepId).text(task.id).text(task.penalty).float8(t.lambda).float8(task.l1Ratio).text(task.settings ?? '').text(String(task.fold))
        .text(t.status).bool(t.converged).text(t.error).float8(t.trainLoss).float8(t.valLoss).int4(t.nTrain).int4(t.nVal).int4(t.nnz)
        .float8(t.zeroFraction).float8(t.nearZeroFraction).float8(t.l1Norm).float8(t.l2Norm).int4(t.passes).int4(t.epochsRun).float8(t.seconds)
        .jsonb(JSON.stringify(t.metrics));
      if (heldOut && linkWidth > 0 && t.status !== 'failed')
        predictions.push({ id, link: bytesOf(heldOut.link, l * linkWidth, linkWidth), rows: l === 0 ? bytesOf(heldOut.rows) : null, observed: l === 0 ? bytesOf(heldOut.observed) : null });
      if (result && packed && t.status !== 'failed') {
        coefficientRows.row(4).int8(id).float8Array(result.intercepts.subarray(l * outputs, (l + 1) * outputs)).bytea(coefficientBytes(packed, l));
        if (result.baseline) coefficientRows.bytea(baselineBytes(result.baseline, l));
        else coefficientRows.null();
        coefficientCount++;
      }
      for (const e of ('epochs' in t ? t.epochs : undefined) ?? []) epochs.push([id, e.epoch, e.trainLoss, e.valLoss]);
    });
  }
  if (count)
    await copyRowsIn(
      c,
      `regsweep.trials (id, sweep_id, task_id, penalty, lambda, l1_ratio, settings, fold, status, converged, error, train_loss, val_loss, n_train, n_val, nnz,
         zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds, metrics)`,
      trialRows,
    );
  if (coefficientCount) await copyRowsIn(c, 'regsweep.coefficients (trial_id, intercept, coef, baseline)', coefficientRows);
  if (predictions.length)
    await c.query(`INSERT INTO regsweep.predictions (trial_id, link, rows, observed) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[])`, [
      predictions.map((p) => p.id), predictions.map((p) => p.link), predictions.map((p) => p.rows), predictions.map((p) => p.observed),
    ]);
  if (epochs.length)
    await c.query(`INSERT INTO regsweep.epochs (trial_id, epoch, train_loss, val_loss) SELECT * FROM unnest($1::bigint[], $2::int[], $3::float8[], $4::float8[])`, [
      epochs.map((e) => e[0]), epochs.map((e) => e[1]), epochs.map((e) => e[2]), epochs.map((e) => e[3]),
    ]);
  await c.query(
    `UPDATE regsweep.tasks t SET status = u.status, lease_until = NULL, error = u.error, finished_at = now() FROM unnest($2::text[], $3::text[], $4::text[]) AS u(task_id, status, error)
     WHERE t.sweep_id = $1 AND t.task_id = u.task_id`,
    [sweepId, tasks.map((t) => t.task.id), tasks.map((t) => (t.trials.some((x) => x.status === 'failed') ? 'failed' : 'done')), tasks.map((t) => t.failure)],
  );
}

/** Query results as a reader expects them: a bigint (count(*)) as a number while it is exact, else as text. */
function readableTypes(oid: number, format?: string) {
  if (oid === nodePostgres.types.builtins.INT8) return (text: string) => (Number.isSafeInteger(Number(text)) ? Number(text) : text);
  return nodePostgres.types.getTypeParser(oid, format as 'text');
}

/** The rows of a statement of `columns` columns, read with COPY in binary format on the caller's connection. */
async function readCopy<T>(client: pg.PoolClient, query: string, columns: number, read: (rows: BinaryRowReader) => T): Promise<T> {
  return read(new BinaryRowReader(await copyRowsOut(client, query), columns));
}

const TRIAL_COLUMNS =
  'id, sweep_id, task_id, penalty, lambda, l1_ratio, settings, fold, status, converged, error, train_loss, val_loss, n_train, n_val, nnz, zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds, metrics';
const TRIAL_FIELDS = TRIAL_COLUMNS.split(',').length;

/**
 * The trials a condition picks, in the order every reader takes them. Read with COPY in binary format (readTrials): a
 * sweep's end reads all of them, and as text the server formats every double in decimal and this process parses it back.
 */
function trialsQuery(condition: string): string {
  return `SELECT ${TRIAL_COLUMNS} FROM regsweep.trials WHERE ${condition} ORDER BY penalty, l1_ratio, settings, lambda DESC, fold`;
}

function readTrials(rows: BinaryRowReader): Trial[] {
  const trials: Trial[] = [];
  while (rows.next()) {
    // Read in TRIAL_COLUMNS' order: an object literal's values are evaluated in the order written.
    trials.push({
      id: rows.int8()!,
      sweepId: rows.int8()!,
      taskId: rows.text()!,
      penalty: rows.text() as Penalty,
      lambda: rows.float8()!,
      l1Ratio: rows.float8()!,
      settings: rows.text() ?? '',
      fold: rows.text()!,
      status: rows.text() as Trial['status'],
      converged: rows.bool() === true,
      error: rows.text(),
      trainLoss: rows.float8(),
      valLoss: rows.float8(),
      nTrain: rows.int4()!,
      nVal: rows.int4()!,
      nnz: rows.int4()!,
      zeroFraction: rows.float8()!,
      nearZeroFraction: rows.float8()!,
      l1Norm: rows.float8() ?? NaN,
      l2Norm: rows.float8() ?? NaN,
      passes: rows.int4()!,
      epochsRun: rows.int4()!,
      seconds: rows.float8()!,
      metrics: metricsFromText(rows.jsonb() ?? '{}'),
    });
  }
  return trials;
}

/** Which trials of a sweep, its values written in: the statements COPY runs take no parameters. */
function trialCondition(sweepId: number, filter: TrialFilter, prefix = ''): string {
  if (!Number.isSafeInteger(sweepId)) throw new Error(`not a sweep id: ${sweepId}`);
  const clauses = [`${prefix}sweep_id = ${sweepId}`];
  if (filter.fold !== undefined) clauses.push(`${prefix}fold = ${literal(filter.fold)}`);
  if (filter.penalty !== undefined) clauses.push(`${prefix}penalty = ${literal(filter.penalty)}`);
  return clauses.join(' AND ');
}

function toSweep(r: Record<string, unknown>): Sweep {
  return {
    id: Number(r.id),
    name: r.name as string,
    configJson: r.config_json as string,
    configHash: r.config_hash as string,
    dataHash: r.data_hash as string,
    status: r.shown_status as SweepStatus,
    createdAt: (r.created_at as Date).toISOString(),
    finishedAt: r.finished_at ? (r.finished_at as Date).toISOString() : null,
    n: r.n as number,
    p: r.p as number,
    modelKind: r.model as string,
    featureNames: r.feature_names as string[],
    targetNames: r.target_names as string[],
    classes: (r.classes as string[] | null) ?? null,
    encoding: (r.encoding as Encoding | null | undefined) ?? null,
    featureScales: (r.feature_scales as number[] | null | undefined) ?? null,
    totalTasks: r.total_tasks as number,
    totalTrials: r.total_trials as number,
    notes: [...(r.notes as string[]), ...(r.run_notes as string[])],
    runNotes: r.run_notes as string[],
    writer: null,
  };
}

