import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ValueBatch } from '../../core/rows.js';
import { copyTextRows } from './copy-text.js';
import { networkFailure, selectSql, SourceConnectError, SourceReadError, type DatabaseEndpoint, type SourceRead, type SourceRows, type SourceSession } from './source.js';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Numbers and booleans as JS values; every other type as PostgreSQL prints it, so a cursor value goes back exactly as read. */
const NUMERIC_OIDS = new Set([20, 21, 23, 26, 700, 701]); // int8 fits a double only up to 2^53: kept as text below
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
   * column's type (as TYPES parses them). COPY takes no parameters: the cursor's last value goes in
   * as a literal the driver quotes.
   */
  read(what: SourceRead): SourceRows {
    const client = this.client;
    const after = what.after ?? null;
    const { sql } = selectSql(what, quote, after === null ? '$1' : client.escapeLiteral(after));
    const state = { lastCursor: null as string | null };
    const cursorColumn = what.cursorColumn ?? null;
    const batchSize = Math.max(1, what.batchSize ?? 5_000);
    async function* batches(): AsyncGenerator<ValueBatch> {
      await client.query('begin transaction isolation level repeatable read read only');
      try {
        const probe = await client.query({ text: `select * from (${sql}) as tributary_read limit 0`, types: TYPES }).catch((error: Error & { code?: string }) => {
          throw readFailure(error, what);
        });
        const columns = probe.fields.map((f) => f.name);
        const parse = probe.fields.map((f) => TYPES.getTypeParser(f.dataTypeID));
        const at = cursorColumn === null ? -1 : columns.indexOf(cursorColumn);
        if (cursorColumn !== null && at < 0) throw new SourceReadError(`the cursor column ${JSON.stringify(cursorColumn)} is not among the columns read`);
        const copy = client.query(copyTo(`copy (${sql}) to stdout`));
        let values: unknown[][] = [];
        try {
          for await (const rows of copyTextRows(copy as AsyncIterable<Buffer>)) {
            for (const row of rows) {
              if (at >= 0 && row[at] !== null) state.lastCursor = row[at]!;
              const value: unknown[] = row;
              for (let i = 0; i < value.length; i++) if (value[i] !== null) value[i] = parse[i]!(value[i] as string);
              values.push(value);
              if (values.length >= batchSize) {
                yield { columns, values };
                values = [];
              }
            }
          }
        } catch (error) {
          throw readFailure(error as Error & { code?: string }, what);
        } finally {
          copy.destroy();
        }
        if (values.length > 0) yield { columns, values };
      } finally {
        await client.query('rollback').catch(() => undefined);
      }
    }
    return {
      batches,
      get lastCursor() {
        return state.lastCursor;
      },
    };
  }

  async close(): Promise<void> {
    await Promise.race([this.client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
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
