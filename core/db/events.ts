import type { EntityManager } from '@mikro-orm/knex';
import pg from 'pg';
import { sqlOf } from './dialect.js';
import { sleep, type StoreLocation } from './sql.js';

/**
 * What processes sharing a PostgreSQL database tell each other at once (LISTEN/NOTIFY on one
 * channel): the lineage changed (every API process catches its graph up), or runs were asked to
 * stop (the worker running them cancels them). On SQLite there is no channel: processes find out
 * as before, by the change log each request checks and the run heartbeat.
 */
export type ProcessEvent = { type: 'lineage'; version: number } | { type: 'cancel'; runIds: string[] };

export const EVENTS_CHANNEL = 'tributary_events';

/** NOTIFY payloads are limited to 8000 bytes; a cancel of more runs than fit is split. */
const MAX_PAYLOAD = 7_000;

/**
 * Announces `event` from inside a write transaction: PostgreSQL delivers it when (and only if)
 * the transaction commits. Nothing on SQLite.
 */
export async function notifyInTransaction(em: EntityManager, event: ProcessEvent): Promise<void> {
  if (sqlOf(em).dialect !== 'postgresql') return;
  for (const payload of payloads(event)) await em.execute('select pg_notify(?, ?)', [EVENTS_CHANNEL, payload]);
}

function payloads(event: ProcessEvent): string[] {
  const whole = JSON.stringify(event);
  if (whole.length <= MAX_PAYLOAD || event.type !== 'cancel') return [whole];
  const half = Math.ceil(event.runIds.length / 2);
  return [...payloads({ type: 'cancel', runIds: event.runIds.slice(0, half) }), ...payloads({ type: 'cancel', runIds: event.runIds.slice(half) })];
}

export interface EventListener {
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Called with each event another process (or this one) announced. */
  onEvent: (event: ProcessEvent) => void;
  /** Called after the connection was lost and is back: events may have been missed meanwhile. */
  onReconnect?: () => void;
  onError?: (error: Error) => void;
}

/**
 * Listens for events on the database at `location` with a connection of its own, reconnecting
 * (with backoff) when it drops. Null on SQLite, which has no channel.
 */
export async function listenForEvents(location: StoreLocation, options: ListenOptions): Promise<EventListener | null> {
  if (location.dialect !== 'postgresql') return null;
  let client: pg.Client | undefined;
  let closed = false;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: location.url, application_name: 'tributary-events' });
    next.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL || !message.payload) return;
      try {
        options.onEvent(JSON.parse(message.payload) as ProcessEvent);
      } catch (error) {
        options.onError?.(error as Error);
      }
    });
    next.on('error', (error) => {
      options.onError?.(error);
      void reconnect(next);
    });
    next.on('end', () => void reconnect(next));
    await next.connect();
    await next.query(`LISTEN ${EVENTS_CHANNEL}`);
    client = next;
  };

  const reconnect = async (lost: pg.Client): Promise<void> => {
    if (closed || client !== lost) return;
    client = undefined;
    lost.removeAllListeners();
    lost.on('error', () => undefined);
    for (let attempt = 1; !closed; attempt++) {
      await sleep(Math.min(5_000, 100 * 2 ** attempt));
      try {
        await connect();
        options.onReconnect?.();
        return;
      } catch (error) {
        options.onError?.(error as Error);
      }
    }
  };

  await connect();
  return {
    async close() {
      closed = true;
      const current = client;
      client = undefined;
      current?.removeAllListeners();
      current?.on('error', () => undefined);
      await current?.end().catch(() => undefined);
    },
  };
}
