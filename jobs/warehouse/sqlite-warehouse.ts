import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasourceKind, JoinType, WriteMode } from '../../core/db/entities/index.js';
import { ownerTag } from '../sandbox/owner.js';
import { FileRoots } from './file-roots.js';
import { pipeFileValues, type BadRecord } from './files.js';
import { AnswerTooLargeError, MAX_VALUE_BYTES, RequestLimiter, capRows, rowBytes, MAX_RUN_VALUE_BYTES } from './limits.js';
import { assertReadsOnly, type ReadableTable } from './read-scope.js';
import { quoteIdent } from '../../core/db/sql.js';
import { PRAGMAS, SqliteDb } from './sqlite-db.js';
import { columnsOf, statsOf, tableExists } from './sqlite-tables.js';
import { dropDeadStages, INSERT_ROWS, RowStager, SqliteWrite, type WriteSession } from './sqlite-write.js';
import { MissingDataError, tableOf, type DataStats, type DatasourceSpec, type QueryBuilder, type QueryInputs, type ReadOptions, type Row, type RowPage, type Warehouse, type WarehouseWrite } from './warehouse.js';
import { pageFile } from './file-page.js';

export { tableOf, MissingDataError };

export interface SqliteWarehouseOptions {
  /** FILE_ROOTS (real paths); default `DATA_DIR/files`. */
  fileRoots?: string[];
  /** Files outside DATA_DIR that FILE datasources must never read (the metadata database, the job store). */
  protectedFiles?: string[];
  /** QUERY_TIMEOUT_MS: the time limit of the work a request asks for (default 10 s). */
  queryTimeoutMs?: number;
  /** Requests whose warehouse work runs at once (default 3, of which 2 previews). */
  requestConcurrency?: number;
}

/**
 * The embedded warehouse: `DATA_DIR/warehouse.db`. STORAGE datasources are tables, FILE ones are
 * read by streaming, JOIN ones are queries over their sources. Writes are staged in a private
 * file per write and applied in one short transaction, so readers never see half a table and a
 * failed or cancelled run leaves the old data untouched.
 */
export class SqliteWarehouse implements Warehouse {
  readonly dialect = 'sqlite' as const;
  private constructor(
    readonly file: string,
    private readonly stagingDir: string,
    private readonly reader: SqliteDb,
    readonly files: FileRoots,
    readonly requests: RequestLimiter,
  ) {}

  /** `sqlite://` and the warehouse file's absolute path; a table is named as it is. */
  get lineageNaming(): { namespace: string; tablePrefix: string } {
    return { namespace: `sqlite://${resolve(this.file)}`, tablePrefix: '' };
  }

  static async open(dataDir: string, options: SqliteWarehouseOptions = {}): Promise<SqliteWarehouse> {
    const file = join(dataDir, 'warehouse.db');
    const stagingDir = join(dataDir, 'staging');
    mkdirSync(stagingDir, { recursive: true });
    const files = new FileRoots({ roots: options.fileRoots, dataDir, protectedFiles: options.protectedFiles });
    const requests = new RequestLimiter(options.queryTimeoutMs ?? 10_000, options.requestConcurrency);
    const reader = await openConnection(file, false);
    await reader.exec(PRAGMAS);
    await dropDeadStages(reader); // rows a stopped process was writing
    return new SqliteWarehouse(file, stagingDir, reader, files, requests);
  }

  async page(ds: DatasourceSpec, first: number, after?: string | null, options: ReadOptions = {}): Promise<RowPage> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (ds.kind === DatasourceKind.STORAGE) {
      // A bounded read gets its own connection, so interrupting it stops nothing else.
      const db = options.signal ? await this.connect(options.signal, options.maxBytes !== undefined) : this.reader;
      try {
        if (!(await tableExists(db, tableOf(ds)))) return { columns: [], rows: [], endCursor: null };
        const from = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
        const select = `select rowid as "__rowid", * from main.${quoteIdent(tableOf(ds))} where rowid > ? order by rowid limit ?`;
        const { rows, total, firstBytes } = await fetchCapped(db, select, [from, first + 1], maxBytes);
        if (rows.length === 0 && total > 0 && first > 0) throw new AnswerTooLargeError(firstBytes, maxBytes);
        const rowids = rows.map((r) => r.__rowid);
        const { rows: kept } = capRows(
          rows.slice(0, first).map(({ __rowid, ...row }) => row),
          maxBytes,
          true,
        );
        const more = total > kept.length;
        const last = rowids[kept.length - 1];
        const columns = (await columnsOf(db, 'main', tableOf(ds))).map((c) => c.name);
        return { columns, rows: kept, endCursor: more && last !== undefined ? Buffer.from(String(last)).toString('base64url') : null };
      } finally {
        if (db !== this.reader) await db.close().catch(() => undefined);
      }
    }
    // FILE: read straight from the file (file order, an offset cursor).
    if (ds.kind === DatasourceKind.FILE) return pageFile(this.files, ds, first, after, options);
    // JOIN: an offset cursor over the join's query order.
    const offset = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
    const rows: Row[] = [];
    let columns: string[] = [];
    let total = 0;
    let firstBytes = 0;
    {
      const session = await this.session(options.signal, options.maxBytes !== undefined);
      try {
        const relation = await session.relationOf(ds);
        const fetched = await fetchCapped(session.db, `select * from ${relation} limit ? offset ?`, [first + 1, offset], maxBytes);
        rows.push(...fetched.rows);
        total = fetched.total;
        firstBytes = fetched.firstBytes;
        columns = rows[0] ? Object.keys(rows[0]) : [];
      } finally {
        await session.close();
      }
    }
    const { rows: kept } = capRows(rows.slice(0, first), maxBytes, true);
    if (kept.length === 0 && total > 0 && first > 0) throw new AnswerTooLargeError(rows[0] ? rowBytes(rows[0]) : firstBytes, maxBytes);
    const more = total > kept.length;
    return { columns, rows: kept, endCursor: more ? Buffer.from(String(offset + kept.length)).toString('base64url') : null };
  }

  async stats(ds: DatasourceSpec): Promise<DataStats | null> {
    if (ds.kind === DatasourceKind.STORAGE && !(await tableExists(this.reader, tableOf(ds)))) return null;
    const session = await this.session();
    try {
      const relation = await session.relationOf(ds);
      return await statsOf(session.db, relation);
    } finally {
      await session.close();
    }
  }

  async openWrite(target: DatasourceSpec, mode: WriteMode, keys: string[] = [], options: { signal?: AbortSignal } = {}): Promise<WarehouseWrite> {
    if (target.kind !== DatasourceKind.STORAGE) throw new Error(`only STORAGE datasources can be written, not ${target.kind}`);
    if (mode === WriteMode.UPSERT && keys.length === 0) throw new Error('UPSERT needs key columns');
    return new SqliteWrite(await this.session(options.signal), this.reader, target, mode, keys);
  }

  async query(build: QueryBuilder, limit: number, options: ReadOptions = {}): Promise<{ columns: string[]; rows: Row[]; truncated: boolean }> {
    const session = await this.session(options.signal, options.maxBytes !== undefined);
    try {
      const { sql, params } = await build(session.inputs());
      // The statement that runs is the one checked: one SELECT (a subquery cannot hold another statement).
      const statement = `select * from (${sql}) limit ?`;
      const bound = [...params, limit + 1];
      await session.assertReadsOnly(statement, bound);
      const view = await session.columnsOf(`(${sql})`, params);
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      const { rows, total } = await fetchCapped(session.db, statement, bound, maxBytes);
      const capped = capRows(rows.slice(0, limit), maxBytes);
      return { columns: view, rows: capped.rows, truncated: total > capped.rows.length };
    } finally {
      await session.close();
    }
  }

  async drop(ds: DatasourceSpec): Promise<void> {
    await this.reader.run(`drop table if exists ${quoteIdent(tableOf(ds))}`);
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  /**
   * A private connection with its own staging file attached as `staging`. `signal` stops its
   * statements and file reads; `capped` (the answer is size-capped): no value or row may exceed
   * MAX_VALUE_BYTES either.
   */
  private async session(signal?: AbortSignal, capped = false): Promise<Session> {
    const stagingFile = join(this.stagingDir, `${ownerTag()}-${randomUUID()}.db`); // the owner in the name: a later start removes it only if the owner died
    const db = await openConnection(this.file, capped);
    const session = new Session(db, stagingFile, this.files, signal);
    try {
      if (signal) db.limit(signal);
      await db.exec(PRAGMAS);
      await db.run(`attach database ? as staging`, [stagingFile]);
      await db.exec('PRAGMA staging.journal_mode = OFF; PRAGMA staging.synchronous = OFF;');
      return session;
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  /** A connection of its own for one bounded read, interrupted when `signal` aborts. */
  private async connect(signal: AbortSignal, capped: boolean): Promise<SqliteDb> {
    const db = await openConnection(this.file, capped);
    try {
      db.limit(signal);
      await db.exec('PRAGMA busy_timeout = 10000;');
      return db;
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }
}

/**
 * Every connection to the warehouse caps the size of any one value or row it makes or reads:
 * MAX_VALUE_BYTES for answers whose size is capped (previews, rows pages), MAX_RUN_VALUE_BYTES
 * otherwise, so no transform builds a huge string in the server's memory.
 */
async function openConnection(file: string, capped: boolean): Promise<SqliteDb> {
  const db = await SqliteDb.open(file);
  db.limitLength(capped ? MAX_VALUE_BYTES : MAX_RUN_VALUE_BYTES);
  return db;
}

type FileReadOptions = { onBadRecord?: (bad: BadRecord) => void; firstRows?: number };

/** A connection for one read or write: resolves datasources to SQL relations, loading files into staging. */
class Session implements WriteSession {
  private readonly loaded = new Map<string, string>();
  /** The tables behind every relation handed out: what a query of this session may read. */
  private readonly readable: ReadableTable[] = [];

  constructor(
    readonly db: SqliteDb,
    private readonly stagingFile: string,
    private readonly files: FileRoots,
    private readonly signal?: AbortSignal,
  ) {}

  /** A relation to select from: the STORAGE table, a staged copy of a FILE, or a JOIN subquery. */
  async relationOf(ds: DatasourceSpec, options: FileReadOptions = {}): Promise<string> {
    if (ds.kind === DatasourceKind.STORAGE) {
      if (!(await tableExists(this.db, tableOf(ds)))) throw new MissingDataError(ds);
      this.readable.push({ schema: 'main', table: tableOf(ds) });
      return `main.${quoteIdent(tableOf(ds))}`;
    }
    if (ds.kind === DatasourceKind.FILE) return this.loadFile(ds, options);
    const join = ds.join!;
    // A join's sample needs its sources whole: the first rows of each need not match each other.
    const sources = { onBadRecord: options.onBadRecord };
    const [left, right] = [await this.relationOf(join.left, sources), await this.relationOf(join.right, sources)];
    const leftColumns = await this.columnsOf(left);
    const rightColumns = await this.columnsOf(right);
    const taken = new Set(leftColumns);
    // Columns of the right source whose names the left already uses get the suffix "_right".
    const select = [...leftColumns.map((c) => `l.${quoteIdent(c)} as ${quoteIdent(c)}`), ...rightColumns.map((c) => `r.${quoteIdent(c)} as ${quoteIdent(taken.has(c) ? `${c}_right` : c)}`)];
    const kind = join.type === JoinType.LEFT ? 'left join' : 'join';
    return `(select ${select.join(', ')} from ${left} as l ${kind} ${right} as r on l.${quoteIdent(join.leftKey)} = r.${quoteIdent(join.rightKey)})`;
  }

  /** Column names of a table or subquery. */
  async columnsOf(relation: string, params: unknown[] = []): Promise<string[]> {
    if (params.length > 0) {
      // Views cannot hold parameters: prepare the query once with no rows to learn its columns.
      const probe = await this.db.all(`select * from ${relation} limit 1`, params);
      if (probe[0]) return Object.keys(probe[0]);
    }
    // A temp view gives any relation (table or subquery) a name pragma_table_info can describe.
    const view = `cols_${randomUUID().replaceAll('-', '')}`;
    await this.db.run(`create temp view ${view} as select * from ${relation}`);
    try {
      return (await this.db.all<{ name: string }>(`select name from pragma_table_info('${view}', 'temp')`)).map((r) => r.name);
    } finally {
      await this.db.run(`drop view temp.${view}`);
    }
  }

  /** The session's resolvers, bound, for query builders that destructure them. */
  inputs(): QueryInputs {
    return {
      dialect: 'sqlite',
      relationOf: (ds, options) => this.relationOf(ds, options),
      columnsOf: (relation) => this.columnsOf(relation),
      countOf: async (relation) => (await this.db.get<{ n: number }>(`select count(*) as n from ${relation}`))?.n ?? 0,
    };
  }

  /** Throws a ReadScopeError unless `sql` (the statement as it will run) reads only the relations handed out. */
  assertReadsOnly(sql: string, params: unknown[]): Promise<void> {
    return assertReadsOnly(this.db, sql, params, this.readable);
  }

  private async loadFile(ds: DatasourceSpec, options: FileReadOptions): Promise<string> {
    const table = `file_${ds.id.replaceAll('-', '')}`;
    const existing = this.loaded.get(ds.id);
    if (existing) {
      this.readable.push({ schema: 'staging', table });
      return existing;
    }
    const stager = new RowStager(this.db, 'staging', table);
    // Checked against FILE_ROOTS and opened now; the descriptor is what is read.
    const handle = await this.files.open(ds.path!);
    try {
      // Parsing the next batch overlaps with SQLite inserting the last one (on its own thread).
      await pipeFileValues(ds.path!, { handle, signal: this.signal, batchSize: INSERT_ROWS, limit: options.firstRows, onBadRecord: options.onBadRecord }, (columns, values) =>
        stager.writeValues(columns, values),
      );
    } finally {
      await handle.close().catch(() => undefined);
    }
    await stager.ensureTable([]);
    await stager.finish();
    const relation = `staging.${quoteIdent(table)}`;
    this.loaded.set(ds.id, relation);
    this.readable.push({ schema: 'staging', table });
    return relation;
  }

  async close(): Promise<void> {
    await this.db.close().catch(() => undefined);
    rmSync(this.stagingFile, { force: true });
  }
}

/**
 * The rows of `select`, of which only the leading ones that fit in `maxBytes` reach JavaScript.
 * With a finite cap the SELECT runs once into a private temp table (on disk, not in memory), the
 * size of each row is judged there (values as text or bytes, plus column names: close to their
 * JSON) and only the rows that fit are fetched; `total` is how many rows the SELECT gave.
 */
async function fetchCapped(db: SqliteDb, select: string, params: unknown[], maxBytes: number): Promise<{ rows: Row[]; total: number; firstBytes: number }> {
  if (!Number.isFinite(maxBytes)) {
    const rows = await db.all(select, params);
    return { rows, total: rows.length, firstBytes: 0 };
  }
  const name = `answer_${randomUUID().replaceAll('-', '')}`;
  await db.run(`create table temp.${quoteIdent(name)} as ${select}`, params);
  try {
    const names = (await db.all<{ name: string }>(`select name from pragma_table_info(?, 'temp')`, [name])).map((r) => r.name);
    const size = names.map((n) => `coalesce(length(cast(${quoteIdent(n)} as blob)), 4) + ${Buffer.byteLength(JSON.stringify(n)) + 2}`).join(' + ') || '2';
    const sizes = await db.all<{ size: number }>(`select ${size} as size from temp.${quoteIdent(name)} order by rowid`);
    let used = 0;
    let fit = 0;
    for (const row of sizes) {
      if (used + row.size + 2 > maxBytes) break;
      used += row.size + 2;
      fit += 1;
    }
    const rows = fit > 0 ? await db.all(`select * from temp.${quoteIdent(name)} order by rowid limit ?`, [fit]) : [];
    return { rows, total: sizes.length, firstBytes: sizes[0]?.size ?? 0 };
  } finally {
    await db.run(`drop table temp.${quoteIdent(name)}`).catch(() => undefined);
  }
}
