// `regsweep status`: who is working on a store's sweeps and how the queue stands — the processes' own reports
// (heartbeats with their counts) and the tasks by state.
import type { Sweep } from '../domain.js';
import type { ProcessState, SweepSelector, TaskCounts } from '../store/contract.js';
import { openStore } from '../store/open.js';

export interface SweepStatus {
  sweep: Sweep;
  tasks: TaskCounts;
  processes: ProcessState[];
}

/** A process that has missed two reports (it reports every third of its lease) is silent: probably gone. */
export function isSilent(p: ProcessState): boolean {
  return p.state === 'working' && p.silentFor > (2 * p.leaseMs) / 3 / 1000 + 1;
}

/** The status of the sweep a selector names, or of every sweep with work left (the latest when none has). */
export async function sweepStatuses(location: string, selector?: SweepSelector): Promise<SweepStatus[]> {
  const store = await openStore(location, { mode: 'read' });
  try {
    let sweeps = selector ? [await store.findSweep(selector)] : await store.listSweeps();
    const counts = new Map<number, TaskCounts>();
    for (const s of sweeps) counts.set(s.id, await store.taskCounts(s.id));
    if (!selector) {
      const open = sweeps.filter((s) => counts.get(s.id)!.pending + counts.get(s.id)!.running > 0);
      sweeps = open.length ? open : sweeps.slice(-1);
    }
    const out: SweepStatus[] = [];
    for (const sweep of sweeps) out.push({ sweep, tasks: counts.get(sweep.id)!, processes: await store.processes(sweep.id) });
    return out;
  } finally {
    await store.close();
  }
}
