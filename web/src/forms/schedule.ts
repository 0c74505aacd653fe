/** What the schedule editor holds. */
export interface ScheduleDraft {
  enabled: boolean;
  cron: string;
  timezone: string;
}

/** The browser's own zone, the natural default for a new schedule. */
export const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function scheduleDraft(schedule: { cron: string; timezone: string } | null): ScheduleDraft {
  return schedule ? { enabled: true, ...schedule } : { enabled: false, cron: '0 2 * * *', timezone: localZone() };
}

/** The API's ScheduleInput, or null (no schedule; on update it removes the schedule). */
export function scheduleInput(draft: ScheduleDraft): { cron: string; timezone: string } | null {
  return draft.enabled ? { cron: draft.cron, timezone: draft.timezone.trim() || 'UTC' } : null;
}
