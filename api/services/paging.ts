import { raw, type EntityName, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { checkPageSize, decodeCursor, toPage, type NameCursor, type Page } from '../../core/paging.js';
import { LIMITS } from '../../core/validation.js';
import { sqlOf } from '../../core/db/dialect.js';
import { BadUserInputError } from '../../core/errors.js';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  search?: string | null;
}

/**
 * One page of `entity` ordered by (name, id) with keyset cursors, optionally filtered by a
 * case-insensitive substring of the name. Two statements: the page and its total count.
 * A filter holding raw() fragments must come as a function: each statement consumes its own.
 */
export async function pageByName<T extends NameCursor & object>(
  em: EntityManager,
  entity: EntityName<T>,
  filterOrFactory: FilterQuery<T> | (() => FilterQuery<T>),
  args: PageArgs,
): Promise<Page<T>> {
  const first = checkPageSize(args.first);
  const search = args.search;
  if (search && search.length > LIMITS.search) throw new BadUserInputError('search', `search is longer than ${LIMITS.search} characters`);
  // A raw() fragment is consumed by the query that uses it, so each query gets its own.
  const where = (): FilterQuery<T> => {
    const filter = typeof filterOrFactory === 'function' ? (filterOrFactory as () => FilterQuery<T>)() : filterOrFactory;
    if (!search) return filter;
    // A plain substring rather than LIKE: "%" and "_" in a search are plain characters.
    const contains = sqlOf(em).containsText;
    const matches = { [raw((alias) => contains(`${alias}.name`), [search])]: [] };
    return { $and: [filter, matches] } as FilterQuery<T>;
  };
  const totalCount = await em.count(entity, where());
  if (first === 0) return toPage([], 0, totalCount, !!args.after);

  const conditions = [where(), ...(args.after ? [keysetAfter<T>(decodeCursor(args.after))] : [])];
  const rows = await em.find(entity, { $and: conditions } as FilterQuery<T>, {
    orderBy: { name: 'asc', id: 'asc' } as never,
    limit: first + 1,
  });
  return toPage(rows as T[], first, totalCount, !!args.after);
}

function keysetAfter<T>({ name, id }: NameCursor): FilterQuery<T> {
  return { $or: [{ name: { $gt: name } }, { name, id: { $gt: id } }] } as FilterQuery<T>;
}

/**
 * One page of an append-only log (`entity` with a growing integer id), newest first, with cursors
 * naming the log (`cursorName`) and the row's number. Two statements: the page and its total count.
 */
export async function pageNewestFirst<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  filter: FilterQuery<T>,
  args: { first?: number | null; after?: string | null },
  cursorName: string,
  logName: string,
): Promise<Page<T>> {
  const first = checkPageSize(args.first);
  const totalCount = await em.count(entity, filter);
  let after: number | undefined;
  if (args.after) {
    const cursor = decodeCursor(args.after);
    if (cursor.name !== cursorName || !/^\d{1,15}$/.test(cursor.id)) throw new BadUserInputError('after', `after is not a cursor of ${logName}`);
    after = Number(cursor.id);
  }
  const where = (after === undefined ? filter : { $and: [filter, { id: { $lt: after } }] }) as FilterQuery<T>;
  const rows = first === 0 ? [] : ((await em.find(entity, where, { orderBy: { id: 'desc' } as never, limit: first + 1 })) as T[]);
  return toPage(rows, first, totalCount, after !== undefined, (row) => ({ name: cursorName, id: String(row.id) }));
}
