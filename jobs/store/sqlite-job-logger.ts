import type { JobLogEntry, JobLogger, JobLogQuery, JobLogQueryResult } from 'agenda';
import type { SqliteConnection, SqlValue } from './connection.js';
import type { Where } from './filters.js';
import { DEFAULT_LOGS_TABLE, logsIndexesSql, logsTableSql, quoteIdent } from './schema.js';

interface LogRow {
  id: number;
  timestamp: number;
  level: JobLogEntry['level'];
  event: JobLogEntry['event'];
  job_id: string | null;
  job_name: string;
  message: string;
  duration: number | null;
  error: string | null;
  fail_count: number | null;
  retry_delay: number | null;
  retry_attempt: number | null;
  agenda_name: string | null;
  meta: string | null;
}

function listCondition(column: string, value: string | string[], where: Where): void {
  if (Array.isArray(value)) {
    where.conditions.push(`${column} IN (SELECT value FROM json_each(?))`);
    where.params.push(JSON.stringify(value));
  } else {
    where.conditions.push(`${column} = ?`);
    where.params.push(value);
  }
}

function whereOf(query: JobLogQuery | undefined): Where {
  const where: Where = { conditions: [], params: [] };
  if (query?.jobId) listCondition('job_id', query.jobId, where);
  if (query?.jobName) listCondition('job_name', query.jobName, where);
  if (query?.level) listCondition('level', query.level, where);
  if (query?.event) listCondition('event', query.event, where);
  if (query?.from) {
    where.conditions.push('timestamp >= ?');
    where.params.push(query.from.getTime());
  }
  if (query?.to) {
    where.conditions.push('timestamp <= ?');
    where.params.push(query.to.getTime());
  }
  return where;
}

/**
 * Agenda's job event log in a table of the job store's file. Agenda writes to it only when
 * started with `logging: true`; the table is created on first use.
 */
export class SqliteJobLogger implements JobLogger {
  readonly tableName: string;
  private readonly table: string;
  private connection: SqliteConnection | undefined;
  private ready: Promise<void> | undefined;

  constructor(options: { tableName?: string } = {}) {
    this.tableName = options.tableName ?? DEFAULT_LOGS_TABLE;
    this.table = quoteIdent(this.tableName);
  }

  /** Attaches the backend's connection (undefined on disconnect: logging then does nothing). */
  setConnection(connection: SqliteConnection | undefined): void {
    if (connection === this.connection) return;
    this.connection = connection;
    this.ready = undefined;
  }

  private async db(): Promise<SqliteConnection | undefined> {
    const connection = this.connection;
    if (!connection) return undefined;
    this.ready ??= connection
      .script([logsTableSql(this.tableName), ...logsIndexesSql(this.tableName)])
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    await this.ready;
    return connection;
  }

  async log(entry: Omit<JobLogEntry, '_id'>): Promise<void> {
    const db = await this.db();
    if (!db) return;
    const values: SqlValue[] = [
      entry.timestamp.getTime(),
      entry.level,
      entry.event,
      entry.jobId ?? null,
      entry.jobName,
      entry.message,
      entry.duration ?? null,
      entry.error ?? null,
      entry.failCount ?? null,
      entry.retryDelay ?? null,
      entry.retryAttempt ?? null,
      entry.agendaName ?? null,
      entry.meta ? JSON.stringify(entry.meta) : null,
    ];
    await db.run(
      `INSERT INTO ${this.table} (timestamp, level, event, job_id, job_name, message, duration, error, fail_count, retry_delay, retry_attempt, agenda_name, meta)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      values,
    );
  }

  /** Entries matching `query`, newest first unless `sort: 'asc'`, 50 at a time by default. */
  async getLogs(query?: JobLogQuery): Promise<JobLogQueryResult> {
    const db = await this.db();
    if (!db) return { entries: [], total: 0 };
    const where = whereOf(query);
    const clause = where.conditions.length > 0 ? `WHERE ${where.conditions.join(' AND ')}` : '';
    const direction = query?.sort === 'asc' ? 'ASC' : 'DESC';
    const [rows, [counted]] = await Promise.all([
      db.all<LogRow>(`SELECT * FROM ${this.table} ${clause} ORDER BY timestamp ${direction}, id ${direction} LIMIT ? OFFSET ?`, [
        ...where.params,
        query?.limit ?? 50,
        query?.offset ?? 0,
      ]),
      db.all<{ total: number }>(`SELECT count(*) AS total FROM ${this.table} ${clause}`, where.params),
    ]);
    const entries = rows.map(
      (row): JobLogEntry => ({
        _id: String(row.id),
        timestamp: new Date(row.timestamp),
        level: row.level,
        event: row.event,
        jobId: row.job_id ?? undefined,
        jobName: row.job_name,
        message: row.message,
        duration: row.duration ?? undefined,
        error: row.error ?? undefined,
        failCount: row.fail_count ?? undefined,
        retryDelay: row.retry_delay ?? undefined,
        retryAttempt: row.retry_attempt ?? undefined,
        agendaName: row.agenda_name ?? undefined,
        meta: row.meta === null ? undefined : (JSON.parse(row.meta) as Record<string, unknown>),
      }),
    );
    return { entries, total: counted?.total ?? 0 };
  }

  /** Deletes the entries matching `query` (all without one); answers how many. */
  async clearLogs(query?: JobLogQuery): Promise<number> {
    const db = await this.db();
    if (!db) return 0;
    const where = whereOf(query);
    const clause = where.conditions.length > 0 ? `WHERE ${where.conditions.join(' AND ')}` : '';
    return (await db.run(`DELETE FROM ${this.table} ${clause}`, where.params)).changes;
  }
}
