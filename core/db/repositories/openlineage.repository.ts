import type { EntityManager } from '@mikro-orm/knex';
import { AutomationKind, AutomationState, DatasourceKind, IoDirection, RunStatus, RunTrigger } from '../../enums.js';
import { dateOf } from '../dialect.js';

// The SQL of taking in OpenLineage events (api/openlineage/receive.ts): a group of events is read
// with a few IN queries and written with a few multi-row statements, both dialects alike.

export interface JobRow {
  id: string;
  name: string;
  ol_key: string;
  producer: string | null;
  description: string | null;
}
export interface DatasetRow {
  id: string;
  ol_key: string;
  producer: string | null;
  columns: string;
}
export interface IoRow {
  id?: number;
  automation_id: string;
  datasource_id: string;
  direction: IoDirection;
  position: number;
}
export interface ExternalRunRow {
  id: string;
  automation_id: string;
  external_run_id: string;
  status: RunStatus;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
  rows_read: number | null;
  rows_written: number | null;
  parent_run_id: string | null;
}
export interface RunDatasetRow {
  run_id: string;
  automation_id: string;
  datasource_id: string;
  direction: IoDirection;
  at: Date;
}
export interface EventRow {
  event_key: string;
  kind: string;
  event_type: string | null;
  event_time: Date;
  run_id: string | null;
  job_namespace: string | null;
  job_name: string | null;
  automation_id: string | null;
  producer: string;
  received_by_token: string | null;
  payload: string;
}

/** Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;
const IN_CHUNK = 500;

export class OpenLineageRepository {
  constructor(private readonly em: EntityManager) {}

  private async select<T>(sql: (placeholders: string) => string, values: readonly string[]): Promise<T[]> {
    const rows: T[] = [];
    const unique = [...new Set(values)];
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const chunk = unique.slice(i, i + IN_CHUNK);
      rows.push(...((await this.em.execute(sql(chunk.map(() => '?').join(', ')), chunk)) as T[]));
    }
    return rows;
  }

  /** Multi-row INSERT of `rows` (objects with the same keys), in statements under the bound-values limit. */
  private async insert(table: string, rows: readonly object[], tail = ''): Promise<Record<string, unknown>[]> {
    if (rows.length === 0) return [];
    const columns = Object.keys(rows[0]!);
    const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    const returned: Record<string, unknown>[] = [];
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const sql = `insert into ${table} (${columns.join(', ')}) values ${chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ')} ${tail}`;
      const result = await this.em.execute(sql, chunk.flatMap((row) => columns.map((c) => (row as Record<string, unknown>)[c])));
      if (Array.isArray(result)) returned.push(...(result as Record<string, unknown>[]));
    }
    return returned;
  }

  /** Ids of the events already received, by key. */
  async seenEvents(keys: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.select<{ id: number; event_key: string }>((p) => `select id, event_key from openlineage_event where event_key in (${p})`, keys);
    return new Map(rows.map((r) => [r.event_key, Number(r.id)]));
  }

  jobsByKey(keys: readonly string[]): Promise<JobRow[]> {
    return this.select((p) => `select id, name, ol_key, producer, description from automation where ol_key in (${p}) and kind = '${AutomationKind.EXTERNAL_JOB}'`, keys);
  }

  datasetsByKey(keys: readonly string[]): Promise<DatasetRow[]> {
    return this.select((p) => `select id, ol_key, producer, columns from datasource where ol_key in (${p})`, keys);
  }

  /** Tributary datasources a dataset name may map to: STORAGE by id, FILE by path, any but EXTERNAL by name. */
  async mapped(ids: readonly string[], paths: readonly string[], names: readonly string[]) {
    return {
      storage: await this.select<{ id: string }>((p) => `select id from datasource where id in (${p}) and kind = '${DatasourceKind.STORAGE}'`, ids),
      files: await this.select<{ id: string; path: string }>((p) => `select id, path from datasource where path in (${p}) and kind = '${DatasourceKind.FILE}'`, paths),
      named: await this.select<{ id: string; name: string }>((p) => `select id, name from datasource where name in (${p}) and kind <> '${DatasourceKind.EXTERNAL}'`, names),
    };
  }

  /** Which of `names` an object of `table` already has. */
  async namesTaken(table: 'datasource' | 'automation', names: readonly string[]): Promise<Set<string>> {
    return new Set((await this.select<{ name: string }>((p) => `select name from ${table} where name in (${p})`, names)).map((r) => r.name));
  }

  ioOf(jobIds: readonly string[]): Promise<IoRow[]> {
    return this.select((p) => `select id, automation_id, datasource_id, direction, position from automation_io where automation_id in (${p}) order by position`, jobIds);
  }

  async runsByExternalId(runIds: readonly string[]): Promise<ExternalRunRow[]> {
    const rows = await this.select<ExternalRunRow>(
      (p) => `select id, automation_id, external_run_id, status, queued_at, started_at, finished_at, error, rows_read, rows_written, parent_run_id from run where external_run_id in (${p})`,
      runIds,
    );
    return rows.map((r) => ({ ...r, queued_at: dateOf(r.queued_at)!, started_at: dateOf(r.started_at), finished_at: dateOf(r.finished_at) }));
  }

  async runDatasetsOf(runIds: readonly string[]): Promise<RunDatasetRow[]> {
    const rows = await this.select<RunDatasetRow>((p) => `select run_id, automation_id, datasource_id, direction, at from run_dataset where run_id in (${p})`, runIds);
    return rows.map((r) => ({ ...r, at: dateOf(r.at)! }));
  }

  async insertJobs(rows: readonly { id: string; name: string; description: string | null; ol_namespace: string; ol_name: string; ol_key: string; producer: string }[], now: Date): Promise<void> {
    await this.insert('automation', rows.map((r) => ({ ...r, kind: AutomationKind.EXTERNAL_JOB, state: AutomationState.ACTIVE, created_at: now, modified_at: now })));
  }

  async updateJob(id: string, producer: string, description: string | null, now: Date): Promise<void> {
    await this.em.execute(`update automation set producer = ?, description = coalesce(?, description), modified_at = ? where id = ?`, [producer, description, now, id]);
  }

  async insertDatasets(rows: readonly { id: string; name: string; description: string | null; columns: string; ol_namespace: string; ol_name: string; ol_key: string; producer: string }[], now: Date): Promise<void> {
    await this.insert('datasource', rows.map((r) => ({ ...r, kind: DatasourceKind.EXTERNAL, tags: '[]', created_at: now, modified_at: now })));
  }

  async updateDataset(id: string, producer: string, columns: string | null, now: Date): Promise<void> {
    await this.em.execute(`update datasource set producer = ?, columns = coalesce(?, columns), modified_at = ? where id = ?`, [producer, columns, now, id]);
  }

  async replaceIo(remove: readonly number[], add: readonly IoRow[]): Promise<void> {
    for (let i = 0; i < remove.length; i += IN_CHUNK) {
      const chunk = remove.slice(i, i + IN_CHUNK);
      await this.em.execute(`delete from automation_io where id in (${chunk.map(() => '?').join(', ')})`, chunk);
    }
    await this.insert('automation_io', add.map(({ automation_id, datasource_id, direction, position }) => ({ automation_id, datasource_id, direction, position })));
  }

  /** New runs are inserted, known ones take the new values: one statement per few thousand runs. */
  async upsertRuns(rows: readonly ExternalRunRow[]): Promise<void> {
    await this.insert(
      'run',
      rows.map((r) => ({ ...r, trigger: RunTrigger.EXTERNAL })),
      `on conflict (id) do update set status = excluded.status, queued_at = excluded.queued_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
        error = excluded.error, rows_read = excluded.rows_read, rows_written = excluded.rows_written, parent_run_id = excluded.parent_run_id`,
    );
  }

  async upsertRunDatasets(rows: readonly RunDatasetRow[]): Promise<void> {
    await this.insert('run_dataset', rows, 'on conflict (run_id, datasource_id, direction) do nothing');
  }

  /** Inserts the events and answers their ids by key. */
  async insertEvents(rows: readonly EventRow[], now: Date): Promise<Map<string, number>> {
    const returned = await this.insert('openlineage_event', rows.map((r) => ({ ...r, received_at: now })), 'returning id, event_key');
    return new Map(returned.map((r) => [String(r.event_key), Number(r.id)]));
  }
}

