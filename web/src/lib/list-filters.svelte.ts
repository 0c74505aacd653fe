import { untrack } from 'svelte';
import { pagedList, type PageLoader } from './paged-list.svelte.js';
import { replaceQuery, type QueryValue } from './url-query.js';

export interface ListFilterOptions<F extends { search: string }, T> {
  /** The filters the URL held when the page opened. */
  initial: F;
  toQuery: (filters: F) => Record<string, QueryValue>;
  load: PageLoader<F, T>;
  failure: string;
  /** The values "Clear filters" sets (search is always cleared). */
  cleared: Partial<F>;
}

/**
 * A list page's filters and its pages: every filter change is written to the URL (a reload or a
 * shared link restores it) and restarts the list at page 1; the search box applies after a
 * pause in typing, or at once on Enter. Call during component setup.
 */
export function listFilters<F extends { search: string }, T>(options: ListFilterOptions<F, T>) {
  let filters = $state<F>(options.initial);
  let searchText = $state(options.initial.search);
  const list = pagedList(options.load, options.failure);

  $effect(() => {
    const current = { ...filters };
    replaceQuery(options.toQuery(current));
    untrack(() => void list.show(current));
  });

  let typing: ReturnType<typeof setTimeout> | undefined;
  $effect(() => () => clearTimeout(typing));

  function applySearch(): void {
    clearTimeout(typing);
    const search = searchText.trim();
    if (search !== filters.search) filters.search = search;
  }

  return {
    list,
    /** The applied filters; set a property to change one. */
    get filters(): F {
      return filters;
    },
    /** What the search box holds (applied by applySearch). */
    get searchText(): string {
      return searchText;
    },
    set searchText(text: string) {
      searchText = text;
    },
    applySearch,
    onSearchInput(): void {
      clearTimeout(typing);
      typing = setTimeout(applySearch, 300);
    },
    clear(): void {
      clearTimeout(typing);
      searchText = '';
      filters = { ...filters, ...options.cleared, search: '' };
    },
  };
}

export type ListFilters<F extends { search: string }> = Pick<ReturnType<typeof listFilters<F, unknown>>, 'searchText' | 'applySearch' | 'onSearchInput'>;
