import type { Run } from '../../core/db/entities/index.js';

/**
 * What the API asks of the scheduler (jobs/scheduler implements it): queue runs, keep the job
 * store in step with automation changes, and tell when schedules fire next.
 */
export interface RunControl {
  /** Queues a manual run, started by the user `startedBy` (their id), and returns it at once. */
  runNow(automationId: string, startedBy?: string | null): Promise<Run>;
  /** Called after a committed change of an automation (or its deletion). */
  automationChanged(automationId: string): Promise<void>;
  /** Next fire time of each automation's schedule, from the job store. */
  nextRunTimes(automationIds: readonly string[]): Promise<Map<string, Date | null>>;
}
