import { computeJobState } from 'agenda';
import type {
  JobId,
  JobParameters,
  JobRepository,
  JobRepositoryOptions,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
  JobsSort,
  JobWithState,
  RemoveJobsOptions,
} from 'agenda';
import { NotConnectedError, SqliteConnection, type SqlExecutor, type SqlValue } from './connection.js';
import { dataFilter, jobSelection, jsonContains, jsonList, uniqueWhere, type DataFilter, type Where } from './filters.js';
import { definitionValues, INSERT_COLUMNS, rowToJob, toMillis, type JobRow } from './job-row.js';
import { DEFAULT_JOBS_TABLE, jobsIndexesSql, jobsTableSql, quoteIdent } from './schema.js';

export interface SqliteJobRepositoryOptions {
  /** Database file, e.g. `DATA_DIR/jobs.db`; created if missing. */
  path: string;
  /** Jobs table (default `agenda_jobs`). */
  tableName?: string;
  /** How long a statement waits for another process's write lock (ms, default 5000). */
  busyTimeoutMs?: number;
}

const PLACEHOLDERS = INSERT_COLUMNS.split(',')
  .map(() => '?')
  .join(', ');
const DIRECTION = (direction: string): string => (direction === 'asc' ? 'ASC' : 'DESC');
const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function orderBy(sort: JobsSort | undefined): string {
  const parts: string[] = [];
  if (sort?.nextRunAt !== undefined) parts.push(`next_run_at ${DIRECTION(sort.nextRunAt)} NULLS LAST`);
  if (sort?.lastRunAt !== undefined) parts.push(`last_run_at ${DIRECTION(sort.lastRunAt)} NULLS LAST`);
  if (sort?.lastFinishedAt !== undefined) parts.push(`last_finished_at ${DIRECTION(sort.lastFinishedAt)} NULLS LAST`);
  if (sort?.priority !== undefined) parts.push(`priority ${DIRECTION(sort.priority)}`);
  if (sort?.name !== undefined) parts.push(`name ${DIRECTION(sort.name)}`);
  if (parts.length === 0) parts.push('next_run_at DESC NULLS LAST', 'last_run_at DESC NULLS LAST');
  return [...parts, 'id'].join(', ');
}

const whereSql = (where: Where): string => (where.conditions.length > 0 ? `WHERE ${where.conditions.join(' AND ')}` : '');

/**
 * Agenda's job repository on an SQLite file, with the PostgreSQL backend's semantics. Several
 * processes may share the file: every lock is one `UPDATE … RETURNING` (atomic under SQLite's
 * write lock) and every read-then-write runs in a `BEGIN IMMEDIATE` transaction.
 */
export class SqliteJobRepository implements JobRepository {
  readonly tableName: string;
  private readonly path: string;
  private readonly busyTimeoutMs: number;
  private readonly table: string;
  private connection: SqliteConnection | undefined;
  private connecting: Promise<SqliteConnection> | undefined;
  /** connect() has succeeded once: from then on a call reopens the file when it is closed. */
  private connected = false;
  /** Single statements on the connection, reopened first if it was closed. */
  private readonly sql: SqlExecutor = {
    all: <T>(sql: string, params?: readonly SqlValue[]) => this.onConnection((db) => db.all<T>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => this.onConnection((db) => db.run(sql, params)),
  };

  constructor(options: SqliteJobRepositoryOptions) {
    this.path = options.path;
    this.tableName = options.tableName ?? DEFAULT_JOBS_TABLE;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.table = quoteIdent(this.tableName);
  }

  /** Opens the file and creates the table and indexes if missing; a no-op when connected. */
  async connect(): Promise<void> {
    await this.open();
    this.connected = true;
  }

  /**
   * Closes the file once the statements already running finish. A call made afterwards opens it
   * again: Agenda's stop() disconnects the backend while the jobs it was running go on, and
   * their outcome (and the release of their lock) must still reach the file.
   */
  async disconnect(): Promise<void> {
    const connection = this.connection ?? (await this.connecting?.catch(() => undefined));
    this.connection = undefined;
    await connection?.close();
  }

  /** The open connection (shared with the job logger), if any. */
  getConnection(): SqliteConnection | undefined {
    return this.connection;
  }

  private open(): Promise<SqliteConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    this.connecting ??= (async () => {
      const connection = await SqliteConnection.open({ path: this.path, busyTimeoutMs: this.busyTimeoutMs });
      try {
        await connection.script([jobsTableSql(this.tableName), ...jobsIndexesSql(this.tableName)]);
      } catch (error) {
        await connection.close().catch(() => undefined);
        throw error;
      }
      this.connection = connection;
      return connection;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The open connection; reopens the file after a disconnect(). Never connected: NotConnectedError. */
  private async db(): Promise<SqliteConnection> {
    if (this.connection) return this.connection;
    if (!this.connected) throw new NotConnectedError(this.path);
    return this.open();
  }

  /** Runs `use` on the connection; again on a reopened one if disconnect() closed it before `use` was admitted. */
  private async onConnection<T>(use: (db: SqliteConnection) => Promise<T>): Promise<T> {
    for (;;) {
      const db = await this.db();
      try {
        return await use(db);
      } catch (error) {
        // A closing connection refuses new work before running any of it: safe to run elsewhere.
        if (error instanceof NotConnectedError && db !== this.connection && this.connected) continue;
        throw error;
      }
    }
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const [row] = await this.sql.all<JobRow>(`SELECT * FROM ${this.table} WHERE id = ?`, [String(id)]);
    return row ? rowToJob(row) : null;
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const { name, names, state, id, ids, search, includeDisabled = true, sort, skip = 0, limit = 0 } = options;
    const now = new Date();
    const where: Where = { conditions: [], params: [] };
    const add = (condition: string, param: SqlValue): void => {
      where.conditions.push(condition);
      where.params.push(param);
    };
    if (name) add('name = ?', name);
    else if (names && names.length > 0) add('name IN (SELECT value FROM json_each(?))', jsonList(names));
    if (id) add('id = ?', String(id));
    else if (ids && ids.length > 0) add('id IN (SELECT value FROM json_each(?))', jsonList(ids));
    if (search) add(`name LIKE ? ESCAPE '\\'`, `%${escapeLike(search)}%`);
    let data: DataFilter | undefined;
    if (options.data !== undefined) {
      data = dataFilter('data', options.data);
      where.conditions.push(...data.conditions);
      where.params.push(...data.params);
    }
    if (!includeDisabled) where.conditions.push('disabled = 0');
    const from = `FROM ${this.table} ${whereSql(where)} ORDER BY ${orderBy(sort)}`;
    const withState = (row: JobRow): JobWithState => {
      const job = rowToJob(row);
      return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
    };

    if (!state && !data?.needsCheck) {
      // Paginate in SQL; the window count is the total before LIMIT.
      const rows = await this.sql.all<JobRow & { total: number }>(
        `SELECT *, count(*) OVER () AS total ${from} LIMIT ? OFFSET ?`,
        [...where.params, limit > 0 ? limit : -1, Math.max(0, skip)],
      );
      const total = rows[0]?.total ?? (skip > 0 ? await this.count(where) : 0);
      return { jobs: rows.map(withState), total };
    }

    // The state is computed (and some data filters checked) here, so the page is cut here too.
    const rows = await this.sql.all<JobRow>(`SELECT * ${from}`, where.params);
    let jobs = rows
      .filter((row) => !data?.needsCheck || jsonContains(row.data === null ? null : JSON.parse(row.data), data.expected))
      .map(withState)
      .filter((job) => !state || (state === 'paused' ? job.disabled === true : job.state === state));
    const total = jobs.length;
    if (limit > 0) jobs = jobs.slice(skip, skip + limit);
    else if (skip > 0) jobs = jobs.slice(skip);
    return { jobs, total };
  }

  private async count(where: Where): Promise<number> {
    const [row] = await this.sql.all<{ total: number }>(`SELECT count(*) AS total FROM ${this.table} ${whereSql(where)}`, where.params);
    return row?.total ?? 0;
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    const rows = await this.sql.all<Pick<JobRow, 'name' | 'next_run_at' | 'locked_at' | 'last_finished_at' | 'failed_at' | 'repeat_interval' | 'disabled'>>(
      `SELECT name, next_run_at, locked_at, last_finished_at, failed_at, repeat_interval, disabled FROM ${this.table} ORDER BY name`,
    );
    const overviews = new Map<string, JobsOverview>();
    for (const row of rows) {
      let overview = overviews.get(row.name);
      if (!overview) {
        overview = { name: row.name, total: 0, running: 0, scheduled: 0, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0 };
        overviews.set(row.name, overview);
      }
      const state = computeJobState(
        {
          name: row.name,
          priority: 0,
          type: 'normal',
          data: null,
          nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
          lockedAt: row.locked_at === null ? undefined : new Date(row.locked_at),
          lastFinishedAt: row.last_finished_at === null ? undefined : new Date(row.last_finished_at),
          failedAt: row.failed_at === null ? undefined : new Date(row.failed_at),
          repeatInterval: row.repeat_interval ?? undefined,
        },
        now,
      );
      overview.total += 1;
      overview[state] += 1;
      if (row.disabled === 1) overview.paused += 1;
    }
    return [...overviews.values()];
  }

  async getDistinctJobNames(): Promise<string[]> {
    const rows = await this.sql.all<{ name: string }>(`SELECT DISTINCT name FROM ${this.table} ORDER BY name`);
    return rows.map((row) => row.name);
  }

  async getQueueSize(): Promise<number> {
    const [row] = await this.sql.all<{ total: number }>(`SELECT count(*) AS total FROM ${this.table} WHERE next_run_at < ?`, [Date.now()]);
    return row?.total ?? 0;
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    return this.changeSelected(options, `DELETE FROM ${this.table}`);
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.changeSelected(options, `UPDATE ${this.table} SET disabled = 1`);
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.changeSelected(options, `UPDATE ${this.table} SET disabled = 0`);
  }

  /** Runs `statement` (a DELETE or UPDATE without WHERE) on the jobs `options` select; answers how many. */
  private async changeSelected(options: RemoveJobsOptions, statement: string): Promise<number> {
    const selection = jobSelection(options);
    if (!selection) return 0;
    const filter = selection.data;
    if (!filter?.needsCheck) return (await this.sql.run(`${statement} ${whereSql(selection)}`, selection.params)).changes;
    // A data filter SQL cannot decide alone: pick the ids in JavaScript, under the write lock.
    return this.onConnection((db) =>
      db.transaction(async (tx) => {
        const rows = await tx.all<{ id: number; data: string | null }>(`SELECT id, data FROM ${this.table} ${whereSql(selection)}`, selection.params);
        const ids = rows.filter((row) => jsonContains(row.data === null ? null : JSON.parse(row.data), filter.expected)).map((row) => row.id);
        if (ids.length === 0) return 0;
        return (await tx.run(`${statement} WHERE id IN (SELECT value FROM json_each(?))`, [jsonList(ids)])).changes;
      }),
    );
  }

  async purgeAllJobs(): Promise<number> {
    return (await this.sql.run(`DELETE FROM ${this.table}`)).changes;
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    // A job being processed (nextRunAt null) keeps its lock.
    await this.sql.run(`UPDATE ${this.table} SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL`, [String(job._id)]);
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.sql.run(`UPDATE ${this.table} SET locked_at = NULL WHERE id IN (SELECT value FROM json_each(?))`, [jsonList(jobIds)]);
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const [row] = await this.sql.all<JobRow>(
      `UPDATE ${this.table} SET locked_at = ?, last_modified_by = ?
       WHERE id = ? AND name = ? AND locked_at IS NULL AND next_run_at = ? AND disabled = 0
       RETURNING *`,
      [Date.now(), options?.lastModifiedBy || null, String(job._id), job.name, toMillis(job.nextRunAt)],
    );
    return row ? rowToJob(row) : undefined;
  }

  /**
   * Locks the next job of `jobName` to run and returns it: enabled, and either unlocked and due by
   * `nextScanAt` or locked before `lockDeadline` (its runner is presumed dead); earliest
   * `nextRunAt` first, then highest priority. One statement, so under SQLite's write lock no two
   * callers (of any process) get the same job. Each branch is one range of the find-and-lock index.
   */
  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const [row] = await this.sql.all<JobRow>(
      `UPDATE ${this.table} SET locked_at = ?1, last_modified_by = ?2
       WHERE id = (
         SELECT id FROM (
           SELECT * FROM (
             SELECT id, next_run_at, priority FROM ${this.table}
             WHERE name = ?3 AND disabled = 0 AND locked_at IS NULL AND next_run_at <= ?4
             ORDER BY next_run_at, priority DESC, id LIMIT 1)
           UNION ALL
           SELECT * FROM (
             SELECT id, next_run_at, priority FROM ${this.table}
             WHERE name = ?3 AND disabled = 0 AND locked_at <= ?5
             ORDER BY next_run_at IS NULL, next_run_at, priority DESC, id LIMIT 1))
         ORDER BY next_run_at IS NULL, next_run_at, priority DESC, id LIMIT 1)
       RETURNING *`,
      [toMillis(now) ?? Date.now(), options?.lastModifiedBy || null, jobName, nextScanAt.getTime(), lockDeadline.getTime()],
    );
    return row ? rowToJob(row) : undefined;
  }

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const { changes } = await this.sql.run(
      `UPDATE ${this.table}
       SET locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?, fail_count = ?, failed_at = ?, last_finished_at = ?, last_modified_by = ?
       WHERE id = ? AND name = ?`,
      [
        toMillis(job.lockedAt),
        toMillis(job.nextRunAt),
        toMillis(job.lastRunAt),
        job.progress ?? null,
        job.failReason ?? null,
        job.failCount ?? null,
        toMillis(job.failedAt),
        toMillis(job.lastFinishedAt),
        options?.lastModifiedBy || null,
        String(job._id),
        job.name,
      ],
    );
    if (changes !== 1) throw new Error(`job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`);
  }

  /**
   * Inserts or updates a job: by `_id` when it has one (a job removed meanwhile is returned
   * unchanged); `type: 'single'` upserts by name (keeping a due nextRunAt already stored);
   * `unique` upserts by its keys, with `insertOnly` and debounce (see `saveUnique`).
   */
  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): Promise<JobParameters<DATA>> {
    const lastModifiedBy = options?.lastModifiedBy;
    if (job._id) {
      const [row] = await this.sql.all<JobRow>(
        `UPDATE ${this.table} SET (${INSERT_COLUMNS}, fail_reason, fail_count, failed_at) = (${PLACEHOLDERS}, ?, ?, ?)
         WHERE id = ? AND name = ? RETURNING *`,
        [...definitionValues(job, lastModifiedBy), job.failReason ?? null, job.failCount ?? null, toMillis(job.failedAt), String(job._id), job.name],
      );
      return row ? rowToJob<DATA>(row) : job;
    }
    if (job.type === 'single') {
      const due = toMillis(job.nextRunAt);
      const protectDue = due !== null && due <= Date.now();
      const [row] = await this.sql.all<JobRow>(
        `INSERT INTO ${this.table} (${INSERT_COLUMNS}) VALUES (${PLACEHOLDERS})
         ON CONFLICT (name) WHERE type = 'single' DO UPDATE SET
           priority = excluded.priority,
           next_run_at = CASE WHEN ?15 THEN coalesce(${this.table}.next_run_at, excluded.next_run_at) ELSE excluded.next_run_at END,
           repeat_timezone = excluded.repeat_timezone, repeat_interval = excluded.repeat_interval, data = excluded.data,
           repeat_at = excluded.repeat_at, disabled = excluded.disabled, fork = excluded.fork, last_modified_by = excluded.last_modified_by,
           start_date = excluded.start_date, end_date = excluded.end_date, skip_days = excluded.skip_days
         RETURNING *`,
        [...definitionValues(job, lastModifiedBy), protectDue ? 1 : 0],
      );
      return rowToJob<DATA>(row!);
    }
    if (job.unique) {
      const unique = job.unique;
      return this.onConnection((db) => db.transaction((tx) => this.saveUnique(tx, job, unique, lastModifiedBy)));
    }
    return rowToJob<DATA>((await this.insert(this.sql, job, lastModifiedBy))!);
  }

  /**
   * The unique upsert, under the write lock. An existing match is returned as is with
   * `insertOnly`, else updated; with debounce, trailing pushes nextRunAt to now + delay (or to
   * now once `maxWait` has passed since the debounce began), leading keeps the stored nextRunAt.
   */
  private async saveUnique<DATA>(tx: SqlExecutor, job: JobParameters<DATA>, unique: Record<string, unknown>, lastModifiedBy: string | undefined): Promise<JobParameters<DATA>> {
    const where = uniqueWhere(unique);
    const debounce = job.uniqueOpts?.debounce;
    const now = Date.now();
    const [existing] = await tx.all<JobRow>(`SELECT * FROM ${this.table} WHERE name = ? ${where.conditions.map((c) => `AND ${c}`).join(' ')} ORDER BY id LIMIT 1`, [
      job.name,
      ...where.params,
    ]);
    if (!existing) {
      if (!debounce) return rowToJob<DATA>((await this.insert(tx, job, lastModifiedBy))!);
      const nextRunAt = debounce.strategy === 'leading' ? toMillis(job.nextRunAt) : now + debounce.delay;
      return rowToJob<DATA>((await this.insert(tx, job, lastModifiedBy, nextRunAt, now))!);
    }
    if (job.uniqueOpts?.insertOnly && !debounce) return rowToJob<DATA>(existing);

    let nextRunAt = toMillis(job.nextRunAt);
    let debounceStartedAt: number | null = null;
    if (debounce) {
      const startedAt = existing.debounce_started_at ?? now;
      if (debounce.strategy === 'leading') {
        nextRunAt = existing.next_run_at;
        debounceStartedAt = startedAt;
      } else if (debounce.maxWait && now - startedAt >= debounce.maxWait) {
        nextRunAt = now;
      } else {
        nextRunAt = now + debounce.delay;
        debounceStartedAt = startedAt;
      }
    }
    const [row] = await tx.all<JobRow>(
      `UPDATE ${this.table} SET (${INSERT_COLUMNS}, debounce_started_at) = (${PLACEHOLDERS}, ?) WHERE id = ? RETURNING *`,
      [...definitionValues(job, lastModifiedBy, nextRunAt), debounceStartedAt, existing.id],
    );
    return rowToJob<DATA>(row!);
  }

  private async insert(db: SqlExecutor, job: JobParameters, lastModifiedBy: string | undefined, nextRunAt?: number | null, debounceStartedAt: number | null = null): Promise<JobRow | undefined> {
    const values: SqlValue[] = [...definitionValues(job, lastModifiedBy, nextRunAt === undefined ? toMillis(job.nextRunAt) : nextRunAt), debounceStartedAt];
    const [row] = await db.all<JobRow>(`INSERT INTO ${this.table} (${INSERT_COLUMNS}, debounce_started_at) VALUES (${PLACEHOLDERS}, ?) RETURNING *`, values);
    return row;
  }
}

