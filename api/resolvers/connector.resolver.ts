import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Connector } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { AutomationObject } from './types/entities.js';
import { ConnectionObject } from './types/connection.js';
import { ConfigureConnectorInput, ConnectorObject, CreateConnectorInput, FinalizeConnectorInput, HourlyIngestionObject, IngestionAnomalyObject } from './types/connector.js';
import { written } from './util.js';

/** Connectors and ingestion statistics (see api/services/connectors and api/services/statistics). */
@Resolver(() => ConnectorObject)
export class ConnectorResolver {
  @Query(() => [ConnectorObject], { description: 'Every connector, by name' })
  connectors(@Ctx() ctx: Context) {
    return ctx.connectors.list();
  }

  @Query(() => ConnectorObject, { nullable: true })
  connector(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.connectors.findById(id);
  }

  @Query(() => [HourlyIngestionObject], { description: 'Rows ingested per hour (every hour of [from, to), at most 90 days) by one ingestion or a connector\'s, with anomalies' })
  ingestionStatistics(
    @Ctx() ctx: Context,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('connectorId', () => ID, { nullable: true }) connectorId?: string | null,
    @Arg('automationId', () => ID, { nullable: true }) automationId?: string | null,
  ) {
    return ctx.statistics.hourly({ connectorId, automationId, from, to });
  }

  @Query(() => [IngestionAnomalyObject], { description: 'Every ingestion\'s anomalies in the hours of [from, to), newest first' })
  ingestionAnomalies(@Ctx() ctx: Context, @Arg('from', () => Date) from: Date, @Arg('to', () => Date) to: Date) {
    return ctx.statistics.anomalies(from, to);
  }

  @Mutation(() => ConnectorObject, { description: 'A new connector: CONFIGURING, at PREREQUISITES' })
  async createConnector(@Ctx() ctx: Context, @Arg('input', () => CreateConnectorInput) input: CreateConnectorInput) {
    return written(ctx, await ctx.connectors.create(input));
  }

  @Mutation(() => ConnectorObject, { description: 'Wizard step 1: the prerequisites are met' })
  async completePrerequisites(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string) {
    return written(ctx, await ctx.connectors.completePrerequisites(connectorId));
  }

  @Mutation(() => ConnectorObject, { description: 'Wizard step 2 (→ CONNECTOR_CONFIGURED), or later an update of the destination: table prefix and default schedule' })
  async configureConnector(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string, @Arg('input', () => ConfigureConnectorInput) input: ConfigureConnectorInput) {
    return written(ctx, await ctx.connectors.configure(connectorId, input));
  }

  @Mutation(() => ConnectorObject, { description: 'Wizard step 3 (→ CONNECTION_CONFIGURED), or later an update of the connection: tested live first; a failing test leaves it as it was (BAD_USER_INPUT with extensions.failure)' })
  async setConnectorConnection(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string, @Arg('connectionId', () => ID) connectionId: string) {
    return written(ctx, await ctx.connectors.setConnection(connectorId, connectionId));
  }

  @Mutation(() => ConnectorObject, { description: 'Wizard step 4 (→ FINALIZED, STARTED): each table becomes an ingestion into a new STORAGE datasource' })
  async finalizeConnector(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string, @Arg('input', () => FinalizeConnectorInput) input: FinalizeConnectorInput) {
    return written(ctx, await ctx.connectors.finalize(connectorId, input.tables));
  }

  @Mutation(() => ConnectorObject, { description: 'Ingestion management: more tables' })
  async addConnectorTables(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string, @Arg('tables', () => [String]) tables: string[]) {
    return written(ctx, await ctx.connectors.addTables(connectorId, tables));
  }

  @Mutation(() => ConnectorObject, { description: 'Ingestion management: an ingestion goes (its datasource and data stay)' })
  async removeConnectorIngestion(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string, @Arg('automationId', () => ID) automationId: string) {
    return written(ctx, await ctx.connectors.removeIngestion(connectorId, automationId));
  }

  @Mutation(() => ConnectorObject, { description: 'Ingestion management: one ingestion on or off' })
  async setIngestionEnabled(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string, @Arg('automationId', () => ID) automationId: string, @Arg('enabled', () => Boolean) enabled: boolean) {
    return written(ctx, await ctx.connectors.setIngestionEnabled(connectorId, automationId, enabled));
  }

  @Mutation(() => ConnectorObject, { description: 'Nothing of the connector runs until resumed: schedules stop, queued runs are cancelled' })
  async pauseConnector(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string) {
    return written(ctx, await ctx.connectors.pause(connectorId));
  }

  @Mutation(() => ConnectorObject)
  async resumeConnector(@Ctx() ctx: Context, @Arg('connectorId', () => ID) connectorId: string) {
    return written(ctx, await ctx.connectors.resume(connectorId));
  }

  @FieldResolver(() => [AutomationObject], { description: 'Its ingestion automations, by name' })
  ingestions(@Root() connector: Connector, @Ctx() ctx: Context) {
    return ctx.connectors.ingestions(connector.id);
  }

  @FieldResolver(() => ConnectionObject, { nullable: true })
  connection(@Root() connector: Connector, @Ctx() ctx: Context) {
    return connector.connection ? ctx.loaders.connection.load(connector.connection.id) : null;
  }

  @FieldResolver(() => [String], { description: 'What must be true outside Tributary first (the wizard\'s checklist)' })
  prerequisites(@Root() connector: Connector, @Ctx() ctx: Context) {
    return ctx.connectors.prerequisites(connector);
  }

  @FieldResolver(() => [String], { description: 'The tables its connection can read, to pick from (databases; none for SFTP): asks the source, within 10 s' })
  sourceTables(@Root() connector: Connector, @Ctx() ctx: Context) {
    return ctx.connectors.sourceTables(connector.id);
  }

  @FieldResolver(() => String, { nullable: true, description: 'The default schedule of its ingestions (cron)' })
  scheduleCron(@Root() connector: Connector) {
    return connector.scheduleCron ?? null;
  }

  @FieldResolver(() => String, { nullable: true })
  scheduleTimezone(@Root() connector: Connector) {
    return connector.scheduleTimezone ?? null;
  }
}
