import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { Automation, ChainTask, Connection, DatabaseIngestion, Datasource, EtlStep, IoDirection, Script, SftpImport } from '../../core/db/entities/index.js';
import { ConnectionObject } from './types/connection.js';
import type { Context } from '../graphql/context.js';
import { declared } from './automation.resolver.js';
import {
  CreateChainTaskInput,
  CreateDatabaseIngestionInput,
  CreateEtlStepInput,
  CreateScriptInput,
  CreateSftpImportInput,
  UpdateChainTaskInput,
  UpdateDatabaseIngestionInput,
  UpdateEtlStepInput,
  UpdateScriptInput,
  UpdateSftpImportInput,
} from './types/automation.input.js';
import { written } from './util.js';
import { AutomationObject, ChainTaskObject, DatabaseIngestionObject, DatasourceObject, EtlStepObject, ScriptObject, SftpImportObject } from './types/entities.js';

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

  @FieldResolver(() => ConnectionObject, { nullable: true, description: 'The SFTP connection it logs in with' })
  connection(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return connectionOf(ctx, sftp);
  }

  @FieldResolver(() => String, { description: "Its connection's host" })
  async host(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return (await connectionOf(ctx, sftp))?.host ?? '';
  }

  @FieldResolver(() => Int, { description: "Its connection's port" })
  async port(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return (await connectionOf(ctx, sftp))?.port ?? 22;
  }

  @FieldResolver(() => String, { description: "Its connection's user name" })
  async username(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return (await connectionOf(ctx, sftp))?.username ?? '';
  }

  @FieldResolver(() => Boolean, { description: 'Whether its connection stores a password (never returned)' })
  async hasPassword(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return (await connectionOf(ctx, sftp))?.hasPassword ?? false;
  }

  @FieldResolver(() => Boolean, { description: 'Whether its connection stores a private key (never returned)' })
  async hasPrivateKey(@Root() sftp: SftpImport, @Ctx() ctx: Context) {
    return (await connectionOf(ctx, sftp))?.hasPrivateKey ?? false;
  }
}

async function connectionOf(ctx: Context, automation: Automation): Promise<Connection | null> {
  return automation.connection ? ctx.loaders.connection.load(automation.connection.id) : null;
}

@Resolver(() => DatabaseIngestionObject)
export class DatabaseIngestionResolver {
  @Mutation(() => DatabaseIngestionObject)
  async createDatabaseIngestion(@Ctx() ctx: Context, @Arg('input', () => CreateDatabaseIngestionInput) input: CreateDatabaseIngestionInput) {
    return written(ctx, await ctx.automations.createDatabaseIngestion(input));
  }

  @Mutation(() => DatabaseIngestionObject, { description: 'Only the fields given change' })
  async updateDatabaseIngestion(@Ctx() ctx: Context, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateDatabaseIngestionInput) input: UpdateDatabaseIngestionInput) {
    return written(ctx, await ctx.automations.updateDatabaseIngestion(id, input));
  }

  @FieldResolver(() => String, { nullable: true })
  table(@Root() ingestion: DatabaseIngestion) {
    return ingestion.sourceTable ?? null;
  }

  @FieldResolver(() => DatasourceObject)
  output(@Root() ingestion: DatabaseIngestion, @Ctx() ctx: Context) {
    return single(ctx, ingestion, IoDirection.OUTPUT);
  }

  @FieldResolver(() => ConnectionObject, { nullable: true, description: 'The POSTGRES or MYSQL connection it reads with' })
  connection(@Root() ingestion: DatabaseIngestion, @Ctx() ctx: Context) {
    return connectionOf(ctx, ingestion);
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
