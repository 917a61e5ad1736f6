import type { Argv } from 'yargs';
import { metricOption, selectorOf, type Later } from '../options.js';
import { comparisonRecord, comparisonTable, write } from '../output.js';
import { UserError } from '../../errors.js';
import { printable } from '../../util/format.js';

export function compareCommand(parser: Argv, later: Later): Argv {
  return parser.command(
    'compare <first> [second]',
    'two sweeps side by side (two databases, or two sweeps of one): the best of each penalty, and a report with their validation curves overlaid',
    (y) =>
      y
        .positional('first', { type: 'string', demandOption: true, describe: 'database (or store URL) of sweep A' })
        .positional('second', { type: 'string', describe: 'database of sweep B (default: the same as A)' })
        .option('sweep', { type: 'string', array: true, describe: 'sweep name, once per sweep (A then B); default: the latest (the two latest with one database)' })
        .option('sweep-id', { type: 'number', array: true, describe: 'sweep id instead of a name, once per sweep' })
        .options(metricOption)
        .option('json', { type: 'boolean', default: false })
        .option('out', { type: 'string', describe: 'report folder (default: A-vs-B-compare beside the first database)' })
        .option('report', { type: 'boolean', default: true, describe: 'write the report (--no-report: the table only)' })
        .option('png', { type: 'boolean', default: true, describe: 'also write PNG files' }),
    later(async (args) => {
      if (args.sweep !== undefined && args['sweep-id'] !== undefined) throw new UserError('--sweep and --sweep-id: give one kind');
      const selectors = args['sweep-id'] !== undefined ? args['sweep-id'].map((id) => selectorOf({ 'sweep-id': id })!) : (args.sweep ?? []).map((name) => ({ name }));
      const { compareSweeps } = await import('../../results/compare.js');
      const c = await compareSweeps(args.first, args.second, { sweeps: selectors, metric: args.metric });
      let page: string | undefined;
      if (args.report) {
        const { writeCompareReport, defaultCompareDir } = await import('../../report/compare.js');
        page = await writeCompareReport(c, args.out ?? defaultCompareDir(args.first, c), [args.first, ...(args.second ? [args.second] : [])], args.png);
      }
      if (args.json) {
        await write(JSON.stringify(comparisonRecord(c, page), null, 1) + '\n');
        return;
      }
      for (const s of c.sweeps) await write(`${s.label}: sweep ${s.sweep.name} (id ${s.sweep.id}) in ${s.location}; ${s.sweep.modelKind}, ${s.sweep.n} × ${s.sweep.p}, data ${s.sweep.dataHash.slice(0, 12)}…\n`);
      await write(comparisonTable(c));
      for (const n of c.notes) await write(`note: ${printable(n)}\n`);
      if (page) await write(`report: ${page}\n`);
    })
  );
}
