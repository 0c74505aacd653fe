import type { Dialect } from '../../core/db/sql.js';
import { charPosition, closest, expressionError, quoteIdent, tokenize, TransformError, unknownColumnParts, type Token } from './tokens.js';

export { TransformError } from './tokens.js';

/** Functions with their [min, max] argument counts. */
const FUNCTIONS = {
  abs: [1, 1],
  coalesce: [1, Infinity],
  concat: [1, Infinity],
  date: [1, 1],
  datetime: [1, 1],
  if: [3, 3],
  integer: [1, 1],
  length: [1, 1],
  lower: [1, 1],
  nullif: [2, 2],
  number: [1, 1],
  replace: [3, 3],
  round: [1, 2],
  substr: [2, 3],
  text: [1, 1],
  trim: [1, 1],
  upper: [1, 1],
} as const satisfies Record<string, readonly [number, number]>;

/** Names of the expression functions (lower-case). */
export type FunctionName = keyof typeof FUNCTIONS;
/** Comparison operators after normalization (`==` → `=`, `<>` → `!=`). */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
/** Binary operators of the grammar. */
export type BinaryOp = 'or' | 'and' | CompareOp | '||' | '+' | '-' | '*' | '/' | '%';

/** A parsed expression. `pos` is the 0-based index in the source text of the token that starts (or names) the node. */
export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null; pos: number; real?: boolean }
  | { kind: 'column'; name: string; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'negate'; operand: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'isNull'; operand: Expr; negated: boolean; pos: number }
  | { kind: 'in'; operand: Expr; list: Expr[]; negated: boolean; pos: number }
  | { kind: 'between'; operand: Expr; low: Expr; high: Expr; negated: boolean; pos: number }
  | { kind: 'like'; operand: Expr; pattern: Expr; negated: boolean; pos: number }
  | { kind: 'call'; fn: FunctionName; args: Expr[]; pos: number };

const KEYWORDS = new Set(['and', 'or', 'not', 'is', 'null', 'in', 'between', 'like', 'true', 'false']);
const COMPARE: Record<string, CompareOp> = { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const ARITHMETIC: Record<string, number> = { '||': 1, '+': 2, '-': 2, '*': 3, '/': 3, '%': 3 };
/** Deeper expressions are refused: SQLite caps expression depth, and the parser recurses. */
const MAX_DEPTH = 100;
const EXPECTED_VALUE = "expected a value (a number, a 'string', a column name or a function call)";

function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'literal':
    case 'column':
      return [];
    case 'not':
    case 'negate':
    case 'isNull':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'in':
      return [e.operand, ...e.list];
    case 'between':
      return [e.operand, e.low, e.high];
    case 'like':
      return [e.operand, e.pattern];
    case 'call':
      return e.args;
  }
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'end of expression';
  if (t.kind === 'number') return `number ${t.text}`;
  if (t.kind === 'string') return `string ${t.text}`;
  if (t.kind === 'quoted' || (t.kind === 'word' && !KEYWORDS.has(String(t.value).toLowerCase()))) return `name ${t.text}`;
  return `'${t.text}'`;
}

function arity(fn: FunctionName): string {
  const [min, max] = FUNCTIONS[fn];
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  return min === max ? n(min) : max === Infinity ? `at least ${n(min)}` : `${min} or ${n(max)}`;
}

class Parser {
  private i = 0;
  private nesting = 0;
  private readonly depth = new WeakMap<Expr, number>();
  private readonly tokens: Token[];

  constructor(private readonly text: string, private readonly path: string) {
    this.tokens = tokenize(text, path);
  }

  parse(): Expr {
    const expr = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'end') this.unexpected(t, t.value === ')' ? "it has no matching '('" : 'expected an operator or the end of the expression');
    return expr;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private isWord(t: Token, word: string): boolean {
    return t.kind === 'word' && String(t.value).toLowerCase() === word;
  }
  private isOp(t: Token, op: string): boolean {
    return t.kind === 'op' && t.value === op;
  }
  private fail(index: number, message: string, hint?: string): never {
    throw expressionError(this.path, this.text, index, message, hint);
  }
  private unexpected(t: Token, hint: string): never {
    this.fail(t.pos, `unexpected ${describe(t)}`, hint);
  }
  private expect(op: string, hint: string): Token {
    if (!this.isOp(this.peek(), op)) this.unexpected(this.peek(), hint);
    return this.next();
  }
  /** Records the node's depth and refuses expressions nested too deeply. */
  private node<E extends Expr>(e: E): E {
    const depth = 1 + Math.max(0, ...children(e).map((c) => this.depth.get(c) ?? 1));
    if (depth > MAX_DEPTH) this.fail(e.pos, `expression is too complex (more than ${MAX_DEPTH} levels deep)`);
    this.depth.set(e, depth);
    return e;
  }
  /** Guards recursion through parentheses, calls and prefix operators. */
  private nested<T>(at: Token, parse: () => T): T {
    if (++this.nesting > MAX_DEPTH) this.fail(at.pos, `expression is nested too deeply (more than ${MAX_DEPTH} levels)`);
    const result = parse();
    this.nesting--;
    return result;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isWord(this.peek(), 'or')) {
      const op = this.next();
      left = this.node({ kind: 'binary', op: 'or', left, right: this.parseAnd(), pos: op.pos });
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isWord(this.peek(), 'and')) {
      const op = this.next();
      left = this.node({ kind: 'binary', op: 'and', left, right: this.parseNot(), pos: op.pos });
    }
    return left;
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (!this.isWord(t, 'not')) return this.parseComparison();
    this.next();
    return this.nested(t, () => this.node({ kind: 'not', operand: this.parseNot(), pos: t.pos }));
  }

  /** True when the next tokens start a comparison (used to refuse `a < b < c`). */
  private atComparison(): boolean {
    const t = this.peek();
    const negatable = (u: Token) => ['in', 'between', 'like'].some((w) => this.isWord(u, w));
    if (t.kind === 'op') return Object.hasOwn(COMPARE, t.value);
    return this.isWord(t, 'is') || negatable(t) || (this.isWord(t, 'not') && negatable(this.peek(1)));
  }

  private parseComparison(): Expr {
    const operand = this.parseArithmetic(1);
    if (!this.atComparison()) return operand;
    const t = this.next();
    let result: Expr;
    if (t.kind === 'op') {
      const right = this.parseArithmetic(1);
      const op = COMPARE[String(t.value)]!;
      const isNullLiteral = (e: Expr) => e.kind === 'literal' && e.value === null;
      if (isNullLiteral(operand) || isNullLiteral(right)) {
        // SQL semantics: a comparison with null is never true, so `x != null` would silently keep no row.
        const suggestion = op === '=' ? "'is null'" : op === '!=' ? "'is not null'" : "'is null' or 'is not null'";
        this.fail(t.pos, 'a comparison with null is never true', `use ${suggestion}`);
      }
      result = { kind: 'binary', op, left: operand, right, pos: t.pos };
    } else if (this.isWord(t, 'is')) {
      const negated = this.isWord(this.peek(), 'not');
      if (negated) this.next();
      if (!this.isWord(this.peek(), 'null')) this.unexpected(this.peek(), `expected 'null' (only 'is null' and 'is not null' are supported)`);
      this.next();
      result = { kind: 'isNull', operand, negated, pos: t.pos };
    } else {
      const negated = this.isWord(t, 'not');
      const word = String((negated ? this.next() : t).value).toLowerCase();
      if (word === 'in') {
        const open = this.expect('(', "expected '(' starting the list after 'in', as in: country in ('FR', 'DE')");
        const list = this.nested(open, () => this.parseList(open, "'in' list"));
        if (list.length === 0) this.fail(open.pos, "the 'in' list is empty");
        result = { kind: 'in', operand, list, negated, pos: t.pos };
      } else if (word === 'between') {
        const low = this.parseArithmetic(1);
        if (!this.isWord(this.peek(), 'and')) this.unexpected(this.peek(), "expected 'and' as in: x between 1 and 10");
        this.next();
        result = { kind: 'between', operand, low, high: this.parseArithmetic(1), negated, pos: t.pos };
      } else {
        result = { kind: 'like', operand, pattern: this.parseArithmetic(1), negated, pos: t.pos };
      }
    }
    if (this.atComparison()) this.fail(this.peek().pos, 'comparisons cannot be chained', "combine them with 'and'");
    return this.node(result);
  }

  /** Precedence climbing over `||`, `+ -` and `* / %` (all left-associative). */
  private parseArithmetic(minPrecedence: number): Expr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const precedence = t.kind === 'op' ? ARITHMETIC[String(t.value)] : undefined;
      if (precedence === undefined || precedence < minPrecedence) return left;
      this.next();
      const right = this.parseArithmetic(precedence + 1);
      left = this.node({ kind: 'binary', op: t.value as BinaryOp, left, right, pos: t.pos });
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (!this.isOp(t, '-')) return this.parsePrimary();
    this.next();
    const operand = this.nested(t, () => this.parseUnary());
    // Fold negative number literals so they are bound as one value.
    if (operand.kind === 'literal' && typeof operand.value === 'number') return { ...operand, value: -operand.value, pos: t.pos };
    return this.node({ kind: 'negate', operand, pos: t.pos });
  }

  private parsePrimary(): Expr {
    const t = this.next();
    if (t.kind === 'string') return { kind: 'literal', value: t.value, pos: t.pos };
    if (t.kind === 'number') return { kind: 'literal', value: t.value, pos: t.pos, real: /[.eE]/.test(t.text) };
    if (t.kind === 'quoted') return this.column(t);
    if (this.isOp(t, '(')) {
      const inner = this.nested(t, () => this.parseOr());
      this.expect(')', `expected ')' to close the '(' at position ${this.position(t)}`);
      return inner;
    }
    if (t.kind !== 'word') this.unexpected(t, EXPECTED_VALUE);
    const word = String(t.value).toLowerCase();
    if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true', pos: t.pos };
    if (word === 'null') return { kind: 'literal', value: null, pos: t.pos };
    if (KEYWORDS.has(word)) this.unexpected(t, EXPECTED_VALUE);
    if (!this.isOp(this.peek(), '(')) return this.column(t);
    if (!Object.hasOwn(FUNCTIONS, word)) {
      const suggestion = closest(word, Object.keys(FUNCTIONS));
      const hint = `${suggestion ? `did you mean ${suggestion}? ` : ''}functions are ${Object.keys(FUNCTIONS).join(', ')}`;
      this.fail(t.pos, `unknown function ${JSON.stringify(t.value)}`, hint);
    }
    const fn = word as FunctionName;
    const open = this.next();
    const args = this.nested(open, () => this.parseList(open, `call to ${fn}()`));
    const [min, max] = FUNCTIONS[fn];
    if (args.length < min || args.length > max) this.fail(t.pos, `${fn}() takes ${arity(fn)} but got ${args.length}`);
    return this.node({ kind: 'call', fn, args, pos: t.pos });
  }

  /** Comma-separated expressions after `open` up to the closing `)`. */
  private parseList(open: Token, what: string): Expr[] {
    const items: Expr[] = [];
    if (this.isOp(this.peek(), ')')) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.parseOr());
      const t = this.next();
      if (this.isOp(t, ')')) return items;
      if (!this.isOp(t, ',')) this.unexpected(t, `expected ',' or ')' to close the ${what} opened at position ${this.position(open)}`);
    }
  }

  private column(t: Token): Expr {
    const name = String(t.value);
    if (name === '') this.fail(t.pos, 'empty column name');
    if (Array.from(name).length > 200) this.fail(t.pos, 'column name is longer than 200 characters');
    return { kind: 'column', name, pos: t.pos };
  }

  private position(t: Token): number {
    return charPosition(this.text, t.pos);
  }
}

/**
 * Parses a filter/derive expression. Throws a {@link TransformError} at `path` whose message names the
 * 1-based position of the problem. When `columns` is given, every referenced column must be one of them.
 */
export function parseExpression(text: string, path: string, columns?: readonly string[]): Expr {
  if (typeof text !== 'string' || text.trim() === '') throw new TransformError(path, 'the expression is empty');
  const expr = new Parser(text, path).parse();
  if (columns) checkExpressionColumns(expr, text, path, columns);
  return expr;
}

/**
 * Throws a {@link TransformError} for the first referenced column not in `columns` (exact, case-sensitive
 * match), naming its position and the available columns; `hint` may add advice for a given name.
 */
export function checkExpressionColumns(
  expr: Expr,
  text: string,
  path: string,
  columns: readonly string[],
  hint?: (name: string) => string | undefined,
): void {
  const known = new Set(columns);
  const visit = (e: Expr): void => {
    if (e.kind === 'column' && !known.has(e.name)) {
      const [message, advice] = unknownColumnParts(e.name, columns, hint?.(e.name));
      throw expressionError(path, text, e.pos, message, advice);
    }
    children(e).forEach(visit);
  };
  visit(expr);
}

/** Columns the expression references (unquoted names), each once, in order of appearance. */
export function referencedColumns(expr: Expr): string[] {
  const names = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.kind === 'column') names.add(e.name);
    children(e).forEach(visit);
  };
  visit(expr);
  return [...names];
}

type Literal = Extract<Expr, { kind: 'literal' }>;

/** What a dialect writes its own way; every other node is the same SQL in both. */
interface ExpressionDialect {
  literal(expr: Literal, params: unknown[]): string;
  binary(op: BinaryOp, left: string, right: string): string;
  like(operand: string, pattern: string, negated: boolean): string;
  call(fn: FunctionName, args: string[]): string;
}

const CASTS: Partial<Record<FunctionName, string>> = { number: 'REAL', integer: 'INTEGER', text: 'TEXT' };

const SQLITE: ExpressionDialect = {
  literal(expr, params) {
    if (expr.value === null) return 'NULL';
    if (typeof expr.value === 'boolean') return expr.value ? '1' : '0';
    params.push(expr.value);
    // A whole number is bound as an INTEGER; keep literals written as reals (7.0, 1e3) REAL.
    return expr.real && Number.isInteger(expr.value) ? 'CAST(? AS REAL)' : '?';
  },
  binary(op, left, right) {
    const sqlOp = op === 'or' || op === 'and' ? op.toUpperCase() : op === '!=' ? '<>' : op;
    return `(${left} ${sqlOp} ${right})`;
  },
  like: (operand, pattern, negated) => `(${operand} ${negated ? 'NOT ' : ''}LIKE ${pattern})`,
  call(fn, args) {
    const cast = CASTS[fn];
    if (cast) return `CAST(${args[0]} AS ${cast})`;
    if (fn === 'if') return `(CASE WHEN ${args[0]} THEN ${args[1]} ELSE ${args[2]} END)`;
    // concat treats NULL as an empty string.
    if (fn === 'concat') return `(${args.map((a) => `coalesce(${a}, '')`).join(' || ')})`;
    // SQLite's coalesce needs two arguments.
    if (fn === 'coalesce' && args.length === 1) return `coalesce(${args[0]}, NULL)`;
    return `${fn}(${args.join(', ')})`;
  },
};

const asText = (sql: string) => `CAST(${sql} AS text)`;
const asInt = (sql: string) => `CAST(${sql} AS integer)`;

/**
 * PostgreSQL: parameters are `$n` (strings typed text, reals written as reals double precision),
 * booleans are TRUE/FALSE, and where PostgreSQL differs the SQLite meaning is kept: `||` and the
 * text functions take any value as text, `like` ignores ASCII case, `/` by zero is NULL, integer()
 * truncates, round() rounds as numeric, date()/datetime() answer ISO text.
 */
const POSTGRES: ExpressionDialect = {
  literal(expr, params) {
    if (expr.value === null) return 'NULL';
    if (typeof expr.value === 'boolean') return expr.value ? 'TRUE' : 'FALSE';
    params.push(expr.value);
    const p = `$${params.length}`;
    if (typeof expr.value === 'string') return asText(p);
    return (expr.real && Number.isInteger(expr.value)) || !Number.isInteger(expr.value) ? `CAST(${p} AS double precision)` : `CAST(${p} AS bigint)`;
  },
  binary(op, left, right) {
    if (op === 'or' || op === 'and') return `(${left} ${op.toUpperCase()} ${right})`;
    if (op === '||') return `(${asText(left)} || ${asText(right)})`;
    if (op === '/') return `(${left} / NULLIF(${right}, 0))`;
    return `(${left} ${op === '!=' ? '<>' : op} ${right})`;
  },
  like: (operand, pattern, negated) => `(${asText(operand)} ${negated ? 'NOT ' : ''}ILIKE ${asText(pattern)})`,
  call(fn, args) {
    switch (fn) {
      case 'number':
        return `CAST(${args[0]} AS double precision)`;
      case 'integer':
        return `CAST(trunc(CAST(${args[0]} AS double precision)) AS bigint)`;
      case 'text':
        return asText(args[0]!);
      case 'if':
        return `(CASE WHEN ${args[0]} THEN ${args[1]} ELSE ${args[2]} END)`;
      case 'concat':
        return `concat(${args.join(', ')})`;
      case 'lower':
      case 'upper':
      case 'trim':
      case 'length':
        return `${fn}(${asText(args[0]!)})`;
      case 'substr':
        return `substr(${asText(args[0]!)}, ${args.slice(1).map(asInt).join(', ')})`;
      case 'replace':
        return `replace(${args.map(asText).join(', ')})`;
      case 'round':
        return `round(CAST(${args[0]} AS numeric)${args[1] === undefined ? '' : `, ${asInt(args[1])}`})`;
      case 'date':
        return `to_char(CAST(${args[0]} AS timestamp), 'YYYY-MM-DD')`;
      case 'datetime':
        return `to_char(CAST(${args[0]} AS timestamp), 'YYYY-MM-DD HH24:MI:SS')`;
      default:
        return `${fn}(${args.join(', ')})`;
    }
  },
};

/**
 * Compiles to SQL for `dialect` (SQLite by default): identifiers double-quoted, strings and numbers
 * bound as parameters (appended to `params` in text order: `?` on SQLite, `$n` on PostgreSQL), every
 * operation parenthesized so the grammar's precedence is kept. On PostgreSQL the functions and
 * operators are written so they mean what they mean on SQLite (see {@link POSTGRES}).
 */
export function compileExpression(expr: Expr, params: unknown[], dialect: Dialect = 'sqlite'): string {
  return compileIn(dialect === 'postgresql' ? POSTGRES : SQLITE, expr, params);
}

function compileIn(d: ExpressionDialect, expr: Expr, params: unknown[]): string {
  const c = (e: Expr) => compileIn(d, e, params);
  switch (expr.kind) {
    case 'literal':
      return d.literal(expr, params);
    case 'column':
      return quoteIdent(expr.name);
    case 'not':
      return `(NOT ${c(expr.operand)})`;
    case 'negate':
      return `(- ${c(expr.operand)})`;
    case 'binary': {
      const left = c(expr.left); // operands in text order: parameters are numbered as they come
      return d.binary(expr.op, left, c(expr.right));
    }
    case 'isNull':
      return `(${c(expr.operand)} IS ${expr.negated ? 'NOT ' : ''}NULL)`;
    case 'in': {
      const operand = c(expr.operand);
      return `(${operand} ${expr.negated ? 'NOT ' : ''}IN (${expr.list.map(c).join(', ')}))`;
    }
    case 'between': {
      const operand = c(expr.operand);
      const low = c(expr.low);
      return `(${operand} ${expr.negated ? 'NOT ' : ''}BETWEEN ${low} AND ${c(expr.high)})`;
    }
    case 'like': {
      const operand = c(expr.operand);
      return d.like(operand, c(expr.pattern), expr.negated);
    }
    case 'call':
      return d.call(expr.fn, expr.args.map(c));
  }
}
