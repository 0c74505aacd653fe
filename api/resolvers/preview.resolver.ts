import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { AutomationKind, Datasource } from '../../core/db/entities/index.js';
import { BadUserInputError, PreviewFailedError } from '../../core/errors.js';
import { FileAccessError } from '../../jobs/warehouse/file-roots.js';
import { MAX_ANSWER_BYTES, QueryTimeoutError, WarehouseBusyError, capRows } from '../../jobs/warehouse/limits.js';
import type { Context } from '../graphql/context.js';
import { buildPlan } from '../../jobs/runs/run-plan.js';
import { fillParameters } from '../../jobs/runs/plan-parameters.js';
import { ParameterError } from '../../core/parameters/values.js';
import { EtlRunner } from '../../jobs/runners/etl.runner.js';
import { RunFailedError, type AutomationPlan } from '../../jobs/runners/runner.js';
import { DatabaseIngestionRunner } from '../../jobs/runners/database.runner.js';
import { SftpImportRunner } from '../../jobs/runners/sftp.runner.js';
import { applyDraft } from '../services/preview-draft.js';
import { DataSampleObject, PreviewDraftInput, PreviewObject } from './types/preview.js';
import { DatasourceObject } from './types/entities.js';

const MAX_SAMPLE = 1_000;

@Resolver()
export class PreviewResolver {
  @Query(() => PreviewObject, { description: 'Runs an automation on the first rows of its input and returns input and output rows, writing nothing' })
  async previewAutomation(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('sampleSize', () => Int, { nullable: true, defaultValue: 20 }) sampleSize?: number | null,
    @Arg('filePath', () => String, { nullable: true, description: 'SFTP imports: the remote file to preview' }) filePath?: string | null,
    @Arg('draft', () => PreviewDraftInput, { nullable: true, description: 'Unsaved edits to preview instead of the saved settings' }) draft?: PreviewDraftInput | null,
  ): Promise<PreviewObject> {
    const size = sampleSize ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_SAMPLE) throw new BadUserInputError('sampleSize', `sampleSize must be from 1 to ${MAX_SAMPLE}, got ${size}`);
    const { plan, log: parameters } = await fillParameters(ctx.em, await applyDraft(ctx.em, await buildPlan(ctx.em, ctx.data, ctx.secrets, id), draft, ctx.warehouse)).catch((error: unknown) => {
      throw error instanceof ParameterError ? new PreviewFailedError(error.message) : error;
    });
    try {
      // ETL steps and scripts work on the warehouse: they take a turn of its request limiter, which
      // stops them at QUERY_TIMEOUT_MS or when the client leaves. SFTP previews wait on a remote server.
      const preview =
        plan.kind === AutomationKind.SFTP_IMPORT || plan.kind === AutomationKind.DATABASE_TABLE
          ? await previewOf(ctx, plan, size, filePath ?? null)
          : await ctx.warehouse.requests.run(ctx.signal, (signal) => previewOf(ctx, plan, size, filePath ?? null, signal), { heavy: true });
      return capSamples({ ...preview, log: [...parameters, ...preview.log] });
    } catch (error) {
      if (error instanceof RunFailedError) throw new PreviewFailedError(error.message, error.cause instanceof FileAccessError && error.cause.reason !== 'MISSING' ? 'FILE_REFUSED' : undefined);
      if (error instanceof FileAccessError) throw new PreviewFailedError(`an input file ${error.message}`, error.reason === 'MISSING' ? undefined : 'FILE_REFUSED');
      if (error instanceof QueryTimeoutError) throw new PreviewFailedError(`the preview ${error.message}`, 'TIMEOUT');
      if (error instanceof WarehouseBusyError) throw new PreviewFailedError(`the preview did not run: ${error.message}`, 'BUSY');
      throw error;
    }
  }
}

/** Each kind's runner previews in its own way; the answer has one shape. */
async function previewOf(ctx: Context, plan: AutomationPlan, size: number, filePath: string | null, signal?: AbortSignal): Promise<PreviewObject> {
  const empty = { errorRecords: 0, errors: [], log: [], file: null };
  const sample = (datasourceId: string, data: { columns: string[]; rows: Record<string, unknown>[]; truncated?: boolean }) => ({ datasourceId, ...data, truncated: data.truncated ?? false });
  switch (plan.kind) {
    case AutomationKind.ETL_STEP: {
      const preview = await new EtlRunner(ctx.warehouse).preview(plan, size, { signal, maxBytes: MAX_ANSWER_BYTES / 2 });
      return { ...empty, errorRecords: preview.errorRecords, errors: preview.errorSamples, inputs: [sample(plan.inputs[0]!.id, preview.input)], outputs: [sample(plan.outputs[0]!.id, preview.output)] };
    }
    case AutomationKind.SCRIPT: {
      const preview = await ctx.scripts.preview(plan, size, signal);
      return { ...empty, inputs: preview.inputs.map((s) => sample(s.datasourceId, s)), outputs: preview.outputs.map((s) => sample(s.datasourceId, s)), log: preview.log };
    }
    case AutomationKind.SFTP_IMPORT: {
      const preview = await new SftpImportRunner(ctx.warehouse, ctx.sftpState).preview(plan, size, filePath ?? undefined);
      return { ...empty, inputs: [], outputs: [sample(plan.outputs[0]!.id, { columns: preview.columns, rows: preview.rows })], file: preview.file };
    }
    case AutomationKind.DATABASE_TABLE: {
      const preview = await new DatabaseIngestionRunner(ctx.warehouse, ctx.sftpState, { connectTimeoutMs: 10_000 }).preview(plan, size);
      return { ...empty, inputs: [], outputs: [sample(plan.outputs[0]!.id, preview)] };
    }
    default:
      throw new BadUserInputError('id', `a ${plan.kind} has no preview: it moves no data itself`);
  }
}

/** All the samples of one preview carry at most MAX_ANSWER_BYTES of rows, shared evenly; a cut sample says `truncated`. */
function capSamples(preview: PreviewObject): PreviewObject {
  const count = preview.inputs.length + preview.outputs.length;
  if (count === 0) return preview;
  const share = Math.floor(MAX_ANSWER_BYTES / count);
  const cap = (s: DataSampleObject): DataSampleObject => {
    const { rows, truncated } = capRows(s.rows, share);
    return Object.assign(new DataSampleObject(), s, { rows, truncated: s.truncated || truncated });
  };
  return { ...preview, inputs: preview.inputs.map(cap), outputs: preview.outputs.map(cap) };
}

@Resolver(() => DataSampleObject)
export class DataSampleResolver {
  @FieldResolver(() => DatasourceObject)
  datasource(@Root() sample: DataSampleObject, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(sample.datasourceId);
  }
}
