import { raw, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { Automation } from '../entities/index.js';
import { sqlOf } from '../dialect.js';

/** The automations' SQL beyond the ORM's entity API. */
export class AutomationRepository {
  constructor(private readonly em: EntityManager) {}

  /** Whether chain `startId` triggers `targetId`, directly or through chains of chains (seeing the transaction's own writes). */
  async chainReaches(startId: string, targetId: string): Promise<boolean> {
    const sql = sqlOf(this.em);
    const rows = await this.em.execute(
      `with recursive down(id) as (select ${sql.textParam()} union select s.step_id from chain_step s join down on s.chain_id = down.id)
       select 1 as found from down where id = ${sql.textParam()} limit 1`,
      [startId, targetId],
    );
    return rows.length > 0;
  }

  /**
   * A filter: the automation's id is (or with `negate` is not) one of `ids`. They travel as one
   * JSON value, whatever their number. A fresh fragment per query (the ORM consumes it).
   */
  idAmong(ids: readonly string[], negate: boolean): FilterQuery<Automation> {
    const values = sqlOf(this.em).jsonIds();
    return { [raw((alias) => `${alias}.id ${negate ? 'not in' : 'in'} (${values})`, [JSON.stringify(ids)])]: [] } as FilterQuery<Automation>;
  }
}
