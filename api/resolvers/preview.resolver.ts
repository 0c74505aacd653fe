import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { AutomationKind, Datasource } from '../entities/index.js';
import { BadUserInputError, PreviewFailedError } from '../errors/index.js';
import type { Context } from '../graphql/context.js';
import { buildPlan } from '../services/run-plan.js';
import { EtlRunner } from '../../jobs/runners/etl.runner.js';
import { RunFailedError, type AutomationPlan } from '../../jobs/runners/runner.js';
import { ScriptRunner } from '../../jobs/runners/script.runner.js';
import { SftpImportRunner } from '../../jobs/runners/sftp.runner.js';
import { applyDraft } from '../services/preview-draft.js';
import { DataSampleObject, PreviewDraftInput, PreviewObject } from './types/preview.js';

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
    const plan = await applyDraft(ctx.em, await buildPlan(ctx.em, ctx.data, ctx.secrets, id), draft);
    try {
      return await previewOf(ctx, plan, size, filePath ?? null);
    } catch (error) {
      if (error instanceof RunFailedError) throw new PreviewFailedError(error.message);
      throw error;
    }
  }
}

/** Each kind's runner previews in its own way; the answer has one shape. */
async function previewOf(ctx: Context, plan: AutomationPlan, size: number, filePath: string | null): Promise<PreviewObject> {
  const empty = { errorRecords: 0, errors: [], log: [], file: null };
  switch (plan.kind) {
    case AutomationKind.ETL_STEP: {
      const preview = await new EtlRunner(ctx.warehouse).preview(plan, size);
      return { ...empty, errorRecords: preview.errorRecords, errors: preview.errorSamples, inputs: [{ datasourceId: plan.inputs[0]!.id, ...preview.input }], outputs: [{ datasourceId: plan.outputs[0]!.id, ...preview.output }] };
    }
    case AutomationKind.SCRIPT: {
      const preview = await new ScriptRunner(ctx.warehouse).preview(plan, size);
      return { ...empty, inputs: preview.inputs, outputs: preview.outputs, log: preview.log };
    }
    case AutomationKind.SFTP_IMPORT: {
      const preview = await new SftpImportRunner(ctx.warehouse, ctx.sftpState).preview(plan, size, filePath ?? undefined);
      return { ...empty, inputs: [], outputs: [{ datasourceId: plan.outputs[0]!.id, columns: preview.columns, rows: preview.rows }], file: preview.file };
    }
    default:
      throw new BadUserInputError('id', `a ${plan.kind} has no preview: it moves no data itself`);
  }
}

@Resolver(() => DataSampleObject)
export class DataSampleResolver {
  @FieldResolver(() => Datasource)
  datasource(@Root() sample: DataSampleObject, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(sample.datasourceId);
  }
}
