import { randomUUID } from 'node:crypto';
import { quoteIdent } from '../../core/db/sql.js';
import type { SqliteDb } from './sqlite-db.js';
import type { DataStats } from './warehouse.js';

/** Whether `main` holds a table of this name. */
export async function tableExists(db: SqliteDb, table: string): Promise<boolean> {
  return !!(await db.get(`select 1 as found from main.sqlite_master where type = 'table' and name = ?`, [table]));
}

export async function columnsOf(db: SqliteDb, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  return db.all(`select name, type from pragma_table_info(?, ?)`, [table, schema]);
}

/** Columns with the type of their first non-null value, and the row count. */
export async function statsOf(db: SqliteDb, relation: string): Promise<DataStats> {
  const view = `stats_${randomUUID().replaceAll('-', '')}`;
  await db.run(`create temp view ${view} as select * from ${relation}`);
  try {
    const names = (await db.all<{ name: string }>(`select name from pragma_table_info('${view}', 'temp')`)).map((r) => r.name).filter((n) => n !== '__empty');
    const types =
      names.length > 0
        ? await db.get<Record<string, string | null>>(
            `select ${names.map((n) => `(select typeof(${quoteIdent(n)}) from temp.${view} where ${quoteIdent(n)} is not null limit 1) as ${quoteIdent(n)}`).join(', ')}`,
          )
        : {};
    const count = await db.get<{ n: number }>(`select count(*) as n from temp.${view}`);
    return { columns: names.map((name) => ({ name, type: types?.[name] ?? 'null' })), rowCount: count?.n ?? 0 };
  } finally {
    await db.run(`drop view temp.${view}`);
  }
}
