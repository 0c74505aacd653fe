import { join } from 'node:path';
import type { AgendaBackend } from 'agenda';

export const JOBS_FILE = 'jobs.db';

/**
 * The Agenda backend for a job store location: the embedded SQLite file in DATA_DIR by
 * default, or PostgreSQL (`postgres://…`, the scale-out path) through @agendajs/postgres-backend.
 * Imported on demand, so the default never loads the PostgreSQL driver.
 */
export async function openJobStore(dataDir: string, url?: string, options: { tableName?: string } = {}): Promise<AgendaBackend> {
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const { PostgresBackend } = await import('@agendajs/postgres-backend');
    const tableName = options.tableName ?? 'tributary_jobs';
    return connectingInTurn(new PostgresBackend({ connectionString: url, tableName, channelName: tableName }), url, tableName);
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
function connectingInTurn(backend: AgendaBackend, url: string, tableName: string): AgendaBackend {
  const connect = backend.connect.bind(backend);
  backend.connect = async () => {
    const { whileLocked } = await import('../../core/db/postgres.js');
    return whileLocked(url, `job-store-schema:${tableName}`, connect);
  };
  return backend;
}
