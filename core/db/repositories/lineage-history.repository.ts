import type { EntityManager } from '@mikro-orm/knex';
import { timeValue } from '../dialect.js';
import { RunStatus } from '../../enums.js';
import { datasourceRows, readObservations, type AutomationRow, type ObservationOptions, type DatasourceRow, type IoRow, type Observations, type RefRow, type StepRow } from './lineage.repository.js';

// The rows of the lineage graph as it was at a date, from the history tables the triggers keep
// (core/db/migrations/history-triggers.ts): the SQL of LineageStore.asOf (api/lineage/store.ts).

/** Rows whose period holds the time bound twice after them. */
const AT = `valid_from <= ? and (valid_until is null or valid_until > ?)`;

export interface RowsAsOf {
  datasources: DatasourceRow[];
  automations: AutomationRow[];
  io: IoRow[];
  steps: StepRow[];
  refs: RefRow[];
  observations: Observations;
}

/**
 * Every row the graph is built from, as it was at `at`. Code references are not kept in history:
 * the graph of a past date has no SUSPECTED edges. A run's status is the one it had then (a run
 * started and not finished by then is RUNNING).
 */
export async function readAsOf(em: EntityManager, at: Date, options: ObservationOptions): Promise<RowsAsOf> {
  const t = timeValue(em, at);
  const datasources = datasourceRows(
    await em.execute(`select datasource_id as id, name, kind, tags, join_left_id, join_right_id, producer from datasource_history where ${AT}`, [t, t]),
  );
  const automations = (await em.execute(
    `select automation_id as id, name, kind, state, schedule_cron, language, producer from automation_history where ${AT} and not draft_only`,
    [t, t],
  )) as AutomationRow[];
  const statuses = (await em.execute(
    `select automation_id,
            case when finished_at is not null and finished_at <= ? then status
                 when started_at is not null and started_at <= ? then '${RunStatus.RUNNING}' else '${RunStatus.QUEUED}' end as status
       from (select r.automation_id, r.status, r.started_at, r.finished_at,
                    row_number() over (partition by r.automation_id order by r.queued_at desc, r.id desc) as n
               from run r where r.queued_at <= ?) latest
      where n = 1`,
    [t, t, t],
  )) as { automation_id: string; status: RunStatus }[];
  const status = new Map(statuses.map((r) => [r.automation_id, r.status]));
  return {
    datasources,
    automations: automations.map((row) => ({ ...row, last_run_status: status.get(row.id) ?? null })),
    io: (await em.execute(`select automation_id, datasource_id, direction from automation_io_history where ${AT} order by automation_id, position`, [t, t])) as IoRow[],
    steps: (await em.execute(`select chain_id, step_id from chain_step_history where ${AT} order by chain_id, position`, [t, t])) as StepRow[],
    refs: [],
    observations: await readObservations(em, null, options, { asOf: at }),
  };
}
