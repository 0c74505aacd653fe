import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatasourceKind, JoinType, WriteMode } from '../../api/entities/index.js';
import { readFileRows, type BadRecord } from './files.js';
import { PRAGMAS, SqliteDb, quoteIdent } from './sqlite-db.js';
import type { DataStats, DatasourceSpec, QueryBuilder, QueryInputs, Row, RowPage, Warehouse, WarehouseWrite } from './warehouse.js';

/** Rows per INSERT statement (sent as one JSON text). */
const INSERT_ROWS = 5_000;

/** Table of a STORAGE datasource: named from its id, never from user text. */
export const tableOf = (ds: { id: string }): string => `ds_${ds.id.replaceAll('-', '')}`;

/** A value SQLite can store: booleans as 0/1, objects as JSON text, dates as ISO text. */
function toSqlValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

export class MissingDataError extends Error {
  constructor(ds: DatasourceSpec) {
    super(`datasource ${ds.id} holds no data yet: run the automation that writes it first`);
    this.name = 'MissingDataError';
  }
}

/**
 * The embedded warehouse: `DATA_DIR/warehouse.db`. STORAGE datasources are tables, FILE ones are
 * read by streaming, JOIN ones are queries over their sources. Writes are staged in a private
 * file per write and applied in one short transaction, so readers never see half a table and a
 * failed or cancelled run leaves the old data untouched.
 */
export class SqliteWarehouse implements Warehouse {
  private constructor(
    readonly file: string,
    private readonly stagingDir: string,
    private readonly reader: SqliteDb,
  ) {}

  static async open(dataDir: string): Promise<SqliteWarehouse> {
    const file = join(dataDir, 'warehouse.db');
    const stagingDir = join(dataDir, 'staging');
    mkdirSync(stagingDir, { recursive: true });
    const reader = await SqliteDb.open(file);
    await reader.exec(PRAGMAS);
    return new SqliteWarehouse(file, stagingDir, reader);
  }

  async page(ds: DatasourceSpec, first: number, after?: string | null): Promise<RowPage> {
    if (ds.kind === DatasourceKind.STORAGE) {
      if (!(await tableExists(this.reader, tableOf(ds)))) return { columns: [], rows: [], endCursor: null };
      const from = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
      const rows = await this.reader.all(`select rowid as "__rowid", * from ${quoteIdent(tableOf(ds))} where rowid > ? order by rowid limit ?`, [from, first + 1]);
      const more = rows.length > first;
      const kept = rows.slice(0, first);
      const last = kept[kept.length - 1]?.__rowid;
      const columns = (await columnsOf(this.reader, 'main', tableOf(ds))).map((c) => c.name);
      return { columns, rows: kept.map(({ __rowid, ...row }) => row), endCursor: more && last !== undefined ? Buffer.from(String(last)).toString('base64url') : null };
    }
    // FILE and JOIN: an offset cursor over a stable order (file order; the join's query order).
    const offset = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
    const rows: Row[] = [];
    let columns: string[] = [];
    if (ds.kind === DatasourceKind.FILE) {
      let seen = 0;
      for await (const batch of readFileRows(ds.path!)) {
        if (columns.length === 0 && batch[0]) columns = Object.keys(batch[0]);
        for (const row of batch) {
          if (seen++ < offset) continue;
          rows.push(row);
          if (rows.length > first) break;
        }
        if (rows.length > first) break;
      }
    } else {
      const session = await this.session();
      try {
        const relation = await session.relationOf(ds);
        rows.push(...(await session.db.all(`select * from ${relation} limit ? offset ?`, [first + 1, offset])));
        columns = rows[0] ? Object.keys(rows[0]) : [];
      } finally {
        await session.close();
      }
    }
    const more = rows.length > first;
    return { columns, rows: rows.slice(0, first), endCursor: more ? Buffer.from(String(offset + first)).toString('base64url') : null };
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

  async openWrite(target: DatasourceSpec, mode: WriteMode, keys: string[] = []): Promise<WarehouseWrite> {
    if (target.kind !== DatasourceKind.STORAGE) throw new Error(`only STORAGE datasources can be written, not ${target.kind}`);
    if (mode === WriteMode.UPSERT && keys.length === 0) throw new Error('UPSERT needs key columns');
    return new SqliteWrite(await this.session(), target, mode, keys);
  }

  async query(build: QueryBuilder, limit: number): Promise<{ columns: string[]; rows: Row[] }> {
    const session = await this.session();
    try {
      const { sql, params } = await build(inputsOf(session));
      const view = await session.columnsOf(`(${sql})`, params);
      const rows = await session.db.all(`select * from (${sql}) limit ?`, [...params, limit]);
      return { columns: view, rows };
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

  /** A private connection with its own staging file attached as `staging`. */
  private async session(): Promise<Session> {
    const stagingFile = join(this.stagingDir, `${randomUUID()}.db`);
    const db = await SqliteDb.open(this.file);
    await db.exec(PRAGMAS);
    await db.run(`attach database ? as staging`, [stagingFile]);
    await db.exec('PRAGMA staging.journal_mode = OFF; PRAGMA staging.synchronous = OFF;');
    return new Session(db, stagingFile);
  }
}

type ReadOptions = { onBadRecord?: (bad: BadRecord) => void };

/** A connection for one read or write: resolves datasources to SQL relations, loading files into staging. */
class Session {
  private readonly loaded = new Map<string, string>();

  constructor(
    readonly db: SqliteDb,
    private readonly stagingFile: string,
  ) {}

  /** A relation to select from: the STORAGE table, a staged copy of a FILE, or a JOIN subquery. */
  async relationOf(ds: DatasourceSpec, options: ReadOptions = {}): Promise<string> {
    if (ds.kind === DatasourceKind.STORAGE) {
      if (!(await tableExists(this.db, tableOf(ds)))) throw new MissingDataError(ds);
      return `main.${quoteIdent(tableOf(ds))}`;
    }
    if (ds.kind === DatasourceKind.FILE) return this.loadFile(ds, options);
    const join = ds.join!;
    const [left, right] = [await this.relationOf(join.left, options), await this.relationOf(join.right, options)];
    const leftColumns = await this.columnsOf(left);
    const rightColumns = await this.columnsOf(right);
    const taken = new Set(leftColumns);
    // Columns of the right source whose names the left already uses get the suffix "_right".
    const select = [
      ...leftColumns.map((c) => `l.${quoteIdent(c)} as ${quoteIdent(c)}`),
      ...rightColumns.map((c) => `r.${quoteIdent(c)} as ${quoteIdent(taken.has(c) ? `${c}_right` : c)}`),
    ];
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

  private async loadFile(ds: DatasourceSpec, options: ReadOptions): Promise<string> {
    const existing = this.loaded.get(ds.id);
    if (existing) return existing;
    const table = `file_${ds.id.replaceAll('-', '')}`;
    const stager = new RowStager(this.db, 'staging', table);
    // Parsing the next batch overlaps with SQLite inserting the last one (on its own thread).
    let pending: Promise<void> = Promise.resolve();
    try {
      for await (const batch of readFileRows(ds.path!, { batchSize: INSERT_ROWS, onBadRecord: options.onBadRecord })) {
        await pending;
        pending = stager.write(batch);
      }
    } finally {
      await pending.catch(() => undefined);
    }
    await pending;
    await stager.ensureTable([]);
    const relation = `staging.${quoteIdent(table)}`;
    this.loaded.set(ds.id, relation);
    return relation;
  }

  async close(): Promise<void> {
    await this.db.close().catch(() => undefined);
    rmSync(this.stagingFile, { force: true });
  }
}

/** Inserts JS rows into a table with untyped columns (values keep their own types), adding columns as they appear. */
class RowStager {
  private columns: string[] | null = null;
  rows = 0;

  constructor(
    private readonly db: SqliteDb,
    private readonly schema: string,
    private readonly table: string,
  ) {}

  get relation(): string {
    return `${this.schema}.${quoteIdent(this.table)}`;
  }

  /** Takes over a table created by a query, so later rows can be added to it. */
  adopt(columns: string[], rows: number): void {
    this.columns = [...columns];
    this.rows = rows;
  }

  async ensureTable(names: string[]): Promise<string[]> {
    if (this.columns === null) {
      this.columns = [...names];
      const defs = this.columns.length > 0 ? this.columns.map(quoteIdent).join(', ') : '"__empty"';
      await this.db.run(`create table ${this.relation} (${defs})`);
    }
    for (const name of names) {
      if (this.columns.includes(name)) continue;
      await this.db.run(`alter table ${this.relation} add column ${quoteIdent(name)}`);
      this.columns.push(name);
    }
    return this.columns;
  }

  /**
   * One statement per chunk: the rows travel as a single JSON text that SQLite unpacks with
   * json_each, which costs far less than binding every value as its own parameter.
   */
  async write(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const names = new Set<string>();
    for (const row of rows) for (const key in row) names.add(key);
    const columns = await this.ensureTable([...names]);
    const list = columns.map(quoteIdent).join(', ');
    const values = columns.map((_, i) => `value ->> ${i}`).join(', ');
    await this.db.exec('BEGIN'); // deferred: locks only the staging file it writes
    try {
      for (let i = 0; i < rows.length; i += INSERT_ROWS) {
        const chunk = rows.slice(i, i + INSERT_ROWS).map((row) => columns.map((c) => toSqlValue(row[c])));
        await this.db.run(`insert into ${this.relation} (${list}) select ${values} from json_each(?)`, [JSON.stringify(chunk)]);
      }
      await this.db.exec('COMMIT');
    } catch (error) {
      await this.db.exec('ROLLBACK').catch(() => undefined);
      throw error;
    }
    this.rows += rows.length;
  }
}

class SqliteWrite implements WarehouseWrite {
  private readonly stager: RowStager;
  private done = false;

  constructor(
    private readonly session: Session,
    private readonly target: DatasourceSpec,
    private readonly mode: WriteMode,
    private readonly keys: string[],
  ) {
    this.stager = new RowStager(session.db, 'staging', 'rows');
  }

  get rowsWritten(): number {
    return this.stager.rows;
  }

  write(rows: Row[]): Promise<void> {
    return this.stager.write(rows);
  }

  async writeQuery(build: QueryBuilder): Promise<void> {
    const { sql, params } = await build(inputsOf(this.session));
    await this.session.db.run(`create table staging."rows" as ${sql}`, params);
    const count = await this.session.db.get<{ n: number }>(`select count(*) as n from staging."rows"`);
    this.stager.adopt((await columnsOf(this.session.db, 'staging', 'rows')).map((c) => c.name), count?.n ?? 0);
  }

  async commit(): Promise<DataStats> {
    const db = this.session.db;
    const staged = (await columnsOf(db, 'staging', 'rows')).map((c) => c.name).filter((c) => c !== '__empty');
    if (staged.length === 0 && this.stager.rows === 0) await this.stager.ensureTable([]);
    const missingKeys = this.keys.filter((k) => !staged.includes(k));
    if (this.mode === WriteMode.UPSERT && missingKeys.length > 0 && this.stager.rows > 0) {
      throw new Error(`the rows have no key column ${missingKeys.map((k) => JSON.stringify(k)).join(', ')} to upsert on`);
    }
    const target = `main.${quoteIdent(tableOf(this.target))}`;
    const list = staged.map(quoteIdent).join(', ');
    const stats = await db.transaction(async () => {
      const exists = await tableExists(db, tableOf(this.target));
      if (this.mode === WriteMode.REPLACE || !exists) {
        await db.run(`drop table if exists ${target}`);
        await db.run(`create table ${target} as select ${list || 'null as "__empty"'} from staging."rows" where ${list ? 'true' : 'false'}`);
      } else {
        const current = (await columnsOf(db, 'main', tableOf(this.target))).map((c) => c.name);
        for (const column of staged) if (!current.includes(column)) await db.run(`alter table ${target} add column ${quoteIdent(column)}`);
        if (this.mode === WriteMode.APPEND) {
          await db.run(`insert into ${target} (${list}) select ${list} from staging."rows"`);
        }
      }
      if (this.mode === WriteMode.UPSERT) await this.upsert(db, target, staged, exists);
      return statsOf(db, target);
    });
    this.done = true;
    await this.session.close();
    return stats;
  }

  /** Inserts or updates on the key columns, refusing keys the existing rows already duplicate. */
  private async upsert(db: SqliteDb, target: string, staged: string[], existed: boolean): Promise<void> {
    const index = quoteIdent(`ux_${tableOf(this.target)}_${this.keys.join('_').replace(/[^A-Za-z0-9_]/g, '')}`);
    const keyList = this.keys.map(quoteIdent).join(', ');
    try {
      await db.run(`create unique index if not exists main.${index} on ${quoteIdent(tableOf(this.target))} (${keyList})`);
    } catch (error) {
      throw new Error(`cannot upsert on ${this.keys.join(', ')}: the existing rows hold duplicate keys (${(error as Error).message})`);
    }
    if (!existed) return; // the table was just created from the staged rows
    const list = staged.map(quoteIdent).join(', ');
    const updates = staged.filter((c) => !this.keys.includes(c)).map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`);
    await db.run(
      `insert into ${target} (${list}) select ${list} from staging."rows" where true on conflict (${keyList}) do ${updates.length > 0 ? `update set ${updates.join(', ')}` : 'nothing'}`,
    );
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.session.close();
  }

  interrupt(): void {
    if (!this.done) this.session.db.interrupt(); // after commit or abort the connection is closed
  }
}

/** The session's resolvers, bound, for query builders that destructure them. */
function inputsOf(session: Session): QueryInputs {
  return {
    relationOf: (ds, options) => session.relationOf(ds, options),
    columnsOf: (relation) => session.columnsOf(relation),
    countOf: async (relation) => (await session.db.get<{ n: number }>(`select count(*) as n from ${relation}`))?.n ?? 0,
  };
}

async function tableExists(db: SqliteDb, table: string): Promise<boolean> {
  return !!(await db.get(`select 1 as found from main.sqlite_master where type = 'table' and name = ?`, [table]));
}

async function columnsOf(db: SqliteDb, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  return db.all(`select name, type from pragma_table_info(?, ?)`, [table, schema]);
}

/** Columns with the type of their first non-null value, and the row count. */
async function statsOf(db: SqliteDb, relation: string): Promise<DataStats> {
  const view = `stats_${randomUUID().replaceAll('-', '')}`;
  await db.run(`create temp view ${view} as select * from ${relation}`);
  try {
    const names = (await db.all<{ name: string }>(`select name from pragma_table_info('${view}', 'temp')`)).map((r) => r.name).filter((n) => n !== '__empty');
    const types = names.length > 0 ? await db.get<Record<string, string | null>>(`select ${names.map((n) => `(select typeof(${quoteIdent(n)}) from temp.${view} where ${quoteIdent(n)} is not null limit 1) as ${quoteIdent(n)}`).join(', ')}`) : {};
    const count = await db.get<{ n: number }>(`select count(*) as n from temp.${view}`);
    return { columns: names.map((name) => ({ name, type: types?.[name] ?? 'null' })), rowCount: count?.n ?? 0 };
  } finally {
    await db.run(`drop view temp.${view}`);
  }
}
