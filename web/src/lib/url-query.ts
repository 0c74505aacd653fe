/**
 * A page's filters kept in the URL's query string, so a reload or a shared link shows the same
 * view. Values are read once when the page opens and written back with `history.replaceState`:
 * typing in a search box does not add a history entry per keystroke.
 */

export type QueryValue = string | number | boolean | null | undefined;

/** `value` when it is one of `allowed`, else null: an unknown value in a shared URL is ignored, not sent to the API. */
export function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | null {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : null;
}

/** "true" / "false" as a boolean; anything else (or nothing) as null. */
export function booleanParam(value: string | null): boolean | null {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return null;
}

/** A whole number from `min` to `max`, else `fallback`. */
export function intParam(value: string | null, fallback: number, min: number, max: number): number {
  if (value === null || !/^\d+$/.test(value)) return fallback;
  const n = Number(value);
  return n >= min && n <= max ? n : fallback;
}

/** The query string for `values` in their given order, leaving out null, undefined and '': `?search=orders&kind=FILE`. */
export function toSearch(values: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** Replaces the current URL's query string with `values` (see {@link toSearch}) without a new history entry. */
export function replaceQuery(values: Record<string, QueryValue>): void {
  const search = toSearch(values);
  if (search === window.location.search) return;
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${search}${window.location.hash}`);
}
