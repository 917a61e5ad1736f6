// Telling whether the process that wrote something is still alive (a pid can be reused: its start time tells apart).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** When a process started (clock ticks since boot, from /proc), or null where /proc is not there. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export interface ProcessIdentity {
  pid: number;
  host: string;
  started: string | null;
}

let self: ProcessIdentity | undefined;
export function thisProcess(): ProcessIdentity {
  self ??= { pid: process.pid, host: hostname(), started: processStartTime(process.pid) };
  return self;
}

/**
 * Whether a process is still running: on this host, by its pid and start time; on another host it cannot be told,
 * so it counts as alive.
 */
export function isAlive(p: ProcessIdentity): boolean {
  if (p.host !== hostname()) return true;
  try {
    process.kill(p.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return p.started === null || processStartTime(p.pid) === p.started;
}
