import { SourceConnectError, type DatabaseEndpoint, type SourceSession } from './source.js';

export * from './source.js';

/** Opens a session with a POSTGRES or MYSQL source; drivers load on first use. */
export async function openSource(endpoint: DatabaseEndpoint, timeoutMs = 10_000): Promise<SourceSession> {
  if (endpoint.type === 'POSTGRES') {
    const { PostgresSource } = await import('./postgres-source.js');
    return PostgresSource.open(endpoint, timeoutMs);
  }
  const { MysqlSource } = await import('./mysql-source.js');
  return MysqlSource.open(endpoint, timeoutMs);
}

/** Whether a source can be reached and read: logs in, lists what it can read, within `timeoutMs`. The message says what failed. */
export async function probeSource(endpoint: DatabaseEndpoint, timeoutMs = 10_000): Promise<{ ok: boolean; message: string; failure: string | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SourceConnectError('TIMEOUT', `no answer from ${endpoint.host}:${endpoint.port} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  const opening = openSource(endpoint, timeoutMs);
  try {
    const session = await Promise.race([opening, late]);
    const tables = await Promise.race([session.listTables(), late]);
    return { ok: true, message: `connected to ${endpoint.database} at ${endpoint.host}:${endpoint.port} as ${endpoint.username}; ${tables.length} table(s) readable`, failure: null };
  } catch (error) {
    if (error instanceof SourceConnectError) return { ok: false, message: error.message, failure: error.failure };
    return { ok: false, message: (error as Error).message, failure: 'OTHER' };
  } finally {
    clearTimeout(timer);
    void opening.then((session) => session.close()).catch(() => undefined); // also a session that opened too late
  }
}
