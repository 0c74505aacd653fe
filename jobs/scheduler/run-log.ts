import type { Logger } from 'pino';
import type { RunService } from '../runs/run.service.js';

/** How often buffered log lines are written while a run goes on (ms): the run page shows them as they come. */
const FLUSH_MS = 500;

/** Collects a run's log lines (time-stamped) and writes them in batches. */
export class RunLogBuffer {
  private pending: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly runs: RunService,
    private readonly runId: string,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  line(text: string): void {
    for (const part of text.split(/\r?\n/)) this.pending.push(`${new Date().toISOString()} ${part}`);
  }

  flush(): Promise<void> {
    if (this.pending.length === 0) return this.flushing;
    const lines = this.pending;
    this.pending = [];
    this.flushing = this.flushing
      .then(() => this.runs.appendLog(this.runId, lines))
      .catch((error: unknown) => this.logger.warn({ err: error, runId: this.runId }, 'could not write run log lines'));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
