import { Arg, Int, Query, Resolver } from 'type-graphql';
import { BadUserInputError } from '../../core/errors.js';
import { DEFAULT_TIMEZONE, upcomingRuns } from '../services/schedule.js';

const MAX_TIMES = 50;

@Resolver()
export class ScheduleResolver {
  @Query(() => [Date], {
    description: 'The next times a cron expression fires in a time zone, to check a schedule before saving it (BAD_USER_INPUT on cron or timezone when invalid)',
  })
  scheduleTimes(
    @Arg('cron', () => String) cron: string,
    @Arg('timezone', () => String, { nullable: true, description: 'IANA time zone; default UTC' }) timezone?: string | null,
    @Arg('count', () => Int, { nullable: true, defaultValue: 5 }) count?: number | null,
  ): Date[] {
    const wanted = count ?? 5;
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_TIMES) throw new BadUserInputError('count', `count must be from 1 to ${MAX_TIMES}, got ${wanted}`);
    return upcomingRuns(cron, timezone ?? DEFAULT_TIMEZONE, wanted);
  }
}
