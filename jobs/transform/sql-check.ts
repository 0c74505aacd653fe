import type { Dialect } from '../../core/db/sql.js';
import { assertReadsOnly, ReadScopeError } from '../warehouse/read-scope.js';
import { SqliteDb } from '../warehouse/sqlite-db.js';
import type { ColumnInfo, Warehouse } from '../warehouse/warehouse.js';
import { compileTransform, parseTransform, quoteIdent, TransformError, type Transform } from './pipeline.js';

/** Name of the stand-in for the input in the scratch database of {@link checkSqlTransform}. */
const STAND_IN = 'input_source';

/** What checks an SQL transform when it is saved: the warehouse's dialect, and its own check when it has one. */
export type SqlChecker = Pick<Warehouse, 'dialect' | 'checkSql'>;

/** A column of the input as the metadata knows it: a name, or a name and a type. */
export type InputColumn = string | ColumnInfo;

/**
 * An ETL transform as it is checked when saved (and for a draft preview): parsed, against the
 * input's columns when they are known (`columns` empty: not known), and for SQL, held to reading
 * only its input by the warehouse's engine: compiled by SQLite ({@link checkSqlTransform}) or, on
 * a PostgreSQL warehouse, planned by PostgreSQL as the reader role ({@link checkWarehouseSql}).
 */
export async function checkTransform(json: unknown, columns: InputColumn[], warehouse: SqlChecker | Dialect = 'sqlite'): Promise<Transform> {
  const names = columns.map((c) => (typeof c === 'string' ? c : c.name));
  const transform = parseTransform(json, names.length > 0 ? names : undefined);
  const checker: SqlChecker = typeof warehouse === 'string' ? { dialect: warehouse } : warehouse;
  if (checker.dialect === 'sqlite') await checkSqlTransform(transform, names);
  else if (transform.kind === 'sql' && checker.checkSql) await checkWarehouseSql(checker, transform.sql, columns);
  return transform;
}

/**
 * PostgreSQL's errors a save refuses: what does not parse or resolve whatever the input's types
 * (syntax, ambiguity, grouping…), and unknown columns when the input's columns are known. Errors that
 * depend on the column types (unknown function for these argument types, type mismatches) and data
 * errors are left to the run, as the stand-in's types are only as good as the metadata's.
 */
const TYPE_DEPENDENT = new Set(['42883', '42804', '42846', '42725', '42P18']);

/** The PostgreSQL side of {@link checkTransform}: the warehouse's plan check, its errors as TransformErrors at `transform.sql`. */
async function checkWarehouseSql(checker: SqlChecker, sql: string, columns: InputColumn[]): Promise<void> {
  const known = columns.length > 0 ? columns.map((c) => (typeof c === 'string' ? { name: c, type: '' } : c)) : null;
  try {
    await checker.checkSql!(sql, known);
  } catch (error) {
    if (error instanceof ReadScopeError) throw new TransformError('transform.sql', readScopeMessage(error));
    const { code, message } = error as { code?: string; message?: string };
    if (typeof code !== 'string' || message === undefined) throw error;
    if (code === '42703') {
      if (!known) return; // the input's columns are not known yet: the run will tell
      const column = /column "?([^"]+?)"? does not exist/.exec(message)?.[1] ?? message;
      throw new TransformError('transform.sql', `no such column: ${column.replace(/^q\./, '')}; the input's columns are ${known.map((c) => JSON.stringify(c.name)).join(', ')}`);
    }
    if (code.startsWith('42') && !TYPE_DEPENDENT.has(code)) throw new TransformError('transform.sql', `the SQL query does not compile: ${message}`);
    if (/^(42|22|0A)/.test(code) || code === '57014') return; // type-dependent, data errors, or planning past the time limit: the run judges
    throw error;
  }
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
 * by Tributary itself and are not checked here. A PostgreSQL warehouse checks in PostgreSQL
 * instead (Warehouse.checkSql, pg-scope.ts). Throws a TransformError at `transform.sql`.
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
