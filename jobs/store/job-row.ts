import { toJobId, type JobParameters } from 'agenda';
import type { SqlValue } from './connection.js';

/** A row of the jobs table as sqlite3 returns it. */
export interface JobRow {
  id: number;
  name: string;
  priority: number;
  next_run_at: number | null;
  type: 'normal' | 'single';
  locked_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  repeat_timezone: string | null;
  last_run_at: number | null;
  repeat_interval: string | number | null;
  data: string | null;
  repeat_at: string | null;
  disabled: number;
  progress: number | null;
  fork: number;
  last_modified_by: string | null;
  debounce_started_at: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
}

/** A date as stored: ms since the epoch, or null when absent (or not a valid date). */
export function toMillis(value: Date | string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

function toDate(ms: number | null): Date | undefined {
  return ms === null ? undefined : new Date(ms);
}

/** JSON text for the data column; undefined is stored as NULL. */
export function toJsonText(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Converts a stored row to Agenda's job shape (absent values as undefined, like the PostgreSQL backend). */
export function rowToJob<DATA = unknown>(row: JobRow): JobParameters<DATA> {
  return {
    _id: toJobId(String(row.id)),
    name: row.name,
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    type: row.type,
    lockedAt: toDate(row.locked_at),
    lastFinishedAt: toDate(row.last_finished_at),
    failedAt: toDate(row.failed_at),
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    repeatTimezone: row.repeat_timezone ?? undefined,
    lastRunAt: toDate(row.last_run_at),
    repeatInterval: row.repeat_interval ?? undefined,
    data: (row.data === null ? null : JSON.parse(row.data)) as DATA,
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === 1,
    progress: row.progress ?? undefined,
    fork: row.fork === 1,
    lastModifiedBy: row.last_modified_by ?? undefined,
    debounceStartedAt: toDate(row.debounce_started_at),
    startDate: toDate(row.start_date),
    endDate: toDate(row.end_date),
    skipDays: row.skip_days === null ? undefined : (JSON.parse(row.skip_days) as number[]),
  };
}

/**
 * The columns a user save writes, in the order of `INSERT_COLUMNS`; processor-managed fields
 * (lock, last run, progress, failures) are left to `saveJobState`. Falsy values are stored as
 * absent, as the PostgreSQL backend does.
 */
export function definitionValues(job: JobParameters, lastModifiedBy: string | undefined, nextRunAt: number | null = toMillis(job.nextRunAt)): SqlValue[] {
  return [
    job.name,
    job.priority ?? 0,
    nextRunAt,
    job.type ?? 'normal',
    job.repeatTimezone || null,
    job.repeatInterval || null,
    toJsonText(job.data),
    job.repeatAt || null,
    job.disabled ? 1 : 0,
    job.fork ? 1 : 0,
    lastModifiedBy || null,
    toMillis(job.startDate),
    toMillis(job.endDate),
    job.skipDays ? JSON.stringify(job.skipDays) : null,
  ];
}

export const INSERT_COLUMNS =
  'name, priority, next_run_at, type, repeat_timezone, repeat_interval, data, repeat_at, disabled, fork, last_modified_by, start_date, end_date, skip_days';
