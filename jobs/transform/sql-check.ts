import type { Dialect } from '../../core/db/sql.js';
import { assertReadsOnly, ReadScopeError } from '../warehouse/read-scope.js';
import { SqliteDb } from '../warehouse/sqlite-db.js';
import { compileTransform, parseTransform, quoteIdent, TransformError, type Transform } from './pipeline.js';

/** Name of the stand-in for the input in the scratch database of {@link checkSqlTransform}. */
const STAND_IN = 'input_source';

/**
 * An ETL transform as it is checked when saved (and for a draft preview): parsed, against the
 * input's columns when they are known (`columns` empty: not known), and for SQL, compiled by SQLite
 * and held to reading only its input ({@link checkSqlTransform}).
 */
export async function checkTransform(json: unknown, columns: string[], dialect: Dialect = 'sqlite'): Promise<Transform> {
  const transform = parseTransform(json, columns.length > 0 ? columns : undefined);
  // PostgreSQL SQL need not compile on SQLite: the PostgreSQL warehouse confines it before every run and preview.
  if (dialect === 'sqlite') await checkSqlTransform(transform, columns);
  return transform;
}

/** The message of a ReadScopeError for an SQL transform (field `transform.sql`). */
export function readScopeMessage(error: ReadScopeError): string {
  return `an SQL transform may read only input (the step's input datasource), but this query ${error.refused.join('; ')}`;
}

/**
 * Save-time check that an SQL transform compiles and reads only its input, by the same engine
 * check the warehouse applies before every run and preview: the query is compiled (never run) in
 * an empty in-memory SQLite database where `input` is a table with the input's known columns, and
 * its bytecode may open no table but that one (no sqlite_master, no other table: none exists
 * there, no pragma_* or other table-valued function, nothing that writes). With unknown input
 * columns, a reference to an unknown column is left for the run to judge. Pipelines are compiled
 * by Tributary itself and are not checked here. With a PostgreSQL warehouse (`dialect`) only the
 * parse applies: the query is confined by PostgreSQL itself when it runs (see pg-scope.ts). Throws a TransformError at `transform.sql`.
 */
export async function checkSqlTransform(transform: Transform, columns?: string[]): Promise<void> {
  if (transform.kind !== 'sql') return;
  const known = columns && columns.length > 0 ? columns : null;
  const db = await SqliteDb.open(':memory:');
  try {
    await db.run(`create table main.${quoteIdent(STAND_IN)} (${(known ?? ['__input']).map(quoteIdent).join(', ')})`);
    const { sql } = compileTransform(transform, `main.${quoteIdent(STAND_IN)}`);
    await assertReadsOnly(db, `select * from (${sql})`, [], [{ schema: 'main', table: STAND_IN }]);
  } catch (error) {
    if (error instanceof TransformError) throw error;
    if (error instanceof ReadScopeError) throw new TransformError('transform.sql', readScopeMessage(error));
    if ((error as { code?: string }).code !== 'SQLITE_ERROR') throw error;
    const message = (error as Error).message.replace(/^SQLITE_ERROR: /, '');
    if (/^no such table: /i.test(message)) {
      throw new TransformError('transform.sql', `an SQL transform may read only input (the step's input datasource); ${message.replace(/^no such table: /i, '')} is not readable here`);
    }
    if (/^no such column: /i.test(message)) {
      if (!known) return; // the input's columns are not known yet: the run will tell
      throw new TransformError('transform.sql', `${message}; the input's columns are ${known.map((c) => JSON.stringify(c)).join(', ')}`);
    }
    throw new TransformError('transform.sql', `the SQL query does not compile: ${message}`);
  } finally {
    await db.close().catch(() => undefined);
  }
}
