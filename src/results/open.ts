import type { SweepConfig } from '../config/schema.js';
import type { Sweep } from '../domain.js';
import type { Store, SweepSelector } from '../store/contract.js';
import { openStore } from '../store/open.js';

/** The validated config a sweep was run with (stored as JSON with the sweep). */
export function sweepConfig(sweep: Sweep): SweepConfig {
  return JSON.parse(sweep.configJson) as SweepConfig;
}

export interface ResultsHandle {
  store: Store;
  sweep: Sweep;
}

/** Opens a store read-only, picks the sweep a selector means (the latest by default), runs fn, closes the store. */
export async function withResults<T>(location: string, selector: SweepSelector | undefined, fn: (h: ResultsHandle) => T | Promise<T>): Promise<T> {
  const store = await openStore(location, { mode: 'read' });
  try {
    const sweep = await store.findSweep(selector ?? {});
    return await fn({ store, sweep });
  } finally {
    await store.close();
  }
}
