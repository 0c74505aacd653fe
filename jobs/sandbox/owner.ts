import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who owns a file or process Tributary leaves while it works (a script's temp dir, a warehouse
 * staging file, a sandbox record): the owner's pid, its start time and its host, written into
 * the name so that a later start can tell a dead owner's leftovers from a live one's.
 *
 *   tag = `<pid>.<start>@<host>`   e.g. `4121.8811023@db-1`
 *
 * `start` is the process's start time in clock ticks since boot (/proc/<pid>/stat field 22): it
 * tells a live owner from another process that got the same pid later (a restarted container's
 * server is pid 1 again). Several Tributary processes sharing DATA_DIR on one host each have
 * their own tag; every runtime in one process shares it.
 */

/** The start time of a process (clock ticks since boot), or null when it does not exist (or there is no /proc). */
export function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return null; // a zombie runs nothing
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** True while a process with this pid exists (on platforms without /proc). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This host's name as it goes into file names: letters, digits, dots and dashes. */
export const HOST = (hostname() || 'localhost').replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64);

export interface Owner {
  pid: number;
  /** Start time in clock ticks since boot; 0 when unknown. */
  start: number;
  host: string;
}

/** This process as an owner. */
export const SELF: Owner = { pid: process.pid, start: processStart(process.pid) ?? 0, host: HOST };

/** This process's tag: `<pid>.<start>@<host>`. */
export function ownerTag(owner: Owner = SELF): string {
  return `${owner.pid}.${owner.start}@${owner.host}`;
}

/** The tag at the start of a leftover's name (a pattern source, three groups: pid, start, host). */
export const TAG_PATTERN = '(\\d+)\\.(\\d+)@([A-Za-z0-9._-]+?)';

/** The owner a match of a pattern built on {@link TAG_PATTERN} names (its first three groups). */
export function ownerOf(match: RegExpExecArray): Owner {
  return { pid: Number(match[1]), start: Number(match[2]), host: match[3]! };
}

/**
 * Whether an owner may still be alive. Another host's owner always may (only its host can tell);
 * here, the pid must exist with the same start time. Our own pid with another start time is a
 * previous life of this process slot.
 */
export function ownerAlive(owner: Owner): boolean {
  if (owner.host !== HOST) return true;
  if (owner.pid === SELF.pid && owner.start === SELF.start) return true;
  const start = processStart(owner.pid);
  if (start === null) return SELF.start === 0 && owner.pid !== SELF.pid && pidExists(owner.pid); // no /proc: the pid alone
  return owner.start === 0 || start === owner.start;
}
