import pg from 'pg';
import { quoteIdent } from './sql.js';

/** How one of our stores connects to PostgreSQL. */
export interface PostgresPoolOptions {
  /** Shown in pg_stat_activity, e.g. `tributary-warehouse`. */
  applicationName: string;
  /** The schema the store keeps its tables in: created when missing, and first on the search path. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** Called when an idle connection fails (the server restarted, the network dropped): logged, never fatal. */
  onIdleError?: (error: Error) => void;
}

/** int8 (counts, sums) as a JavaScript number when it fits, as text otherwise: never silently rounded. */
function parseInt8(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * A connection pool for one store: its application name, its schema (created if missing) first on
 * the search path of every connection, int8 parsed as numbers, and idle-connection errors handed
 * to `onIdleError` instead of crashing the process.
 */
export async function openPostgresPool(url: string, options: PostgresPoolOptions): Promise<pg.Pool> {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema name ${JSON.stringify(schema)} must be lower-case letters, digits and _`);
  if (schema !== undefined) {
    const setup = new pg.Client({ connectionString: url, application_name: options.applicationName });
    await setup.connect();
    try {
      await setup.query(`create schema if not exists ${quoteIdent(schema)}`);
    } catch (error) {
      // Two processes creating it at once: the loser fails on pg_namespace's unique index, and the schema exists.
      if ((error as { code?: string }).code !== '23505') throw error;
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    types: TYPES,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema},public` }),
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

/** Runs `work` in one transaction on `client`: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(client: pg.ClientBase, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** {@link inTransaction} on a connection of `pool`, given back afterwards. */
export async function poolTransaction<T>(pool: pg.Pool, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, work);
  } finally {
    client.release();
  }
}

/** The first key of Tributary's transaction-scoped advisory locks (the second is a hash of a name). */
const ADVISORY_LOCK_CLASS = 0x7472_6962; // "trib"

/**
 * The statement that makes transactions naming the same key (the one parameter, given as
 * `placeholder`: `?` or `$1`) take turns until they end. For what no row lock covers: a table
 * not created yet, or the runs of one automation.
 */
export function advisoryLockSql(placeholder: string): string {
  return `select pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, hashtext(${placeholder}))`;
}

/**
 * Runs `work` while holding a session-level advisory lock named `name`, on a connection of its
 * own: for what other processes must not do at the same moment outside any transaction of ours,
 * such as a library creating its tables on connect.
 */
export async function whileLocked<T>(url: string, name: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'tributary-lock' });
  // Losing the connection loses the lock; uncaught, the 'error' event would end the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(${ADVISORY_LOCK_CLASS}, hashtext($1))`, [name]);
    return await work();
  } finally {
    // Ending the session releases the lock, also when unlocking failed.
    await client.end().catch(() => undefined);
  }
}
