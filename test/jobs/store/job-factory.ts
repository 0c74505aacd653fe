import type { JobParameters } from 'agenda';

/** The time `offsetMs` from now. */
export function at(offsetMs: number): Date {
  return new Date(Date.now() + offsetMs);
}

/** A one-off job due a second ago, as Agenda's create() would pass it to the repository. */
export function jobParams(overrides: Partial<JobParameters> = {}): JobParameters {
  return { name: 'job', priority: 0, nextRunAt: at(-1000), type: 'normal', data: {}, ...overrides };
}
