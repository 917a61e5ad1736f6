// `regsweep serve`: a read-only HTTP server (node:http) over one store. Pages per sweep update live by Server-Sent
// Events; the server learns of new trials by watching the store (the last trial id, polled every 250 ms; on
// PostgreSQL the wait ends early on the store's NOTIFY). Only its own routes are served: no file is served by path.
// A sweep's page arrives with its charts drawn here as SVG, so it is readable before the browser has run any vega;
// the page then swaps in live vega views.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { OutsideError, UserError } from '../errors.js';
import { CHART_LIBRARIES, libraryFile } from '../report/html.js';
import { openStore } from '../store/open.js';
import { displayPath } from '../util/paths.js';
import type { Sweep } from '../domain.js';
import { STATIC_LIBRARIES, gonePage, sweepListPage, sweepPage } from './page.js';
import { liveState, ProgressClock, specWithRows, TrialCache, type LiveState } from './state.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** Required on every request when given (22 characters at least: 128 bits); generated when the host is not a loopback address. */
  token?: string;
  /** Host names besides the addresses listened on that requests may name (a DNS name of this machine). */
  allowHosts?: string[];
  /** How often the store is asked for new trials (ms). */
  pollMs?: number;
}

export interface RunningServer {
  /** The address to open, with the token when one is needed. */
  url: string;
  port: number;
  token: string | undefined;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const TOKEN_COOKIE = 'regsweep_token';
/** A token of 128 random bits is 22 characters of base64: none shorter is taken. */
const MIN_TOKEN_LENGTH = 22;
const WILDCARD = new Set(['0.0.0.0', '::']);

/** A token given with --token, refused when it is guessable or cannot travel in a URL and a cookie as it is. */
function checkToken(token: string | undefined): void {
  if (token === undefined) return;
  if (token.length < MIN_TOKEN_LENGTH)
    throw new UserError(
      `--token: ${token === '' ? 'empty' : `${token.length} character${token.length === 1 ? '' : 's'}`}; a token needs at least ${MIN_TOKEN_LENGTH} (128 random bits: openssl rand -base64 16), or leave --token out to have one generated`,
    );
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(token)) throw new UserError('--token: use letters, digits and . _ ~ + / = - only (it travels in a URL and a cookie)');
}

/** A host as the Host header names it (lower case, IPv6 in brackets), or undefined when it is not a host name. */
function hostName(host: string): string | undefined {
  try {
    return new URL(`http://${isIPv6(host) ? `[${host}]` : host}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * The names a request's Host header may give (DNS rebinding otherwise lets any web page read the server): the
 * loopback names on a loopback address; on another, that address, this machine's name and, on a wildcard address,
 * every address of this machine; and any name given with --allow-host.
 */
function answeredHosts(host: string, extra: string[]): Set<string> {
  const names = LOOPBACK.has(host) ? [...LOOPBACK] : [host, hostname(), ...(WILDCARD.has(host) ? [...LOOPBACK, ...Object.values(networkInterfaces()).flatMap((a) => (a ?? []).map((i) => i.address))] : [])];
  return new Set([...names, ...extra].map(hostName).filter((n): n is string => n !== undefined));
}

/** A sweep as it was first seen: a database overwritten under the server has other sweeps under the same ids. */
const sweepMark = (s: Sweep) => `${s.name} ${s.createdAt} ${s.configHash}`;
/** Sweeps whose state is computed when the server starts (the latest ones). */
const WARM_SWEEPS = 3;
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

export async function serve(location: string, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8765;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${port}: expected a port number (0–65535; 0 picks a free one)`);
  checkToken(options.token);
  const token = options.token ?? (LOOPBACK.has(host) ? undefined : randomBytes(16).toString('hex'));
  for (const name of options.allowHosts ?? []) if (!hostName(name)) throw new UserError(`--allow-host ${name}: not a host name`);
  const hosts = answeredHosts(host, options.allowHosts ?? []);
  const store = await openStore(location, { mode: 'read', mustExist: true });
  const shown = displayPath(location);
  const known = new Map((await store.listSweeps()).map((s) => [s.id, sweepMark(s)]));
  const watches = new Map<number, Watch>();
  let closing = false;
  /** Why the store can no longer be served (deleted, replaced, overwritten), once that is seen: pages then say so. */
  let gone: string | undefined;

  /** Stops serving a store that is gone: every open page is told why, and its event stream ends. */
  const markGone = (why: string) => {
    gone ??= `${why}; restart regsweep serve to read the database as it is now`;
    for (const watch of watches.values()) for (const res of watch.clients) res.end(goneEvent(gone));
    watches.clear();
  };
  /** Whether the store is still the one opened: the same file, and every sweep seen so far still the same sweep. */
  const intact = async (): Promise<boolean> => {
    if (gone) return false;
    try {
      await store.ensureIntact();
    } catch (e) {
      markGone(e instanceof Error ? e.message : String(e));
      return false;
    }
    let sweeps: Sweep[];
    try {
      sweeps = await store.listSweeps();
    } catch (e) {
      // Damage is for good; a lock or a lost connection is asked about again.
      if (e instanceof UserError) markGone(e.message);
      return !gone;
    }
    const now = new Map(sweeps.map((s) => [s.id, s]));
    for (const [id, mark] of known) {
      const sweep = now.get(id);
      if (!sweep || sweepMark(sweep) !== mark) {
        markGone(`${shown}: the database was overwritten while it was served (sweep ${id} ${sweep ? 'is another sweep now' : 'is no longer in it'})`);
        return false;
      }
    }
    for (const sweep of sweeps) if (!known.has(sweep.id)) known.set(sweep.id, sweepMark(sweep));
    return true;
  };

  const authorized = (req: IncomingMessage, url: URL): 'ok' | 'cookie' | false => {
    if (!token) return 'ok';
    const given = url.searchParams.get('token') ?? /(?:^|;\s*)regsweep_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
    return url.searchParams.has('token') ? 'cookie' : 'ok';
  };

  // What changes when trials are recorded: their count and largest id (a completion may commit after a later one,
  // so the largest id alone can stay the same while trials arrive).
  const storeMark = async (sweepId: number) => `${await store.trialCount(sweepId)}:${await store.lastTrialId(sweepId)}`;
  const stateMark = (state: LiveState) => `${state.progress.done}:${state.lastTrialId}`;
  const stateOf = async (sweepId: number): Promise<LiveState> => {
    const watch = watchOf(sweepId);
    // A finished sweep does not change: its state is computed once. A running one's is reused for a moment.
    const latest = watch.latest;
    if (latest && stateMark(latest) === (await storeMark(sweepId)) && (latest.sweep.status === 'done' || Date.now() - watch.lastComputed < 2000)) return latest;
    return compute(watch, sweepId);
  };
  const compute = (watch: Watch, sweepId: number): Promise<LiveState> => {
    watch.computing ??= (async () => {
      try {
        const started = Date.now();
        const sweep = await store.findSweep({ id: sweepId });
        const state = await liveState(store, sweep, watch.clock, watch.trials);
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
  };
  const watchOf = (sweepId: number): Watch => {
    let watch = watches.get(sweepId);
    if (!watch) {
      watch = { clients: new Set(), clock: new ProgressClock(), trials: new TrialCache(), lastSeen: '', lastComputed: 0, computeMs: 0 };
      watches.set(sweepId, watch);
    }
    return watch;
  };
  // Each state's charts drawn once, when a page is first asked for with it.
  const drawings = new WeakMap<LiveState, Promise<string[]>>();
  const drawnCharts = (state: LiveState): Promise<string[]> => {
    let drawn = drawings.get(state);
    if (!drawn) {
      // A chart that cannot be drawn here is left to the page (it draws every chart anyway).
      drawn = (async () => {
        // vega and its renderer load on the first drawing, not before the server listens.
        const { renderSvg } = await import('../report/render.js');
        const svgs: string[] = [];
        for (const chart of state.charts) svgs.push(await renderSvg(specWithRows(chart)).catch(() => ''));
        return svgs;
      })();
      drawings.set(state, drawn);
    }
    return drawn;
  };
  const send = (res: ServerResponse, state: LiveState) => res.write(`id: ${state.lastTrialId}\nevent: state\ndata: ${JSON.stringify(state)}\n\n`);

  // The watcher: for each sweep with a page open, a new trial (or a status change) sends the new state to its pages.
  const watcher = (async () => {
    while (!closing) {
      if (!(await intact())) {
        await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
        continue;
      }
      for (const [sweepId, watch] of watches) {
        if (watch.clients.size === 0 || closing) continue;
        try {
          const last = await storeMark(sweepId);
          const statusChanged = watch.latest && watch.latest.sweep.status !== (await store.findSweep({ id: sweepId })).status;
          if ((last !== watch.lastSeen || statusChanged) && Date.now() - watch.lastComputed >= Math.max(MIN_STATE_INTERVAL_MS, 2 * watch.computeMs)) {
            const state = await compute(watch, sweepId);
            for (const res of watch.clients) send(res, state);
          }
        } catch {
          // A store that is briefly busy (a writer's checkpoint) is asked again on the next round.
        }
      }
      const sweeps = [...watches].filter(([, w]) => w.clients.size > 0).map(([id]) => id);
      // PostgreSQL wakes this wait on a finished task (LISTEN/NOTIFY); SQLite waits the whole interval.
      if (sweeps.length === 1) await store.waitForChange(sweeps[0], options.pollMs ?? 250).catch(() => undefined);
      else await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  })();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const asked = req.headers.host === undefined ? undefined : hostName(req.headers.host);
    if (!asked || !hosts.has(asked))
      return plain(res, 421, `this server answers as ${[...hosts].join(', ')} only, not as ${JSON.stringify(req.headers.host ?? '')}${LOOPBACK.has(host) ? '' : ' (regsweep serve --allow-host NAME adds a name)'}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'read-only: GET only\n');
    const auth = authorized(req, url);
    if (!auth) return plain(res, 401, 'a token is needed: open the URL `regsweep serve` printed (…?token=…)\n');
    // The token from the URL goes into a cookie, so that the page's own requests (EventSource, scripts) carry it.
    if (auth === 'cookie') res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    const path = url.pathname;
    const library = /^\/static\/([a-z-]+\.min\.js)$/.exec(path);
    if (!library && !(await intact())) {
      if (/\/events$/.test(path)) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
        return void res.end(goneEvent(gone!));
      }
      if (path.startsWith('/api/')) return void res.writeHead(410, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: gone }));
      res.writeHead(410, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      return void res.end(gonePage(shown, gone!));
    }
    if (path === '/') {
      const sweeps = await store.listSweeps();
      const list = await Promise.all(sweeps.map(async (sweep) => ({ sweep, trialsDone: await store.trialCount(sweep.id) })));
      return html(res, sweepListPage(shown, list));
    }
    if (path === '/metrics') {
      const { metricsText } = await import('./metrics.js');
      const { contentType, text } = await metricsText(store);
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      return void res.end(req.method === 'HEAD' ? undefined : text);
    }
    if (path === '/api/sweeps') {
      const sweeps = await store.listSweeps();
      return json(res, await Promise.all(sweeps.map(async (s) => ({ id: s.id, name: s.name, status: s.status, model: s.modelKind, trials_done: await store.trialCount(s.id), trials_total: s.totalTrials }))));
    }
    if (library && STATIC_LIBRARIES.includes(library[1])) {
      const [pkg, file] = CHART_LIBRARIES[STATIC_LIBRARIES.indexOf(library[1])];
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'max-age=3600' });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(libraryFile(pkg, file)).pipe(res);
      return;
    }
    const page = /^\/(api\/)?sweeps\/(\d+)(\/events)?$/.exec(path);
    if (page) {
      const sweepId = Number(page[2]);
      try {
        await store.findSweep({ id: sweepId });
      } catch (e) {
        if (e instanceof UserError) return plain(res, 404, `no sweep ${sweepId} in ${shown}\n`);
        throw e;
      }
      if (page[3]) {
        if (page[1]) return plain(res, 404, 'not found\n');
        return events(req, res, sweepId);
      }
      const state = await stateOf(sweepId);
      return page[1] ? json(res, state) : html(res, sweepPage(state, await drawnCharts(state)));
    }
    return plain(res, 404, 'not found\n');
  };

  const events = async (req: IncomingMessage, res: ServerResponse, sweepId: number) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const watch = watchOf(sweepId);
    watch.clients.add(res);
    const heartbeat = setInterval(() => res.write(': still here\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      watch.clients.delete(res);
    });
    // A page that reconnects says what it has seen (Last-Event-ID: the last trial id of its state); anything newer is
    // sent at once. Each state carries everything (aggregated), so nothing recorded in between is missed. A new
    // connection is sent the state at once: the page's data comes this way.
    const lastEventId = req.headers['last-event-id'];
    const state = await stateOf(sweepId);
    // After a reconnection the status the page saw is not known: a sweep no longer running is sent once more.
    if (lastEventId === undefined || state.lastTrialId !== Number(lastEventId) || state.sweep.status !== 'running') send(res, state);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) plain(res, 500, `${e instanceof Error ? e.message : String(e)}\n`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new OutsideError(`--port ${port}: in use by another process; choose another with --port`)
          : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
            ? new UserError(`--host ${host}: not an address of this machine`)
            : new OutsideError(`cannot listen on ${host}:${port} (${e.code ?? e.message})`),
      ),
    );
    server.listen(port, host, () => resolve());
  }).catch(async (e) => {
    closing = true;
    await store.close();
    throw e;
  });
  // The latest sweeps' states and drawings are made now, while nobody waits: a large sweep's first state is the slow one.
  void (async () => {
    for (const sweep of (await store.listSweeps()).slice(-WARM_SWEEPS).reverse()) if (!closing) await stateOf(sweep.id).then(drawnCharts).catch(() => undefined);
  })();
  const bound = (server.address() as { port: number }).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/${token ? `?token=${token}` : ''}`,
    port: bound,
    token,
    close: async () => {
      closing = true;
      for (const watch of watches.values()) for (const res of watch.clients) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await watcher;
      await store.close();
    },
  };
}

/** The event that tells a page its store is gone; the page stops listening. */
function goneEvent(why: string): string {
  return `event: gone\ndata: ${JSON.stringify({ message: why })}\n\n`;
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function html(res: ServerResponse, body: string): void {
  // The page runs only its own inline scripts and the libraries from this server.
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:" });
  res.end(body);
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(value));
}
