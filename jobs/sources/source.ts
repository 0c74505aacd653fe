import type { ValueBatch } from '../../core/rows.js';
import type { CopyColumn } from '../warehouse/warehouse.js';

export type { CopyColumn };

/** A POSTGRES or MYSQL connection's settings, its password unsealed (in the server, never stored). */
export interface DatabaseEndpoint {
  type: 'POSTGRES' | 'MYSQL';
  host: string;
  port: number;
  username: string;
  password: string | null;
  database: string;
}

/** What an ingestion reads: a table or a SELECT, all of it or the rows past the cursor's last value. */
export interface SourceRead {
  /** "name" or "schema.name" (MySQL: "database.name"). */
  table?: string | null;
  query?: string | null;
  /** Incremental: rows come ordered by it, and only those past `after` (all of them when null). */
  cursorColumn?: string | null;
  after?: string | null;
  /** Stop after this many rows (previews). */
  limit?: number;
  batchSize?: number;
}

/** What a connection test found wrong, as the user fixes it. */
export type ConnectFailure = 'DNS' | 'REFUSED' | 'TIMEOUT' | 'AUTH' | 'PERMISSION' | 'NOT_FOUND' | 'TLS' | 'OTHER';

/** A failure to reach or log in to a source system, with its kind. */
export class SourceConnectError extends Error {
  constructor(
    readonly failure: ConnectFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceConnectError';
  }
}

/** A read that failed on the source (a table or column that does not exist, a query it refused). */
export class SourceReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceReadError';
  }
}

/** The rows of a read, in batches, and the cursor's last value once they are all read. */
export interface SourceRows {
  batches(): AsyncGenerator<ValueBatch>;
  /** The cursor column's value in the last row read, as text (null without a cursor or before any row). */
  readonly lastCursor: string | null;
}

/**
 * A read as PostgreSQL COPY text (tab-separated, `\N` for null, backslash escapes), for a warehouse
 * that takes it as it is: no row is parsed on the way.
 */
export interface SourceCopy {
  columns: CopyColumn[];
  chunks: AsyncIterable<Buffer>;
  /** Once the chunks are read: ends the read and gives the cursor column's last value (null without a cursor or rows). */
  end(): Promise<string | null>;
}

/** An open session with a source database. */
export interface SourceSession {
  /** The tables and views the login can read, "schema.name" (MySQL: "name" in the connection's database). */
  listTables(): Promise<string[]>;
  read(what: SourceRead): SourceRows;
  /** The read as COPY text, where the source can give it (null when this read cannot be). */
  copy?(what: SourceRead): Promise<SourceCopy | null>;
  /** Ends the session; a read in progress stops. Never throws. */
  close(): Promise<void>;
}

/** Socket and DNS failures, named as the user reads them. */
export function networkFailure(error: NodeJS.ErrnoException, where: string, timeoutMs: number): SourceConnectError | null {
  const code = error.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return new SourceConnectError('DNS', `cannot connect to ${where}: host not found (DNS)`, { cause: error });
  if (code === 'ECONNREFUSED') return new SourceConnectError('REFUSED', `cannot connect to ${where}: connection refused (is the server listening on that port?)`, { cause: error });
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || /timeout|timed out/i.test(error.message)) {
    return new SourceConnectError('TIMEOUT', `cannot connect to ${where}: no answer within ${Math.round(timeoutMs / 1000)} s`, { cause: error });
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new SourceConnectError('REFUSED', `cannot connect to ${where}: host unreachable`, { cause: error });
  if (code === 'ECONNRESET' || code === 'EPIPE' || /terminated unexpectedly|Connection lost/i.test(error.message)) return new SourceConnectError('REFUSED', `cannot connect to ${where}: the server closed the connection`, { cause: error });
  return null;
}

/** A value from a source as the warehouse stores it: numbers, text, booleans and null; anything else as text or JSON. */
export function warehouseValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return JSON.stringify(value);
}

/** Splits "schema.table" on the dot outside quotes; each part is an identifier to quote. */
export function tableParts(table: string): string[] {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) throw new SourceReadError(`${JSON.stringify(table)} is not a table name: write "table" or "schema.table"`);
  return parts.map((p) => p.trim());
}

/** The SELECT a read runs, in a dialect's quoting and placeholder: the table or the query, past the cursor's last value, in cursor order. */
export function selectSql(what: SourceRead, quote: (identifier: string) => string, placeholder: string): { sql: string; params: unknown[] } {
  const from = what.query ? `(${what.query.trim().replace(/;\s*$/, '')}) as tributary_source` : tableParts(what.table ?? '').map(quote).join('.');
  const params: unknown[] = [];
  let sql = `select * from ${from}`;
  if (what.cursorColumn) {
    const column = quote(what.cursorColumn);
    if (what.after !== null && what.after !== undefined) {
      params.push(what.after);
      sql += ` where ${column} > ${placeholder}`;
    }
    sql += ` order by ${column}`;
  }
  if (what.limit) sql += ` limit ${Math.floor(what.limit)}`;
  return { sql, params };
}
