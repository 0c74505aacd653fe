import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationState, Run, RunStatus } from '../../../core/db/entities/index.js';
import { BadUserInputError } from '../../../core/errors.js';
import { hourOf } from '../../../jobs/runs/ingestion-stats.js';
import type { RunControl } from '../../../jobs/runs/run-control.js';

const HOUR = 3_600_000;
const MAX_HOURS = 24 * 7;

export interface RunActivityHour {
  hour: Date;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface UpcomingRun {
  automationId: string;
  at: Date;
}

/** What the overview page shows besides the lists other queries give: runs over time, the next scheduled runs. */
export class Overview {
  constructor(
    private readonly em: EntityManager,
    private readonly scheduler: RunControl,
  ) {}

  /** Top-level runs that ended in each hour of [from, to) (at most 7 days), by outcome. */
  async runActivity(fromIn: Date, toIn: Date): Promise<RunActivityHour[]> {
    const from = hourOf(fromIn);
    const to = new Date(Math.ceil(toIn.getTime() / HOUR) * HOUR);
    if (!(to > from)) throw new BadUserInputError('to', 'to must be after from');
    if (to.getTime() - from.getTime() > MAX_HOURS * HOUR) throw new BadUserInputError('from', 'a range is at most 7 days');
    const hours = new Map<number, RunActivityHour>();
    for (let at = from.getTime(); at < to.getTime(); at += HOUR) hours.set(at, { hour: new Date(at), succeeded: 0, failed: 0, cancelled: 0 });
    const runs = await this.em.find(Run, { parentRun: null, finishedAt: { $gte: from, $lt: to } }, { fields: ['status', 'finishedAt'] });
    for (const run of runs) {
      const bucket = hours.get(hourOf(run.finishedAt!).getTime());
      if (!bucket) continue;
      if (run.status === RunStatus.SUCCESS) bucket.succeeded += 1;
      else if (run.status === RunStatus.FAILED) bucket.failed += 1;
      else if (run.status === RunStatus.CANCELLED) bucket.cancelled += 1;
    }
    return [...hours.values()];
  }

  /** The next `first` scheduled runs (active automations with a schedule), soonest first. */
  async upcoming(first: number): Promise<UpcomingRun[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw new BadUserInputError('first', `first must be from 1 to 100, got ${first}`);
    const scheduled = await this.em.find(Automation, { state: AutomationState.ACTIVE, scheduleCron: { $ne: null } }, { fields: ['id'] });
    const times = await this.scheduler.nextRunTimes(scheduled.map((a) => a.id));
    return [...times]
      .filter((entry): entry is [string, Date] => entry[1] !== null)
      .map(([automationId, at]) => ({ automationId, at }))
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .slice(0, first);
  }
}
