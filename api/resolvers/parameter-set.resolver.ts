import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ParameterSet } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { Dependent } from './types/objects.js';
import { CreateParameterSetInput, ParameterSetObject, UpdateParameterSetInput } from './types/parameter-set.js';
import { written } from './util.js';

/** Parameter sets (see api/services/parameter-sets). */
@Resolver(() => ParameterSetObject)
export class ParameterSetResolver {
  @Query(() => [ParameterSetObject], { description: 'Every parameter set, by name' })
  parameterSets(@Ctx() ctx: Context) {
    return ctx.parameterSets.list();
  }

  @Query(() => ParameterSetObject, { nullable: true })
  parameterSet(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.parameterSets.findById(id);
  }

  @Mutation(() => ParameterSetObject)
  async createParameterSet(@Ctx() ctx: Context, @Arg('input', () => CreateParameterSetInput) input: CreateParameterSetInput) {
    return written(ctx, await ctx.parameterSets.create(input));
  }

  @Mutation(() => ParameterSetObject, { description: 'Only what is given changes' })
  async updateParameterSet(@Ctx() ctx: Context, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateParameterSetInput) input: UpdateParameterSetInput) {
    return written(ctx, await ctx.parameterSets.update(id, input));
  }

  @Mutation(() => ID, { description: 'Refused (CONFLICT, with extensions.dependents) while an automation, a version not live yet or a FILE path uses it' })
  async deleteParameterSet(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.parameterSets.delete(id));
  }

  @FieldResolver(() => [Dependent], { description: 'Automations it is attached to (live or in a version not live yet) and FILE datasources whose path names it' })
  usedBy(@Root() set: ParameterSet, @Ctx() ctx: Context) {
    return ctx.parameterSets.usedBy(set.id);
  }
}
