import type pg from 'pg';
import { quoteIdent } from '../../core/db/sql.js';

/** A table to copy, and the columns that point at rows of the same table (set in a second pass). */
interface TableCopy {
  table: string;
  selfRefs?: string[];
  /** Written by triggers as the rows above were copied: emptied first, then copied as the source kept it. */
  replace?: boolean;
}

/**
 * The metadata tables in an order their foreign keys allow. Self-references (a join's sources, a
 * step run's chain run) are copied as null first and set once every row is there.
 */
export const METADATA_TABLES: TableCopy[] = [
  { table: 'setting' },
  { table: 'user_account' },
  { table: 'user_session' },
  { table: 'api_token' },
  { table: 'login_throttle' },
  { table: 'audit_event' },
  { table: 'datasource', selfRefs: ['join_left_id', 'join_right_id'] },
  { table: 'connection' },
  { table: 'connector' },
  { table: 'automation' },
  { table: 'automation_version' },
  { table: 'automation_io' },
  { table: 'chain_step' },
  { table: 'script_token' },
  { table: 'parameter_set' },
  { table: 'automation_parameter_set' },
  { table: 'template' },
  { table: 'ingestion_hour' },
  { table: 'lineage_version' },
  { table: 'lineage_change' },
  { table: 'run', selfRefs: ['parent_run_id'] },
  { table: 'run_log' },
  { table: 'openlineage_event' },
  { table: 'run_dataset' },
  { table: 'datasource_history', replace: true },
  { table: 'automation_history', replace: true },
  { table: 'automation_io_history', replace: true },
  { table: 'chain_step_history', replace: true },
];

/** Tables whose `id` comes from a sequence on PostgreSQL: the sequence continues after the copied ids. */
const SERIAL_TABLES = ['audit_event', 'ingestion_hour', 'automation_io', 'chain_step', 'script_token', 'automation_parameter_set', 'lineage_change', 'run_log', 'openlineage_event', 'run_dataset', 'datasource_history', 'automation_history', 'automation_io_history', 'chain_step_history'];

/** Rows per INSERT: well below PostgreSQL's 65,535 bound parameters for the widest table. */
const BATCH = 500;

type Row = Record<string, unknown>;

/** A SQLite value as the PostgreSQL column of `dataType` takes it. */
function convert(value: unknown, dataType: string): unknown {
  if (value === null || value === undefined) return null;
  if (dataType.startsWith('timestamp')) return new Date(typeof value === 'number' ? value : String(value));
  if (dataType === 'boolean') return value === true || value === 1 || value === '1' || value === 'true';
  if (dataType === 'jsonb' || dataType === 'json') return typeof value === 'string' ? value : JSON.stringify(value);
  return value;
}

/**
 * Copies every metadata row read by `read` into the PostgreSQL database of `client`, inside the
 * caller's transaction, converting SQLite's storage (times as milliseconds, booleans as 0/1,
 * JSON as text) by the target columns' types. Returns the rows copied per table.
 */
export async function copyMetadata(read: (table: string) => Promise<Row[]>, client: pg.ClientBase): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  for (const { table, selfRefs = [], replace = false } of METADATA_TABLES) {
    if (replace) await client.query(`delete from ${quoteIdent(table)}`);
    const types = new Map(
      (await client.query<{ column_name: string; data_type: string }>(`select column_name, data_type from information_schema.columns where table_schema = current_schema() and table_name = $1`, [table])).rows.map(
        (c) => [c.column_name, c.data_type],
      ),
    );
    const rows = await read(table);
    copied[table] = rows.length;
    if (rows.length === 0) continue;
    const columns = Object.keys(rows[0]!).filter((c) => types.has(c));
    for (let i = 0; i < rows.length; i += BATCH) {
      const chunk = rows.slice(i, i + BATCH);
      const params: unknown[] = [];
      const tuples = chunk.map((row) => `(${columns.map((c) => `$${params.push(selfRefs.includes(c) ? null : convert(row[c], types.get(c)!))}`).join(', ')})`);
      await client.query(`insert into ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) values ${tuples.join(', ')}`, params);
    }
    for (const column of selfRefs) {
      const linked = rows.filter((row) => row[column] != null);
      for (let i = 0; i < linked.length; i += BATCH * 10) {
        const chunk = linked.slice(i, i + BATCH * 10);
        await client.query(
          `update ${quoteIdent(table)} t set ${quoteIdent(column)} = v.ref from unnest($1::text[], $2::text[]) as v(id, ref) where t.id = v.id`,
          [chunk.map((row) => row.id), chunk.map((row) => row[column])],
        );
      }
    }
  }
  for (const table of SERIAL_TABLES) {
    await client.query(`select setval(pg_get_serial_sequence($1, 'id'), coalesce((select max(id) from ${quoteIdent(table)}), 0) + 1, false)`, [table]);
  }
  return copied;
}
