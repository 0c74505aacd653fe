import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ValueBatch } from '../../core/rows.js';
import { copyTextFields, copyTextRows } from './copy-text.js';
import { networkFailure, selectSql, SourceConnectError, SourceReadError, type CopyColumn, type DatabaseEndpoint, type SourceCopy, type SourceRead, type SourceRows, type SourceSession } from './source.js';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Numbers and booleans as JS values; every other type as PostgreSQL prints it, so a cursor value goes back exactly as read. */
const NUMERIC_OIDS = new Set([20, 21, 23, 26, 700, 701]); // int8 fits a double only up to 2^53: kept as text below
const BOOL_OID = 16;

/** The warehouse type a column of this type arrives as in copy(): as TYPES parses it in read(). */
function copyColumnType(oid: number): CopyColumn['type'] {
  if (oid === BOOL_OID || oid === 21 || oid === 23 || oid === 26) return 'bigint';
  if (oid === 700 || oid === 701) return 'double precision';
  return 'text';
}
const TYPES = {
  getTypeParser: (oid: number) => {
    if (oid === 16) return (text: string) => text === 't';
    if (NUMERIC_OIDS.has(oid) && oid !== 20) return Number;
    return (text: string) => text;
  },
};

/** A session with a PostgreSQL database: reads in a read-only transaction, streamed with COPY, a batch at a time. */
export class PostgresSource implements SourceSession {
  private constructor(private readonly client: pg.Client) {}

  static async open(endpoint: DatabaseEndpoint, timeoutMs: number): Promise<PostgresSource> {
    const where = `${endpoint.host}:${endpoint.port}`;
    const client = new pg.Client({
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.username,
      password: endpoint.password ?? undefined,
      database: endpoint.database,
      connectionTimeoutMillis: timeoutMs,
      application_name: 'tributary',
      types: TYPES,
    });
    client.on('error', () => undefined); // a connection lost between queries surfaces on the next query
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw connectFailure(error as Error & { code?: string }, endpoint, where, timeoutMs);
    }
    return new PostgresSource(client);
  }

  async listTables(): Promise<string[]> {
    const result = await this.client.query<{ name: string }>(
      `select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema') order by 1`,
    );
    return result.rows.map((r) => r.name);
  }

  /**
   * Reads with COPY (…) TO STDOUT in text format, in a read-only repeatable-read transaction: the
   * server streams the rows as fast as it prints them, and each field becomes a JS value by its
   * column's type (as TYPES parses them).
   */
  read(what: SourceRead): SourceRows {
    const state = { lastCursor: null as string | null };
    const batchSize = Math.max(1, what.batchSize ?? 5_000);
    const begin = () => this.begin(what);
    const client = this.client;
    async function* batches(): AsyncGenerator<ValueBatch> {
      const { sql, fields, cursorAt } = await begin();
      const columns = fields.map((f) => f.name);
      const parse = fields.map((f) => TYPES.getTypeParser(f.dataTypeID));
      const copy = client.query(copyTo(`copy (${sql}) to stdout`));
      let complete = false;
      let values: unknown[][] = [];
      try {
        for await (const rows of copyTextRows(copy as AsyncIterable<Buffer>)) {
          for (const row of rows) {
            if (cursorAt >= 0 && row[cursorAt] !== null) state.lastCursor = row[cursorAt]!;
            const value: unknown[] = row;
            for (let i = 0; i < value.length; i++) if (value[i] !== null) value[i] = parse[i]!(value[i] as string);
            values.push(value);
            if (values.length >= batchSize) {
              yield { columns, values };
              values = [];
            }
          }
        }
        complete = true;
      } catch (error) {
        throw readFailure(error as Error & { code?: string }, what);
      } finally {
        // A COPY left half-read cannot be stopped on its connection: the connection goes (close() ends it).
        if (complete) await client.query('rollback').catch(() => undefined);
        else await client.end().catch(() => undefined);
      }
      if (values.length > 0) yield { columns, values };
    }
    return {
      batches,
      get lastCursor() {
        return state.lastCursor;
      },
    };
  }

  /**
   * The read as COPY text, straight from the server, for a warehouse that takes it as it is (no row
   * parsed on the way): booleans sent as 1/0, whole numbers (but int8, kept as text as read() does)
   * and floating point numbers as numbers, everything else as text. With a cursor column, its last
   * value is read off the last lines that pass (rows come in cursor order, nulls last). Null when
   * two columns share a name (the booleans could not be converted by name).
   */
  async copy(what: SourceRead): Promise<SourceCopy | null> {
    const client = this.client;
    const { sql, fields, cursorAt } = await this.begin(what);
    const names = fields.map((f) => f.name);
    if (new Set(names).size !== names.length) {
      await client.query('rollback');
      return null;
    }
    const columns = fields.map((f) => ({ name: f.name, type: copyColumnType(f.dataTypeID) }));
    const select = fields.some((f) => f.dataTypeID === BOOL_OID)
      ? `select ${fields.map((f) => (f.dataTypeID === BOOL_OID ? `(q.${quote(f.name)})::int as ${quote(f.name)}` : `q.${quote(f.name)}`)).join(', ')} from (${sql}) as q`
      : sql;
    const stream = client.query(copyTo(`copy (${select}) to stdout`));
    const last = new LastField(cursorAt);
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          last.see(chunk);
          yield chunk;
        }
      } catch (error) {
        throw readFailure(error as Error & { code?: string }, what);
      }
    }
    return {
      columns,
      chunks: chunks(),
      end: async () => {
        await client.query('rollback').catch(() => undefined);
        return last.value;
      },
    };
  }

  /**
   * Opens the read's transaction and learns its columns. The probe goes by the extended protocol,
   * which takes exactly one statement: text that would end the SELECT and add another (a COMMIT
   * then a write) fails here, before COPY (sent as a simple query) ever runs it.
   */
  private async begin(what: SourceRead): Promise<{ sql: string; fields: pg.FieldDef[]; cursorAt: number }> {
    const sql = this.selectOf(what);
    await this.client.query('begin transaction isolation level repeatable read read only');
    try {
      const probe = await this.client.query({ text: `select * from (${sql}) as tributary_read limit 0`, types: TYPES, queryMode: 'extended' } as pg.QueryConfig).catch((error: Error & { code?: string }) => {
        throw readFailure(error, what);
      });
      if (probe.fields.length === 0) throw new SourceReadError('the read gives no columns');
      const cursorColumn = what.cursorColumn ?? null;
      const cursorAt = cursorColumn === null ? -1 : probe.fields.findIndex((f) => f.name === cursorColumn);
      if (cursorColumn !== null && cursorAt < 0) throw new SourceReadError(`the cursor column ${JSON.stringify(cursorColumn)} is not among the columns read`);
      return { sql, fields: probe.fields, cursorAt };
    } catch (error) {
      await this.client.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /** The SELECT of a read; COPY takes no parameters, so the cursor's last value goes in as a literal the driver quotes. */
  private selectOf(what: SourceRead): string {
    const after = what.after ?? null;
    return selectSql(what, quote, after === null ? '$1' : this.client.escapeLiteral(after)).sql;
  }

  async close(): Promise<void> {
    await Promise.race([this.client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
}

/**
 * The last non-null value of one field in COPY text going by, found from the end of each chunk's
 * complete lines (only the line begun in earlier chunks is kept; a line is parsed only while the
 * field is null at the end).
 */
class LastField {
  value: string | null = null;
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly at: number) {}

  see(chunk: Buffer): void {
    if (this.at < 0) return;
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = data.lastIndexOf(10);
    if (end === -1) {
      this.pending = data;
      return;
    }
    this.pending = Buffer.from(data.subarray(end + 1));
    for (let stop = end; stop >= 0; ) {
      const start = stop === 0 ? 0 : data.lastIndexOf(10, stop - 1) + 1;
      const field = copyTextFields(data.toString('utf8', start, stop))[this.at];
      if (field !== null && field !== undefined) {
        this.value = field;
        return;
      }
      if (start === 0) return;
      stop = start - 1;
    }
  }
}

function connectFailure(error: Error & { code?: string }, endpoint: DatabaseEndpoint, where: string, timeoutMs: number): SourceConnectError {
  const network = networkFailure(error, where, timeoutMs);
  if (network) return network;
  if (error.code === '28P01' || error.code === '28000') return new SourceConnectError('AUTH', `authentication failed for user ${endpoint.username} at ${where}: ${error.message}`, { cause: error });
  if (error.code === '42501') return new SourceConnectError('PERMISSION', `user ${endpoint.username} may not connect to database ${endpoint.database}: ${error.message}`, { cause: error });
  if (error.code === '3D000') return new SourceConnectError('NOT_FOUND', `database ${endpoint.database} does not exist at ${where}`, { cause: error });
  if (/SSL|TLS|certificate/i.test(error.message)) return new SourceConnectError('TLS', `cannot connect to ${where}: ${error.message}`, { cause: error });
  return new SourceConnectError('OTHER', `cannot connect to ${where}: ${error.message}`, { cause: error });
}

function readFailure(error: Error & { code?: string }, what: SourceRead): Error {
  if (error.code === '42501') return new SourceReadError(`permission denied: ${error.message}`, { cause: error });
  if (error.code === '42P01') return new SourceReadError(`the table ${JSON.stringify(what.table ?? '')} does not exist or cannot be seen: ${error.message}`, { cause: error });
  if (error.code?.startsWith('42')) return new SourceReadError(`the source refused the read: ${error.message}`, { cause: error });
  if (error.code === '25006') return new SourceReadError(`the query tried to write; an ingestion only reads: ${error.message}`, { cause: error });
  if (error.code && /^[0-9A-Z]{5}$/.test(error.code)) return new SourceReadError(`the source refused the read: ${error.message}`, { cause: error });
  return error;
}
