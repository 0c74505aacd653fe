import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DatasourceKind, JoinType } from '../../core/db/entities/index.js';
import { quoteIdent } from '../../core/db/sql.js';
import type { BadRecord } from '../../core/rows.js';
import type { FileRoots } from './file-roots.js';
import { readFileRows } from './files.js';
import { MAX_VALUE_BYTES, QueryTimeoutError } from './limits.js';
import { capRowsSql, ensureValueCap, rowSizeSql, valueCapError } from './pg-caps.js';
import { catalogColumns, confine, type AllowedRelation } from './pg-scope.js';

export { capRowsSql, ensureValueCap, valueCapError };
import { columnType, copyRows, inlineParams, resultTypes, ROW_ID, sqliteTypeName, typeOfValue, unifyTypes } from './pg-values.js';
import { MissingDataError, tableOf, type DataStats, type DatasourceSpec, type QueryInputs, type Row } from './warehouse.js';

/** Rows per COPY when a FILE is staged. */
const COPY_ROWS = 5_000;

/** What every session of one warehouse shares. */
export interface PgContext {
  pool: pg.Pool;
  schema: string;
  reader: string;
  files: FileRoots;
}

export const TYPES = resultTypes(pg.types);

type FileReadOptions = { onBadRecord?: (bad: BadRecord) => void; firstRows?: number };

/**
 * One pooled connection for one read or write. Relations handed out are temporary views (a
 * STORAGE table in row order, a JOIN) and temporary tables (a FILE, staged with COPY) of this
 * connection; nothing of it outlives the session (DISCARD ALL when it is given back). `signal`
 * cancels the running statement and refuses the next ones; `timeoutMs` is the statement_timeout
 * of its transactions.
 */
export class PgSession {
  private readonly loaded = new Map<string, string>();
  readonly grants: string[] = [];
  readonly allowed: AllowedRelation[] = [];
  private inTransaction = false;
  private closed = false;
  private broken = false;
  private readonly unbind: () => void;

  constructor(
    readonly ctx: PgContext,
    readonly client: pg.PoolClient,
    private readonly signal?: AbortSignal,
    private readonly timeoutMs?: number,
  ) {
    const stop = () => void this.cancel();
    signal?.addEventListener('abort', stop, { once: true });
    this.unbind = () => signal?.removeEventListener('abort', stop);
  }

  static async open(ctx: PgContext, signal?: AbortSignal, timeoutMs?: number): Promise<PgSession> {
    if (signal?.aborted) throw reasonOf(signal);
    return new PgSession(ctx, await ctx.pool.connect(), signal, timeoutMs);
  }

  /** Runs one statement; once the signal has aborted, fails with its reason instead. */
  async query<T extends pg.QueryResultRow = Row>(text: string, values: unknown[] = [], extended = false): Promise<pg.QueryResult<T>> {
    if (this.signal?.aborted) throw reasonOf(this.signal);
    try {
      return await this.client.query<T>({ text, values, types: TYPES, ...(extended ? { queryMode: 'extended' } : {}) } as pg.QueryConfig);
    } catch (error) {
      if (this.signal?.aborted) throw reasonOf(this.signal);
      if ((error as { code?: string }).code === '57014' && /statement timeout/.test((error as Error).message) && this.timeoutMs) throw new QueryTimeoutError(this.timeoutMs);
      throw error;
    }
  }

  async begin(): Promise<void> {
    await this.query('begin');
    this.inTransaction = true;
    await this.query('set local standard_conforming_strings = on');
    if (this.timeoutMs) await this.query(`set local statement_timeout = ${Math.max(1, Math.floor(this.timeoutMs))}`);
  }

  async commit(): Promise<void> {
    await this.query('commit');
    this.inTransaction = false;
  }

  async rollback(): Promise<void> {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    await this.client.query('rollback').catch(() => void (this.broken = true));
  }

  /** Stops the statement running now: PostgreSQL's cancel, from another connection. */
  async cancel(): Promise<void> {
    if (this.closed) return;
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (pid) await this.ctx.pool.query('select pg_cancel_backend($1)', [pid]).catch(() => undefined);
  }

  /** Runs `work` in a transaction, committed when it succeeds. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.begin();
    try {
      const result = await work();
      await this.commit();
      return result;
    } catch (error) {
      await this.rollback();
      throw error;
    }
  }

  /** The session's resolvers, bound, for query builders that destructure them. */
  inputs(): QueryInputs {
    return {
      dialect: 'postgresql',
      relationOf: (ds, options) => this.relationOf(ds, options),
      columnsOf: (relation) => this.columnsOf(relation),
      countOf: async (relation) => Number((await this.query<{ n: number }>(`select count(*) as n from ${relation} as q`)).rows[0]?.n ?? 0),
    };
  }

  /** A relation to select from: a view of the STORAGE table (in row order), a staged FILE, or a view of the JOIN. */
  async relationOf(ds: DatasourceSpec, options: FileReadOptions = {}): Promise<string> {
    if (ds.kind === DatasourceKind.FILE) return this.loadFile(ds, options);
    const view = `pg_temp.${quoteIdent(`v_${randomUUID().replaceAll('-', '')}`)}`;
    if (ds.kind === DatasourceKind.STORAGE) {
      const columns = await tableColumns(this, this.ctx.schema, tableOf(ds));
      if (columns === null) throw new MissingDataError(ds);
      const list = columns.filter((c) => c.name !== ROW_ID).map((c) => quoteIdent(c.name));
      await this.query(`create temporary view ${view} as select ${list.join(', ')} from ${quoteIdent(this.ctx.schema)}.${quoteIdent(tableOf(ds))} order by ${quoteIdent(ROW_ID)}`);
      this.allowed.push({ schema: this.ctx.schema, table: tableOf(ds) });
      this.grants.push(view);
      return view;
    }
    const join = ds.join!;
    const sources = { onBadRecord: options.onBadRecord };
    const [left, right] = [await this.relationOf(join.left, sources), await this.relationOf(join.right, sources)];
    const [leftColumns, rightColumns] = [await this.columnsOf(left), await this.columnsOf(right)];
    const taken = new Set(leftColumns);
    const select = [
      ...leftColumns.map((c) => `l.${quoteIdent(c)} as ${quoteIdent(c)}`),
      ...rightColumns.map((c) => `r.${quoteIdent(c)} as ${quoteIdent(taken.has(c) ? `${c}_right` : c)}`),
    ];
    const kind = join.type === JoinType.LEFT ? 'left join' : 'join';
    await this.query(`create temporary view ${view} as select ${select.join(', ')} from ${left} as l ${kind} ${right} as r on l.${quoteIdent(join.leftKey)} = r.${quoteIdent(join.rightKey)}`);
    this.grants.push(view);
    return view;
  }

  /** Column names of a relation handed out by this session (or any SELECT over them, in parentheses). */
  async columnsOf(relation: string): Promise<string[]> {
    if (!relation.startsWith('(')) {
      const columns = await catalogColumns(this.client, relation);
      if (columns.length > 0) return columns.filter((c) => c !== ROW_ID);
    }
    return (await this.query(`select * from ${relation} as q limit 0`)).fields.map((f) => f.name).filter((c) => c !== ROW_ID);
  }

  private async loadFile(ds: DatasourceSpec, options: FileReadOptions): Promise<string> {
    const existing = this.loaded.get(ds.id);
    if (existing) return existing;
    const table = `f_${ds.id.replaceAll('-', '')}_${randomUUID().slice(0, 8)}`;
    const stager = new PgStager(this, `pg_temp.${quoteIdent(table)}`);
    const view = `pg_temp.${quoteIdent(`${table}_v`)}`;
    const handle = await this.ctx.files.open(ds.path!); // checked against FILE_ROOTS and opened now; the descriptor is what is read
    try {
      let left = options.firstRows ?? Infinity;
      for await (const batch of readFileRows(ds.path!, { handle, signal: this.signal, batchSize: Math.min(COPY_ROWS, Math.max(1, left)), onBadRecord: options.onBadRecord })) {
        await stager.write(batch.length > left ? batch.slice(0, left) : batch);
        left -= batch.length;
        if (left <= 0) break; // a preview's sample: the rest of the file is never read
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
    await stager.ensureTable();
    // A view without the hidden row order column, in file order.
    await this.query(`create temporary view ${view} as select ${stager.names.map(quoteIdent).join(', ')} from ${stager.relation} order by ${quoteIdent(ROW_ID)}`);
    this.loaded.set(ds.id, view);
    this.allowed.push({ schema: null, table });
    this.grants.push(view);
    return view;
  }

  /**
   * Makes `sql` (with `params`) runnable through the read-scope fences (pg-scope.ts) in the open
   * transaction; returns the confined function and the answer's columns. With `valueCap`, the
   * function refuses a row over that many bytes as it makes it (a ValueTooLargeError once mapped
   * by valueCapError), before any later row is made.
   */
  async confine(sql: string, params: unknown[], valueCap?: number): Promise<{ fn: string; shape: string; columns: string[] }> {
    const statement = `select * from (\n${inlineParams(sql, params)}\n) as q`;
    if (valueCap !== undefined) await ensureValueCap(this);
    return confine(this.client, this.ctx.reader, statement, this.grants, this.allowed, { valueCap });
  }

  /** Gives the connection back clean (temporary objects, settings, locks dropped), or closes it when that fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.unbind();
    await this.rollback();
    this.closed = true;
    try {
      if (this.broken) throw new Error('broken');
      await this.client.query('discard all');
      this.client.release();
    } catch (error) {
      this.client.release(error instanceof Error ? error : true);
    }
  }
}

function reasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the statement was stopped');
}

/** Columns and types of a table (null when it does not exist). */
export async function tableColumns(session: PgSession, schema: string | null, table: string): Promise<{ name: string; type: string }[] | null> {
  const relation = schema === null ? `pg_temp.${quoteIdent(table)}` : `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const found = await session.query<{ id: string | null }>(`select to_regclass($1)::oid as id`, [relation]);
  if (!found.rows[0]?.id) return null;
  const { rows } = await session.query<{ name: string; type: string }>(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = $1 and attnum > 0 and not attisdropped order by attnum`,
    [found.rows[0].id],
  );
  return rows;
}

/**
 * Stages JavaScript rows into a temporary table with COPY: each column typed from its values
 * (whole numbers, numbers, text), widened when later rows need it, added when rows bring new keys;
 * the hidden ROW_ID keeps the order rows came in.
 */
export class PgStager {
  /** `untyped`: only nulls so far (stored as text), so the first typed values decide its type. */
  private columns: { name: string; type: string; untyped?: boolean }[] | null = null;
  rows = 0;

  constructor(
    private readonly session: PgSession,
    readonly relation: string,
  ) {}

  /** Takes over a table created by a query, so later rows can be added to it. */
  adopt(columns: { name: string; type: string }[], rows: number): void {
    this.columns = columns.filter((c) => c.name !== ROW_ID);
    this.rows = rows;
  }

  get names(): string[] {
    return (this.columns ?? []).map((c) => c.name);
  }

  async ensureTable(wanted: { name: string; type: string | null }[] = []): Promise<void> {
    if (this.columns === null) {
      this.columns = wanted.map((c) => ({ name: c.name, type: c.type ?? 'text', untyped: c.type === null }));
      const defs = [`${quoteIdent(ROW_ID)} bigint generated always as identity`, ...this.columns.map((c) => `${quoteIdent(c.name)} ${columnType(c.type)}`)];
      await this.session.query(`create temporary table ${this.relation} (${defs.join(', ')})`);
      return;
    }
    for (const { name, type } of wanted) {
      const column = this.columns.find((c) => c.name === name);
      if (!column) {
        await this.session.query(`alter table ${this.relation} add column ${quoteIdent(name)} ${columnType(type ?? 'text')}`);
        this.columns.push({ name, type: type ?? 'text', untyped: type === null });
      } else if (type !== null && (column.untyped || unifyTypes(column.type, type) !== column.type)) {
        const wider = column.untyped ? type : unifyTypes(column.type, type);
        column.untyped = false;
        await this.session.query(`alter table ${this.relation} alter column ${quoteIdent(name)} type ${columnType(wider)} using ${quoteIdent(name)}::${wider}`);
        column.type = wider;
      }
    }
  }

  async write(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const types = new Map<string, string | null>();
    for (const row of rows) {
      for (const key in row) {
        const type = typeOfValue(row[key]);
        const known = types.get(key);
        types.set(key, known === undefined || known === null ? type : type === null ? known : unifyTypes(known, type));
      }
    }
    await this.ensureTable([...types].map(([name, type]) => ({ name, type })));
    await copyRows(this.session.client, this.relation, this.names, rows);
    this.rows += rows.length;
  }
}

/** Columns with the type of their first non-null value (SQLite's names), and the row count. */
export async function statsOf(session: PgSession, relation: string): Promise<DataStats> {
  const probe = await session.query(`select * from ${relation} as q limit 0`);
  const fields = probe.fields.filter((f) => f.name !== ROW_ID);
  const present =
    fields.length > 0
      ? (await session.query(`select ${fields.map((f, i) => `exists (select 1 from ${relation} as q where q.${quoteIdent(f.name)} is not null) as c${i}`).join(', ')}`)).rows[0]!
      : {};
  const count = await session.query<{ n: number }>(`select count(*) as n from ${relation} as q`);
  return { columns: fields.map((f, i) => ({ name: f.name, type: present[`c${i}`] ? sqliteTypeName(f.dataTypeID) : 'null' })), rowCount: Number(count.rows[0]?.n ?? 0) };
}

/**
 * The rows of a confined function (or any relation's SELECT) of which only the leading ones that
 * fit in `maxBytes` reach JavaScript: the rows go to a temporary table first, the size of each is
 * judged there (values as text plus column names: close to their JSON), and only those that fit
 * are fetched. `total` is how many rows the SELECT gave. No row over MAX_VALUE_BYTES is kept even
 * there: it is a ValueTooLargeError, as on SQLite.
 */
export async function fetchCapped(
  session: PgSession,
  like: string,
  columns: string[],
  select: string,
  maxBytes: number,
  beforeInsert?: () => Promise<void>,
): Promise<{ rows: Row[]; total: number; firstBytes: number }> {
  const answer = `pg_temp.${quoteIdent(`answer_${randomUUID().replaceAll('-', '')}`)}`;
  const n = quoteIdent('__tributary_n');
  await session.query(`create temporary table ${answer} (${n} bigint generated always as identity, like ${like})`);
  await ensureValueCap(session);
  await beforeInsert?.();
  const list = columns.map(quoteIdent).join(', ');
  try {
    await session.query(`insert into ${answer} (${list}) ${capRowsSql(select, columns, MAX_VALUE_BYTES)}`);
  } catch (error) {
    throw valueCapError(error);
  }
  const size = rowSizeSql(columns);
  const sizes = (await session.query<{ size: number }>(`select (${size})::bigint as size from ${answer} order by ${n}`)).rows;
  let used = 0;
  let fit = 0;
  for (const row of sizes) {
    if (Number.isFinite(maxBytes) && used + Number(row.size) + 2 > maxBytes) break;
    used += Number(row.size) + 2;
    fit += 1;
  }
  const rows = fit > 0 ? (await session.query(`select ${list || '1 as "?"'} from ${answer} where ${n} <= $1 order by ${n}`, [fit])).rows : [];
  return { rows: columns.length === 0 ? rows.map(() => ({})) : rows, total: sizes.length, firstBytes: Number(sizes[0]?.size ?? 0) };
}
