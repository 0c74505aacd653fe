import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Automation, Datasource, DatasourceKind, IoDirection } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { automationsIn } from '../graphql/loaders.js';
import { CreateDatasourceInput, UpdateDatasourceInput } from './types/datasource.input.js';
import { DatasourceConnection, Dependent, JoinSpec } from './types/objects.js';
import { lookup, written } from './util.js';
import { AutomationObject, DatasourceObject } from './types/entities.js';

@Resolver(() => DatasourceObject)
export class DatasourceResolver {
  @Query(() => DatasourceObject, { nullable: true, description: 'A datasource by id or by exact name; null when there is none' })
  datasource(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('name', () => String, { nullable: true }) name?: string | null,
  ): Promise<Datasource | null> {
    return lookup(id, name, (i) => ctx.datasources.findById(i), (n) => ctx.datasources.findByName(n));
  }

  @Query(() => DatasourceConnection, { description: 'Datasources ordered by name' })
  datasources(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('search', () => String, { nullable: true, description: 'Case-insensitive part of the name' }) search?: string | null,
    @Arg('kind', () => DatasourceKind, { nullable: true }) kind?: DatasourceKind | null,
  ) {
    return ctx.datasources.list({ first, after, search, kind });
  }

  @Query(() => [Dependent], { description: 'Dry run of deleteDatasource: what blocks the deletion (empty when it would succeed)' })
  deletionImpact(@Ctx() ctx: Context, @Arg('datasourceId', () => ID) datasourceId: string) {
    return ctx.datasources.dependents(datasourceId);
  }

  @Mutation(() => DatasourceObject)
  async createDatasource(@Ctx() ctx: Context, @Arg('input', () => CreateDatasourceInput) input: CreateDatasourceInput) {
    return written(ctx, await ctx.datasources.create(input));
  }

  @Mutation(() => DatasourceObject)
  async updateDatasource(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateDatasourceInput) input: UpdateDatasourceInput,
  ) {
    return written(ctx, await ctx.datasources.update(id, input));
  }

  @Mutation(() => DatasourceObject, { description: 'A new datasource with the same definition (kind, columns, path or join, tags) under a new name: no data is copied' })
  async duplicateDatasource(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('name', () => String) name: string,
    @Arg('description', () => String, { nullable: true, description: "Omitted: the original's" }) description?: string | null,
  ) {
    return written(ctx, await ctx.datasources.duplicate(id, name, description));
  }

  @Mutation(() => ID, { description: 'Refused with DATASOURCE_IN_USE while anything depends on it' })
  async deleteDatasource(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.datasources.delete(id));
  }

  @FieldResolver(() => JoinSpec, { nullable: true, description: 'JOIN only' })
  join(@Root() datasource: Datasource): JoinSpec | null {
    if (datasource.kind !== DatasourceKind.JOIN || !datasource.joinLeft || !datasource.joinRight) return null;
    return Object.assign(new JoinSpec(), {
      leftId: datasource.joinLeft.id,
      rightId: datasource.joinRight.id,
      leftKey: datasource.joinLeftKey!,
      rightKey: datasource.joinRightKey!,
      type: datasource.joinType!,
    });
  }

  @FieldResolver(() => [AutomationObject], { description: 'Automations declaring it as output (or as where their rejected rows go)' })
  async producedBy(@Root() datasource: Datasource, @Ctx() ctx: Context) {
    const { own } = await ctx.loaders.ioAround.load(datasource.id);
    return automationsIn(ctx.loaders, own, [IoDirection.OUTPUT, IoDirection.ERRORS]);
  }

  @FieldResolver(() => [AutomationObject], {
    description: 'Automations declaring it as input, and those reading a join datasource built on it (through joins of joins)',
  })
  async consumedBy(@Root() datasource: Datasource, @Ctx() ctx: Context) {
    const { own, viaJoins } = await ctx.loaders.ioAround.load(datasource.id);
    return automationsIn(ctx.loaders, [...own, ...viaJoins], [IoDirection.INPUT]);
  }

  @FieldResolver(() => [DatasourceObject], { description: 'Join datasources using it directly as a source' })
  async usedInJoins(@Root() datasource: Datasource, @Ctx() ctx: Context) {
    const ids = await ctx.loaders.joinsUsing.load(datasource.id);
    return (await ctx.loaders.datasource.loadMany(ids)).filter((d) => d && !(d instanceof Error));
  }
}

@Resolver(() => JoinSpec)
export class JoinSpecResolver {
  @FieldResolver(() => DatasourceObject)
  left(@Root() spec: JoinSpec, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(spec.leftId);
  }

  @FieldResolver(() => DatasourceObject)
  right(@Root() spec: JoinSpec, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(spec.rightId);
  }
}
