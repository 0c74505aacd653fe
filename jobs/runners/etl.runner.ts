import { DatasourceKind } from '../../core/db/entities/index.js';
import { FileAccessError } from '../warehouse/file-roots.js';
import { pipeFileValues } from '../warehouse/files.js';
import { MAX_RUN_VALUE_BYTES, MAX_VALUE_BYTES, PREVIEW_OUTPUT_ROWS, ValueTooLargeError } from '../warehouse/limits.js';
import { ReadScopeError } from '../warehouse/read-scope.js';
import { MissingDataError } from '../warehouse/sqlite-warehouse.js';
import type { QueryInputs, Row, Warehouse } from '../warehouse/warehouse.js';
import { TransformError, compileTransform, parseTransform } from '../transform/pipeline.js';
import { readScopeMessage } from '../transform/sql-check.js';
import { ErrorRecords } from './error-records.js';
import { RunCancelledError, RunFailedError, type AutomationPlan, type RunContext, type RunResult, type Runner } from './runner.js';

export interface EtlPreview {
  /** `truncated`: rows were left out (the row cap or `maxBytes`). */
  input: { columns: string[]; rows: Row[]; truncated: boolean };
  output: { columns: string[]; rows: Row[]; truncated: boolean };
  /** Unreadable input rows the error policy skipped (FAIL_RUN fails the preview instead). */
  errorRecords: number;
  errorSamples: string[];
}

/**
 * Runs an ETL step inside the warehouse: its transform compiles to one SELECT over the input,
 * whose rows go straight into the output's staging area and are applied with the write mode.
 */
export class EtlRunner implements Runner {
  constructor(private readonly warehouse: Warehouse) {}

  async run(plan: AutomationPlan, ctx: RunContext): Promise<RunResult> {
    const [input, output] = [plan.inputs[0], plan.outputs[0]];
    if (!input || !output) throw new RunFailedError('an ETL step needs one input and one output');
    if (ctx.signal.aborted) throw new RunCancelledError();
    const write = await this.warehouse.openWrite(output, plan.writeMode, plan.writeKeys, { signal: ctx.signal });
    const cancel = () => write.interrupt();
    ctx.signal.addEventListener('abort', cancel);
    let rowsRead = 0;
    const errors = new ErrorRecords(plan.errors);
    try {
      if (input.kind === DatasourceKind.FILE && copiesInput(plan.transform)) {
        // No transform over a file: its rows stream into the write as they are, with no query and no copy in between.
        const handle = await this.warehouse.files.open(input.path!);
        try {
          rowsRead = await pipeFileValues(input.path!, { handle, signal: ctx.signal, batchSize: COPY_BATCH_ROWS, onBadRecord: errors.handler(input.path!) }, (columns, values) => write.writeValues(columns, values));
        } finally {
          await handle.close().catch(() => undefined);
        }
        ctx.log(`read ${rowsRead} row(s) from the input file`);
      } else {
        await write.writeQuery(async (inputs) => {
          const { relation, columns } = await this.resolveInput(plan, inputs, errors);
          rowsRead = await inputs.countOf(relation);
          ctx.log(`reading ${rowsRead} row(s) from the input`);
          return compileTransform(parseTransform(plan.transform ?? {}, columns), relation, columns, inputs.dialect);
        });
      }
      if (ctx.signal.aborted) throw new RunCancelledError();
      ctx.progress(write.rowsWritten);
      if (errors.count > 0) ctx.log(`rejected ${errors.count} unreadable row(s) (${plan.errors?.policy}): ${errors.samples.join('; ')}`);
      const stats = await write.commit();
      ctx.signal.removeEventListener('abort', cancel); // committed: a late cancel must not touch the closed write
      ctx.log(`wrote ${write.rowsWritten} row(s) with ${plan.writeMode}; the output now holds ${stats.rowCount}`);
      const rejected = await errors.flush(this.warehouse);
      const outputs = [{ datasourceId: output.id, stats }, ...(rejected ? [rejected] : [])];
      return { rowsRead: rowsRead + errors.count, rowsWritten: write.rowsWritten, errorRecords: errors.count, errorSamples: errors.samples, outputs };
    } catch (error) {
      await write.abort();
      if (ctx.signal.aborted) throw new RunCancelledError();
      throw explain(error, plan, 'run');
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
    }
  }

  /**
   * The first `sampleSize` input rows and what the transform makes of them (at most
   * PREVIEW_OUTPUT_ROWS); writes nothing. `signal` stops it; `maxBytes` caps each of the two samples.
   */
  async preview(plan: AutomationPlan, sampleSize: number, options: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<EtlPreview> {
    const errors = new ErrorRecords(plan.errors ? { ...plan.errors, datasource: null } : undefined);
    try {
      const sample = (relation: string) => `(select * from ${relation} limit ${Math.max(0, Math.floor(sampleSize))})`;
      const input = await this.warehouse.query(async (inputs) => ({ sql: `select * from ${(await this.resolveInput(plan, inputs, errors, sampleSize)).relation}`, params: [] }), sampleSize, options);
      const output = await this.warehouse.query(async (inputs) => {
        const { relation, columns } = await this.resolveInput(plan, inputs, new ErrorRecords(plan.errors ? { ...plan.errors, datasource: null } : undefined), sampleSize);
        return compileTransform(parseTransform(plan.transform ?? {}, columns), sample(relation), columns, inputs.dialect);
      }, PREVIEW_OUTPUT_ROWS, options);
      return { input, output, errorRecords: errors.count, errorSamples: errors.samples };
    } catch (error) {
      throw explain(error, plan, 'preview');
    }
  }

  /** The input as a relation; `firstRows` (previews) reads a FILE input only as far as the sample goes. */
  private async resolveInput(plan: AutomationPlan, inputs: QueryInputs, errors: ErrorRecords, firstRows?: number): Promise<{ relation: string; columns: string[] }> {
    const input = plan.inputs[0]!;
    const relation = await inputs.relationOf(input, { onBadRecord: errors.handler(input.path ?? input.id), firstRows });
    return { relation, columns: await inputs.columnsOf(relation) };
  }
}

/** Rows per batch a file is copied in. */
const COPY_BATCH_ROWS = 5_000;

/** A transform that changes nothing: no SQL and no step. */
function copiesInput(transform: Record<string, unknown> | null | undefined): boolean {
  const parsed = parseTransform(transform ?? {});
  return parsed.kind === 'pipeline' && parsed.steps.length === 0;
}

/**
 * Errors a user can act on become RunFailedError with a plain message; transform errors keep their
 * path, and a query reaching beyond the input is a TransformError at `transform.sql`. `mode` names
 * whose value cap (a preview's or a run's) a too-big value broke.
 */
function explain(error: unknown, plan: AutomationPlan, mode: 'run' | 'preview'): unknown {
  if (error instanceof TransformError || error instanceof RunFailedError || error instanceof RunCancelledError) return error;
  if (error instanceof ReadScopeError) {
    const sql = typeof plan.transform?.sql === 'string';
    return new TransformError(sql ? 'transform.sql' : 'transform', sql ? readScopeMessage(error) : error.message);
  }
  if (error instanceof FileAccessError) return new RunFailedError(`the input file ${error.message}`, { cause: error });
  if (error instanceof MissingDataError) return new RunFailedError('the input holds no data yet: run the automation that writes it first', { cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new RunFailedError(`the input file does not exist: ${(error as NodeJS.ErrnoException).path}`, { cause: error });
  if (code === 'SQLITE_TOOBIG' || error instanceof ValueTooLargeError) {
    const cap = mode === 'preview' ? MAX_VALUE_BYTES : MAX_RUN_VALUE_BYTES;
    return new RunFailedError(`a value or row is larger than a ${mode} may hold (${cap / 1024 / 1024} MB): ${(error as Error).message}`, { cause: error });
  }
  if (code === 'SQLITE_ERROR' || code === 'SQLITE_CONSTRAINT' || code === 'SQLITE_MISMATCH') return new RunFailedError(`the warehouse refused the query: ${(error as Error).message}`, { cause: error });
  // PostgreSQL: syntax or access rule violations (42…) and data exceptions (22…) are the query's fault, not ours.
  if (typeof code === 'string' && /^(42|22)/.test(code)) return new RunFailedError(`the warehouse refused the query: ${(error as Error).message}`, { cause: error });
  if (error instanceof Error && /duplicate keys|no key column|UPSERT/.test(error.message)) return new RunFailedError(error.message, { cause: error });
  return error;
}
