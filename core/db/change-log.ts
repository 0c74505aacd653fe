import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity } from './entities/index.js';
import { notifyInTransaction } from './events.js';

/** Changes older than this many versions are pruned; a process further behind rebuilds its graph. */
const KEEP_VERSIONS = 10_000;
const PRUNE_EVERY = 1_000;

/** Objects a mutation touched, recorded in its transaction so every process's graph catches up. */
export class ChangeSet {
  private readonly touched = new Map<string, ChangedEntity>();

  add(entity: ChangedEntity, id: string): void {
    this.touched.set(id, entity);
  }

  get size(): number {
    return this.touched.size;
  }

  entries(): [string, ChangedEntity][] {
    return [...this.touched];
  }
}

/**
 * First statement of every mutation: allocates its version and takes SQLite's write lock, so
 * what the transaction checks (deletion safety, cycles) cannot change before it commits.
 */
export async function beginWrite(em: EntityManager): Promise<number> {
  const [row] = (await em.execute(
    `insert into lineage_version (id, version, pruned_below) values (1, 1, 0)
     on conflict (id) do update set version = lineage_version.version + 1 returning version`,
  )) as { version: number }[];
  return row!.version;
}

/** Writes the change log rows of a mutation, inside its transaction, and prunes old ones now and then. */
export async function recordChanges(em: EntityManager, version: number, changes: ChangeSet): Promise<void> {
  const entries = changes.entries();
  for (let i = 0; i < entries.length; i += 300) {
    const chunk = entries.slice(i, i + 300);
    await em.execute(
      `insert into lineage_change (version, entity, entity_id) values ${chunk.map(() => '(?, ?, ?)').join(', ')}`,
      chunk.flatMap(([id, entity]) => [version, entity, id]),
    );
  }
  if (entries.length > 0) await notifyInTransaction(em, { type: 'lineage', version });
  if (version % PRUNE_EVERY === 0 && version > KEEP_VERSIONS) {
    const below = version - KEEP_VERSIONS;
    await em.execute(`delete from lineage_change where version < ?`, [below]);
    await em.execute(`update lineage_version set pruned_below = ? where id = 1`, [below]);
  }
}
