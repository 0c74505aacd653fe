import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { AutomationKind, Datasource } from '../entities/index.js';
import { BadUserInputError, DataUnavailableError } from '../errors/index.js';
import type { Context } from '../graphql/context.js';
import { buildPlan } from '../services/run-plan.js';
import { EtlRunner } from '../../jobs/runners/etl.runner.js';
import { RunFailedError } from '../../jobs/runners/runner.js';
import { DataSampleObject, PreviewObject } from './types/preview.js';

const MAX_SAMPLE = 1_000;

@Resolver()
export class PreviewResolver {
  @Query(() => PreviewObject, { description: 'Runs an automation on the first rows of its input and returns input and output rows, writing nothing' })
  async previewAutomation(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('sampleSize', () => Int, { nullable: true, defaultValue: 20 }) sampleSize?: number | null,
    @Arg('filePath', () => String, { nullable: true, description: 'SFTP imports: the remote file to preview' }) filePath?: string | null,
  ): Promise<PreviewObject> {
    const size = sampleSize ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_SAMPLE) throw new BadUserInputError('sampleSize', `sampleSize must be from 1 to ${MAX_SAMPLE}, got ${size}`);
    const plan = await buildPlan(ctx.em, ctx.data, ctx.secrets, id);
    if (plan.kind !== AutomationKind.ETL_STEP) {
      void filePath;
      throw new BadUserInputError('id', `preview of a ${plan.kind} is not available yet; ETL steps can be previewed`);
    }
    try {
      const preview = await new EtlRunner(ctx.warehouse).preview(plan, size);
      return {
        inputs: [{ datasourceId: plan.inputs[0]!.id, ...preview.input }],
        outputs: [{ datasourceId: plan.outputs[0]!.id, ...preview.output }],
        errorRecords: 0,
        errors: [],
      };
    } catch (error) {
      if (error instanceof RunFailedError) throw new DataUnavailableError(error.message);
      throw error;
    }
  }
}

@Resolver(() => DataSampleObject)
export class DataSampleResolver {
  @FieldResolver(() => Datasource)
  datasource(@Root() sample: DataSampleObject, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(sample.datasourceId);
  }
}
