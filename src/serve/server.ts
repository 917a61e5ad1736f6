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
import type { Store } from '../store/contract.js';
import { STATIC_LIBRARIES, gonePage, sweepListPage, sweepPage } from './page.js';
import { goneEvent, SweepWatcher } from './watcher.js';

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

/** Sweeps whose state is computed when the server starts (the latest ones). */
const WARM_SWEEPS = 3;

/** What a route answers with: the request, its URL, the store and its watcher. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  store: Store;
  watcher: SweepWatcher;
  /** The store as pages name it. */
  shown: string;
}

/** The server's routes, tried in order: each a path pattern and what it answers. */
const ROUTES: { path: RegExp; answer: (x: Exchange, match: RegExpExecArray) => Promise<void> }[] = [
  {
    path: /^\/$/,
    answer: async ({ res, store, shown }) => {
      const sweeps = await store.listSweeps();
      const list = await Promise.all(sweeps.map(async (sweep) => ({ sweep, trialsDone: await store.trialCount(sweep.id) })));
      html(res, sweepListPage(shown, list));
    },
  },
  {
    path: /^\/metrics$/,
    answer: async ({ req, res, store }) => {
      const { metricsText } = await import('./metrics.js');
      const { contentType, text } = await metricsText(store);
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
  },
  {
    path: /^\/api\/sweeps$/,
    answer: async ({ res, store }) => {
      const sweeps = await store.listSweeps();
      json(res, await Promise.all(sweeps.map(async (s) => ({ id: s.id, name: s.name, status: s.status, model: s.modelKind, trials_done: await store.trialCount(s.id), trials_total: s.totalTrials }))));
    },
  },
  {
    path: /^\/static\/([a-z-]+\.min\.js)$/,
    answer: async ({ req, res }, [, file]) => {
      if (!STATIC_LIBRARIES.includes(file)) return plain(res, 404, 'not found\n');
      const [pkg, path] = CHART_LIBRARIES[STATIC_LIBRARIES.indexOf(file)];
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'max-age=3600' });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(libraryFile(pkg, path)).pipe(res);
    },
  },
  {
    // A sweep's page, its state as JSON (/api/…), or its event stream (…/events).
    path: /^\/(api\/)?sweeps\/(\d+)(\/events)?$/,
    answer: async ({ req, res, store, watcher, shown }, [, api, id, events]) => {
      const sweepId = Number(id);
      try {
        await store.findSweep({ id: sweepId });
      } catch (e) {
        if (e instanceof UserError) return plain(res, 404, `no sweep ${sweepId} in ${shown}\n`);
        throw e;
      }
      if (events) return api ? plain(res, 404, 'not found\n') : watcher.subscribe(req, res, sweepId);
      const state = await watcher.stateOf(sweepId);
      if (api) json(res, state);
      else html(res, sweepPage(state, await watcher.drawnCharts(state)));
    },
  },
];

/** A request to a store that is gone: its pages and event streams say why, the API answers 410. */
function answerGone(res: ServerResponse, path: string, shown: string, why: string): void {
  if (/\/events$/.test(path)) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
    return void res.end(goneEvent(why));
  }
  if (path.startsWith('/api/')) return void res.writeHead(410, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: why }));
  res.writeHead(410, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(gonePage(shown, why));
}

/** Which token a request carries (query, cookie or bearer): 'cookie' when it came in the URL and is to be kept. */
function authorized(token: string | undefined, req: IncomingMessage, url: URL): 'ok' | 'cookie' | false {
  if (!token) return 'ok';
  const given = url.searchParams.get('token') ?? /(?:^|;\s*)regsweep_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
  return url.searchParams.has('token') ? 'cookie' : 'ok';
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
  const watcher = new SweepWatcher(store, shown, options.pollMs);
  await watcher.start();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const asked = req.headers.host === undefined ? undefined : hostName(req.headers.host);
    if (!asked || !hosts.has(asked))
      return plain(res, 421, `this server answers as ${[...hosts].join(', ')} only, not as ${JSON.stringify(req.headers.host ?? '')}${LOOPBACK.has(host) ? '' : ' (regsweep serve --allow-host NAME adds a name)'}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'read-only: GET only\n');
    const auth = authorized(token, req, url);
    if (!auth) return plain(res, 401, 'a token is needed: open the URL `regsweep serve` printed (…?token=…)\n');
    // The token from the URL goes into a cookie, so that the page's own requests (EventSource, scripts) carry it.
    if (auth === 'cookie') res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    const path = url.pathname;
    // The chart libraries are served whatever became of the store; everything else only while it is the one opened.
    if (!path.startsWith('/static/') && !(await watcher.intact())) return answerGone(res, path, shown, watcher.gone!);
    for (const route of ROUTES) {
      const match = route.path.exec(path);
      if (match) return route.answer({ req, res, url, store, watcher, shown }, match);
    }
    plain(res, 404, 'not found\n');
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
    await watcher.close();
    await store.close();
    throw e;
  });
  // The latest sweeps' states and drawings are made now, while nobody waits: a large sweep's first state is the slow one.
  void (async () => {
    for (const sweep of (await store.listSweeps()).slice(-WARM_SWEEPS).reverse()) if (!watcher.closed) await watcher.stateOf(sweep.id).then((s) => watcher.drawnCharts(s)).catch(() => undefined);
  })();
  const bound = (server.address() as { port: number }).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/${token ? `?token=${token}` : ''}`,
    port: bound,
    token,
    close: async () => {
      const stopping = watcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopping;
      await store.close();
    },
  };
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
