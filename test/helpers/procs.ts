import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The state letter of a process (R, S, Z…), or null when there is none with this pid. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** True while a process with this pid runs (a zombie runs nothing). */
export function running(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}

/** Host pids of running processes whose command line holds `marker` (a script sets it with process.title, or passes it to a child). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker) && running(Number(name))) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Host pids of running processes in a PID namespace (its inode number, as bwrap reports it). */
export function processesInNamespace(namespace: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (readlinkSafe(`/proc/${name}/ns/pid`) === `pid:[${namespace}]` && running(Number(name))) found.push(Number(name));
  }
  return found;
}

function readlinkSafe(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** The real uid a process runs as on the host, or null when it is gone. */
export function hostUid(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    return line ? Number(line.split(/\s+/)[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The pids still running after up to `withinMs`: a sandbox's processes die when its PID
 * namespace's init is killed, which the kernel finishes a moment after the run has ended (longer
 * on a loaded machine). A script that was not killed (it sleeps or loops far longer) stays listed.
 */
export async function stillRunningAfter(pids: number[], withinMs = 3_000): Promise<number[]> {
  for (let waited = 0; pids.some(running) && waited < withinMs; waited += 50) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(running);
}
