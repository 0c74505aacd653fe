import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { DatasourceKind, WriteMode } from '../../core/db/entities/index.js';
import { advisoryLockSql, openPostgresPool } from '../../core/db/postgres.js';
import { quoteIdent } from '../../core/db/sql.js';
import { compileTransform } from '../transform/pipeline.js';
import { rowObjects } from './files.js';
import { pageFile } from './file-page.js';
import { FileRoots } from './file-roots.js';
import { AnswerTooLargeError, MAX_RUN_VALUE_BYTES, MAX_VALUE_BYTES, RequestLimiter, capRows } from './limits.js';
import { ensureReaderRole, scopeError as scopeOrSame } from './pg-scope.js';
import { ReadScopeError } from './read-scope.js';
import { fetchCapped, PgSession, PgStager, statsOf, tableColumns, valueCapError, type PgContext } from './pg-session.js';
import { columnType, ROW_ID, unifyTypes } from './pg-values.js';
import { MissingDataError, tableOf, type ColumnInfo, type CopyColumn, type DataStats, type DatasourceSpec, type QueryBuilder, type ReadOptions, type Row, type RowPage, type Warehouse, type WarehouseWrite } from './warehouse.js';

export interface PostgresWarehouseOptions {
  /** FILE_ROOTS (real paths); default `DATA_DIR/files`. */
  fileRoots?: string[];
  /** QUERY_TIMEOUT_MS: the time limit of the work a request asks for (default 10 s); also the statement_timeout of that work. */
  queryTimeoutMs?: number;
  /** The schema the warehouse keeps its tables in (default `tributary_warehouse`); created when missing. */
  schema?: string;
  /** DATA_DIR: FILE datasources never read Tributary's own files (default `./data`). */
  dataDir?: string;
  /** Files outside DATA_DIR that FILE datasources must never read (the metadata database, the job store). */
  protectedFiles?: string[];
  /** Requests whose warehouse work runs at once (default 3, of which 2 previews). */
  requestConcurrency?: number;
  /** Connections of the pool (default 20): every read or write in progress holds one. */
  maxConnections?: number;
}

export const DEFAULT_WAREHOUSE_SCHEMA = 'tributary_warehouse';

/**
 * The warehouse in PostgreSQL (`WAREHOUSE_URL=postgres://…`), behind the same interface as the
 * SQLite one and with the same behaviour: STORAGE datasources are tables of their own schema
 * (named from their ids, a hidden ROW_ID keeping row order as SQLite's rowid does), FILE ones are
 * read by streaming and staged with COPY, JOIN ones are views over their sources. Writes are
 * staged in a temporary table of the write's own connection (invisible to everyone else, gone
 * with it) and applied in one transaction. SQL from transforms runs confined (pg-scope.ts).
 */
export class PostgresWarehouse implements Warehouse {
  readonly dialect = 'postgresql' as const;

  private constructor(
    private readonly ctx: PgContext,
    readonly files: FileRoots,
    readonly requests: RequestLimiter,
    /** OpenLineage's PostgreSQL naming: `postgres://host:port`, tables as `database.schema.table`. */
    readonly lineageNaming: { namespace: string; tablePrefix: string },
  ) {}

  /** The schema of the warehouse's tables and the role confined queries run as. */
  get schema(): string {
    return this.ctx.schema;
  }
  get readerRole(): string {
    return this.ctx.reader;
  }

  static async open(url: string, options: PostgresWarehouseOptions = {}): Promise<PostgresWarehouse> {
    const schema = options.schema ?? DEFAULT_WAREHOUSE_SCHEMA;
    const files = new FileRoots({ roots: options.fileRoots, dataDir: options.dataDir ?? resolve('data'), protectedFiles: options.protectedFiles });
    const requests = new RequestLimiter(options.queryTimeoutMs ?? 10_000, options.requestConcurrency);
    const pool = await openPostgresPool(url, { applicationName: 'tributary-warehouse', schema, max: options.maxConnections ?? 20 });
    try {
      const reader = await ensureReaderRole(pool, schema);
      return new PostgresWarehouse({ pool, schema, reader, files }, files, requests, postgresLineageNaming(url, schema));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  private table(ds: { id: string }): string {
    return `${quoteIdent(this.ctx.schema)}.${quoteIdent(tableOf(ds))}`;
  }

  /** A session whose reads are bounded: the request's signal, and the time limit as statement_timeout. */
  private bounded(options: ReadOptions): Promise<PgSession> {
    return PgSession.open(this.ctx, options.signal, options.signal ? this.requests.timeoutMs : undefined);
  }

  async page(ds: DatasourceSpec, first: number, after?: string | null, options: ReadOptions = {}): Promise<RowPage> {
    if (ds.kind === DatasourceKind.FILE) return pageFile(this.files, ds, first, after, options);
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const session = await this.bounded(options);
    try {
      await session.begin();
      if (ds.kind === DatasourceKind.STORAGE) {
        const columns = await tableColumns(session, this.ctx.schema, tableOf(ds));
        if (columns === null) return { columns: [], rows: [], endCursor: null };
        const names = columns.map((c) => c.name).filter((c) => c !== ROW_ID);
        const from = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
        const id = quoteIdent(ROW_ID);
        const size = names.map((c) => `coalesce(octet_length(cast(${quoteIdent(c)} as text)), 4) + ${Buffer.byteLength(JSON.stringify(c)) + 2}`).join(' + ') || '2';
        const sizes = (await session.query<{ id: number; size: number }>(`select ${id} as id, (${size})::bigint as size from ${this.table(ds)} where ${id} > $1 order by ${id} limit $2`, [from, first + 1])).rows;
        let used = 0;
        let fit = 0;
        for (const row of sizes.slice(0, first)) {
          if (Number.isFinite(maxBytes) && used + Number(row.size) + 2 > maxBytes) break;
          used += Number(row.size) + 2;
          fit += 1;
        }
        if (fit === 0 && sizes.length > 0 && first > 0) throw new AnswerTooLargeError(Number(sizes[0]!.size), maxBytes);
        const last = sizes[fit - 1]?.id;
        const list = names.map(quoteIdent).join(', ');
        const rows = fit > 0 ? (await session.query(`select ${list || '1 as "?"'} from ${this.table(ds)} where ${id} > $1 and ${id} <= $2 order by ${id}`, [from, last])).rows : [];
        const { rows: kept } = capRows(names.length === 0 ? rows.map(() => ({})) : rows, maxBytes, true);
        const more = sizes.length > kept.length;
        const cursorId = sizes[kept.length - 1]?.id;
        return { columns: names, rows: kept, endCursor: more && cursorId !== undefined ? Buffer.from(String(cursorId)).toString('base64url') : null };
      }
      // JOIN: an offset cursor over the join's query order.
      const offset = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
      const relation = await session.relationOf(ds);
      const columns = await session.columnsOf(relation);
      const fetched = await fetchCapped(session, relation, columns, `select * from ${relation} as q limit ${Math.floor(first) + 1} offset ${Math.floor(offset)}`, maxBytes);
      const { rows: kept } = capRows(fetched.rows.slice(0, first), maxBytes, true);
      if (kept.length === 0 && fetched.total > 0 && first > 0) throw new AnswerTooLargeError(fetched.firstBytes, maxBytes);
      const more = fetched.total > kept.length;
      return { columns, rows: kept, endCursor: more ? Buffer.from(String(offset + kept.length)).toString('base64url') : null };
    } finally {
      await session.close();
    }
  }

  async stats(ds: DatasourceSpec): Promise<DataStats | null> {
    const session = await PgSession.open(this.ctx);
    try {
      if (ds.kind === DatasourceKind.STORAGE && (await tableColumns(session, this.ctx.schema, tableOf(ds))) === null) return null;
      await session.begin();
      return await statsOf(session, await session.relationOf(ds));
    } finally {
      await session.close();
    }
  }

  async openWrite(target: DatasourceSpec, mode: WriteMode, keys: string[] = [], options: { signal?: AbortSignal } = {}): Promise<WarehouseWrite> {
    if (target.kind !== DatasourceKind.STORAGE) throw new Error(`only STORAGE datasources can be written, not ${target.kind}`);
    if (mode === WriteMode.UPSERT && keys.length === 0) throw new Error('UPSERT needs key columns');
    return new PgWrite(await PgSession.open(this.ctx, options.signal), this.ctx.schema, target, mode, keys);
  }

  async query(build: QueryBuilder, limit: number, options: ReadOptions = {}): Promise<{ columns: string[]; rows: Row[]; truncated: boolean }> {
    const session = await this.bounded(options);
    try {
      await session.begin();
      const { sql, params } = await build(session.inputs());
      const { fn, shape, columns } = await session.confine(sql, params, MAX_VALUE_BYTES);
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      const read = `select * from ${fn}() limit ${Math.max(0, Math.floor(limit)) + 1}`;
      // The confined function runs in a read-only transaction: only the answer's temporary table is written.
      const { rows, total } = await fetchCapped(session, shape, columns, read, maxBytes, () => session.query('set local transaction_read_only = on').then(() => undefined)).catch((error) => {
        throw scopeOrSame(error);
      });
      const capped = capRows(rows.slice(0, limit), maxBytes);
      return { columns, rows: capped.rows, truncated: total > capped.rows.length };
    } finally {
      await session.close();
    }
  }

  /**
   * Plans the transform's SQL (never runs it) through the same fences as every run and preview
   * (pg-scope.ts: the plan check as the reader role, then the confined function's creation), over
   * a temporary stand-in for `input` with the given columns (one placeholder column when they are
   * not known), in a transaction that is rolled back. Refusals are ReadScopeErrors; a query that
   * does not compile throws PostgreSQL's error (sql-check.ts says which ones the save refuses).
   */
  async checkSql(sql: string, columns: ColumnInfo[] | null): Promise<void> {
    const session = await PgSession.open(this.ctx, undefined, this.requests.timeoutMs);
    try {
      await session.begin();
      const table = `input_source_${randomUUID().replaceAll('-', '')}`;
      const relation = `pg_temp.${quoteIdent(table)}`;
      const known = columns && columns.length > 0 ? columns : [{ name: '__input', type: 'text' }];
      await session.query(`create temporary table ${relation} (${known.map((c) => `${quoteIdent(c.name)} ${columnType(standInType(c.type))}`).join(', ')})`);
      session.allowed.push({ schema: null, table });
      session.grants.push(relation);
      const compiled = compileTransform({ kind: 'sql', sql }, relation, undefined, 'postgresql');
      await session.confine(compiled.sql, compiled.params);
    } finally {
      await session.close();
    }
  }

  async drop(ds: DatasourceSpec): Promise<void> {
    await this.ctx.pool.query(`drop table if exists ${this.table(ds)}`);
  }

  close(): Promise<void> {
    return this.ctx.pool.end();
  }
}

/**
 * The PostgreSQL type a stand-in column gets from a datasource's column type (SQLite's names, as
 * stats report them, or as declared): whole numbers, other numbers, bytes, or text.
 */
function standInType(type: string | null | undefined): string {
  const t = (type ?? '').toLowerCase();
  if (/int|bool/.test(t)) return 'bigint';
  if (/real|floa|doub|num|dec/.test(t)) return 'double precision';
  if (/blob|bytea/.test(t)) return 'bytea';
  return 'text';
}

class PgWrite implements WarehouseWrite {
  /** The last writeValues: the next one runs after it. */
  private tail: Promise<void> = Promise.resolve();
  private readonly stager: PgStager;
  private done = false;
  /** A REPLACE from copyText: the table of the warehouse schema its rows went to, in the write's open transaction, and how many. */
  private stage: { table: string; rows: number } | null = null;

  constructor(
    private readonly session: PgSession,
    private readonly schema: string,
    private readonly target: DatasourceSpec,
    private readonly mode: WriteMode,
    private readonly keys: string[],
  ) {
    this.stager = new PgStager(session, `pg_temp.${quoteIdent('staged_rows')}`);
  }

  get rowsWritten(): number {
    return this.stage?.rows ?? this.stager.rows;
  }

  /**
   * COPY text straight into the warehouse. A REPLACE stages it in a table of the warehouse schema
   * made in a transaction the write keeps open: nobody sees it before commit, which only renames it
   * to the target (a failure, a cancel or a crash rolls it back). Other modes stage it in the
   * write's temporary table, applied at commit as rows are.
   */
  async copyText(columns: CopyColumn[], chunks: AsyncIterable<Buffer>): Promise<void> {
    if (this.stage || this.stager.rows > 0 || this.stager.names.length > 0) throw new Error('copyText must be the only rows of a write');
    const session = this.session;
    // The row numbers come from a sequence: taken 10,000 at a time while this copy runs (a quarter
    // faster), one at a time again afterwards; what this connection holds is dropped when the write
    // gives it back (DISCARD ALL), so later writes keep numbering after these rows.
    const defs = [`${quoteIdent(ROW_ID)} bigint generated always as identity (cache 10000)`, ...columns.map((c) => `${quoteIdent(c.name)} ${columnType(c.type)}`)].join(', ');
    const list = columns.map((c) => quoteIdent(c.name)).join(', ');
    const replace = this.mode === WriteMode.REPLACE;
    const table = replace ? `stage_${randomUUID().replaceAll('-', '')}` : null;
    const relation = table ? `${quoteIdent(this.schema)}.${quoteIdent(table)}` : this.stager.relation;
    if (replace) await session.begin();
    await session.query(`create ${replace ? '' : 'temporary '}table ${relation} (${defs})`);
    const copy = session.client.query(copyFrom(`COPY ${relation} (${list}) FROM STDIN${replace ? ' (FREEZE)' : ''}`));
    await pipeline(Readable.from(chunks), copy);
    await session.query(`alter table ${relation} alter column ${quoteIdent(ROW_ID)} set cache 1`);
    if (table) this.stage = { table, rows: copy.rowCount };
    else this.stager.adopt(columns, copy.rowCount);
  }

  write(rows: Row[]): Promise<void> {
    return this.stager.write(rows);
  }

  writeValues(columns: string[], values: unknown[][]): Promise<void> {
    const rows = rowObjects(columns, values);
    // Taken now, copied after the batches before it (one COPY at a time on the connection).
    this.tail = this.tail.then(() => this.stager.write(rows));
    return this.tail;
  }

  async writeQuery(build: QueryBuilder): Promise<void> {
    const session = this.session;
    await session.transaction(async () => {
      const { sql, params } = await build(session.inputs());
      const { fn, shape, columns } = await session.confine(sql, params, MAX_RUN_VALUE_BYTES);
      if (this.stager.rows === 0) await session.query(`drop table if exists ${this.stager.relation}`);
      const id = quoteIdent(ROW_ID);
      await session.query(`create temporary table ${this.stager.relation} (${id} bigint generated always as identity, like ${shape})`);
      await session.query('set local transaction_read_only = on');
      const list = columns.map(quoteIdent).join(', ');
      try {
        // The confined function refuses a row over MAX_RUN_VALUE_BYTES, as SQLite's length limit does in a run.
        await session.query(`insert into ${this.stager.relation} (${list}) select * from ${fn}()`);
      } catch (error) {
        throw scopeOrSame(valueCapError(error));
      }
      // Large objects are the one thing a read-only transaction lets the reader create: none may be committed.
      const made = await session.query(`select 1 from pg_largeobject_metadata where lomowner = (select oid from pg_roles where rolname = $1) limit 1`, [session.ctx.reader]);
      if (made.rowCount) throw new ReadScopeError(['writes or changes the database (creates a large object)']);
    });
    await session.query('reset all'); // whatever session settings the query changed go with it
    const staged = (await tableColumns(session, null, 'staged_rows')) ?? [];
    const count = await session.query<{ n: number }>(`select count(*) as n from ${this.stager.relation}`);
    this.stager.adopt(staged, Number(count.rows[0]?.n ?? 0));
  }

  async commit(): Promise<DataStats> {
    try {
      return await this.apply();
    } finally {
      // Committed or refused, the write is over: its connection (and staged rows) go.
      this.done = true;
      await this.session.close();
    }
  }

  private async apply(): Promise<DataStats> {
    const session = this.session;
    if (this.stage) {
      const target = `${quoteIdent(this.schema)}.${quoteIdent(tableOf(this.target))}`;
      try {
        await session.query(advisoryLockSql('$1'), [`warehouse-table:${this.schema}.${tableOf(this.target)}`]);
        await session.query(`drop table if exists ${target}`);
        await session.query(`alter table ${quoteIdent(this.schema)}.${quoteIdent(this.stage.table)} rename to ${quoteIdent(tableOf(this.target))}`);
        const stats = await statsOf(session, target);
        await session.commit();
        return stats;
      } catch (error) {
        await session.rollback();
        throw error;
      }
    }
    if (this.stager.rows === 0 && this.stager.names.length === 0) await this.stager.ensureTable();
    const staged = ((await tableColumns(session, null, 'staged_rows')) ?? []).filter((c) => c.name !== ROW_ID);
    const names = staged.map((c) => c.name);
    const missingKeys = this.keys.filter((k) => !names.includes(k));
    if (this.mode === WriteMode.UPSERT && missingKeys.length > 0 && this.stager.rows > 0) {
      throw new Error(`the rows have no key column ${missingKeys.map((k) => JSON.stringify(k)).join(', ')} to upsert on`);
    }
    const target = `${quoteIdent(this.schema)}.${quoteIdent(tableOf(this.target))}`;
    const stage = this.stager.relation;
    const id = quoteIdent(ROW_ID);
    const list = names.map(quoteIdent).join(', ');
    const stats = await session.transaction(async () => {
      // Writes to one table take turns: two first writes would both create it, and two appends
      // both widen its columns.
      await session.query(advisoryLockSql('$1'), [`warehouse-table:${this.schema}.${tableOf(this.target)}`]);
      const current = await tableColumns(session, this.schema, tableOf(this.target));
      const exists = current !== null;
      const types = new Map(staged.map((c) => [c.name, c.type]));
      if (this.mode === WriteMode.REPLACE || !exists) {
        await session.query(`drop table if exists ${target}`);
        const defs = [`${id} bigint generated always as identity`, ...staged.map((c) => `${quoteIdent(c.name)} ${columnType(c.type)}`)];
        await session.query(`create table ${target} (${defs.join(', ')})`);
        if (list) await session.query(`insert into ${target} (${list}) select ${list} from ${stage} order by ${id}`);
      } else {
        for (const column of staged) {
          const existing = current.find((c) => c.name === column.name);
          if (!existing) {
            await session.query(`alter table ${target} add column ${quoteIdent(column.name)} ${columnType(column.type)}`);
          } else if (unifyTypes(existing.type, column.type) !== existing.type) {
            const wider = unifyTypes(existing.type, column.type);
            await session.query(`alter table ${target} alter column ${quoteIdent(column.name)} type ${columnType(wider)} using ${quoteIdent(column.name)}::${wider}`);
            existing.type = wider;
          }
          if (existing) types.set(column.name, existing.type);
        }
        const casted = names.map((c) => `cast(${quoteIdent(c)} as ${types.get(c)})`).join(', ');
        if (this.mode === WriteMode.APPEND && list) await session.query(`insert into ${target} (${list}) select ${casted} from ${stage} order by ${id}`);
        if (this.mode === WriteMode.UPSERT) await this.upsert(target, names, types);
      }
      if (this.mode === WriteMode.UPSERT) await this.uniqueIndex(target);
      return statsOf(session, target);
    });
    return stats;
  }

  /** The unique index the upsert keys need; refused (nothing changed) when the rows already hold duplicate keys. */
  private async uniqueIndex(target: string): Promise<void> {
    const name = `ux_${createHash('sha256').update(`${tableOf(this.target)}\0${this.keys.join('\0')}`).digest('hex').slice(0, 24)}`;
    try {
      await this.session.query('savepoint unique_keys');
      await this.session.query(`create unique index if not exists ${quoteIdent(name)} on ${target} (${this.keys.map(quoteIdent).join(', ')})`);
      await this.session.query('release savepoint unique_keys');
    } catch (error) {
      await this.session.query('rollback to savepoint unique_keys').catch(() => undefined);
      throw new Error(`cannot upsert on ${this.keys.join(', ')}: the existing rows hold duplicate keys (${(error as Error).message})`);
    }
  }

  /** Inserts or updates on the key columns; of staged rows sharing a key, the last one counts (as on SQLite). */
  private async upsert(target: string, names: string[], types: Map<string, string>): Promise<void> {
    await this.uniqueIndex(target);
    const id = quoteIdent(ROW_ID);
    const list = names.map(quoteIdent).join(', ');
    const casted = names.map((c) => `cast(s.${quoteIdent(c)} as ${types.get(c)})`).join(', ');
    const same = this.keys.map((k) => `later.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' and ');
    const updates = names.filter((c) => !this.keys.includes(c)).map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`);
    await this.session.query(
      `insert into ${target} (${list}) select ${casted} from ${this.stager.relation} as s ` +
        `where not exists (select 1 from ${this.stager.relation} as later where ${same} and later.${id} > s.${id}) order by s.${id} ` +
        `on conflict (${this.keys.map(quoteIdent).join(', ')}) do ${updates.length > 0 ? `update set ${updates.join(', ')}` : 'nothing'}`,
    );
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.session.close();
  }

  interrupt(): void {
    if (!this.done) void this.session.cancel();
  }
}

export { MissingDataError };

/** OpenLineage's naming of PostgreSQL tables: namespace `postgres://host:port`, name `database.schema.table`. */
function postgresLineageNaming(url: string, schema: string): { namespace: string; tablePrefix: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres';
  return { namespace: `postgres://${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`, tablePrefix: `${database}.${schema}.` };
}
