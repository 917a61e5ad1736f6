// `GET /metrics` of regsweep serve: the store's sweeps, their queues and the processes working on them, as Prometheus
// text (prom-client), read from the store at each scrape.
import type { Store } from '../store/contract.js';
import { isSilent } from '../results/status.js';

/** Sweeps a scrape covers: the latest ones (a store may hold hundreds of finished sweeps). */
const SWEEPS = 20;

export async function metricsText(store: Store): Promise<{ contentType: string; text: string }> {
  const { Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name: `regsweep_${name}`, help, labelNames, registers: [registry] });
  const sweepLabels = ['sweep', 'sweep_id'];
  const processLabels = [...sweepLabels, 'host', 'pid', 'command'];
  const info = gauge('sweep_info', 'A sweep of the store (1), with its status and model', [...sweepLabels, 'status', 'model']);
  const tasks = gauge('tasks', "A sweep's tasks by state (stale: claimed by a process that stopped renewing its lease)", [...sweepLabels, 'state']);
  const recorded = gauge('trials_recorded', 'Trials recorded', sweepLabels);
  const planned = gauge('trials_planned', 'Trials the sweep has planned', sweepLabels);
  const up = gauge('process_up', 'A process that reported on the sweep: 1 while it works and reports, 0 once it ended or fell silent', processLabels);
  const silence = gauge('process_seconds_since_report', "Seconds since the process's last report (it reports every third of its lease)", processLabels);
  const threads = gauge('process_threads', 'Worker threads of the process', processLabels);
  const counts = {
    tasksDone: gauge('process_tasks_done', 'Tasks the process recorded', processLabels),
    tasksFailed: gauge('process_tasks_failed', 'Tasks the process recorded as failed (attempts used up)', processLabels),
    retries: gauge('process_retries', 'Failed attempts the process queued again', processLabels),
    fenced: gauge('process_results_fenced', 'Results not recorded: another process had taken the task over', processLabels),
    leasesLost: gauge('process_leases_lost', 'Claims the process found taken over when renewing them', processLabels),
    takenOver: gauge('process_tasks_taken_over', "Tasks the process took over from one whose lease had run out", processLabels),
  };
  for (const sweep of (await store.listSweeps()).slice(-SWEEPS)) {
    const s = { sweep: sweep.name, sweep_id: String(sweep.id) };
    info.set({ ...s, status: sweep.status, model: sweep.modelKind }, 1);
    const t = await store.taskCounts(sweep.id);
    for (const [state, n] of Object.entries({ pending: t.pending, running: t.running, stale: t.stale, done: t.done, failed: t.failed })) tasks.set({ ...s, state }, n);
    recorded.set(s, t.trialsRecorded);
    planned.set(s, sweep.totalTrials);
    for (const p of await store.processes(sweep.id)) {
      const labels = { ...s, host: p.host, pid: String(p.pid), command: p.command };
      up.set(labels, p.state === 'working' && !isSilent(p) ? 1 : 0);
      silence.set(labels, p.silentFor);
      threads.set(labels, p.threads);
      for (const [key, metric] of Object.entries(counts)) metric.set(labels, p[key as keyof typeof counts]);
    }
  }
  return { contentType: registry.contentType, text: await registry.metrics() };
}
