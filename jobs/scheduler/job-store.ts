import { join } from 'node:path';
import type { AgendaBackend } from 'agenda';
import type { Pool } from 'pg';

export const JOBS_FILE = 'jobs.db';

export interface JobStoreOptions {
  /** The PostgreSQL job table (and notification channel) name: `tributary_jobs` by default. */
  tableName?: string;
  /** Told when a PostgreSQL connection of the store is lost (it is replaced): for the log, never fatal. */
  onConnectionError?: (error: Error) => void;
}

/**
 * The Agenda backend for a job store location: the embedded SQLite file in DATA_DIR by
 * default, or PostgreSQL (`postgres://…`, the scale-out path) through @agendajs/postgres-backend.
 * Imported on demand, so the default never loads the PostgreSQL driver.
 */
export async function openJobStore(dataDir: string, url?: string, options: JobStoreOptions = {}): Promise<AgendaBackend> {
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const { PostgresBackend } = await import('@agendajs/postgres-backend');
    const tableName = options.tableName ?? 'tributary_jobs';
    const backend = new PostgresBackend({ connectionString: url, tableName, channelName: tableName });
    const onError = options.onConnectionError ?? (() => undefined);
    // The channel reconnects by itself, but an 'error' event nobody hears would end the process.
    backend.notificationChannel?.on('error', onError);
    return connectingInTurn(backend, url, tableName, onError);
  }
  const { SqliteBackend } = await import('../store/index.js');
  return new SqliteBackend({ path: url ? url.replace(/^sqlite:(\/\/)?/i, '') : join(dataDir, JOBS_FILE) });
}

/**
 * @agendajs/postgres-backend creates its table, indexes and trigger function on connect, with
 * statements that fail when two processes run them at once (a unique violation on PostgreSQL's
 * catalog, or "tuple concurrently updated" on CREATE OR REPLACE FUNCTION). Processes starting
 * together take turns under an advisory lock instead.
 */
function connectingInTurn(backend: AgendaBackend, url: string, tableName: string, onIdleError: (error: Error) => void): AgendaBackend {
  const connect = backend.connect.bind(backend);
  backend.connect = async () => {
    const { whileLocked } = await import('../../core/db/postgres.js');
    await whileLocked(url, `job-store-schema:${tableName}`, connect);
    hearIdleErrors(backend, onIdleError);
  };
  return backend;
}

/**
 * The backend's own pool (made on connect, again after a disconnect) has no 'error' listener, so
 * an idle connection the server ends (a restart, pg_terminate_backend) would be an uncaught
 * error that ends the process. The pool drops that connection and opens another when needed.
 */
function hearIdleErrors(backend: AgendaBackend, onIdleError: (error: Error) => void): void {
  const pool = (backend.repository as unknown as { getPool?: () => Pool }).getPool?.();
  if (!pool) throw new Error('@agendajs/postgres-backend no longer exposes its pool: its idle-connection errors would be uncaught');
  if (!pool.listeners('error').includes(onIdleError)) pool.on('error', onIdleError);
}
