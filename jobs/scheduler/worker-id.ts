import { hostname } from 'node:os';

/** How long a run's heartbeat may be silent before a process on another host is presumed dead. */
export const STALE_HEARTBEAT_MS = 60_000;

/**
 * Who runs a run: "host:pid:startMs". On the same host a worker is alive while its pid is, and
 * the pid still belongs to it (a restarted server reusing the pid has another start time).
 * Elsewhere, only the run's heartbeat can tell.
 */
export class WorkerIdentity {
  readonly id: string;
  private readonly host = hostname();

  constructor(readonly pid = process.pid, readonly startedAt = Date.now()) {
    this.id = `${this.host}:${pid}:${startedAt}`;
  }

  isAlive(worker: string, heartbeatAt: Date | null, now = Date.now()): boolean {
    if (worker === this.id) return true;
    const match = /^(.*):(\d+):(\d+)$/.exec(worker);
    if (!match) return false;
    const [, host, pid] = match;
    if (host === this.host) {
      if (Number(pid) === this.pid) return false; // our pid, another start: a previous life of this process slot
      return pidAlive(Number(pid)) && (heartbeatAt === null || now - heartbeatAt.getTime() < STALE_HEARTBEAT_MS * 10);
    }
    return heartbeatAt !== null && now - heartbeatAt.getTime() < STALE_HEARTBEAT_MS;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
