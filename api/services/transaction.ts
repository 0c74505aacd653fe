import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sqlite';
import { ConflictError } from '../errors/index.js';

/**
 * Runs a mutation in one transaction: it all commits or nothing does. A duplicate name that
 * slipped past the service's check (another process inserted it meanwhile) becomes CONFLICT.
 */
export async function writeTransaction<T>(em: EntityManager, label: string, work: (em: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await em.transactional((tx) => work(tx as EntityManager));
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw new ConflictError('name', `${label} with this name already exists`);
    throw error;
  }
}
