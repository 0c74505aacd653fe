import type { RemoveJobsOptions } from 'agenda';
import type { SqlValue } from './connection.js';
import { toMillis } from './job-row.js';

/** WHERE conditions (joined with AND) and their parameters, in order. */
export interface Where {
  conditions: string[];
  params: SqlValue[];
}

/**
 * A `data` filter: SQL conditions every match meets, and the JSON containment test that decides
 * when the conditions alone do not (arrays, odd keys, a non-object filter).
 */
export interface DataFilter extends Where {
  /** Apply `jsonContains(row data, expected)` to the rows the conditions select. */
  needsCheck: boolean;
  /** The filter as stored JSON sees it (undefined members dropped, dates as strings). */
  expected: unknown;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON list parameter, for `IN (SELECT value FROM json_each(?))`. */
export function jsonList(values: readonly unknown[]): string {
  return JSON.stringify(values.map((value) => String(value)));
}

/** `$."a"."b"`, or undefined when a key cannot be quoted in an SQLite JSON path. */
function jsonPath(segments: readonly string[]): string | undefined {
  if (segments.some((segment) => segment.includes('"'))) return undefined;
  return `$${segments.map((segment) => `."${segment}"`).join('')}`;
}

/** The condition "the JSON member of `column` at `path` equals `value`", matching type as well as value. */
function memberEquals(column: string, path: string, value: unknown): Where {
  if (typeof value === 'string') {
    return { conditions: [`(json_type(${column}, ?) = 'text' AND json_extract(${column}, ?) = ?)`], params: [path, path, value] };
  }
  if (typeof value === 'number') {
    return { conditions: [`(json_type(${column}, ?) IN ('integer', 'real') AND json_extract(${column}, ?) = ?)`], params: [path, path, value] };
  }
  if (typeof value === 'boolean') return { conditions: [`json_type(${column}, ?) = ?`], params: [path, value ? 'true' : 'false'] };
  if (value === null || value === undefined) return { conditions: [`coalesce(json_type(${column}, ?), 'null') = 'null'`], params: [path] };
  if (value instanceof Date) return memberEquals(column, path, value.toISOString());
  return {
    conditions: [`(json_type(${column}, ?) IN ('object', 'array') AND json_extract(${column}, ?) = json(?))`],
    params: [path, path, JSON.stringify(value)],
  };
}

/**
 * PostgreSQL's `jsonb @>`: objects contain every member of the expected object (recursively),
 * arrays contain each expected element somewhere (any order), scalars are equal; at the top level
 * an array also contains a scalar it has as an element.
 */
export function jsonContains(actual: unknown, expected: unknown, topLevel = true): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.every((item) => actual.some((candidate) => jsonContains(candidate, item, false)));
  }
  if (isObject(expected)) {
    return isObject(actual) && Object.entries(expected).every(([key, value]) => Object.hasOwn(actual, key) && jsonContains(actual[key], value, false));
  }
  if (topLevel && Array.isArray(actual)) return actual.some((item) => item === expected);
  return actual === expected;
}

function collectMembers(column: string, segments: string[], expected: JsonObject, into: DataFilter): void {
  for (const [key, value] of Object.entries(expected)) {
    const path = jsonPath([...segments, key]);
    if (path === undefined) {
      into.needsCheck = true;
    } else if (isObject(value) && Object.keys(value).length > 0) {
      collectMembers(column, [...segments, key], value, into);
    } else if (isObject(value) || Array.isArray(value)) {
      // An empty object matches any object; an array matches a superset in any order.
      into.conditions.push(`json_type(${column}, ?) = ?`);
      into.params.push(path, Array.isArray(value) ? 'array' : 'object');
      if (Array.isArray(value)) into.needsCheck = true;
    } else {
      const equal = memberEquals(column, path, value);
      into.conditions.push(...equal.conditions);
      into.params.push(...equal.params);
    }
  }
}

/** SQL for "the JSON in `column` contains `data`" (see `jsonContains`). */
export function dataFilter(column: string, data: unknown): DataFilter {
  const text = JSON.stringify(data);
  const expected: unknown = text === undefined ? null : JSON.parse(text);
  const filter: DataFilter = { conditions: [], params: [], needsCheck: false, expected };
  if (isObject(expected)) {
    filter.conditions.push(`json_type(${column}) = 'object'`);
    collectMembers(column, [], expected, filter);
  } else {
    filter.needsCheck = true;
  }
  return filter;
}

/** Job properties a `unique` constraint may name directly, and their columns. */
const UNIQUE_COLUMNS: Readonly<Record<string, string>> = {
  _id: 'id',
  id: 'id',
  name: 'name',
  priority: 'priority',
  nextRunAt: 'next_run_at',
  type: 'type',
  lockedAt: 'locked_at',
  lastFinishedAt: 'last_finished_at',
  failedAt: 'failed_at',
  failCount: 'fail_count',
  failReason: 'fail_reason',
  repeatTimezone: 'repeat_timezone',
  lastRunAt: 'last_run_at',
  repeatInterval: 'repeat_interval',
  repeatAt: 'repeat_at',
  disabled: 'disabled',
  progress: 'progress',
  fork: 'fork',
  lastModifiedBy: 'last_modified_by',
  debounceStartedAt: 'debounce_started_at',
  startDate: 'start_date',
  endDate: 'end_date',
};

const DATE_COLUMNS = new Set(['next_run_at', 'locked_at', 'last_finished_at', 'failed_at', 'last_run_at', 'debounce_started_at', 'start_date', 'end_date']);

/**
 * Conditions for a `unique` constraint: `'data.a.b'` keys compare the JSON member (type and
 * value), other keys the job property of that name.
 */
export function uniqueWhere(unique: Record<string, unknown>): Where {
  const where: Where = { conditions: [], params: [] };
  for (const [key, value] of Object.entries(unique)) {
    if (key.startsWith('data.')) {
      const path = jsonPath(key.slice('data.'.length).split('.'));
      if (path === undefined) throw new Error(`Invalid unique constraint field: "${key}"`);
      const equal = memberEquals('data', path, value);
      where.conditions.push(...equal.conditions);
      where.params.push(...equal.params);
      continue;
    }
    const column = Object.hasOwn(UNIQUE_COLUMNS, key) ? UNIQUE_COLUMNS[key] : undefined;
    if (column === undefined) throw new Error(`Invalid unique constraint field: "${key}"`);
    if (value === null || value === undefined) {
      where.conditions.push(`${column} IS NULL`);
    } else {
      where.conditions.push(`${column} = ?`);
      where.params.push(
        DATE_COLUMNS.has(column) ? toMillis(value as Date | string | number) : typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'number' ? value : String(value),
      );
    }
  }
  return where;
}

/** What selects the jobs for removeJobs, disableJobs and enableJobs; undefined when nothing is asked for. */
export interface JobSelection extends Where {
  data?: DataFilter;
}

/**
 * The selection of RemoveJobsOptions, with the PostgreSQL backend's precedence: `id` over `ids`;
 * `name` over `names` over `notNames`; `data` as containment. No criteria select nothing.
 */
export function jobSelection(options: RemoveJobsOptions): JobSelection | undefined {
  const selection: JobSelection = { conditions: [], params: [] };
  if (options.id) {
    selection.conditions.push('id = ?');
    selection.params.push(String(options.id));
  } else if (options.ids && options.ids.length > 0) {
    selection.conditions.push('id IN (SELECT value FROM json_each(?))');
    selection.params.push(jsonList(options.ids));
  }
  if (options.name) {
    selection.conditions.push('name = ?');
    selection.params.push(options.name);
  } else if (options.names && options.names.length > 0) {
    selection.conditions.push('name IN (SELECT value FROM json_each(?))');
    selection.params.push(jsonList(options.names));
  } else if (options.notNames && options.notNames.length > 0) {
    selection.conditions.push('name NOT IN (SELECT value FROM json_each(?))');
    selection.params.push(jsonList(options.notNames));
  }
  if (options.data !== undefined) {
    selection.data = dataFilter('data', options.data);
    selection.conditions.push(...selection.data.conditions);
    selection.params.push(...selection.data.params);
  }
  return selection.conditions.length > 0 ? selection : undefined;
}
