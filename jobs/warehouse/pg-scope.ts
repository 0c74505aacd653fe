import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../../core/db/sql.js';
import { capRowsSql } from './pg-caps.js';
import { ReadScopeError } from './read-scope.js';

/**
 * How an SQL query (a transform, a preview) is held to reading only its inputs on PostgreSQL.
 * Three fences, the last two enforced by PostgreSQL itself:
 *
 * 1. A plan check, like SQLite's: the statement is planned (EXPLAIN, never run) as the reader role
 *    and every relation its plan scans must be one of the input's tables; catalogs, other
 *    datasources' tables, set-returning functions in FROM and writes are refused. Functions that
 *    reach outside the query (files, dynamic SQL, settings, dblink…) are refused by name first.
 * 2. The query runs as the *reader* role, which holds no privilege at all but SELECT on this
 *    query's own temporary views of its inputs (granted inside the query's transaction, so no
 *    other session ever sees them). It runs inside a SECURITY DEFINER function owned by the
 *    reader: PostgreSQL refuses `SET ROLE` / `set_config('role', …)` there, so the query cannot
 *    climb back to the warehouse's own role (a plain `SET LOCAL ROLE` could be undone that way).
 *    Its search_path is pg_temp, pg_catalog: the warehouse schema is not even named.
 * 3. The transaction is READ ONLY while the query runs: only the answer's temporary table is
 *    written, by the warehouse's own INSERT around the function.
 */

/** A relation a query may read (a table of the warehouse, or a temporary table of this session when `schema` is null). */
export interface AllowedRelation {
  schema: string | null;
  table: string;
}

/** Functions refused by name (also refused by privileges, the read-only transaction or the security-definer fence). */
const REFUSED_FUNCTIONS =
  /\b(dblink\w*|pg_read_file|pg_read_binary_file|pg_ls_\w+|pg_stat_file|lo_\w+|query_to_xml\w*|cursor_to_xml\w*|table_to_xml\w*|schema_to_xml\w*|database_to_xml\w*|ts_stat|ts_rewrite|set_config|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_advisory\w*|pg_notify|pg_file_write|pg_logdir_ls|current_setting|pg_logical_\w+|pg_replication_\w+)\s*\(/gi;

/** The reader role of a warehouse schema: cluster-wide, so named from the database and the schema. */
export function readerRoleOf(database: string, schema: string): string {
  return `${schema.slice(0, 40)}_reader_${createHash('sha256').update(`${database}/${schema}`).digest('hex').slice(0, 10)}`;
}

/**
 * Creates the reader role when missing: NOLOGIN, NOINHERIT, no privileges (only PUBLIC's), allowed
 * to create temporary objects; the warehouse's own role becomes a member so it can hand it the
 * confined functions. Needs CREATEROLE (or a superuser) the first time.
 */
export async function ensureReaderRole(pool: pg.Pool, schema: string): Promise<string> {
  const { rows } = await pool.query<{ db: string; su: boolean }>(`select current_database() as db, (select rolsuper from pg_roles where rolname = current_user) as su`);
  const { db, su } = rows[0]!;
  const role = readerRoleOf(db, schema);
  const exists = await pool.query(`select 1 from pg_roles where rolname = $1`, [role]);
  if (exists.rowCount === 0) {
    try {
      await pool.query(`create role ${quoteIdent(role)} nologin noinherit`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== '42710' && code !== '23505') throw error; // another process made it first
    }
  }
  if (!su) await pool.query(`grant ${quoteIdent(role)} to current_user`).catch(() => undefined);
  await pool.query(`grant temporary on database ${quoteIdent(db)} to ${quoteIdent(role)}`).catch(() => undefined);
  await pool.query(`revoke all on schema ${quoteIdent(schema)} from ${quoteIdent(role)}`).catch(() => undefined);
  return role;
}

/** Refusals of the plan check and PostgreSQL's own refusals, as a ReadScopeError; other errors unchanged. */
export function scopeError(error: unknown): unknown {
  const { code, message } = error as { code?: string; message?: string };
  if (!message) return error;
  if (code === '42501') {
    const table = /permission denied for (?:table|view|relation|sequence) (\S+)/.exec(message);
    const fn = /permission denied for function (\S+)/.exec(message);
    const schema = /permission denied for schema (\S+)/.exec(message);
    if (table) return new ReadScopeError([`reads ${table[1]} (permission denied)`]);
    if (fn) return new ReadScopeError([`calls ${fn[1]}() (permission denied)`]);
    if (schema) return new ReadScopeError([`reads from schema ${schema[1]} (permission denied)`]);
    if (/cannot set parameter "(role|session_authorization)"/.test(message)) return new ReadScopeError([`tries to change its role (${message})`]);
    return new ReadScopeError([`is refused by PostgreSQL (${message})`]);
  }
  if (code === '25006') return new ReadScopeError([`writes or changes the database (${message})`]);
  if (code === '42P01') return new ReadScopeError([`reads a relation that is not its input (${message})`]);
  if (code === '42601' && /multiple commands/.test(message)) return new ReadScopeError(['holds more than one statement']);
  return error;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  'Function Name'?: string;
  Operation?: string;
  Plans?: PlanNode[];
}

/**
 * Plans `statement` (a SELECT with no parameters; sent alone, so it must be one statement) as the
 * reader and refuses it unless every relation it scans is allowed. Runs in a savepoint of the
 * caller's transaction, which is left as it was.
 */
export async function assertPlanReadsOnly(client: pg.PoolClient, reader: string, statement: string, allowed: AllowedRelation[]): Promise<void> {
  const named = new Set<string>();
  for (const match of statement.replaceAll('"', '').matchAll(REFUSED_FUNCTIONS)) named.add(`calls ${match[1]!.toLowerCase()}()`);
  if (named.size > 0) throw new ReadScopeError([...named]);
  await client.query('savepoint read_scope');
  let plan: PlanNode;
  try {
    await client.query(`set local role ${quoteIdent(reader)}`);
    await client.query('set local search_path = pg_temp, pg_catalog');
    const { rows } = await client.query({ text: `explain (verbose, format json) ${statement} limit $1`, values: [1], queryMode: 'extended' } as pg.QueryConfig);
    const explained = rows[0]!['QUERY PLAN'];
    plan = (typeof explained === 'string' ? JSON.parse(explained) : explained)[0].Plan as PlanNode;
  } catch (error) {
    await client.query('rollback to savepoint read_scope');
    throw scopeError(error);
  }
  await client.query('rollback to savepoint read_scope');
  await client.query('release savepoint read_scope');
  const refused = new Set<string>();
  const visit = (node: PlanNode): void => {
    const relation = node['Relation Name'];
    if (node['Node Type'] === 'ModifyTable' || node.Operation !== undefined) refused.add('writes or changes the database');
    if (relation !== undefined) {
      const temp = node.Schema?.startsWith('pg_temp') ?? false;
      const ok = allowed.some((a) => a.table === relation && (a.schema === null ? temp : a.schema === node.Schema));
      if (!ok) refused.add(`reads ${node.Schema ? `${node.Schema}.` : ''}${relation}`);
    }
    if (node['Node Type'] === 'Function Scan' || node['Node Type'] === 'Table Function Scan') {
      refused.add(`uses a set-returning function in FROM (${node['Function Name'] ?? node['Node Type']}), which SQL transforms cannot use`);
    }
    if (node['Node Type'] === 'Foreign Scan' || node['Node Type'] === 'Custom Scan') refused.add(`reads through a ${node['Node Type']}`);
    node.Plans?.forEach(visit);
  };
  visit(plan);
  // Every expression of the plan, deparsed by PostgreSQL itself (quoting and escapes undone): refused functions by name again.
  for (const match of JSON.stringify(plan).matchAll(REFUSED_FUNCTIONS)) refused.add(`calls ${match[1]!.toLowerCase()}()`);
  if (refused.size > 0) throw new ReadScopeError([...refused]);
}

/** Column names of a relation of this session, from the catalog (never by running it). */
export async function catalogColumns(client: pg.PoolClient, relation: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select attname as name from pg_attribute where attrelid = to_regclass($1) and attnum > 0 and not attisdropped order by attnum`,
    [relation],
  );
  return rows.map((r) => r.name);
}

/**
 * Inside the caller's transaction, makes `statement` runnable only through the fences above:
 * grants the reader SELECT on `grants`, checks the plan, and creates a temporary view giving the
 * answer's shape (never selected from: it would run as the warehouse) and a SECURITY DEFINER
 * function owned by the reader that runs the statement. Returns the function and the shape.
 */
export async function confine(
  client: pg.PoolClient,
  reader: string,
  statement: string,
  grants: string[],
  allowed: AllowedRelation[],
  options: { planCheck?: boolean; valueCap?: number } = {},
): Promise<{ fn: string; shape: string; columns: string[] }> {
  for (const relation of new Set(grants)) await client.query(`grant select on ${relation} to ${quoteIdent(reader)}`);
  // planCheck false only in tests: they prove the fences PostgreSQL enforces hold on their own.
  if (options.planCheck !== false) await assertPlanReadsOnly(client, reader, statement, allowed);
  const id = randomUUID().replaceAll('-', '');
  const shape = `pg_temp.${quoteIdent(`shape_${id}`)}`;
  const fn = `pg_temp.${quoteIdent(`run_${id}`)}`;
  const tag = `$q${id}$`;
  if (statement.includes(tag)) throw new ReadScopeError(['holds the quoting tag of its own function']);
  let columns: string[];
  try {
    await client.query({ text: `create temporary view ${shape} as ${statement}`, queryMode: 'extended' } as pg.QueryConfig);
    columns = await catalogColumns(client, shape);
    // With a value cap (the caller made pg_temp's cap function), each row is judged as the function makes it.
    const body = options.valueCap === undefined ? statement : capRowsSql(statement, columns, options.valueCap);
    await client.query({
      text: `create function ${fn}() returns setof ${shape} language sql volatile security definer set search_path = pg_temp, pg_catalog as ${tag}\n${body}\n${tag}`,
      queryMode: 'extended',
    } as pg.QueryConfig);
    await client.query(`alter function ${fn}() owner to ${quoteIdent(reader)}`);
  } catch (error) {
    throw scopeError(error);
  }
  return { fn, shape, columns };
}
