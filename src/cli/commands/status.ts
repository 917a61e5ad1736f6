import type { Argv } from 'yargs';
import { selectorOf, sweepOptions, type Later } from '../options.js';
import { sweepRecord } from '../../results/records.js';
import { write, table } from '../output.js';

export function statusCommand(parser: Argv, later: Later): Argv {
  return parser.command(
    'status <db>',
    'who works on a store\'s sweeps: each process with its host, pid, threads, last report and counts; the tasks by state',
    (y) =>
      y
        .positional('db', { type: 'string', demandOption: true, describe: 'database path or store URL' })
        .options(sweepOptions)
        .option('json', { type: 'boolean', default: false }),
    later(async (args) => {
      const { sweepStatuses, isSilent } = await import('../../results/status.js');
      const statuses = await sweepStatuses(args.db, selectorOf(args));
      if (args.json) {
        await write(JSON.stringify(statuses.map(({ sweep, tasks, processes }) => ({ ...sweepRecord(sweep, tasks.trialsRecorded, tasks), tasks, processes: processes.map((p) => ({ ...p, silent: isSilent(p) })) })), null, 1) + '\n');
        return;
      }
      for (const { sweep, tasks, processes } of statuses) {
        await write(
          `sweep ${sweep.name} (id ${sweep.id}, ${sweep.status}): ${tasks.done} of ${tasks.total} tasks done, ${tasks.running} claimed${tasks.stale ? ` (${tasks.stale} stale)` : ''}, ${tasks.pending} pending, ${tasks.failed} failed\n`,
        );
        if (processes.length === 0) {
          await write('(no process has reported on it)\n');
          continue;
        }
        await write(
          table(
            processes.map((p) => ({
              host: p.host, pid: p.pid, command: p.command, threads: p.threads, state: isSilent(p) ? 'silent' : p.state,
              'last report': `${p.silentFor < 10 ? p.silentFor.toFixed(1) : Math.round(p.silentFor)} s ago`, done: p.tasksDone, failed: p.tasksFailed,
              retries: p.retries, fenced: p.fenced, 'leases lost': p.leasesLost, 'taken over': p.takenOver,
            })),
          ),
        );
      }
    })
  );
}
