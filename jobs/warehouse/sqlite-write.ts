import { randomUUID } from 'node:crypto';
import { WriteMode } from '../../core/db/entities/index.js';
import { quoteIdent } from '../../core/db/sql.js';
import { ownerAlive, ownerOf, ownerTag, TAG_PATTERN } from '../sandbox/owner.js';
import type { SqliteDb, SqliteStatement } from './sqlite-db.js';
import { columnsOf, statsOf, tableExists } from './sqlite-tables.js';
import { tableOf, type DataStats, type DatasourceSpec, type QueryBuilder, type QueryInputs, type Row, type WarehouseWrite } from './warehouse.js';

/** Rows per INSERT statement (sent as one JSON text). */
export const INSERT_ROWS = 5_000;
/** Characters of JSON text per INSERT statement, at most. */
const INSERT_BYTES = 4 * 1024 * 1024;

/**
 * Makes every value of `values` one SQLite stores as it should (in place): booleans as 0/1, dates
 * as ISO text, other objects and arrays as their JSON text, missing ones as null.
 */
function toSqlValues(values: unknown[][]): void {
  for (const row of values) {
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (value === null || (typeof value !== 'object' && typeof value !== 'boolean')) continue;
      if (typeof value === 'boolean') row[i] = value ? 1 : 0;
      else row[i] = value instanceof Date ? value.toISOString() : JSON.stringify(value);
    }
  }
}

/** Inserts rows into a table with untyped columns (values keep their own types), adding columns as they appear. */
export class RowStager {
  private columns: string[] | null = null;
  private insert: { key: string; statement: SqliteStatement } | null = null;
  /** The last write: the next one runs after it. */
  private tail: Promise<void> = Promise.resolve();
  rows = 0;

  constructor(
    private readonly db: SqliteDb,
    private readonly schema: string,
    private readonly table: string,
  ) {}

  get relation(): string {
    return `${this.schema}.${quoteIdent(this.table)}`;
  }

  /** Whether the table was made (by a write or ensureTable). */
  get made(): boolean {
    return this.columns !== null;
  }

  /** Waits for every write so far: the first failure is thrown here. */
  drained(): Promise<void> {
    return this.tail;
  }

  /** Finalizes the prepared insert (when no more rows will come). */
  async finish(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.insert?.statement.finalize();
    this.insert = null;
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

  /** Adds rows (objects, with the same or a growing set of keys). */
  write(rows: Row[]): Promise<void> {
    const names = new Set<string>();
    for (const row of rows) for (const key in row) names.add(key);
    const columns = [...names];
    return this.writeValues(
      columns,
      rows.map((row) => columns.map((c) => row[c])),
    );
  }

  /**
   * Adds rows in column order (a ValueBatch; its values are made SQL values in place): one
   * statement per chunk, the rows travelling as a single JSON text that SQLite unpacks with
   * json_each, which costs far less than binding every value as its own parameter. The text is made
   * at once and inserted after the writes before it, so a caller can make its next batch while
   * SQLite inserts this one. The statement is prepared once for a set of columns; each chunk is its
   * own short transaction (the table is private until committed, and thrown away whole on failure).
   * Once one write fails, every later one fails with the same error.
   */
  writeValues(names: string[], values: unknown[][]): Promise<void> {
    if (values.length === 0) return this.tail;
    toSqlValues(values);
    const texts: string[] = [];
    // A chunk whose JSON text is over INSERT_BYTES is halved: one value must stay under SQLITE_LIMIT_LENGTH.
    const encode = (chunk: unknown[][]): void => {
      const text = JSON.stringify(chunk);
      if (text.length <= INSERT_BYTES || chunk.length === 1) texts.push(text);
      else {
        const half = Math.ceil(chunk.length / 2);
        encode(chunk.slice(0, half));
        encode(chunk.slice(half));
      }
    };
    for (let i = 0; i < values.length; i += INSERT_ROWS) encode(values.length <= INSERT_ROWS ? values : values.slice(i, i + INSERT_ROWS));
    const columns = [...names];
    this.tail = this.tail.then(async () => {
      await this.ensureTable(columns);
      const insert = await this.insertFor(columns);
      for (const text of texts) await insert.run([text]);
      this.rows += values.length;
    });
    return this.tail;
  }

  /** The insert for rows of these columns, prepared once while they stay the same. */
  private async insertFor(names: string[]): Promise<SqliteStatement> {
    const key = names.join('\u0000');
    if (this.insert?.key === key) return this.insert.statement;
    await this.insert?.statement.finalize();
    this.insert = null;
    const list = names.length > 0 ? names.map(quoteIdent).join(', ') : '"__empty"';
    const picks = names.length > 0 ? names.map((_, i) => `value ->> ${i}`).join(', ') : 'null';
    const statement = await this.db.prepare(`insert into ${this.relation} (${list}) select ${picks} from json_each(?)`);
    this.insert = { key, statement };
    return statement;
  }
}

/** What a write needs of its warehouse session (a private connection with `staging` attached). */
export interface WriteSession {
  readonly db: SqliteDb;
  inputs(): QueryInputs;
  assertReadsOnly(sql: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The table in `main` that holds a write's rows until it commits: `stage_<owner tag>_<uuid>`, so
 * a later start can drop what a dead process left (dropDeadStages). No datasource's table is named
 * so, and no query may read it (read-scope.ts).
 */
const STAGE_TABLE = new RegExp(`^stage_${TAG_PATTERN}_[0-9a-f]{32}$`);

/** Drops the stage tables of processes that are gone (half-written rows); returns how many. */
export async function dropDeadStages(db: SqliteDb): Promise<number> {
  const tables = await db.all<{ name: string }>(`select name from main.sqlite_master where type = 'table' and name like 'stage\\_%' escape '\\'`);
  let dropped = 0;
  for (const { name } of tables) {
    const match = STAGE_TABLE.exec(name);
    if (!match || ownerAlive(ownerOf(match))) continue;
    await db.run(`drop table if exists main.${quoteIdent(name)}`);
    dropped += 1;
  }
  return dropped;
}

/**
 * One write to a STORAGE datasource. Rows given to write() go to a stage table of their own in
 * `main`, batch by batch in short transactions, so that committing a REPLACE (or a first write)
 * only renames it: the rows are written once. The rows of writeQuery (one SELECT over the inputs,
 * which may run long) go to the session's private staging file instead, never holding the
 * warehouse's write lock meanwhile, and are copied in at commit. Either way nothing is visible to
 * readers before commit, which applies the write mode in one transaction.
 */
export class SqliteWrite implements WarehouseWrite {
  private readonly stage = `stage_${ownerTag()}_${randomUUID().replaceAll('-', '')}`;
  private readonly rows: RowStager;
  private queried: number | null = null;
  private done = false;

  /** `cleanup`: a connection no signal stops, to drop the stage table when the write is abandoned. */
  constructor(
    private readonly session: WriteSession,
    private readonly cleanup: SqliteDb,
    private readonly target: DatasourceSpec,
    private readonly mode: WriteMode,
    private readonly keys: string[],
  ) {
    this.rows = new RowStager(session.db, 'main', this.stage);
  }

  get rowsWritten(): number {
    return this.queried ?? this.rows.rows;
  }

  write(rows: Row[]): Promise<void> {
    this.takes('rows');
    return this.rows.write(rows);
  }

  writeValues(columns: string[], values: unknown[][]): Promise<void> {
    this.takes('rows');
    return this.rows.writeValues(columns, values);
  }

  async writeQuery(build: QueryBuilder): Promise<void> {
    this.takes('query');
    const { sql, params } = await build(this.session.inputs());
    // The SELECT that runs is the one checked: one SELECT (a subquery cannot hold another statement).
    const select = `select * from (${sql})`;
    await this.session.assertReadsOnly(select, params);
    await this.session.db.run(`create table staging."rows" as ${select}`, params);
    this.queried = (await this.session.db.get<{ n: number }>(`select count(*) as n from staging."rows"`))?.n ?? 0;
  }

  private takes(kind: 'rows' | 'query'): void {
    if (this.done) throw new Error('the write is over');
    if (kind === 'rows' ? this.queried !== null : this.rows.made || this.queried !== null) throw new Error('a write takes rows or one query, not both');
  }

  async commit(): Promise<DataStats> {
    const db = this.session.db;
    const fromQuery = this.queried !== null;
    if (!fromQuery) {
      await this.rows.drained(); // every batch is in (or the first failure is thrown here)
      await this.rows.finish();
      await this.rows.ensureTable([]);
    }
    const source = fromQuery ? 'staging."rows"' : this.rows.relation;
    const all = (await columnsOf(db, fromQuery ? 'staging' : 'main', fromQuery ? 'rows' : this.stage)).map((c) => c.name);
    const staged = all.filter((c) => c !== '__empty');
    const missingKeys = this.keys.filter((k) => !staged.includes(k));
    if (this.mode === WriteMode.UPSERT && missingKeys.length > 0 && this.rowsWritten > 0) {
      throw new Error(`the rows have no key column ${missingKeys.map((k) => JSON.stringify(k)).join(', ')} to upsert on`);
    }
    const table = tableOf(this.target);
    const target = `main.${quoteIdent(table)}`;
    const list = staged.map(quoteIdent).join(', ');
    const stats = await db.transaction(async () => {
      const exists = await tableExists(db, table);
      if (this.mode === WriteMode.REPLACE || !exists) {
        await db.run(`drop table if exists ${target}`);
        if (fromQuery) {
          await db.run(`create table ${target} as select ${list || 'null as "__empty"'} from ${source} where ${list ? 'true' : 'false'}`);
        } else {
          if (staged.length > 0 && all.includes('__empty')) await db.run(`alter table ${source} drop column "__empty"`);
          await db.run(`alter table ${source} rename to ${quoteIdent(table)}`);
        }
      } else {
        const current = (await columnsOf(db, 'main', table)).map((c) => c.name);
        for (const column of staged) if (!current.includes(column)) await db.run(`alter table ${target} add column ${quoteIdent(column)}`);
        if (this.mode === WriteMode.APPEND) await db.run(`insert into ${target} (${list}) select ${list} from ${source}`);
      }
      if (this.mode === WriteMode.UPSERT) await this.upsert(db, source, target, staged, exists);
      if (!fromQuery) await db.run(`drop table if exists ${source}`); // renamed away, or copied in
      return statsOf(db, target);
    });
    this.done = true;
    await this.session.close();
    return stats;
  }

  /** Inserts or updates on the key columns, refusing keys the existing rows already duplicate. */
  private async upsert(db: SqliteDb, source: string, target: string, staged: string[], existed: boolean): Promise<void> {
    const table = tableOf(this.target);
    const index = quoteIdent(`ux_${table}_${this.keys.join('_').replace(/[^A-Za-z0-9_]/g, '')}`);
    const keyList = this.keys.map(quoteIdent).join(', ');
    try {
      await db.run(`create unique index if not exists main.${index} on ${quoteIdent(table)} (${keyList})`);
    } catch (error) {
      throw new Error(`cannot upsert on ${this.keys.join(', ')}: the existing rows hold duplicate keys (${(error as Error).message})`);
    }
    if (!existed) return; // the table was just made from the staged rows
    const list = staged.map(quoteIdent).join(', ');
    const updates = staged.filter((c) => !this.keys.includes(c)).map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`);
    await db.run(`insert into ${target} (${list}) select ${list} from ${source} where true on conflict (${keyList}) do ${updates.length > 0 ? `update set ${updates.join(', ')}` : 'nothing'}`);
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.rows.finish();
    await this.session.close();
    // The stage table lives in `main`: dropped on a connection the cancel does not stop (a dead process's is dropped at the next start).
    if (this.rows.made) await this.cleanup.run(`drop table if exists ${this.rows.relation}`).catch(() => undefined);
  }

  interrupt(): void {
    if (!this.done) this.session.db.interrupt(); // after commit or abort the connection is closed
  }
}
