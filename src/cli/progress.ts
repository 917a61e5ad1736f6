import { printable } from '../util/format.js';

/** A bar on a terminal; plain lines (every 10%) in logs and CI. */
export async function makeProgress(quiet: boolean) {
  const tty = process.stderr.isTTY && !quiet;
  const cliProgress = tty ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'trials {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let total = 0;
  let lastDecile = -1;
  let started = 0;
  let startValue = 0;
  const rate = (done: number) => ((done - startValue) / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1);
  return {
    /** Whether updates show anywhere: with --quiet the run does not ask a shared store for its counts to show them. */
    shows: !quiet,
    start(t: number, done: number) {
      total = t;
      started = Date.now();
      startValue = done;
      bar?.start(t, done, { rate: '0' });
    },
    update(done: number, t: number) {
      // An extended grid adds trials to the total while the sweep runs.
      if (t !== total) {
        total = t;
        bar?.setTotal(t);
      }
      if (bar) bar.update(done, { rate: rate(done) });
      else if (!quiet) {
        const decile = Math.floor((10 * done) / Math.max(1, total));
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`trials ${done}/${total} (${rate(done)}/s)\n`);
        }
      }
    },
    log(message: string) {
      if (quiet && !message.startsWith('warning')) return;
      // On a terminal, clear the bar's line first; the bar redraws itself on the next update.
      process.stderr.write((bar?.isActive ? '\r\x1b[2K' : '') + printable(message) + '\n');
    },
    stop() {
      bar?.stop();
    },
  };
}
