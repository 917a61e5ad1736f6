// The command line: options and output. Each command is a module of src/cli/commands/ that imports the library
// function it calls when it runs: start-up time is what a short command mostly costs.
import yargs, { type Argv } from 'yargs';
import { EXIT, OutsideError, UserError } from './errors.js';
import { packageVersion } from './builtFile.js';
import { printable } from './util/format.js';
import type { Later } from './cli/options.js';
import { runCommand } from './cli/commands/run.js';
import { workerCommand } from './cli/commands/worker.js';
import { queryCommand } from './cli/commands/query.js';
import { exportCommand } from './cli/commands/export.js';
import { predictCommand } from './cli/commands/predict.js';
import { compareCommand } from './cli/commands/compare.js';
import { reportCommand } from './cli/commands/report.js';
import { statusCommand } from './cli/commands/status.js';
import { serveCommand } from './cli/commands/serve.js';

/** The commands, in the order --help lists them. */
const COMMANDS: ((parser: Argv, later: Later) => Argv)[] = [runCommand, workerCommand, queryCommand, exportCommand, predictCommand, compareCommand, reportCommand, statusCommand, serveCommand];

export async function main(argv: string[]): Promise<void> {
  // A closed pipe (`regsweep export … | head`) ends the command quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  let exitCode: number = EXIT.ok;
  try {
    exitCode = await dispatch(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`regsweep: ${printable(e.message)}\n`);
      exitCode = EXIT.badInput;
    } else if (e instanceof OutsideError) {
      process.stderr.write(`regsweep: ${printable(e.message)}\n`);
      exitCode = EXIT.failed;
    } else {
      process.stderr.write(`regsweep: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      exitCode = EXIT.failed;
    }
  }
  process.exitCode = exitCode;
}

/** The part of yargs 18's internals the start-up skips (its version is pinned). */
interface YargsInternals {
  getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } };
}

async function dispatch(argv: string[]): Promise<number> {
  let work: Promise<number | void> | undefined;
  const later: Later = (handler) => (args) => {
    work = handler(args);
  };
  let parser = yargs(argv)
    .scriptName('regsweep')
    .strict()
    .demandCommand(1, 'name a command: run, worker, query, status, export, predict, compare, report or serve')
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError(msg);
    });
  for (const command of COMMANDS) parser = command(parser, later);
  parser = parser.help().version(packageVersion());
  // yargs renders the whole help page before it runs any command, in case the command asks for it; none of ours does.
  (parser as unknown as YargsInternals).getInternalMethods().getUsageInstance().cacheHelpMessage = () => undefined;
  await parser.parseAsync();
  return (await work) ?? EXIT.ok;
}
