import type { EntityManager } from '@mikro-orm/knex';
import { IoDirection, RunStatus } from '../../enums.js';

// Declared lineage against observed lineage (run_dataset): the SQL of api/lineage/drift.ts.

export interface DriftRow {
  automation_id: string;
  datasource_id: string;
  direction: IoDirection;
  last_at: unknown;
  runs: number;
}

const DATA = `'${IoDirection.INPUT}', '${IoDirection.OUTPUT}'`;

/**
 * The latest `runs` successful runs of each automation that recorded what they used (runs from
 * before observed lineage recorded nothing, and do not count against a declaration).
 */
const RECENT = `recent as (
  select id, automation_id from (
    select r.id, r.automation_id, row_number() over (partition by r.automation_id order by r.finished_at desc, r.id desc) as n
      from run r where r.status = '${RunStatus.SUCCESS}' and exists (select 1 from run_dataset x where x.run_id = r.id)
  ) ranked where n <= ?
), counted as (select automation_id, count(*) as runs from recent group by automation_id)`;

export class DriftRepository {
  constructor(private readonly em: EntityManager) {}

  /** What runs read or wrote that their automation does not declare (now), with when it was last seen and in how many runs. */
  undeclared(): Promise<DriftRow[]> {
    return this.em.execute(
      `select rd.automation_id, rd.datasource_id, rd.direction, max(rd.at) as last_at, count(distinct rd.run_id) as runs
         from run_dataset rd
        where rd.direction in (${DATA})
          and not exists (select 1 from automation_io io where io.automation_id = rd.automation_id and io.datasource_id = rd.datasource_id and io.direction = rd.direction)
        group by rd.automation_id, rd.datasource_id, rd.direction`,
    ) as Promise<DriftRow[]>;
  }

  /** What automations declare but did not use in any of their last `runs` observed successful runs (when they have that many). */
  stale(runs: number): Promise<DriftRow[]> {
    return this.em.execute(
      `with ${RECENT}
       select io.automation_id, io.datasource_id, io.direction, c.runs,
              (select max(rd.at) from run_dataset rd where rd.automation_id = io.automation_id and rd.datasource_id = io.datasource_id and rd.direction = io.direction) as last_at
         from automation_io io join counted c on c.automation_id = io.automation_id
        where io.direction in (${DATA}) and c.runs >= ?
          and not exists (select 1 from run_dataset rd join recent on recent.id = rd.run_id
                           where rd.automation_id = io.automation_id and rd.datasource_id = io.datasource_id and rd.direction = io.direction)`,
      [runs, runs],
    ) as Promise<DriftRow[]>;
  }
}
