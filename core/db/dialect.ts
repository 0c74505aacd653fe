import type { EntityManager } from '@mikro-orm/knex';
import type { Dialect } from './sql.js';

/**
 * The few SQL fragments the metadata repositories write differently on SQLite and PostgreSQL.
 * Everything else they send is the SQL both accept; services never see either.
 */
export interface SqlFragments {
  readonly dialect: Dialect;
  /** `expr` holds the bound text as a plain substring, ignoring case ("%" and "_" are not wildcards). */
  containsText(expr: string): string;
  /** The ids of a JSON array bound as one parameter (any number of them), as rows of one text column `value`. */
  jsonIds(): string;
  /** A bound text value (PostgreSQL cannot infer a parameter's type inside a recursive query). */
  textParam(): string;
}

const SQLITE: SqlFragments = {
  dialect: 'sqlite',
  containsText: (expr) => `instr(lower(${expr}), lower(?)) > 0`,
  jsonIds: () => `select value from json_each(?)`,
  textParam: () => '?',
};

const POSTGRES: SqlFragments = {
  dialect: 'postgresql',
  containsText: (expr) => `strpos(lower(${expr}), lower(?)) > 0`,
  jsonIds: () => `select value from json_array_elements_text(cast(? as json))`,
  textParam: () => 'cast(? as text)',
};

/** The fragments for the database behind `em`. */
export function sqlOf(em: EntityManager): SqlFragments {
  return em.getPlatform().constructor.name.toLowerCase().includes('postgre') ? POSTGRES : SQLITE;
}

/** A date as a raw query answers it, back as a Date: SQLite's milliseconds, PostgreSQL's timestamps (null stays null). */
export function dateOf(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(value as number | string | Date);
}

/** A date as the database compares it with its stored dates: milliseconds in SQLite (MikroORM's storage), a timestamp in PostgreSQL. */
export function timeValue(em: EntityManager, date: Date): number | Date {
  return sqlOf(em).dialect === 'sqlite' ? date.getTime() : date;
}
