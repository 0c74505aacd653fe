import type { DatasourceKind, JoinType, WriteMode } from '../../core/db/entities/index.js';
import type { Dialect } from '../../core/db/sql.js';
import type { BadRecord, Row } from '../../core/rows.js';
import type { FileRoots } from './file-roots.js';
import type { RequestLimiter } from './limits.js';

export type { Row };

export { WriteMode } from '../../core/db/entities/index.js';
export type { Dialect };

/** Table of a STORAGE datasource: named from its id, never from user text (the same name in every warehouse). */
export const tableOf = (ds: { id: string }): string => `ds_${ds.id.replaceAll('-', '')}`;

/** A datasource read before anything wrote it. */
export class MissingDataError extends Error {
  constructor(ds: { id: string }) {
    super(`datasource ${ds.id} holds no data yet: run the automation that writes it first`);
    this.name = 'MissingDataError';
  }
}

/** What the warehouse needs to know about a datasource (never its user-given name: tables are named by id). */
export interface DatasourceSpec {
  id: string;
  kind: DatasourceKind;
  /** FILE: path of the CSV or JSON-lines file. */
  path?: string | null;
  /** JOIN: the two sources and how to join them. */
  join?: { left: DatasourceSpec; right: DatasourceSpec; leftKey: string; rightKey: string; type: JoinType } | null;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/** Shape and size of a datasource's data after a write, for the metadata database. */
export interface DataStats {
  columns: ColumnInfo[];
  rowCount: number;
}

export interface RowPage {
  columns: string[];
  rows: Row[];
  /** Opaque cursor for the next page; null on the last page. */
  endCursor: string | null;
}

/** How a query reaches its inputs: a SQL relation per datasource, and the columns of a relation. */
export interface QueryInputs {
  /** The SQL dialect the relations and the query are written in: compile transforms for it. */
  readonly dialect: Dialect;
  /**
   * `onBadRecord`: FILE sources skip unreadable records and report them (default: they fail the
   * query). `firstRows`: a FILE is read only that far (a preview's sample), not to its end.
   */
  relationOf(ds: DatasourceSpec, options?: { onBadRecord?: (bad: BadRecord) => void; firstRows?: number }): Promise<string>;
  columnsOf(relation: string): Promise<string[]>;
  countOf(relation: string): Promise<number>;
}

export type QueryBuilder = (inputs: QueryInputs) => Promise<{ sql: string; params: unknown[] }>;

/** Bounds on one read: `signal` stops it (statements are interrupted, file reads end); `maxBytes` caps the rows' JSON size. */
export interface ReadOptions {
  signal?: AbortSignal;
  maxBytes?: number;
}

/**
 * Where datasources keep their data. The SQLite implementation embeds it in DATA_DIR; another
 * database can plug in behind the same interface.
 */
export interface Warehouse {
  /** The SQL this warehouse speaks (transforms compile for it; SQL transforms are checked in it). */
  readonly dialect: Dialect;
  /** Where FILE datasources may read (FILE_ROOTS): checked when a path is saved and whenever a file is read. */
  readonly files: FileRoots;
  /**
   * How OpenLineage names this warehouse's tables (jobs/openlineage/naming.ts): the dataset
   * namespace, and the prefix before a table's name (`database.schema.` on PostgreSQL).
   */
  readonly lineageNaming: { namespace: string; tablePrefix: string };
  /** Time limit and turns for the warehouse work API requests ask for (previews, rows). */
  readonly requests: RequestLimiter;
  /**
   * A page of a datasource's rows, in a stable order. With `maxBytes`, the page ends early (its
   * cursor continuing after the last row kept) where the rows would exceed it.
   */
  page(ds: DatasourceSpec, first: number, after?: string | null, options?: ReadOptions): Promise<RowPage>;
  /** Columns and row count as they are now (null when the datasource holds no data yet). */
  stats(ds: DatasourceSpec): Promise<DataStats | null>;
  /** Starts a write to a STORAGE datasource: nothing is visible to readers before `commit`. `signal` stops its statements and file reads. */
  openWrite(target: DatasourceSpec, mode: WriteMode, keys?: string[], options?: { signal?: AbortSignal }): Promise<WarehouseWrite>;
  /**
   * Runs a read-only query over datasources and returns at most `limit` rows (previews), fewer
   * when `maxBytes` cuts them; `truncated` when rows were left out. The query may read only the
   * relations its builder asked for (relationOf): anything else is a ReadScopeError.
   */
  query(build: QueryBuilder, limit: number, options?: ReadOptions): Promise<{ columns: string[]; rows: Row[]; truncated: boolean }>;
  /**
   * Save-time check of an SQL transform's query (the SQL as written, reading `input`) by this
   * warehouse's own engine, never run: it is planned over a stand-in for `input` with `columns`
   * (names and, as far as known, types; null when the input's columns are not known yet) and held
   * to reading only that input, as every run and preview is. Throws a ReadScopeError when it reads
   * anything else, or the engine's error when it does not compile. Optional: the SQLite side is
   * checked in an in-memory SQLite database instead (jobs/transform/sql-check.ts).
   */
  checkSql?(sql: string, columns: ColumnInfo[] | null): Promise<void>;
  /** Removes a STORAGE datasource's table (when the datasource is deleted). */
  drop(ds: DatasourceSpec): Promise<void>;
  close(): Promise<void>;
}

/** A column of rows sent as PostgreSQL COPY text, with the type the warehouse stores it as (whole numbers, other numbers, everything else). */
export interface CopyColumn {
  name: string;
  type: 'bigint' | 'double precision' | 'text';
}

/** One write in progress. Rows go to a private staging area; `commit` applies them in one transaction. */
export interface WarehouseWrite {
  /** Adds rows (objects with the same or growing set of keys). */
  write(rows: Row[]): Promise<void>;
  /**
   * Adds rows in column order (a ValueBatch of files.ts; its arrays may be changed). The batch is
   * taken at once and stored after the ones before it, so a caller may read its next batch before
   * awaiting this one; a failure fails this and every later call.
   */
  writeValues(columns: string[], values: unknown[][]): Promise<void>;
  /**
   * Optional (a warehouse that speaks PostgreSQL's COPY): rows as COPY text (tab-separated, `\N`
   * for null, backslash escapes) of `columns`, stored as they are with no row parsed on the way.
   * Only as a write's one source of rows.
   */
  copyText?(columns: CopyColumn[], chunks: AsyncIterable<Buffer>): Promise<void>;
  /** Runs a SELECT over the inputs (SQL text from the transform compiler) straight into the staging area; it may read only the relations its builder asked for. A write takes rows or one query, not both. */
  writeQuery(build: QueryBuilder): Promise<void>;
  /** Rows staged so far. */
  readonly rowsWritten: number;
  /** Applies the staged rows to the target with the write mode, in one transaction; returns the new stats. */
  commit(): Promise<DataStats>;
  /** Throws the staged rows away; the target is untouched. */
  abort(): Promise<void>;
  /** Stops the statement running now (cancel). */
  interrupt(): void;
}
