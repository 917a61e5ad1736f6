import type { Argv } from 'yargs';
import type { Later } from '../options.js';
import { EXIT } from '../../errors.js';
import { displayPath } from '../../util/paths.js';

export function serveCommand(parser: Argv, later: Later): Argv {
  return parser.command(
    'serve <db>',
    'serve live pages of the database\'s sweeps (read-only): progress, running and failed tasks, the charts as trials arrive',
    (y) =>
      y
        .positional('db', { type: 'string', demandOption: true, describe: 'database path or store URL' })
        .option('port', { type: 'number', default: 8765, describe: 'port (0: a free one)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on; any other than 127.0.0.1, ::1 or localhost needs a token' })
        .option('token', { type: 'string', describe: 'the token every request must carry, 22 characters at least (default: generated when --host is not local)' })
        .option('allow-host', { type: 'string', array: true, describe: 'a name of this machine that requests may be sent to, besides its addresses (may be repeated)' }),
    later(async (args) => {
      return await serveUntilStopped(args.db, { port: args.port, host: args.host, token: args.token, allowHosts: args['allow-host'] });
    })
  );
}

/** Serves until Ctrl-C or SIGTERM, then closes the server and the store. */
async function serveUntilStopped(db: string, options: { port: number; host: string; token?: string; allowHosts?: string[] }): Promise<number> {
  const { serve } = await import('../../serve/server.js');
  const server = await serve(db, options);
  process.stdout.write(`regsweep: serving ${displayPath(db)} at ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return EXIT.ok;
}
