// The sweep watcher of `regsweep serve`: for each sweep with a page open, it notices new trials (or a status change)
// in the store and sends the pages the new state; it computes states (reusing one while nothing changed), draws
// their charts once, and notices a store that is no longer the one opened (deleted, replaced, overwritten).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sweep } from '../domain.js';
import { UserError } from '../errors.js';
import type { Store } from '../store/contract.js';
import { liveState, ProgressClock, specWithRows, TrialCache, type LiveState } from './state.js';

/** A sweep as it was first seen: a database overwritten under the server has other sweeps under the same ids. */
const sweepMark = (s: Sweep) => `${s.name} ${s.createdAt} ${s.configHash}`;
/** A state is computed at most this often per sweep while trials arrive, and at most a third of the time. */
const MIN_STATE_INTERVAL_MS = 500;

/** One sweep being watched for the pages open on it. */
interface Watch {
  clients: Set<ServerResponse>;
  clock: ProgressClock;
  trials: TrialCache;
  /** The store's trial mark (stateMark) when the latest state was made. */
  lastSeen: string;
  latest?: LiveState;
  computing?: Promise<LiveState>;
  lastComputed: number;
  /** How long the last state took to compute (ms). */
  computeMs: number;
}

/** The event that tells a page its store is gone; the page stops listening. */
export function goneEvent(why: string): string {
  return `event: gone\ndata: ${JSON.stringify({ message: why })}\n\n`;
}

const sendState = (res: ServerResponse, state: LiveState) => res.write(`id: ${state.lastTrialId}\nevent: state\ndata: ${JSON.stringify(state)}\n\n`);
// What changes when trials are recorded: their count and largest id (a completion may commit after a later one, so
// the largest id alone can stay the same while trials arrive).
const stateMark = (state: LiveState) => `${state.progress.done}:${state.lastTrialId}`;

export class SweepWatcher {
  private readonly watches = new Map<number, Watch>();
  private readonly known = new Map<number, string>();
  /** Why the store can no longer be served (deleted, replaced, overwritten), once that is seen: pages then say so. */
  gone: string | undefined;
  private closing = false;
  private loop: Promise<void> | undefined;
  // Each state's charts drawn once, when a page is first asked for with it.
  private readonly drawings = new WeakMap<LiveState, Promise<string[]>>();

  constructor(
    private readonly store: Store,
    /** The store as messages name it. */
    private readonly shown: string,
    private readonly pollMs = 250,
  ) {}

  /** Remembers the sweeps there are (an overwritten database is told by them) and starts watching. */
  async start(): Promise<void> {
    for (const s of await this.store.listSweeps()) this.known.set(s.id, sweepMark(s));
    this.loop = this.watch();
  }

  /** Stops watching: every open page's event stream ends. */
  async close(): Promise<void> {
    this.closing = true;
    for (const watch of this.watches.values()) for (const res of watch.clients) res.end();
    await this.loop;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Whether the store is still the one opened: the same file, and every sweep seen so far still the same sweep. */
  async intact(): Promise<boolean> {
    if (this.gone) return false;
    try {
      await this.store.ensureIntact();
    } catch (e) {
      this.markGone(e instanceof Error ? e.message : String(e));
      return false;
    }
    let sweeps: Sweep[];
    try {
      sweeps = await this.store.listSweeps();
    } catch (e) {
      // Damage is for good; a lock or a lost connection is asked about again.
      if (e instanceof UserError) this.markGone(e.message);
      return !this.gone;
    }
    const now = new Map(sweeps.map((s) => [s.id, s]));
    for (const [id, mark] of this.known) {
      const sweep = now.get(id);
      if (!sweep || sweepMark(sweep) !== mark) {
        this.markGone(`${this.shown}: the database was overwritten while it was served (sweep ${id} ${sweep ? 'is another sweep now' : 'is no longer in it'})`);
        return false;
      }
    }
    for (const sweep of sweeps) if (!this.known.has(sweep.id)) this.known.set(sweep.id, sweepMark(sweep));
    return true;
  }

  /** Stops serving a store that is gone: every open page is told why, and its event stream ends. */
  private markGone(why: string): void {
    this.gone ??= `${why}; restart regsweep serve to read the database as it is now`;
    for (const watch of this.watches.values()) for (const res of watch.clients) res.end(goneEvent(this.gone));
    this.watches.clear();
  }

  private async storeMark(sweepId: number): Promise<string> {
    return `${await this.store.trialCount(sweepId)}:${await this.store.lastTrialId(sweepId)}`;
  }

  /** A sweep's state now: a finished sweep's is computed once, a running one's reused for a moment. */
  async stateOf(sweepId: number): Promise<LiveState> {
    const watch = this.watchOf(sweepId);
    const latest = watch.latest;
    if (latest && stateMark(latest) === (await this.storeMark(sweepId)) && (latest.sweep.status === 'done' || Date.now() - watch.lastComputed < 2000)) return latest;
    return this.compute(watch, sweepId);
  }

  private compute(watch: Watch, sweepId: number): Promise<LiveState> {
    watch.computing ??= (async () => {
      try {
        const started = Date.now();
        const sweep = await this.store.findSweep({ id: sweepId });
        const state = await liveState(this.store, sweep, watch.clock, watch.trials);
        watch.latest = state;
        watch.lastSeen = stateMark(state);
        watch.lastComputed = Date.now();
        watch.computeMs = watch.lastComputed - started;
        // A finished sweep's state is kept, not its trials (a server over many large sweeps would hold them all).
        if (state.sweep.status === 'done') watch.trials = new TrialCache();
        return state;
      } finally {
        watch.computing = undefined;
      }
    })();
    return watch.computing;
  }

  private watchOf(sweepId: number): Watch {
    let watch = this.watches.get(sweepId);
    if (!watch) {
      watch = { clients: new Set(), clock: new ProgressClock(), trials: new TrialCache(), lastSeen: '', lastComputed: 0, computeMs: 0 };
      this.watches.set(sweepId, watch);
    }
    return watch;
  }

  /** A state's charts as SVG, drawn once; a chart that cannot be drawn here is left to the page (it draws every chart). */
  drawnCharts(state: LiveState): Promise<string[]> {
    let drawn = this.drawings.get(state);
    if (!drawn) {
      drawn = (async () => {
        // vega and its renderer load on the first drawing, not before the server listens.
        const { renderSvg } = await import('../report/render.js');
        const svgs: string[] = [];
        for (const chart of state.charts) svgs.push(await renderSvg(specWithRows(chart)).catch(() => ''));
        return svgs;
      })();
      this.drawings.set(state, drawn);
    }
    return drawn;
  }

  /**
   * A page's event stream: the state at once on a new connection (the page's data comes this way); after a
   * reconnection (Last-Event-ID: the last trial id of its state), only when there is something newer — each state
   * carries everything (aggregated), so nothing recorded in between is missed.
   */
  async subscribe(req: IncomingMessage, res: ServerResponse, sweepId: number): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const watch = this.watchOf(sweepId);
    watch.clients.add(res);
    const heartbeat = setInterval(() => res.write(': still here\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      watch.clients.delete(res);
    });
    const lastEventId = req.headers['last-event-id'];
    const state = await this.stateOf(sweepId);
    // After a reconnection the status the page saw is not known: a sweep no longer running is sent once more.
    if (lastEventId === undefined || state.lastTrialId !== Number(lastEventId) || state.sweep.status !== 'running') sendState(res, state);
  }

  /** For each sweep with a page open: a new trial (or a status change) sends the new state to its pages. */
  private async watch(): Promise<void> {
    while (!this.closing) {
      if (!(await this.intact())) {
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
        continue;
      }
      for (const [sweepId, watch] of this.watches) {
        if (watch.clients.size === 0 || this.closing) continue;
        try {
          const last = await this.storeMark(sweepId);
          const statusChanged = watch.latest && watch.latest.sweep.status !== (await this.store.findSweep({ id: sweepId })).status;
          if ((last !== watch.lastSeen || statusChanged) && Date.now() - watch.lastComputed >= Math.max(MIN_STATE_INTERVAL_MS, 2 * watch.computeMs)) {
            const state = await this.compute(watch, sweepId);
            for (const res of watch.clients) sendState(res, state);
          }
        } catch {
          // A store that is briefly busy (a writer's checkpoint) is asked again on the next round.
        }
      }
      const sweeps = [...this.watches].filter(([, w]) => w.clients.size > 0).map(([id]) => id);
      // PostgreSQL wakes this wait on a finished task (LISTEN/NOTIFY); SQLite waits the whole interval.
      if (sweeps.length === 1) await this.store.waitForChange(sweeps[0], this.pollMs).catch(() => undefined);
      else await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }
}
