import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Automation, ChainTask, Datasource, EtlStep, IoDirection, Script, SftpImport } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { declared } from './automation.resolver.js';
import {
  CreateChainTaskInput,
  CreateEtlStepInput,
  CreateScriptInput,
  CreateSftpImportInput,
  UpdateChainTaskInput,
  UpdateEtlStepInput,
  UpdateScriptInput,
  UpdateSftpImportInput,
} from './types/automation.input.js';
import { written } from './util.js';
import { AutomationObject, ChainTaskObject, DatasourceObject, EtlStepObject, ScriptObject, SftpImportObject } from './types/entities.js';

async function single(ctx: Context, automation: Automation, direction: IoDirection): Promise<Datasource> {
  const [datasource] = await declared(ctx, automation, direction);
  return datasource!;
}

@Resolver(() => EtlStepObject)
export class EtlStepResolver {
  @Mutation(() => EtlStepObject)
  async createEtlStep(@Ctx() ctx: Context, @Arg('input', () => CreateEtlStepInput) input: CreateEtlStepInput) {
    return written(ctx, await ctx.automations.createEtlStep(input));
  }

  @Mutation(() => EtlStepObject, { description: 'Only the fields given change' })
  async updateEtlStep(@Ctx() ctx: Context, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateEtlStepInput) input: UpdateEtlStepInput) {
    return written(ctx, await ctx.automations.updateEtlStep(id, input));
  }

  @FieldResolver(() => DatasourceObject)
  input(@Root() step: EtlStep, @Ctx() ctx: Context) {
    return single(ctx, step, IoDirection.INPUT);
  }

  @FieldResolver(() => DatasourceObject)
  output(@Root() step: EtlStep, @Ctx() ctx: Context) {
    return single(ctx, step, IoDirection.OUTPUT);
  }
}

@Resolver(() => SftpImportObject)
export class SftpImportResolver {
  @Mutation(() => SftpImportObject)
  async createSftpImport(@Ctx() ctx: Context, @Arg('input', () => CreateSftpImportInput) input: CreateSftpImportInput) {
    return written(ctx, await ctx.automations.createSftpImport(input));
  }

  @Mutation(() => SftpImportObject, { description: 'Only the fields given change; secrets are write-only' })
  async updateSftpImport(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateSftpImportInput) input: UpdateSftpImportInput,
  ) {
    return written(ctx, await ctx.automations.updateSftpImport(id, input));
  }

  @FieldResolver(() => DatasourceObject)
  output(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return single(ctx, sftp, IoDirection.OUTPUT);
  }
}

@Resolver(() => ScriptObject)
export class ScriptResolver {
  @Mutation(() => ScriptObject)
  async createScript(@Ctx() ctx: Context, @Arg('input', () => CreateScriptInput) input: CreateScriptInput) {
    return written(ctx, await ctx.automations.createScript(input));
  }

  @Mutation(() => ScriptObject, { description: 'Only the fields given change' })
  async updateScript(@Ctx() ctx: Context, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateScriptInput) input: UpdateScriptInput) {
    return written(ctx, await ctx.automations.updateScript(id, input));
  }
}

@Resolver(() => ChainTaskObject)
export class ChainTaskResolver {
  @Mutation(() => ChainTaskObject)
  async createChainTask(@Ctx() ctx: Context, @Arg('input', () => CreateChainTaskInput) input: CreateChainTaskInput) {
    return written(ctx, await ctx.automations.createChainTask(input));
  }

  @Mutation(() => ChainTaskObject, { description: 'Only the fields given change' })
  async updateChainTask(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateChainTaskInput) input: UpdateChainTaskInput,
  ) {
    return written(ctx, await ctx.automations.updateChainTask(id, input));
  }

  @FieldResolver(() => [AutomationObject], { description: 'Automations it triggers, in order' })
  async steps(@Root() chain: ChainTask, @Ctx() ctx: Context) {
    const ids = await ctx.loaders.chainSteps.load(chain.id);
    return (await ctx.loaders.automation.loadMany(ids)).filter((a) => a && !(a instanceof Error));
  }
}
