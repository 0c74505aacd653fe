import type { Orm } from '../../core/db/orm.js';

const TABLES = ['datasource', 'automation', 'automation_io', 'chain_step', 'script_token'];

/** Every row of every domain table, in a stable order: equal snapshots mean nothing was written. */
export async function snapshotDatabase(orm: Orm): Promise<Record<string, unknown[]>> {
  const connection = orm.em.getConnection();
  const snapshot: Record<string, unknown[]> = {};
  for (const table of TABLES) snapshot[table] = await connection.execute(`select * from "${table}" order by 1`);
  return snapshot;
}
