import { Arg, Ctx, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../graphql/context.js';
import { Overview, type UpcomingRun } from '../services/statistics/overview.js';
import { AutomationObject } from './types/entities.js';

@ObjectType('RunActivityHour', { description: 'Top-level runs that ended in one UTC hour, by outcome' })
export class RunActivityHourObject {
  @Field(() => Date) hour!: Date;
  @Field(() => Int) succeeded!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) cancelled!: number;
}

@ObjectType('UpcomingRun', { description: 'When an automation\'s schedule fires next' })
export class UpcomingRunObject {
  @Field(() => ID) automationId!: string;
  @Field(() => Date) at!: Date;
}

/** The overview page's own queries. */
@Resolver(() => UpcomingRunObject)
export class OverviewResolver {
  @Query(() => [RunActivityHourObject], { description: 'Runs ended per hour of [from, to) (at most 7 days), by outcome' })
  runActivity(@Ctx() ctx: Context, @Arg('from', () => Date) from: Date, @Arg('to', () => Date) to: Date) {
    return new Overview(ctx.em, ctx.scheduler).runActivity(from, to);
  }

  @Query(() => [UpcomingRunObject], { description: 'The next scheduled runs, soonest first' })
  upcomingRuns(@Ctx() ctx: Context, @Arg('first', () => Int, { defaultValue: 10 }) first: number) {
    return new Overview(ctx.em, ctx.scheduler).upcoming(first);
  }

  @FieldResolver(() => AutomationObject)
  automation(@Root() upcoming: UpcomingRun, @Ctx() ctx: Context) {
    return ctx.loaders.automation.load(upcoming.automationId);
  }
}
