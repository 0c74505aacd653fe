import type { EntityManager } from '@mikro-orm/knex';
import { IoDirection, RunStatus } from '../../enums.js';
import { sqlOf, timeValue } from '../dialect.js';

// Declared lineage against observed lineage (run_dataset): the SQL of api/lineage/drift.ts and of
// the graph's per-edge observations (api/lineage/graph.ts).

export interface DriftRow {
  automation_id: string;
  datasource_id: string;
  direction: IoDirection;
  last_at: unknown;
  runs: number;
}

export interface ObservedRow {
  automation_id: string;
  datasource_id: string;
  direction: IoDirection;
  last_at: unknown;
}

/** Which observations to read: of some automations only, and as the lineage was at a date (declarations then, runs up to then). */
export interface ObservationScope {
  automationIds?: readonly string[];
  asOf?: Date;
}

const DATA = `'${IoDirection.INPUT}', '${IoDirection.OUTPUT}'`;

export class DriftRepository {
  constructor(private readonly em: EntityManager) {}

  /** What runs read or wrote that their automation does not declare (now), with when it was last seen and in how many runs. */
  undeclared(scope: Pick<ObservationScope, 'automationIds'> = {}): Promise<DriftRow[]> {
    const where = this.where(scope, 'rd');
    return this.em.execute(
      `select rd.automation_id, rd.datasource_id, rd.direction, max(rd.at) as last_at, count(distinct rd.run_id) as runs
         from run_dataset rd
        where rd.direction in (${DATA}) ${where.sql}
          and not exists (select 1 from automation_io io where io.automation_id = rd.automation_id and io.datasource_id = rd.datasource_id and io.direction = rd.direction)
        group by rd.automation_id, rd.datasource_id, rd.direction`,
      where.params,
    ) as Promise<DriftRow[]>;
  }

  /** When each (automation, datasource, direction) was last used by a run. */
  lastObserved(scope: ObservationScope = {}): Promise<ObservedRow[]> {
    const where = this.where(scope, 'rd');
    return this.em.execute(
      `select rd.automation_id, rd.datasource_id, rd.direction, max(rd.at) as last_at from run_dataset rd
        where rd.direction in (${DATA}) ${where.sql} group by rd.automation_id, rd.datasource_id, rd.direction`,
      where.params,
    ) as Promise<ObservedRow[]>;
  }

  /** What automations declare but did not use in any of their last `runs` observed successful runs (when they have that many). */
  stale(runs: number, scope: ObservationScope = {}): Promise<DriftRow[]> {
    const recentWhere = this.where(scope, 'r', 'r.finished_at');
    const declaredWhere = this.where({ automationIds: scope.automationIds }, 'io');
    const declared = scope.asOf
      ? `(select automation_id, datasource_id, direction from automation_io_history where valid_from <= ? and (valid_until is null or valid_until > ?))`
      : 'automation_io';
    const declaredParams = scope.asOf ? [timeValue(this.em, scope.asOf), timeValue(this.em, scope.asOf)] : [];
    // The latest `runs` successful runs of each automation that recorded what they used (runs
    // from before observed lineage recorded nothing, and do not count against a declaration).
    return this.em.execute(
      `with recent as (
         select id, automation_id from (
           select r.id, r.automation_id, row_number() over (partition by r.automation_id order by r.finished_at desc, r.id desc) as n
             from run r where r.status = '${RunStatus.SUCCESS}' and exists (select 1 from run_dataset x where x.run_id = r.id) ${recentWhere.sql}
         ) ranked where n <= ?
       ), counted as (select automation_id, count(*) as runs from recent group by automation_id)
       select io.automation_id, io.datasource_id, io.direction, c.runs,
              (select max(rd.at) from run_dataset rd where rd.automation_id = io.automation_id and rd.datasource_id = io.datasource_id and rd.direction = io.direction${scope.asOf ? ' and rd.at <= ?' : ''}) as last_at
         from ${declared} io join counted c on c.automation_id = io.automation_id
        where io.direction in (${DATA}) and c.runs >= ? ${declaredWhere.sql}
          and not exists (select 1 from run_dataset rd join recent on recent.id = rd.run_id
                           where rd.automation_id = io.automation_id and rd.datasource_id = io.datasource_id and rd.direction = io.direction)`,
      [...recentWhere.params, runs, ...declaredParams.slice(0, 1), ...declaredParams, runs, ...declaredWhere.params],
    ) as Promise<DriftRow[]>;
  }

  /** The conditions of a scope on table alias `t`: its automations, and its date on `timeColumn`. */
  private where(scope: ObservationScope, t: string, timeColumn = `${t}.at`): { sql: string; params: unknown[] } {
    let sql = '';
    const params: unknown[] = [];
    if (scope.automationIds) {
      sql += ` and ${t}.automation_id in (${sqlOf(this.em).jsonIds()})`;
      params.push(JSON.stringify(scope.automationIds));
    }
    if (scope.asOf) {
      sql += ` and ${timeColumn} <= ?`;
      params.push(timeValue(this.em, scope.asOf));
    }
    return { sql, params };
  }
}
