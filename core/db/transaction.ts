import { ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity } from './entities/index.js';
import { ConflictError } from '../errors.js';
import { ChangeSet, beginWrite, recordChanges } from './change-log.js';
import { sqlOf } from './dialect.js';
import { isPostgresRetryable, retrying } from './sql.js';
import { inWriteTurn } from './write-gate.js';
import { advisoryLockSql } from './postgres.js';
import { currentAudit } from '../audit/scope.js';
import { recordAudit } from '../audit/record.js';

/** How long a write on PostgreSQL is tried again after a deadlock or a serialization failure. */
const DEADLOCK_RETRY_MS = 10_000;

export interface WriteOptions {
  /**
   * The write's checks need nothing of the lineage graph: run records, or a new object (nothing
   * refers to it yet, and the foreign keys check what it refers to). On PostgreSQL such a write
   * takes the change log's lock only just before it commits, so such writes run side by side; on
   * SQLite, which has one writer at a time, it is an ordinary write.
   */
  graphFree?: boolean;
  /**
   * The automation whose runs the write must not interleave with on PostgreSQL, read inside its
   * transaction (null: none): an advisory lock taken before anything else, the run writes' own
   * (their claim and their end), so a graph write such as a version going live sees either all of
   * a run's write or none of it. On SQLite writes take turns anyway.
   */
  serializeOn?: (em: EntityManager) => Promise<string | null>;
}

/**
 * Runs a mutation in one transaction: it all commits or nothing does. The mutation names the
 * objects it touched in `changes`; they are logged in the same transaction, so the lineage
 * graph of every process catches up. A duplicate name that slipped past the service's check
 * (another process inserted it meanwhile) becomes CONFLICT.
 *
 * Locks are taken in one order: a write's own key, then the change log's version row, then the
 * rows the mutation changes. A graph mutation takes the version first, so what it checks
 * (deletion safety, cycles) cannot change before it commits; `changes.atCommit` work runs after
 * the version in every write, which keeps that order for rows both kinds of write touch.
 */
export async function writeTransaction<T>(
  em: EntityManager,
  label: string,
  work: (em: EntityManager, changes: ChangeSet) => Promise<T>,
  options: WriteOptions = {},
): Promise<T> {
  const { graphFree = false, serializeOn } = options;
  const postgres = sqlOf(em).dialect === 'postgresql';
  const late = graphFree && postgres;
  // The mutation being audited, if this write is its first: an attempt that is tried again starts its changes afresh.
  const audit = currentAudit();
  const mark = audit?.changes.length ?? 0;
  const attempt = () =>
    em.transactional(async (tx) => {
      if (audit) {
        audit.changes.length = mark;
        audit.written = false;
      }
      const txEm = tx as EntityManager;
      if (postgres && serializeOn) {
        const key = await serializeOn(txEm);
        if (key !== null) await txEm.execute(advisoryLockSql('?'), [`automation-runs:${key}`]);
      }
      const version = late ? null : await beginWrite(txEm);
      const changes = new ChangeSet();
      const result = await work(txEm, changes);
      await txEm.flush();
      // A late write that changed nothing the graph shows (a claim that lost) needs no version.
      if (version !== null || changes.size > 0) await recordChanges(txEm, version, changes);
      await changes.runAtCommit(txEm);
      // A mutation's audit entry commits with it (written once, by its first write).
      if (audit) await recordAudit(txEm, audit, { outcome: 'OK' });
      return result;
    });
  try {
    // Inside an enclosing transaction, that one holds the connection, and a deadlock aborts it whole.
    if (!postgres || em.isInTransaction()) return await attempt();
    // A write that takes the version late can meet a graph mutation's locks the other way round
    // (deleting an automation whose queued run is being cancelled): PostgreSQL then aborts one of
    // the two, whichever it is, and that one is tried again from the start.
    return await inWriteTurn(em, () => retrying(attempt, { isRetryable: isPostgresRetryable, timeoutMs: DEADLOCK_RETRY_MS }));
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw new ConflictError('name', `${label} with this name already exists`);
    // A graph-free write checks what it refers to without the graph's lock: a delete may have won meanwhile.
    if (graphFree && error instanceof ForeignKeyConstraintViolationException) throw new ConflictError('id', `${label} refers to an object deleted meanwhile`);
    throw error;
  }
}

/** A mutation of one object, logged as touched by the id it returns (or the returned entity's id). */
export function writeOne<T extends { id: string } | string>(
  em: EntityManager,
  entity: ChangedEntity,
  label: string,
  work: (em: EntityManager) => Promise<T>,
  options: WriteOptions = {},
): Promise<T> {
  return writeTransaction(
    em,
    label,
    async (tx, changes) => {
      const result = await work(tx);
      changes.add(entity, typeof result === 'string' ? result : result.id);
      return result;
    },
    options,
  );
}

/**
 * Deletes check the lineage graph inside their transaction. That is only sound when the
 * transaction is their own: an enclosing one could hold uncommitted changes the graph would take in.
 */
export function assertOwnTransaction(em: EntityManager): void {
  if (em.isInTransaction()) throw new Error('a delete must run in its own transaction, not inside another one');
}
