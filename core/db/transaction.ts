import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity } from './entities/index.js';
import { ConflictError } from '../errors.js';
import { ChangeSet, beginWrite, recordChanges } from './change-log.js';

/**
 * Runs a mutation in one transaction: it all commits or nothing does. The mutation names the
 * objects it touched in `changes`; they are logged in the same transaction, so the lineage
 * graph of every process catches up. A duplicate name that slipped past the service's check
 * (another process inserted it meanwhile) becomes CONFLICT.
 */
export async function writeTransaction<T>(
  em: EntityManager,
  label: string,
  work: (em: EntityManager, changes: ChangeSet) => Promise<T>,
): Promise<T> {
  try {
    return await em.transactional(async (tx) => {
      const txEm = tx as EntityManager;
      const version = await beginWrite(txEm);
      const changes = new ChangeSet();
      const result = await work(txEm, changes);
      await txEm.flush();
      await recordChanges(txEm, version, changes);
      return result;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw new ConflictError('name', `${label} with this name already exists`);
    throw error;
  }
}

/** A mutation of one object, logged as touched by the id it returns (or the returned entity's id). */
export function writeOne<T extends { id: string } | string>(
  em: EntityManager,
  entity: ChangedEntity,
  label: string,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  return writeTransaction(em, label, async (tx, changes) => {
    const result = await work(tx);
    changes.add(entity, typeof result === 'string' ? result : result.id);
    return result;
  });
}

/**
 * Deletes check the lineage graph inside their transaction. That is only sound when the
 * transaction is their own: an enclosing one could hold uncommitted changes the graph would take in.
 */
export function assertOwnTransaction(em: EntityManager): void {
  if (em.isInTransaction()) throw new Error('a delete must run in its own transaction, not inside another one');
}
