import { pipeValueBatches, rowObjects } from '../warehouse/files.js';
import { openSource, SourceConnectError, SourceReadError, type SourceSession } from '../sources/index.js';
import type { Row, Warehouse, WarehouseWrite } from '../warehouse/warehouse.js';
import { RunCancelledError, RunFailedError, type AutomationPlan, type DatabaseSettings, type RunContext, type RunResult, type Runner, warehouseRefusal } from './runner.js';
import type { SftpState } from './sftp-state.js';

export interface DatabaseRunnerOptions {
  /** How long to wait for the connection and login (default 20 s). */
  connectTimeoutMs?: number;
  /** Rows per batch read from the source and written to the warehouse. */
  batchSize?: number;
}

/**
 * Ingests a table or a SELECT of a POSTGRES or MYSQL source into one STORAGE output: read in a
 * read-only transaction through a cursor, a batch at a time (memory stays flat), into ONE warehouse
 * write committed with the plan's write mode. Incremental (a cursor column): only rows past the last
 * value seen, which is remembered once they are committed.
 */
export class DatabaseIngestionRunner implements Runner {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly state: SftpState,
    private readonly options: DatabaseRunnerOptions = {},
  ) {}

  async run(plan: AutomationPlan, ctx: RunContext): Promise<RunResult> {
    const [settings, output] = [plan.database, plan.outputs[0]];
    if (!settings || !output) throw new RunFailedError('a database ingestion needs its connection and one output');
    if (ctx.signal.aborted) throw new RunCancelledError();
    const after = settings.cursorColumn ? await this.state.lastCursor(plan.id) : null;
    const session = await this.open(settings, ctx.signal);
    let write: WarehouseWrite | null = null;
    const cancel = () => {
      void session.close();
      try {
        write?.interrupt();
      } catch {
        // already closed
      }
    };
    ctx.signal.addEventListener('abort', cancel);
    try {
      const { endpoint } = settings;
      ctx.log(`connected to ${endpoint.database} at ${endpoint.host}:${endpoint.port} as ${endpoint.username}`);
      ctx.log(`reading ${describe(settings)}${settings.cursorColumn ? (after === null ? `, all rows by ${settings.cursorColumn} (first run)` : `, rows with ${settings.cursorColumn} > ${after}`) : ''}`);
      write = await this.warehouse.openWrite(output, plan.writeMode, plan.writeKeys, { signal: ctx.signal });
      const what = { table: settings.table, query: settings.query, cursorColumn: settings.cursorColumn, after, batchSize: this.options.batchSize };
      let lastCursor: string | null;
      // A warehouse that speaks COPY takes a source's COPY text as it is; otherwise rows go in batches.
      const copy = write.copyText && session.copy ? await session.copy(what) : null;
      if (copy && write.copyText) {
        await write.copyText(copy.columns, copy.chunks);
        lastCursor = await copy.end();
      } else {
        const rows = session.read(what);
        const into = write;
        // The next batch is read while the warehouse stores the last one.
        await pipeValueBatches(rows.batches(), async (columns, values) => {
          if (ctx.signal.aborted) throw new RunCancelledError();
          ctx.progress(into.rowsWritten);
          return into.writeValues(columns, values);
        });
        lastCursor = rows.lastCursor;
      }
      ctx.progress(write.rowsWritten);
      if (ctx.signal.aborted) throw new RunCancelledError();
      if (settings.cursorColumn && write.rowsWritten === 0) {
        await write.abort();
        ctx.log('no new rows');
        return { rowsRead: 0, rowsWritten: 0, errorRecords: 0, errorSamples: [], outputs: [] };
      }
      const stats = await write.commit();
      ctx.signal.removeEventListener('abort', cancel);
      ctx.log(`wrote ${write.rowsWritten} row(s) with ${plan.writeMode}; the output now holds ${stats.rowCount}`);
      if (settings.cursorColumn && lastCursor !== null) {
        await this.state.recordCursor(plan.id, lastCursor);
        ctx.log(`the cursor ${settings.cursorColumn} is now at ${lastCursor}`);
      }
      return { rowsRead: write.rowsWritten, rowsWritten: write.rowsWritten, errorRecords: 0, errorSamples: [], outputs: [{ datasourceId: output.id, stats }] };
    } catch (error) {
      await write?.abort();
      if (ctx.signal.aborted) throw new RunCancelledError();
      throw explain(error);
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
      await session.close();
    }
  }

  /** The first `sampleSize` rows the ingestion would read now (past its cursor); writes and remembers nothing. */
  async preview(plan: AutomationPlan, sampleSize: number): Promise<{ columns: string[]; rows: Row[] }> {
    const settings = plan.database;
    if (!settings) throw new RunFailedError('a database ingestion needs its connection');
    const after = settings.cursorColumn ? await this.state.lastCursor(plan.id) : null;
    const session = await this.open(settings, new AbortController().signal);
    try {
      const limit = Math.max(1, Math.floor(sampleSize));
      const rows: Row[] = [];
      for await (const { columns, values } of session.read({ table: settings.table, query: settings.query, cursorColumn: settings.cursorColumn, after, limit, batchSize: limit }).batches()) rows.push(...rowObjects(columns, values));
      return { columns: [...new Set(rows.flatMap((row) => Object.keys(row)))], rows: rows.slice(0, limit) };
    } catch (error) {
      throw explain(error);
    } finally {
      await session.close();
    }
  }

  private async open(settings: DatabaseSettings, signal: AbortSignal): Promise<SourceSession> {
    try {
      const session = await openSource(settings.endpoint, this.options.connectTimeoutMs ?? 20_000);
      if (signal.aborted) {
        await session.close();
        throw new RunCancelledError();
      }
      return session;
    } catch (error) {
      throw explain(error);
    }
  }
}

function describe(settings: DatabaseSettings): string {
  return settings.table ? `table ${settings.table}` : 'the query';
}

function explain(error: unknown): unknown {
  if (error instanceof RunFailedError || error instanceof RunCancelledError) return error;
  if (error instanceof SourceConnectError || error instanceof SourceReadError) return new RunFailedError(error.message, { cause: error });
  const refused = warehouseRefusal(error);
  if (refused) return refused;
  if (error instanceof Error && /Connection terminated|connection is in closed state|ECONNRESET|Can't add new command when connection is in closed state/i.test(error.message)) {
    return new RunFailedError(`the connection to the source was lost: ${error.message}`, { cause: error });
  }
  return error;
}
