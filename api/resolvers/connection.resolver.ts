import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConnectionType, type Connection } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { Dependent } from './types/objects.js';
import { ConnectionObject, ConnectionTestObject, CreateConnectionInput, UpdateConnectionInput } from './types/connection.js';
import { written } from './util.js';

/** The connection store (see api/services/connections). */
@Resolver(() => ConnectionObject)
export class ConnectionResolver {
  @Query(() => [ConnectionObject], { description: 'Every connection, by name (secrets never included)' })
  connections(@Ctx() ctx: Context, @Arg('type', () => ConnectionType, { nullable: true }) type?: ConnectionType | null) {
    return ctx.connections.list(type);
  }

  @Query(() => ConnectionObject, { nullable: true })
  connection(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.connections.findById(id);
  }

  @Mutation(() => ConnectionObject)
  async createConnection(@Ctx() ctx: Context, @Arg('input', () => CreateConnectionInput) input: CreateConnectionInput) {
    return written(ctx, await ctx.connections.create(input));
  }

  @Mutation(() => ConnectionObject, { description: 'Only what is given changes; moving host, port, user or database clears secrets not given again' })
  async updateConnection(@Ctx() ctx: Context, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateConnectionInput) input: UpdateConnectionInput) {
    return written(ctx, await ctx.connections.update(id, input));
  }

  @Mutation(() => ID, { description: 'Refused (CONFLICT, with extensions.dependents) while an automation, a version not live yet or a connector uses it' })
  async deleteConnection(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.connections.delete(id));
  }

  @Mutation(() => ConnectionTestObject, { description: 'Connects and logs in with the stored settings (within 10 s); writes nothing' })
  testConnection(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.connections.test(id);
  }

  @FieldResolver(() => Boolean)
  secretsCleared(@Root() connection: Connection) {
    return connection.secretsCleared === true;
  }

  @FieldResolver(() => [Dependent], { description: 'What selects it: automations (live or in a version not live yet) and connectors' })
  usedBy(@Root() connection: Connection, @Ctx() ctx: Context) {
    return ctx.connections.usedBy(connection.id);
  }
}
