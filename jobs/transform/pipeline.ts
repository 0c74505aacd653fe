import type { Dialect } from '../../core/db/sql.js';
import { checkExpressionColumns, compileExpression as compileExpressionIn, parseExpression, type Expr } from './expression.js';
import { closest, foldCase, keyPath, quoteIdent, scanSql, skipSqlSpace, TransformError, unknownColumnParts } from './tokens.js';

export { quoteIdent, TransformError } from './tokens.js';

/** Aggregate functions of a groupBy step. */
export type AggregateFn = 'count' | 'sum' | 'min' | 'max' | 'avg';
/** One ORDER BY key; `nulls` null means SQLite's default (NULLs first ascending, last descending). */
export interface SortKey {
  column: string;
  desc: boolean;
  nulls: 'first' | 'last' | null;
}
/** An output column of a groupBy; `of` null only for count(*). */
export interface Aggregate {
  name: string;
  fn: AggregateFn;
  of: string | null;
}

/** A validated pipeline step; filter/derive keep their expression text for error positions. */
export type Step =
  | { op: 'select'; columns: string[] }
  | { op: 'rename'; columns: { from: string; to: string }[] }
  | { op: 'filter'; where: Expr; source: string }
  | { op: 'derive'; columns: { name: string; expr: Expr; source: string }[] }
  | { op: 'groupBy'; keys: string[]; aggregates: Aggregate[] }
  | { op: 'distinct'; columns: string[] | null }
  | { op: 'sort'; by: SortKey[] }
  | { op: 'limit'; count: number; offset: number };

/** A normalized transform: a pipeline of steps, or an SQL query over the relation `input`. */
export type Transform = { kind: 'pipeline'; steps: Step[] } | { kind: 'sql'; sql: string };

const MAX_STEPS = 200;
const MAX_SQL_LENGTH = 100_000;
const MAX_LIMIT = 1_000_000_000;
const STEP_KEYS: Record<Step['op'], string[]> = {
  select: ['columns'],
  rename: ['columns'],
  filter: ['where'],
  derive: ['columns'],
  groupBy: ['keys', 'aggregates'],
  distinct: ['columns'],
  sort: ['by'],
  limit: ['count', 'offset'],
};
const OPS = Object.keys(STEP_KEYS) as Step['op'][];
const AGGREGATE_FNS: AggregateFn[] = ['count', 'sum', 'min', 'max', 'avg'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
function fail(path: string, message: string): never {
  throw new TransformError(path, message);
}

function object(value: unknown, path: string, what: string, allowEmpty = false): Json {
  if (!isObject(value)) fail(path, `must be an object of ${what}`);
  if (!allowEmpty && Object.keys(value).length === 0) fail(path, `must contain at least one entry (${what})`);
  return value;
}

function onlyKeys(value: Json, allowed: string[], path: string, what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(keyPath(path, key), `unknown key ${JSON.stringify(key)} in ${what}; allowed keys are ${allowed.join(', ')}`);
  }
}

function columnName(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'must be a column name (a string)');
  const length = Array.from(value).length;
  if (length === 0) fail(path, 'the column name is empty');
  if (length > 200) fail(path, `the column name is too long (${length} characters; at most 200)`);
  if (value.includes('\0')) fail(path, 'the column name contains a NUL character');
  return value;
}

/** Refuses a second name equal to an earlier one (SQLite compares column names case-insensitively). */
function unique(seen: Map<string, string>, name: string, path: string, what = 'column'): void {
  const earlier = seen.get(foldCase(name));
  if (earlier === name) fail(path, `duplicate ${what} ${JSON.stringify(name)}`);
  if (earlier !== undefined) {
    fail(path, `duplicate ${what} ${JSON.stringify(name)} (same as ${JSON.stringify(earlier)}: column names are case-insensitive)`);
  }
  seen.set(foldCase(name), name);
}

function columnList(value: unknown, path: string, allowEmpty: boolean): string[] {
  if (!Array.isArray(value)) fail(path, 'must be an array of column names');
  if (!allowEmpty && value.length === 0) fail(path, 'must list at least one column');
  const seen = new Map<string, string>();
  return value.map((v, i) => {
    const name = columnName(v, `${path}[${i}]`);
    unique(seen, name, `${path}[${i}]`);
    return name;
  });
}

function expressionText(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'must be an expression (a string), e.g. "price * 1.2"');
  return value;
}

function integer(value: unknown, path: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) fail(path, `must be a whole number from 0 to ${max}`);
  return value;
}

function parseStep(value: unknown, path: string): Step {
  if (!isObject(value)) fail(path, 'each step must be an object such as {"op": "filter", "where": "price > 10"}');
  const op = value.op;
  if (op === undefined) fail(`${path}.op`, `missing "op"; it is one of ${OPS.join(', ')}`);
  if (typeof op !== 'string' || !Object.hasOwn(STEP_KEYS, op)) {
    const suggestion = typeof op === 'string' ? closest(op, OPS) : undefined;
    fail(`${path}.op`, `unknown op ${JSON.stringify(op)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; it is one of ${OPS.join(', ')}`);
  }
  const kind = op as Step['op'];
  onlyKeys(value, ['op', ...STEP_KEYS[kind]], path, `a ${kind} step`);
  const required = (key: string): unknown => value[key] ?? fail(`${path}.${key}`, `a ${kind} step needs "${key}"`);
  const at = (key: string) => `${path}.${key}`;
  switch (kind) {
    case 'select':
      return { op: kind, columns: columnList(required('columns'), at('columns'), false) };
    case 'rename': {
      const targets = new Map<string, string>();
      const entries = Object.entries(object(required('columns'), at('columns'), 'old name → new name'));
      return {
        op: kind,
        columns: entries.map(([from, to]) => {
          const p = keyPath(at('columns'), from);
          columnName(from, p);
          unique(targets, columnName(to, p), p, 'new name');
          return { from, to: to as string };
        }),
      };
    }
    case 'filter': {
      const source = expressionText(required('where'), at('where'));
      return { op: kind, where: parseExpression(source, at('where')), source };
    }
    case 'derive': {
      const seen = new Map<string, string>();
      const entries = Object.entries(object(required('columns'), at('columns'), 'column name → expression'));
      return {
        op: kind,
        columns: entries.map(([name, text]) => {
          const p = keyPath(at('columns'), name);
          unique(seen, columnName(name, p), p);
          const source = expressionText(text, p);
          return { name, expr: parseExpression(source, p), source };
        }),
      };
    }
    case 'groupBy': {
      const keys = value.keys === undefined ? [] : columnList(value.keys, at('keys'), true);
      const seen = new Map(keys.map((k) => [foldCase(k), k]));
      const entries = Object.entries(value.aggregates === undefined ? {} : object(value.aggregates, at('aggregates'), 'aggregates', true));
      if (keys.length === 0 && entries.length === 0) {
        fail(at('aggregates'), 'a groupBy step without keys needs at least one aggregate, e.g. {"n": {"fn": "count"}}');
      }
      const aggregates = entries.map(([name, spec]): Aggregate => {
        const p = keyPath(at('aggregates'), name);
        unique(seen, columnName(name, p), p);
        if (!isObject(spec)) fail(p, 'an aggregate must be an object such as {"fn": "sum", "of": "amount"}');
        onlyKeys(spec, ['fn', 'of'], p, 'an aggregate');
        const fn = spec.fn;
        if (typeof fn !== 'string' || !AGGREGATE_FNS.includes(fn as AggregateFn)) {
          const problem = fn === undefined ? 'missing "fn"' : `unknown aggregate function ${JSON.stringify(fn)}`;
          fail(`${p}.fn`, `${problem}; it is one of ${AGGREGATE_FNS.join(', ')}`);
        }
        if (spec.of === undefined && fn !== 'count') fail(`${p}.of`, `${fn} needs "of": the column to aggregate`);
        return { name, fn: fn as AggregateFn, of: spec.of === undefined ? null : columnName(spec.of, `${p}.of`) };
      });
      return { op: kind, keys, aggregates };
    }
    case 'distinct': {
      if (value.columns !== undefined && Array.isArray(value.columns) && value.columns.length === 0) {
        fail(at('columns'), 'must list at least one column; leave "columns" out to remove duplicate rows over all columns');
      }
      return { op: kind, columns: value.columns === undefined ? null : columnList(value.columns, at('columns'), false) };
    }
    case 'sort': {
      const by = required('by');
      if (!Array.isArray(by) || by.length === 0) fail(at('by'), 'must be a non-empty array such as [{"column": "price", "desc": true}]');
      return {
        op: kind,
        by: by.map((key, i): SortKey => {
          const p = `${at('by')}[${i}]`;
          if (!isObject(key)) fail(p, 'a sort key must be an object such as {"column": "price", "desc": true}');
          onlyKeys(key, ['column', 'desc', 'nulls'], p, 'a sort key');
          if (key.column === undefined) fail(`${p}.column`, 'a sort key needs "column"');
          if (key.desc !== undefined && typeof key.desc !== 'boolean') fail(`${p}.desc`, 'must be true or false');
          if (key.nulls !== undefined && key.nulls !== 'first' && key.nulls !== 'last') fail(`${p}.nulls`, 'must be "first" or "last"');
          return { column: columnName(key.column, `${p}.column`), desc: key.desc === true, nulls: key.nulls ?? null };
        }),
      };
    }
    case 'limit':
      return {
        op: kind,
        count: integer(required('count'), at('count'), MAX_LIMIT),
        offset: value.offset === undefined ? 0 : integer(value.offset, at('offset'), Number.MAX_SAFE_INTEGER),
      };
  }
}

function parseSql(value: unknown): string {
  const path = 'transform.sql';
  if (typeof value !== 'string') fail(path, 'must be a string containing an SQL query');
  if (value.length > MAX_SQL_LENGTH) fail(path, `the SQL query is too long (${value.length} characters; at most ${MAX_SQL_LENGTH})`);
  const shape = scanSql(value);
  if (shape.extra !== -1) {
    const rest = value.slice(shape.extra, shape.extra + 40).replace(/\s+/g, ' ');
    const position = Array.from(value.slice(0, shape.extra)).length + 1;
    fail(path, `the SQL must be a single statement, but another one starts at position ${position}: "${rest}"`);
  }
  if (shape.start === -1) fail(path, 'the SQL query is empty');
  if (!/^(select|with)\b/i.test(value.slice(shape.start))) {
    const first = /^\S{1,30}/.exec(value.slice(shape.start))![0];
    fail(path, `the SQL query must start with SELECT or WITH, not "${first}"`);
  }
  if (!/\binput\b/i.test(value)) fail(path, "the SQL query must read from input (the step's input datasource), e.g. SELECT * FROM input");
  return value;
}

/**
 * Validates a stored transform JSON and returns it normalized; `{}` is a pipeline with no steps (copy).
 * When `columns` (the input columns) is given, every column reference is checked against it.
 * Throws a {@link TransformError} whose `extensions.field` is the JSON path of the problem.
 */
export function parseTransform(json: unknown, columns?: string[]): Transform {
  if (!isObject(json)) fail('transform', 'the transform must be a JSON object: {"steps": [...]} or {"sql": "SELECT ... FROM input"}');
  if (Object.hasOwn(json, 'sql') && Object.hasOwn(json, 'steps')) fail('transform', 'a transform has either "steps" or "sql", not both');
  onlyKeys(json, ['steps', 'sql'], 'transform', 'the transform');
  if (Object.hasOwn(json, 'sql')) return { kind: 'sql', sql: parseSql(json.sql) };
  const steps = json.steps ?? [];
  if (!Array.isArray(steps)) fail('transform.steps', 'must be an array of steps');
  if (steps.length > MAX_STEPS) fail('transform.steps', `too many steps (${steps.length}); at most ${MAX_STEPS} are allowed`);
  const transform: Transform = { kind: 'pipeline', steps: steps.map((step, i) => parseStep(step, `transform.steps[${i}]`)) };
  if (columns) compileTransform(transform, '"input"', columns);
  return transform;
}

/** `FROM <input>`: PostgreSQL wants a name for a subquery in FROM, SQLite's text stays as it was. */
function fromInput(input: string, dialect: Dialect): string {
  return dialect === 'postgresql' ? `${input} AS "input_relation"` : input;
}

function compileSql(sql: string, input: string, dialect: Dialect): string {
  const shape = scanSql(sql);
  const body = sql.slice(shape.start, shape.end);
  const head = `input AS (SELECT * FROM ${fromInput(input, dialect)})`;
  if (!/^with\b/i.test(body)) return `WITH ${head}\n${body}`;
  // Merge into the user's WITH list: one statement cannot have two WITH clauses.
  let rest = skipSqlSpace(body, 4);
  const recursive = /^recursive\b/i.test(body.slice(rest));
  if (recursive) rest = skipSqlSpace(body, rest + 'recursive'.length);
  return `WITH ${recursive ? 'RECURSIVE ' : ''}${head},\n${body.slice(rest)}`;
}

/** Columns (null when unknown) and ordering in force after a step; ordering is re-stated downstream. */
interface State {
  columns: string[] | null;
  order: SortKey[];
}

function need(columns: string[] | null, name: string, path: string): void {
  if (columns && !columns.includes(name)) fail(path, unknownColumnParts(name, columns).join('; '));
}

function knownColumns(state: State, op: string, path: string): string[] {
  return state.columns ?? fail(path, `a ${op} step needs the input columns to be known; pass them to compileTransform`);
}

function orderByIn(order: SortKey[], relation: string, dialect: Dialect = 'sqlite'): string {
  if (order.length === 0) return '';
  // PostgreSQL sorts NULLs last ascending: the default is spelled out so it means what it means on SQLite.
  const nulls = (k: SortKey) => k.nulls ?? (dialect === 'postgresql' ? (k.desc ? 'last' : 'first') : null);
  const key = (k: SortKey) => `${relation}.${quoteIdent(k.column)}${k.desc ? ' DESC' : ''}${nulls(k) ? ` NULLS ${nulls(k)!.toUpperCase()}` : ''}`;
  return ` ORDER BY ${order.map(key).join(', ')}`;
}

/** The ordering that survives a step: keys mapped to their new names, cut at the first one lost. */
function keepOrder(order: SortKey[], rename: (column: string) => string | null): SortKey[] {
  const kept: SortKey[] = [];
  for (const key of order) {
    const column = rename(key.column);
    if (column === null) break;
    kept.push({ ...key, column });
  }
  return kept;
}

function compileStep(step: Step, from: string, state: State, params: unknown[], path: string, dialect: Dialect): { sql: string; state: State } {
  const q = quoteIdent;
  const orderBy = (order: SortKey[], relation: string) => orderByIn(order, relation, dialect);
  const compileExpression = (expr: Expr, bound: unknown[]) => compileExpressionIn(expr, bound, dialect);
  const ordered = orderBy(state.order, from);
  switch (step.op) {
    case 'select':
    case 'distinct': {
      const columns = step.columns ?? state.columns;
      step.columns?.forEach((c, i) => need(state.columns, c, `${path}.columns[${i}]`));
      const list = step.columns ? step.columns.map(q).join(', ') : '*';
      const order = keepOrder(state.order, (c) => (!step.columns || step.columns.includes(c) ? c : null));
      // DISTINCT rows can only follow an ordering on the columns they keep.
      const sql = step.op === 'distinct' ? `SELECT DISTINCT ${list} FROM ${from}${orderBy(order, from)}` : `SELECT ${list} FROM ${from}${ordered}`;
      return { sql, state: { columns, order } };
    }
    case 'rename': {
      const columns = knownColumns(state, 'rename', path);
      const renamed = new Map(step.columns.map(({ from: old, to }) => [old, to]));
      step.columns.forEach(({ from: old }) => need(columns, old, keyPath(`${path}.columns`, old)));
      const output = columns.map((c) => renamed.get(c) ?? c);
      for (const { from: old, to } of step.columns) {
        const clash = output.find((c, i) => columns[i] !== old && foldCase(c) === foldCase(to));
        if (clash !== undefined) {
          const message = `cannot rename ${JSON.stringify(old)} to ${JSON.stringify(to)}: a column named ${JSON.stringify(clash)} already exists`;
          fail(keyPath(`${path}.columns`, old), message);
        }
      }
      const list = columns.map((c) => (renamed.has(c) ? `${q(c)} AS ${q(renamed.get(c)!)}` : q(c)));
      const order = keepOrder(state.order, (c) => renamed.get(c) ?? c);
      return { sql: `SELECT ${list.join(', ')} FROM ${from}${ordered}`, state: { columns: output, order } };
    }
    case 'filter': {
      if (state.columns) checkExpressionColumns(step.where, step.source, `${path}.where`, state.columns);
      return { sql: `SELECT * FROM ${from} WHERE ${compileExpression(step.where, params)}${ordered}`, state };
    }
    case 'derive': {
      const columns = knownColumns(state, 'derive', path);
      const derived = new Map(step.columns.map((d) => [d.name, d]));
      const sameStep = (name: string) =>
        derived.has(name) ? 'columns derived in the same step cannot be used there; add a second derive step' : undefined;
      for (const d of step.columns) {
        const p = keyPath(`${path}.columns`, d.name);
        checkExpressionColumns(d.expr, d.source, p, columns, sameStep);
        const clash = columns.find((c) => c !== d.name && foldCase(c) === foldCase(d.name));
        if (clash !== undefined) {
          const existing = JSON.stringify(clash);
          fail(p, `${JSON.stringify(d.name)} clashes with the existing column ${existing} (column names are case-insensitive); name it ${existing} to replace it`);
        }
      }
      // Built left to right so parameters are appended in text order; overwritten columns stay in place.
      const list = columns.map((c) => (derived.has(c) ? `${compileExpression(derived.get(c)!.expr, params)} AS ${q(c)}` : q(c)));
      const added = step.columns.filter((d) => !columns.includes(d.name));
      list.push(...added.map((d) => `${compileExpression(d.expr, params)} AS ${q(d.name)}`));
      const output = [...columns, ...added.map((d) => d.name)];
      const order = keepOrder(state.order, (c) => (derived.has(c) ? null : c));
      return { sql: `SELECT ${list.join(', ')} FROM ${from}${ordered}`, state: { columns: output, order } };
    }
    case 'groupBy': {
      step.keys.forEach((k, i) => need(state.columns, k, `${path}.keys[${i}]`));
      const aggregates = step.aggregates.map((a) => {
        if (a.of !== null) need(state.columns, a.of, `${keyPath(`${path}.aggregates`, a.name)}.of`);
        return `${a.fn}(${a.of === null ? '*' : q(a.of)}) AS ${q(a.name)}`;
      });
      const groupBy = step.keys.length > 0 ? ` GROUP BY ${step.keys.map((k) => `${from}.${q(k)}`).join(', ')}` : '';
      const sql = `SELECT ${[...step.keys.map(q), ...aggregates].join(', ')} FROM ${from}${groupBy}`;
      return { sql, state: { columns: [...step.keys, ...step.aggregates.map((a) => a.name)], order: [] } };
    }
    case 'sort': {
      step.by.forEach((k, i) => need(state.columns, k.column, `${path}.by[${i}].column`));
      return { sql: `SELECT * FROM ${from}${orderBy(step.by, from)}`, state: { ...state, order: step.by } };
    }
    case 'limit': {
      const placeholder = () => (dialect === 'postgresql' ? `$${params.length}` : '?');
      params.push(step.count);
      const limit = placeholder();
      if (step.offset > 0) params.push(step.offset);
      return { sql: `SELECT * FROM ${from}${ordered} LIMIT ${limit}${step.offset > 0 ? ` OFFSET ${placeholder()}` : ''}`, state };
    }
  }
}

/**
 * Compiles to ONE parameterized SELECT for `dialect` (SQLite unless told; PostgreSQL binds `$n`,
 * names the input subquery and spells SQLite's NULL ordering out) over `input` (an already-quoted relation name or a
 * parenthesized subquery). Pipelines become `WITH s0 AS (SELECT * FROM input), s1 AS (…) SELECT * FROM sN`;
 * SQL mode becomes `WITH input AS (SELECT * FROM <input>) <query>`. `columns` are the input columns: with
 * them, references are checked and the output columns returned (null otherwise, and always for SQL mode);
 * rename and derive steps need them. Throws a {@link TransformError} on an unknown column.
 */
export function compileTransform(
  transform: Transform,
  input: string,
  columns?: string[],
  dialect: Dialect = 'sqlite',
): { sql: string; params: unknown[]; columns: string[] | null } {
  if (transform.kind === 'sql') return { sql: compileSql(transform.sql, input, dialect), params: [], columns: null };
  const params: unknown[] = [];
  const stages = [`s0 AS (SELECT * FROM ${fromInput(input, dialect)})`];
  let state: State = { columns: columns ? [...columns] : null, order: [] };
  transform.steps.forEach((step, i) => {
    const compiled = compileStep(step, `s${i}`, state, params, `transform.steps[${i}]`, dialect);
    stages.push(`s${i + 1} AS (${compiled.sql})`);
    state = compiled.state;
  });
  const last = `s${transform.steps.length}`;
  return { sql: `WITH\n  ${stages.join(',\n  ')}\nSELECT * FROM ${last}${orderByIn(state.order, last, dialect)}`, params, columns: state.columns };
}
