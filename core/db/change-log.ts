import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity } from './entities/index.js';
import { EVENTS_CHANNEL } from './events.js';
import { sqlOf } from './dialect.js';

/** Changes older than this many versions are pruned; a process further behind rebuilds its graph. */
const KEEP_VERSIONS = 10_000;
const PRUNE_EVERY = 1_000;

/** Objects a mutation touched, recorded in its transaction so every process's graph catches up. */
export class ChangeSet {
  private readonly touched = new Map<string, ChangedEntity>();
  private readonly commitWork: ((em: EntityManager) => Promise<void>)[] = [];

  add(entity: ChangedEntity, id: string): void {
    // A full reload of the object covers its run status too: never narrow one down to the other.
    if (entity === ChangedEntity.RUN_STATUS && this.touched.has(id)) return;
    this.touched.set(id, entity);
  }

  get size(): number {
    return this.touched.size;
  }

  entries(): [string, ChangedEntity][] {
    return [...this.touched];
  }

  /**
   * Work that must come after the change log's version lock: writes to rows that graph mutations
   * lock after the version too (an automation's row), so the two kinds of write never wait on
   * each other in opposite orders.
   */
  atCommit(work: (em: EntityManager) => Promise<void>): void {
    this.commitWork.push(work);
  }

  /** Runs the `atCommit` work, in the order it was added. */
  async runAtCommit(em: EntityManager): Promise<void> {
    for (const work of this.commitWork) await work(em);
  }
}

const ALLOCATE_VERSION = `insert into lineage_version (id, version, pruned_below) values (1, 1, 0)
  on conflict (id) do update set version = lineage_version.version + 1 returning version`;

/** Change log rows per statement. */
const CHUNK = 300;

/**
 * Allocates a mutation's version under the version row's lock, held until commit, so versions
 * commit in order: a reader that sees version N sees every change up to N. A graph mutation does
 * this first (on SQLite it also takes the write lock), so what it checks (deletion safety,
 * cycles) cannot change before it commits.
 */
export async function beginWrite(em: EntityManager): Promise<number> {
  const [row] = (await em.execute(ALLOCATE_VERSION)) as { version: number }[];
  return row!.version;
}

/**
 * Writes the change log rows of a mutation, inside its transaction, and prunes old ones now and
 * then; returns the mutation's version, allocated here when `version` is null (a write that takes
 * the lock only now). On PostgreSQL the allocation, the first rows and the notice to the other
 * processes are one statement: whatever runs after the lock is taken holds up every other write.
 * (SQLite has no notices: processes find changes in the log.)
 */
export async function recordChanges(em: EntityManager, version: number | null, changes: ChangeSet): Promise<number> {
  const entries = changes.entries();
  let at: number;
  let rest = entries;
  if (sqlOf(em).dialect === 'postgresql') {
    const first = entries.slice(0, CHUNK);
    rest = entries.slice(CHUNK);
    at = await allocateAndRecord(em, version, first);
  } else at = version ?? (await beginWrite(em));
  for (let i = 0; i < rest.length; i += CHUNK) {
    const chunk = rest.slice(i, i + CHUNK);
    await em.execute(
      `insert into lineage_change (version, entity, entity_id) values ${chunk.map(() => '(?, ?, ?)').join(', ')}`,
      chunk.flatMap(([id, entity]) => [at, entity, id]),
    );
  }
  if (at % PRUNE_EVERY === 0 && at > KEEP_VERSIONS) {
    const below = at - KEEP_VERSIONS;
    await em.execute(`delete from lineage_change where version < ?`, [below]);
    await em.execute(`update lineage_version set pruned_below = ? where id = 1`, [below]);
  }
  return at;
}

/**
 * PostgreSQL, in one statement: the version (allocated, or the one given), its first change log
 * rows, and the `lineage` event of events.ts (sent at commit) when there are any.
 */
async function allocateAndRecord(em: EntityManager, version: number | null, entries: [string, ChangedEntity][]): Promise<number> {
  const params: unknown[] = [];
  const versionSql = version === null ? ALLOCATE_VERSION : 'select cast(? as int) as version';
  if (version !== null) params.push(version);
  let insert = '';
  let notify = '';
  if (entries.length > 0) {
    insert = `, logged as (insert into lineage_change (version, entity, entity_id)
      select v.version, x.entity, x.entity_id from v cross join (values ${entries.map(() => '(cast(? as text), cast(? as text))').join(', ')}) as x(entity, entity_id))`;
    params.push(...entries.flatMap(([id, entity]) => [entity, id]));
    notify = `, pg_notify(?, json_build_object('type', 'lineage', 'version', v.version)::text)`;
    params.push(EVENTS_CHANNEL);
  }
  const [row] = (await em.execute(`with v as (${versionSql})${insert} select v.version${notify} from v`, params)) as { version: number }[];
  return row!.version;
}
