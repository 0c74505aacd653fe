/**
 * DDL of the SQLite job store. Dates are integers (ms since the epoch), `data` and `skip_days`
 * JSON text, booleans 0/1. Every statement is idempotent, so any number of processes may run
 * them on connect.
 */
import { quoteIdent } from '../../core/db/sql.js';

/** Quotes an SQL identifier (a table or index name from configuration): core/db/sql.ts's rule. */
export { quoteIdent };

export const DEFAULT_JOBS_TABLE = 'agenda_jobs';
export const DEFAULT_LOGS_TABLE = 'agenda_logs';

export function jobsTableSql(table: string): string {
  // AUTOINCREMENT: an id is never handed out twice, so a late write by the runner of a removed job
  // cannot land on a new job. `repeat_interval` has no type so a number stays a number.
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    next_run_at INTEGER,
    type TEXT NOT NULL DEFAULT 'normal' CHECK (type IN ('normal', 'single')),
    locked_at INTEGER,
    last_finished_at INTEGER,
    failed_at INTEGER,
    fail_count INTEGER,
    fail_reason TEXT,
    repeat_timezone TEXT,
    last_run_at INTEGER,
    repeat_interval,
    data TEXT,
    repeat_at TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    progress REAL,
    fork INTEGER NOT NULL DEFAULT 0,
    last_modified_by TEXT,
    debounce_started_at INTEGER,
    start_date INTEGER,
    end_date INTEGER,
    skip_days TEXT
  )`;
}

export function jobsIndexesSql(table: string): string[] {
  const t = quoteIdent(table);
  return [
    // Find-and-lock: name, then enabled, then unlocked (locked_at IS NULL is an equality), then due
    // in run order, so the next job is the first entry of one index range and needs no sort. Also
    // serves every lookup by name.
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_find_and_lock_idx`)} ON ${t} (name, disabled, locked_at, next_run_at, priority DESC)`,
    // At most one 'single' job (agenda.every) per name: the upsert's conflict target.
    `CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(`${table}_single_job_idx`)} ON ${t} (name) WHERE type = 'single'`,
    // Queue size and the dashboard's default order.
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_next_run_at_idx`)} ON ${t} (next_run_at)`,
  ];
}

export function logsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    level TEXT NOT NULL,
    event TEXT NOT NULL,
    job_id TEXT,
    job_name TEXT NOT NULL,
    message TEXT NOT NULL,
    duration INTEGER,
    error TEXT,
    fail_count INTEGER,
    retry_delay INTEGER,
    retry_attempt INTEGER,
    agenda_name TEXT,
    meta TEXT
  )`;
}

export function logsIndexesSql(table: string): string[] {
  const t = quoteIdent(table);
  return [
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_timestamp_idx`)} ON ${t} (timestamp)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_job_id_idx`)} ON ${t} (job_id, timestamp)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_job_name_idx`)} ON ${t} (job_name, timestamp)`,
  ];
}
