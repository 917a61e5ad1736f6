// node-postgres, loaded once. When it loads it asks whether it runs on Cloudflare Workers: with no `navigator` (Node 20
// has none, Node 21 and later have one) it builds a fetch Response to find out, which loads Node's fetch implementation
// (undici) in every process that opens a PostgreSQL store. A `navigator` that says Node, for the moment pg loads,
// answers it as Node 21 would.
import { createRequire } from 'node:module';
import type pg from 'pg';

const requireCommonJs = createRequire(import.meta.url);

function load(): typeof pg {
  const global = globalThis as { navigator?: unknown };
  if (global.navigator !== undefined) return requireCommonJs('pg') as typeof pg;
  global.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    return requireCommonJs('pg') as typeof pg;
  } finally {
    delete global.navigator;
  }
}

export const nodePostgres = load();
