import type { EntityManager } from '@mikro-orm/knex';
import { sqlOf } from '../dialect.js';
import { RunStatus, RunTrigger } from '../../enums.js';

/** What `execute(…, 'run')` answers on both drivers: the rows of a RETURNING clause, and how many rows changed. */
interface RunResult<T> {
  affectedRows?: number;
  rows?: T[];
}

const placeholders = (values: readonly unknown[]): string => values.map(() => '?').join(', ');

/**
 * The run records' SQL (the statements the ORM's entity API cannot say in one round trip), in
 * the SQL both SQLite and PostgreSQL accept. Times are bound as Dates: the SQLite driver stores
 * them as milliseconds, as MikroORM does, and PostgreSQL as timestamptz.
 */
export class RunRepository {
  constructor(private readonly em: EntityManager) {}

  private async run<T>(sql: string, params: readonly unknown[]): Promise<RunResult<T>> {
    return ((await this.em.execute(sql, [...params], 'run')) ?? {}) as RunResult<T>;
  }

  /** Each automation's most recently queued run id (one statement for any number of automations). */
  async latestIds(automationIds: readonly string[]): Promise<string[]> {
    if (automationIds.length === 0) return [];
    const rows = (await this.em.execute(
      `select id from (select id, row_number() over (partition by automation_id order by queued_at desc, id desc) as n
         from run where automation_id in (${placeholders(automationIds)})) latest where n = 1`,
      [...automationIds],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** The automation a run belongs to (null: no such run). */
  async automationOf(runId: string): Promise<string | null> {
    const [row] = (await this.em.execute(`select automation_id from run where id = ?`, [runId])) as { automation_id: string }[];
    return row?.automation_id ?? null;
  }

  /** When the automation's latest run was queued (null: never). */
  async lastQueuedAt(automationId: string): Promise<Date | null> {
    const [row] = (await this.em.execute(`select max(queued_at) as at from run where automation_id = ?`, [automationId])) as { at: Date | number | string | null }[];
    return row?.at == null ? null : new Date(row.at);
  }

  /** The process running these runs is alive. */
  async heartbeat(runIds: readonly string[], at: Date): Promise<void> {
    if (runIds.length === 0) return;
    await this.run(`update run set heartbeat_at = ? where id in (${placeholders(runIds)}) and status = '${RunStatus.RUNNING}'`, [at, ...runIds]);
  }

  /** Which of these runs were asked to cancel, or are no longer running. */
  async cancelRequested(runIds: readonly string[]): Promise<string[]> {
    if (runIds.length === 0) return [];
    const rows = (await this.em.execute(
      `select id from run where id in (${placeholders(runIds)}) and (cancel_requested = true or status != '${RunStatus.RUNNING}')`,
      [...runIds],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Cancels the automation's queued top-level runs (chain steps are their chain's business). */
  async cancelQueued(automationId: string, reason: string, at: Date): Promise<void> {
    await this.run(
      `update run set status = '${RunStatus.CANCELLED}', finished_at = ?, error = ? where automation_id = ? and status = '${RunStatus.QUEUED}' and trigger != '${RunTrigger.CHAIN}'`,
      [at, reason, automationId],
    );
  }

  /** Flags the automation's running runs for the processes running them to cancel; returns their ids. */
  async flagRunning(automationId: string): Promise<string[]> {
    const result = await this.run<{ id: string }>(`update run set cancel_requested = true where automation_id = ? and status = '${RunStatus.RUNNING}' returning id`, [automationId]);
    return (result.rows ?? []).map((r) => r.id);
  }

  /**
   * Marks a queued run RUNNING for `worker` in one statement, unless another run of the same
   * automation is running; the automation's id, or null when it was not claimed.
   */
  async claim(runId: string, worker: string, at: Date): Promise<string | null> {
    const result = await this.run<{ automation_id: string }>(
      `update run set status = '${RunStatus.RUNNING}', started_at = ?, worker = ?, heartbeat_at = ?,
          version_id = (select a.live_version_id from automation a where a.id = run.automation_id)
        where id = ? and status = '${RunStatus.QUEUED}'
          and not exists (select 1 from run other where other.automation_id = run.automation_id and other.status = '${RunStatus.RUNNING}')
        returning automation_id`,
      [at, worker, at, runId],
    );
    return result.rows?.[0]?.automation_id ?? null;
  }

  /** Deletes up to `batch` finished top-level runs that ended before `before`; how many. */
  /** Deletes up to `batch` finished top-level runs that ended before `before` (their steps and logs cascade); what it deleted, and whose runs they were. */
  async deleteFinished(before: Date, batch: number): Promise<{ deleted: number; automationIds: string[] }> {
    const rows = (await this.em.execute(`select id, automation_id from run where parent_run_id is null and finished_at is not null and finished_at < ? limit ?`, [before, batch])) as {
      id: string;
      automation_id: string;
    }[];
    if (rows.length === 0) return { deleted: 0, automationIds: [] };
    const result = await this.run(`delete from run where id in (${sqlOf(this.em).jsonIds()})`, [JSON.stringify(rows.map((r) => r.id))]);
    return { deleted: result.affectedRows ?? 0, automationIds: [...new Set(rows.map((r) => r.automation_id))] };
  }

  /** The automation's last run status becomes the status of its most recently queued run. */
  async refreshLastStatus(automationId: string): Promise<void> {
    await this.run(
      `update automation set last_run_status = (select status from run where automation_id = ? order by queued_at desc, id desc limit 1) where id = ?`,
      [automationId, automationId],
    );
  }

  /** refreshLastStatus for many automations in one statement. */
  async refreshLastStatuses(automationIds: readonly string[]): Promise<void> {
    for (let i = 0; i < automationIds.length; i += 500) {
      const chunk = automationIds.slice(i, i + 500);
      await this.run(
        `update automation set last_run_status = (select r.status from run r where r.automation_id = automation.id order by r.queued_at desc, r.id desc limit 1) where id in (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
    }
  }

  /** Counts `count` more log lines on the run; the new total (null: no such run). */
  async countLogLines(runId: string, count: number): Promise<number | null> {
    const result = await this.run<{ log_lines: number }>(`update run set log_lines = log_lines + ? where id = ? returning log_lines`, [count, runId]);
    return result.rows?.[0]?.log_lines ?? null;
  }

  /** Stores log lines, in statements of a bounded size. */
  async insertLogLines(runId: string, lines: readonly string[]): Promise<void> {
    for (let i = 0; i < lines.length; i += 400) {
      const chunk = lines.slice(i, i + 400);
      await this.run(`insert into run_log (run_id, line) values ${chunk.map(() => '(?, ?)').join(', ')}`, chunk.flatMap((line) => [runId, line]));
    }
  }
}
