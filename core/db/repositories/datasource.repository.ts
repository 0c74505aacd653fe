import type { EntityManager } from '@mikro-orm/knex';
import { sqlOf } from '../dialect.js';

/** The datasources' SQL beyond the ORM's entity API. */
export class DatasourceRepository {
  constructor(private readonly em: EntityManager) {}

  /**
   * Whether `targetId` is among `sourceIds` or what they are joined from (joins of joins): a
   * recursive query walks up from the given sources only, seeing the transaction's own writes.
   */
  async joinsReach(sourceIds: readonly string[], targetId: string): Promise<boolean> {
    const sql = sqlOf(this.em);
    const rows = await this.em.execute(
      `with recursive up(id) as (
         ${sql.jsonIds()}
         union
         select case side.k when 1 then d.join_left_id else d.join_right_id end
           from datasource d join up on d.id = up.id cross join (select 1 as k union all select 2 as k) side
          where case side.k when 1 then d.join_left_id else d.join_right_id end is not null
       )
       select 1 as found from up where id = ${sql.textParam()} limit 1`,
      [JSON.stringify(sourceIds), targetId],
    );
    return rows.length > 0;
  }
}
