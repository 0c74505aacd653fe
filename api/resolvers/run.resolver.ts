import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Automation, Run } from '../../core/db/entities/index.js';
import type { Context } from '../graphql/context.js';
import { AutomationObject, RunObject } from './types/entities.js';
import { UserObject } from './types/account.js';

/** Runs: one by id, and the fields that link a run to its automation, its chain and its steps. */
@Resolver(() => RunObject)
export class RunResolver {
  @Query(() => RunObject, { nullable: true, description: 'A run by id; null when there is none (or it was pruned)' })
  run(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.runs.find(id);
  }

  @FieldResolver(() => AutomationObject)
  async automation(@Root() run: Run, @Ctx() ctx: Context) {
    return ctx.loaders.automation.load(run.automation.id);
  }

  @FieldResolver(() => UserObject, { nullable: true, description: 'Who started a manual run; null for schedules, chains and runs from before accounts' })
  startedBy(@Root() run: Run, @Ctx() ctx: Context) {
    return run.startedById ? ctx.loaders.user.load(run.startedById) : null;
  }

  @FieldResolver(() => RunObject, { nullable: true, description: 'The chain task run that ran this one as a step' })
  parentRun(@Root() run: Run, @Ctx() ctx: Context) {
    return run.parentRun ? ctx.loaders.run.load(run.parentRun.id) : null;
  }

  @FieldResolver(() => [RunObject], { description: 'Chain task runs: the run of each step, in order' })
  steps(@Root() run: Run, @Ctx() ctx: Context) {
    return ctx.runs.children(run.id);
  }

  @FieldResolver(() => [String], { description: 'Log lines, oldest first (bounded: the first 5,000 lines are kept)' })
  log(@Root() run: Run, @Ctx() ctx: Context) {
    return ctx.runs.log(run.id);
  }
}
