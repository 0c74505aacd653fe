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
    return retryingSchemaRace(new PostgresBackend({ connectionString: url, tableName, channelName: tableName }));
  }
  const { SqliteBackend } = await import('../store/index.js');
  return new SqliteBackend({ path: url ? url.replace(/^sqlite:(\/\/)?/i, '') : join(dataDir, JOBS_FILE) });
}

/**
 * @agendajs/postgres-backend creates its table with CREATE … IF NOT EXISTS on connect; two
 * processes starting together can both try, and the loser fails with a unique violation on
 * PostgreSQL's catalog. The schema then exists: connecting again succeeds.
 */
function retryingSchemaRace(backend: AgendaBackend): AgendaBackend {
  const connect = backend.connect.bind(backend);
  backend.connect = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect();
      } catch (error) {
        if ((error as { code?: string }).code !== '23505' || attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };
  return backend;
}
