import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenLineageConfig } from '../../core/config.js';
import type { NamingContext } from './naming.js';
import { producerUri, runEvent } from './run-events.js';

/** What the run lifecycle tells the emitter; neither call waits or throws. */
export interface RunEventSink {
  started(runId: string): void;
  finished(runId: string): void;
  /** Sends what is queued, for at most `graceMs`, then gives up on the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Nothing is sent (OPENLINEAGE_URL unset). */
export const NO_EVENTS: RunEventSink = { started: () => undefined, finished: () => undefined, close: async () => undefined };

export interface EmitterOptions {
  config: OpenLineageConfig & { url: URL };
  naming: () => NamingContext;
  em: () => EntityManager;
  logger: Logger;
  version: string;
  /** Waits between attempts (ms): the defaults retry for about half a minute. */
  backoffMs?: number[];
  /** Events waiting beyond this are dropped, oldest first, and counted. */
  maxQueued?: number;
  /** One attempt's time limit (ms). */
  timeoutMs?: number;
}

const RETRYABLE = (status: number) => status >= 500 || status === 408 || status === 429;

/** Where events go: the receiver's base URL with the OpenLineage clients' default path, unless it names one. */
export function lineageEndpoint(url: URL): string {
  return /\/api\/v1\/lineage\/?$/.test(url.pathname) ? url.toString() : new URL('api/v1/lineage', url.toString().endsWith('/') ? url : `${url.toString()}/`).toString();
}

/**
 * Sends OpenLineage events of Tributary's runs to OPENLINEAGE_URL, in order, one at a time, in the
 * background: a run only queues a note (run id and phase), never waits on the receiver, and no
 * failure of it reaches the run. Events are built when their turn comes (from the database),
 * tried again with growing waits on network errors, 5xx, 408 and 429, and dropped with a warning
 * after the last try, on another 4xx, or when the queue is full. The key is never logged.
 */
export class OpenLineageEmitter implements RunEventSink {
  private readonly queue: { runId: string; phase: 'start' | 'end' }[] = [];
  private wake: (() => void) | null = null;
  private closing = false;
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;
  private readonly endpoint: string;
  readonly stats = { sent: 0, dropped: 0, retries: 0 };

  constructor(private readonly options: EmitterOptions) {
    this.endpoint = lineageEndpoint(options.config.url);
    this.loop = this.run();
  }

  started(runId: string): void {
    this.push(runId, 'start');
  }

  finished(runId: string): void {
    this.push(runId, 'end');
  }

  private push(runId: string, phase: 'start' | 'end'): void {
    if (this.closing) return;
    if (this.queue.length >= (this.options.maxQueued ?? 10_000)) {
      this.queue.shift();
      this.stats.dropped += 1;
      if (this.stats.dropped === 1 || this.stats.dropped % 1000 === 0) this.options.logger.warn({ dropped: this.stats.dropped }, 'OpenLineage events dropped: the receiver is not keeping up');
    }
    this.queue.push({ runId, phase });
    this.wake?.();
  }

  async close(graceMs = 5_000): Promise<void> {
    this.closing = true;
    this.wake?.();
    const timer = setTimeout(() => this.stop.abort(), graceMs);
    await this.loop;
    clearTimeout(timer);
    if (this.queue.length > 0) this.options.logger.warn({ unsent: this.queue.length }, 'OpenLineage events not sent before shutdown');
  }

  private async run(): Promise<void> {
    for (;;) {
      const next = this.queue[0];
      if (!next) {
        if (this.closing) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      if (this.stop.signal.aborted) return;
      try {
        const event = await runEvent(this.options.em(), next.runId, next.phase, this.options.naming(), producerUri(this.options.version));
        if (event) await this.send(event, next.runId);
      } catch (error) {
        this.options.logger.warn({ err: error, runId: next.runId }, 'could not build an OpenLineage event');
      }
      this.queue.shift();
    }
  }

  private async send(event: Record<string, unknown>, runId: string): Promise<void> {
    const waits = this.options.backoffMs ?? [1_000, 2_000, 4_000, 8_000, 16_000];
    const body = JSON.stringify(event);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.config.apiKey) headers.authorization = `Bearer ${this.options.config.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      let problem: string;
      try {
        const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]);
        const response = await fetch(this.endpoint, { method: 'POST', headers, body, signal });
        await response.body?.cancel().catch(() => undefined);
        if (response.ok) {
          this.stats.sent += 1;
          return;
        }
        problem = `HTTP ${response.status}`;
        if (!RETRYABLE(response.status)) return this.drop(runId, event, problem);
      } catch (error) {
        if (this.stop.signal.aborted) return;
        // The error's code or name only: a message may quote the request's headers, key included.
        const cause = (error as Error).cause as { code?: unknown } | undefined;
        problem = typeof cause?.code === 'string' ? cause.code : (error as Error).name;
      }
      if (attempt >= waits.length) return this.drop(runId, event, problem);
      this.stats.retries += 1;
      await sleep(waits[attempt]!, undefined, { signal: this.stop.signal }).catch(() => undefined);
      if (this.stop.signal.aborted) return;
    }
  }

  private drop(runId: string, event: Record<string, unknown>, problem: string): void {
    this.stats.dropped += 1;
    this.options.logger.warn({ runId, eventType: event.eventType, endpoint: this.endpoint, problem }, 'an OpenLineage event was not accepted by the receiver and is dropped');
  }
}
