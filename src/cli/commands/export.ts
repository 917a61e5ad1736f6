import type { Argv } from 'yargs';
import { modelOptions, modelRequest, partialOption, selectorOf, sweepOptions, type Later } from '../options.js';
import { write } from '../output.js';
import { UserError } from '../../errors.js';
import { printable } from '../../util/format.js';
import { EXPORT_TABLES, type ExportTable } from '../../results/tables.js';
import { refuseProtectedOutput, storeFiles, writeFileAtomic } from '../../util/files.js';

export function exportCommand(parser: Argv, later: Later): Argv {
  return parser.command(
    'export <db>',
    'write a table as CSV or JSON, or the chosen model as a model card (json), a scikit-learn or an R script',
    (y) =>
      y
        .positional('db', { type: 'string', demandOption: true })
        .option('table', { choices: EXPORT_TABLES, describe: 'the table to write' })
        .option('model', { type: 'boolean', default: false, describe: 'write the chosen model instead of a table (see --select)' })
        .option('fold', { type: 'string', describe: '"all" (the fit on all rows) or a fold index' })
        .option('format', { choices: ['csv', 'json', 'sklearn', 'glmnet'] as const, describe: 'tables: csv (default) or json; --model: json (default), sklearn or glmnet' })
        .option('layout', { choices: ['wide', 'long'] as const, describe: '--table coefficients: a column per feature (wide, the default) or a row per nonzero coefficient (long: term, value), for many sparse features' })
        .options(sweepOptions)
        .options(modelOptions)
        .options(partialOption)
        .option('out', { type: 'string', describe: 'file to write (default: standard output)' }),
    later(async (args) => {
      if (args.out !== undefined) refuseProtectedOutput(args.out, storeFiles(args.db), '--out');
      if (args.model === (args.table !== undefined)) throw new UserError('export: give --table NAME or --model');
      if (args.model && args.layout !== undefined) throw new UserError('--layout: applies to --table coefficients, not --model');
      let parts: Iterable<string>;
      if (args.model) {
        if (args.fold !== undefined) throw new UserError('--fold applies to --table; the model is the fit on all rows');
        const format = args.format ?? 'json';
        if (format === 'csv') throw new UserError('--model --format csv: a model is written as json, sklearn (Python) or glmnet (R); the coefficients as CSV are in --table coefficients');
        const { exportModel } = await import('../../model/export.js');
        const { text, model } = await exportModel(args.db, format, { sweep: selectorOf(args), ...modelRequest(args), allowPartial: args['allow-partial'] });
        for (const n of model.notes) process.stderr.write(`note: ${printable(n)}\n`);
        parts = [text];
      } else {
        const format = args.format ?? 'csv';
        if (format !== 'csv' && format !== 'json') throw new UserError(`--format ${format}: applies to --model; a table is csv or json`);
        if (args.penalty !== undefined || args['l1-ratio'] !== undefined || args.select !== undefined) throw new UserError('--penalty, --l1-ratio and --select choose a model: they apply to --model (use --sql or the CSV to filter a table)');
        const { csvLines, exportRows } = await import('../../results/export.js');
        if (args.layout !== undefined && args.table !== 'coefficients') throw new UserError(`--layout: applies to --table coefficients (not ${args.table})`);
        const rows = await exportRows(args.db, { table: args.table as ExportTable, fold: args.fold, sweep: selectorOf(args), ...(args.layout ? { layout: args.layout } : {}) });
        parts = format === 'json' ? [JSON.stringify(rows, null, 1) + '\n'] : csvLines(rows);
      }
      if (args.out !== undefined) writeFileAtomic(args.out, parts);
      else for (const part of parts) await write(part);
    })
  );
}
