import mysql from 'mysql2/promise';
import type { Row, ValueBatch } from '../../core/rows.js';
import { networkFailure, selectSql, SourceConnectError, SourceReadError, warehouseValue, type DatabaseEndpoint, type SourceRead, type SourceRows, type SourceSession } from './source.js';

const quote = (identifier: string) => `\`${identifier.replaceAll('`', '``')}\``;

type MysqlError = Error & { code?: string; errno?: number };

/** A session with a MySQL or MariaDB database: reads in a read-only transaction, streamed row by row with backpressure. */
export class MysqlSource implements SourceSession {
  private constructor(private readonly connection: mysql.Connection) {}

  static async open(endpoint: DatabaseEndpoint, timeoutMs: number): Promise<MysqlSource> {
    const where = `${endpoint.host}:${endpoint.port}`;
    try {
      const connection = await mysql.createConnection({
        host: endpoint.host,
        port: endpoint.port,
        user: endpoint.username,
        password: endpoint.password ?? undefined,
        database: endpoint.database,
        connectTimeout: timeoutMs,
        dateStrings: true, // dates as the server prints them: a cursor value goes back exactly as read
        supportBigNumbers: true,
        bigNumberStrings: true,
        multipleStatements: false,
      });
      connection.on('error', () => undefined); // a connection lost between queries surfaces on the next query
      return new MysqlSource(connection);
    } catch (error) {
      throw connectFailure(error as MysqlError, endpoint, where, timeoutMs);
    }
  }

  async listTables(): Promise<string[]> {
    const [rows] = await this.connection.query('select table_name as name from information_schema.tables where table_schema = database() order by 1');
    return (rows as { name: string }[]).map((r) => r.name);
  }

  read(what: SourceRead): SourceRows {
    const connection = this.connection;
    const { sql, params } = selectSql(what, quote, '?');
    const state = { lastCursor: null as string | null };
    const cursorColumn = what.cursorColumn ?? null;
    const batchSize = Math.max(1, what.batchSize ?? 5_000);
    async function* batches(): AsyncGenerator<ValueBatch> {
      await connection.query('start transaction read only');
      // The callback connection under the promise wrapper streams with backpressure.
      const raw = (connection as unknown as { connection: { query(sql: string, values: unknown[]): { stream(options: { highWaterMark: number }): AsyncIterable<Row> } } }).connection;
      const stream = raw.query(sql, params).stream({ highWaterMark: batchSize });
      let columns: string[] | null = null;
      let values: unknown[][] = [];
      try {
        for await (const row of stream) {
          if (columns === null) {
            columns = Object.keys(row);
            if (cursorColumn && !(cursorColumn in row)) throw new SourceReadError(`the cursor column ${JSON.stringify(cursorColumn)} is not among the columns read`);
          }
          if (cursorColumn) {
            const value = row[cursorColumn];
            if (value !== null && value !== undefined) state.lastCursor = String(value);
          }
          values.push(columns.map((column) => warehouseValue(row[column])));
          if (values.length >= batchSize) {
            yield { columns, values };
            values = [];
          }
        }
        if (columns !== null && values.length > 0) yield { columns, values };
      } catch (error) {
        throw readFailure(error as MysqlError, what);
      } finally {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        await connection.query('rollback').catch(() => undefined);
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
    await Promise.race([this.connection.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    this.connection.destroy();
  }
}

function connectFailure(error: MysqlError, endpoint: DatabaseEndpoint, where: string, timeoutMs: number): SourceConnectError {
  const network = networkFailure(error, where, timeoutMs);
  if (network) return network;
  if (error.code === 'ER_DBACCESS_DENIED_ERROR' || /^Access denied for user .* to database/.test(error.message)) return new SourceConnectError('PERMISSION', `user ${endpoint.username} may not use database ${endpoint.database}: ${error.message}`, { cause: error });
  if (error.code === 'ER_ACCESS_DENIED_ERROR' || error.code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR' || error.code === 'ER_NOT_SUPPORTED_AUTH_MODE' || /^Access denied for user/.test(error.message)) return new SourceConnectError('AUTH', `authentication failed for user ${endpoint.username} at ${where}: ${error.message}`, { cause: error });
  if (error.code === 'ER_BAD_DB_ERROR') return new SourceConnectError('NOT_FOUND', `database ${endpoint.database} does not exist at ${where}`, { cause: error });
  return new SourceConnectError('OTHER', `cannot connect to ${where}: ${error.message}`, { cause: error });
}

function readFailure(error: MysqlError, what: SourceRead): Error {
  if (error instanceof SourceReadError) return error;
  if (error.code === 'ER_TABLEACCESS_DENIED_ERROR' || error.code === 'ER_COLUMNACCESS_DENIED_ERROR') return new SourceReadError(`permission denied: ${error.message}`, { cause: error });
  if (error.code === 'ER_NO_SUCH_TABLE') return new SourceReadError(`the table ${JSON.stringify(what.table ?? '')} does not exist: ${error.message}`, { cause: error });
  if (error.code === 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION') return new SourceReadError(`the query tried to write; an ingestion only reads: ${error.message}`, { cause: error });
  if (error.code?.startsWith('ER_')) return new SourceReadError(`the source refused the read: ${error.message}`, { cause: error });
  return error;
}
