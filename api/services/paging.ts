import { raw, type EntityName, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sqlite';
import { checkPageSize, decodeCursor, toPage, type NameCursor, type Page } from '../graphql/connection.js';
import { LIMITS } from './validation.js';
import { BadUserInputError } from '../errors/index.js';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  search?: string | null;
}

/**
 * One page of `entity` ordered by (name, id) with keyset cursors, optionally filtered by a
 * case-insensitive substring of the name. Two statements: the page and its total count.
 */
export async function pageByName<T extends NameCursor & object>(
  em: EntityManager,
  entity: EntityName<T>,
  filter: FilterQuery<T>,
  args: PageArgs,
): Promise<Page<T>> {
  const first = checkPageSize(args.first);
  const conditions: FilterQuery<T>[] = [filter];
  if (args.search) {
    if (args.search.length > LIMITS.search) throw new BadUserInputError('search', `search is longer than ${LIMITS.search} characters`);
    // instr() rather than LIKE: "%" and "_" in a search are plain characters.
    conditions.push({ [raw((alias) => `instr(lower(${alias}.name), lower(?))`, [args.search])]: { $gt: 0 } } as FilterQuery<T>);
  }
  const where = { $and: conditions } as FilterQuery<T>;
  const totalCount = await em.count(entity, where);
  if (first === 0) return toPage([], 0, totalCount, !!args.after);

  const afterWhere = args.after ? keysetAfter<T>(decodeCursor(args.after)) : undefined;
  const rows = await em.find(entity, afterWhere ? ({ $and: [where, afterWhere] } as FilterQuery<T>) : where, {
    orderBy: { name: 'asc', id: 'asc' } as never,
    limit: first + 1,
  });
  return toPage(rows as T[], first, totalCount, !!args.after);
}

function keysetAfter<T>({ name, id }: NameCursor): FilterQuery<T> {
  return { $or: [{ name: { $gt: name } }, { name, id: { $gt: id } }] } as FilterQuery<T>;
}
