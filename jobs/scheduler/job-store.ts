import { join } from 'node:path';
import type { AgendaBackend } from 'agenda';

export const JOBS_FILE = 'jobs.db';

/**
 * The Agenda backend for a job store location: the embedded SQLite file in DATA_DIR by
 * default, or PostgreSQL (`postgres://…`, the scale-out path) through @agendajs/postgres-backend.
 * Imported on demand, so the default never loads the PostgreSQL driver.
 */
export async function openJobStore(dataDir: string, url?: string): Promise<AgendaBackend> {
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const { PostgresBackend } = await import('@agendajs/postgres-backend');
    return new PostgresBackend({ connectionString: url, tableName: 'tributary_jobs', channelName: 'tributary_jobs' });
  }
  const { SqliteBackend } = await import('../store/index.js');
  return new SqliteBackend({ path: url ? url.replace(/^sqlite:(\/\/)?/i, '') : join(dataDir, JOBS_FILE) });
}
