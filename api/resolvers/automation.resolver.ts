import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Automation, AutomationKind, AutomationState, Datasource, IoDirection, Role, Run, RunStatus } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { ConnectorObject } from './types/connector.js';
import { roleAllows } from '../../core/auth/roles.js';
import { AutomationConnection, Dependent, RunConnection, Schedule } from './types/objects.js';
import { lookup, written } from './util.js';
import { AutomationObject, DatasourceObject, RunObject } from './types/entities.js';
import { ParameterSetObject } from './types/parameter-set.js';

/** Queries and mutations common to every automation kind, and the fields of the Automation interface. */
@Resolver(() => AutomationObject)
export class AutomationResolver {
  @Query(() => AutomationObject, { nullable: true, description: 'An automation by id or by exact name; null when there is none' })
  automation(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('name', () => String, { nullable: true }) name?: string | null,
  ): Promise<Automation | null> {
    return lookup(id, name, (i) => ctx.automations.findById(i), (n) => ctx.automations.findByName(n));
  }

  @Query(() => AutomationConnection, { description: 'Automations ordered by name' })
  automations(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('search', () => String, { nullable: true, description: 'Case-insensitive part of the name' }) search?: string | null,
    @Arg('kind', () => AutomationKind, { nullable: true }) kind?: AutomationKind | null,
    @Arg('state', () => AutomationState, { nullable: true }) state?: AutomationState | null,
    @Arg('scheduled', () => Boolean, { nullable: true, description: 'Only those whose effectivelyScheduled is this' }) scheduled?: boolean | null,
    @Arg('lastRunStatus', () => RunStatus, { nullable: true, description: 'Only those whose latest run has this status' }) lastRunStatus?: RunStatus | null,
  ) {
    return ctx.automations.list({ first, after, search, kind, state, scheduled, lastRunStatus });
  }

  @Query(() => [Dependent], { description: 'Dry run of deleteAutomation: the chain tasks that trigger it (empty when it can be deleted)' })
  automationDeletionImpact(@Ctx() ctx: Context, @Arg('automationId', () => ID) automationId: string) {
    return ctx.automations.dependents(automationId);
  }

  @Mutation(() => ID, {
    description: 'Refused with AUTOMATION_IN_USE while a chain task triggers it. One that was ever live is kept with its history: ADMIN only (deactivate it instead)',
  })
  async deleteAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.automations.delete(id, ctx.principal !== null && roleAllows(ctx.principal.role, Role.ADMIN)));
  }

  @Mutation(() => AutomationObject, {
    description: 'A new automation doing what this one does now (its live definition), under a new name, with no schedule and no runs; a draft when approval is required',
  })
  async duplicateAutomation(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('name', () => String) name: string,
    @Arg('description', () => String, { nullable: true, description: "Omitted: the original's" }) description?: string | null,
  ) {
    return written(ctx, await ctx.automations.duplicate(id, name, description));
  }

  @Mutation(() => AutomationObject, { description: 'Sets the own schedule; the time zone defaults to UTC' })
  async setSchedule(
    @Ctx() ctx: Context,
    @Arg('automationId', () => ID) automationId: string,
    @Arg('cron', () => String) cron: string,
    @Arg('timezone', () => String, { nullable: true }) timezone?: string | null,
  ) {
    return written(ctx, await ctx.automations.setSchedule(automationId, cron, timezone));
  }

  @Mutation(() => AutomationObject)
  async clearSchedule(@Ctx() ctx: Context, @Arg('automationId', () => ID) automationId: string) {
    return written(ctx, await ctx.automations.clearSchedule(automationId));
  }

  @Mutation(() => RunObject, { description: 'Queues a run now and returns it at once. Refused (CONFLICT) unless the automation is ACTIVE; a request that comes while a run of it is already queued is folded into that run, which is returned' })
  async runAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.scheduler.runNow(id, ctx.principal?.userId));
  }

  @Mutation(() => AutomationObject, { description: 'No new runs; a run in flight finishes' })
  async pauseAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.automations.setState(id, AutomationState.PAUSED));
  }

  @Mutation(() => AutomationObject, { description: 'No new runs; a run in flight is cancelled' })
  async stopAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.automations.setState(id, AutomationState.STOPPED));
  }

  @Mutation(() => AutomationObject, { description: 'Back to ACTIVE from PAUSED, STOPPED or DEACTIVATED' })
  async startAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.automations.setState(id, AutomationState.ACTIVE));
  }

  @Mutation(() => AutomationObject, { description: 'Switches the automation off, kept with its history: no runs, its schedule does not fire, until it is activated again' })
  async deactivateAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.automations.setState(id, AutomationState.DEACTIVATED));
  }

  @Mutation(() => AutomationObject, { description: 'A DEACTIVATED automation becomes ACTIVE again (its schedule fires again); any other state is left as it is' })
  async activateAutomation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await ctx.automations.activate(id));
  }

  @FieldResolver(() => ConnectorObject, { nullable: true, description: 'The connector it ingests for, if a connector made it' })
  connector(@Root() automation: Automation, @Ctx() ctx: Context) {
    return automation.connector ? ctx.loaders.connector.load(automation.connector.id) : null;
  }

  @FieldResolver(() => Schedule, { nullable: true, description: 'Own schedule, if any' })
  async schedule(@Root() automation: Automation, @Ctx() ctx: Context): Promise<Schedule | null> {
    if (!automation.scheduleCron || !automation.scheduleTimezone) return null;
    const active = automation.state === AutomationState.ACTIVE;
    return Object.assign(new Schedule(), {
      cron: automation.scheduleCron,
      timezone: automation.scheduleTimezone,
      nextRunAt: active ? await ctx.loaders.nextRunAt.load(automation.id) : null,
    });
  }

  @FieldResolver(() => Boolean, { description: 'Own active schedule, or triggered by an effectively scheduled chain task' })
  effectivelyScheduled(@Root() automation: Automation, @Ctx() ctx: Context) {
    return ctx.loaders.effectivelyScheduled.load(automation.id);
  }

  @FieldResolver(() => [ParameterSetObject], { description: 'The parameter sets its settings may use, in order (parameterSetIds)' })
  parameterSets(@Root() automation: Automation, @Ctx() ctx: Context) {
    return ctx.loaders.parameterSets.load(automation.id);
  }

  @FieldResolver(() => [DatasourceObject], { description: 'Declared input datasources' })
  inputs(@Root() automation: Automation, @Ctx() ctx: Context) {
    return declared(ctx, automation, IoDirection.INPUT);
  }

  @FieldResolver(() => [DatasourceObject], { description: 'Declared output datasources' })
  outputs(@Root() automation: Automation, @Ctx() ctx: Context) {
    return declared(ctx, automation, IoDirection.OUTPUT);
  }

  @FieldResolver(() => DatasourceObject, { nullable: true, description: 'Error policy TO_DATASOURCE: where rejected rows go' })
  async errorDatasource(@Root() automation: Automation, @Ctx() ctx: Context) {
    return (await declared(ctx, automation, IoDirection.ERRORS))[0] ?? null;
  }

  @FieldResolver(() => RunObject, { nullable: true, description: 'The most recently queued run' })
  lastRun(@Root() automation: Automation, @Ctx() ctx: Context) {
    return ctx.loaders.lastRun.load(automation.id);
  }

  @FieldResolver(() => RunConnection, { description: 'Runs, newest first' })
  runs(
    @Root() automation: Automation,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.runs.list(automation.id, { first, after });
  }
}

/** Declared datasources of one side, in declared order. */
export async function declared(ctx: Context, automation: Automation, direction: IoDirection): Promise<Datasource[]> {
  const rows = (await ctx.loaders.ioByAutomation.load(automation.id)).filter((r) => r.direction === direction);
  const datasources = await ctx.loaders.datasource.loadMany(rows.map((r) => r.datasource.id));
  return datasources.filter((d): d is Datasource => !!d && !(d instanceof Error));
}
