import { handleError } from './handle-error.js';
import { intParam } from './url-query.js';

export const DEFAULT_PAGE_SIZE = 25;
/** The API's largest page (`first`). */
export const MAX_PAGE_SIZE = 500;

/** A page size from the URL (`?first=10`), else the default. */
export const pageSizeParam = (value: string | null): number => intParam(value, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);

/** The parts of a Relay connection a list page reads. */
export interface Connection<T> {
  totalCount: number;
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export type ListStatus = 'loading' | 'ready' | 'error';

/** Loads one page after `after` (null: the first page); must pass `signal` on to the request. */
export type PageLoader<F, T> = (filters: F, after: string | null, signal: AbortSignal) => Promise<Connection<T>>;

/**
 * One page of a filtered list, moved through with the connection's cursors. `show` starts again
 * from the first page; `previous` goes back through the cursors it came by. An answer that a
 * newer request superseded is dropped (and its request aborted); a failure goes to handleError
 * with `failure`, and `retry` repeats the request that failed.
 */
export function pagedList<F, T>(load: PageLoader<F, T>, failure: string) {
  let page = $state<Connection<T> | null>(null);
  let status = $state<ListStatus>('loading');
  let index = $state(0);
  let filters: F | undefined;
  /** `after` of every page from the first to the current one. */
  let cursors: (string | null)[] = [];
  let attempt: { after: string | null; index: number } = { after: null, index: 0 };
  let pending: AbortController | null = null;

  async function fetchPage(after: string | null, at: number): Promise<void> {
    if (filters === undefined) return;
    pending?.abort();
    const controller = new AbortController();
    pending = controller;
    attempt = { after, index: at };
    status = 'loading';
    try {
      const result = await load(filters, after, controller.signal);
      if (controller.signal.aborted) return;
      page = result;
      cursors = [...cursors.slice(0, at), after];
      index = at;
      status = 'ready';
    } catch (error) {
      if (controller.signal.aborted) return;
      status = 'error';
      handleError(error, failure);
    }
  }

  return {
    /** The page shown last (kept while the next one loads); null before the first answer. */
    get page() {
      return page;
    },
    get status() {
      return status;
    },
    /** 0 for the first page. */
    get index() {
      return index;
    },
    show(next: F): Promise<void> {
      filters = next;
      cursors = [];
      return fetchPage(null, 0);
    },
    next(): Promise<void> {
      if (!page?.pageInfo.hasNextPage) return Promise.resolve();
      return fetchPage(page.pageInfo.endCursor, index + 1);
    },
    previous(): Promise<void> {
      if (index === 0) return Promise.resolve();
      return fetchPage(cursors[index - 1] ?? null, index - 1);
    },
    retry(): Promise<void> {
      return fetchPage(attempt.after, attempt.index);
    },
  };
}
