import { BadUserInputError } from './errors.js';
import { LIMITS } from './validation.js';

/** Relay paging information of a page. */
export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** A page of results in Relay form. */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Keyset position of a row ordered by (name, id). */
export interface NameCursor {
  name: string;
  id: string;
}

export function encodeCursor(cursor: NameCursor): string {
  return Buffer.from(JSON.stringify([cursor.name, cursor.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): NameCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { name: value[0], id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new BadUserInputError(field, `${field} is not a cursor returned by this API`);
}

export const DEFAULT_PAGE_SIZE = 50;

export function checkPageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > LIMITS.pageSize) {
    throw new BadUserInputError('first', `first must be between 0 and ${LIMITS.pageSize}, got ${first}`);
  }
  return first;
}

/** Turns `first + 1` rows fetched after a cursor into a page; `keyOf` gives a row's keyset position. */
export function toPage<T>(rows: T[], first: number, totalCount: number, after: boolean, keyOf: (row: T) => NameCursor = (row) => row as NameCursor): Page<T> {
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    nodes,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
