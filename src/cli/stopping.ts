import { OutsideError } from '../errors.js';
import { printable } from '../util/format.js';

/**
 * A store that failed after the user stopped the command (a database that is down, whose reconnection wait the
 * signal ended): said in one line, and the command counts as interrupted.
 */
export function stoppedWhileDown(signal: AbortSignal) {
  return (e: unknown): undefined => {
    if (!(signal.aborted && e instanceof OutsideError)) throw e;
    process.stderr.write(`interrupted: ${printable(e.message)}\n`);
    return undefined;
  };
}
