import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../core/errors.js';
import { compileExpression, parseExpression, referencedColumns, TransformError } from '../../jobs/transform/expression.js';

const db = new sqlite3.Database(':memory:');
function all(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => db.all<Record<string, unknown>>(sql, params, (err, rows) => (err ? reject(err) : resolve(rows))));
}
function exec(sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
}

const COLUMNS = ['id', 'name', 'amount', 'order id', 'a"b', 'c'];

beforeAll(async () => {
  await exec(`CREATE TABLE t (id INTEGER, name TEXT, amount REAL, "order id" TEXT, "a""b" TEXT, c TEXT);
    INSERT INTO t VALUES (1, 'Ann', 12.5, 'A-1', 'x', NULL), (2, 'bob', NULL, 'B-2', 'y', 'c2'), (3, NULL, 3, NULL, NULL, 'c3');`);
});
afterAll(() => new Promise<void>((resolve) => db.close(() => resolve())));

/** Compiled SQL text (fully parenthesized) and its bound parameters. */
function compile(text: string, columns?: string[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const sql = compileExpression(parseExpression(text, 'where', columns), params);
  return { sql, params };
}

/** Evaluates a constant expression on SQLite. */
async function value(text: string): Promise<unknown> {
  const { sql, params } = compile(text);
  const rows = await all(`SELECT ${sql} AS v`, params);
  return rows[0].v;
}

/** Evaluates an expression over every row of t (ordered by id). */
async function column(text: string): Promise<unknown[]> {
  const { sql, params } = compile(text, COLUMNS);
  const rows = await all(`SELECT ${sql} AS v FROM t ORDER BY id`, params);
  return rows.map((r) => r.v);
}

function errorOf(fn: () => unknown): TransformError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TransformError);
    expect(err).toBeInstanceOf(BadUserInputError);
    return err as TransformError;
  }
  throw new Error('expected a TransformError');
}

describe('parser precedence', () => {
  it.each([
    ['a or b and c', '("a" OR ("b" AND "c"))'],
    ['a and b or c', '(("a" AND "b") OR "c")'],
    ['not a = b', '(NOT ("a" = "b"))'],
    ['not a and b', '((NOT "a") AND "b")'],
    ['not not a', '(NOT (NOT "a"))'],
    ['-x * y', '((- "x") * "y")'],
    ['- (x + y)', '(- ("x" + "y"))'],
    ['a || b + c', '("a" || ("b" + "c"))'],
    ['a + b || c', '(("a" + "b") || "c")'],
    ['a * b + c', '(("a" * "b") + "c")'],
    ['a + b * c', '("a" + ("b" * "c"))'],
    ['a - b - c', '(("a" - "b") - "c")'],
    ['a / b % c', '(("a" / "b") % "c")'],
    ['(a or b) and c', '(("a" OR "b") AND "c")'],
    ['a = b or c <> d', '(("a" = "b") OR ("c" <> "d"))'],
    ['a + 1 > b * 2', '(("a" + ?) > ("b" * ?))'],
    ['x between 1 and 5 and y', '(("x" BETWEEN ? AND ?) AND "y")'],
    ['x not between a + 1 and b', '("x" NOT BETWEEN ("a" + ?) AND "b")'],
    ['a is null or b is not null', '(("a" IS NULL) OR ("b" IS NOT NULL))'],
    ['x in (1, y) and z not in (2)', '(("x" IN (?, "y")) AND ("z" NOT IN (?)))'],
    ["n like 'a%' or n not like 'b%'", '(("n" LIKE ?) OR ("n" NOT LIKE ?))'],
    ['a || b like c', '(("a" || "b") LIKE "c")'],
    ['AND_x Or NOT y', '("AND_x" OR (NOT "y"))'],
  ])('%s', (text, sql) => {
    expect(compile(text).sql).toBe(sql);
  });

  it('normalizes comparison spellings and keywords case-insensitively', () => {
    expect(compile('a == b').sql).toBe('("a" = "b")');
    expect(compile('a != b').sql).toBe('("a" <> "b")');
    expect(compile('a <= b AND c >= d').sql).toBe('(("a" <= "b") AND ("c" >= "d"))');
    expect(compile('x IS NOT NULL').sql).toBe('("x" IS NOT NULL)');
    expect(compile('x Not In (1) oR y BETWEEN 1 AnD 2').sql).toBe('(("x" NOT IN (?)) OR ("y" BETWEEN ? AND ?))');
    expect(compile('TRUE and False or NULL').sql).toBe('((1 AND 0) OR NULL)');
  });

  it('parses quoted identifiers and string escapes', () => {
    expect(compile('"order id" = \'A-1\'')).toEqual({ sql: '("order id" = ?)', params: ['A-1'] });
    expect(compile('"a""b" || `back``tick`').sql).toBe('("a""b" || "back`tick")');
    expect(compile("'it''s'").params).toEqual(["it's"]);
    expect(compile("''").params).toEqual(['']);
    expect(compile('"and"').sql).toBe('"and"');
  });

  it('parses number literals and folds negative numbers', () => {
    expect(compile('12 + 3.5 + 1e3 + .5 + 2E-1').params).toEqual([12, 3.5, 1000, 0.5, 0.2]);
    expect(compile('-5').params).toEqual([-5]);
    expect(compile('- -5').params).toEqual([5]);
    // Literals written as reals stay REAL even when their value is whole (7.0 / 2 is 3.5, not 3).
    expect(compile('7.0 + 1e2 + 1.5').sql).toBe('((CAST(? AS REAL) + CAST(? AS REAL)) + ?)');
  });

  it('returns positions in the AST and lists referenced columns', () => {
    const expr = parseExpression('a + "b c" > a', 'where');
    expect(expr).toMatchObject({ kind: 'binary', op: '>', pos: 10, left: { kind: 'binary', op: '+', left: { kind: 'column', name: 'a', pos: 0 } } });
    expect(referencedColumns(expr)).toEqual(['a', 'b c']);
    expect(referencedColumns(parseExpression("upper(x) in (y, 'z') and if(w, 1, v)", 'where'))).toEqual(['x', 'y', 'w', 'v']);
    expect(referencedColumns(parseExpression('1 + 2', 'where'))).toEqual([]);
  });
});

describe('evaluation on SQLite', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 2 - 3', 5],
    ['7 % 3', 1],
    ['7.0 / 2', 3.5],
    ['-2 * 3', -6],
    ['-(2 + 3)', -5],
    ["'a' || 'b' || 1", 'ab1'],
    ["'x' || 1 + 2", 'x3'],
    ['1 = 1', 1],
    ['1 == 2', 0],
    ['1 != 2', 1],
    ['1 <> 1', 0],
    ['1 < 2', 1],
    ['2 <= 2', 1],
    ['1 > 2', 0],
    ['3 >= 2', 1],
    ['null is null', 1],
    ['1 is not null', 1],
    ['NULL IS NOT NULL', 0],
    ['2 in (1, 2)', 1],
    ['2 not in (1, 2)', 0],
    ['3 between 1 and 5', 1],
    ['3 not between 1 and 2', 1],
    ["'Apple' like 'a%'", 1],
    ["'banana' not like 'a%'", 1],
    ['true and false', 0],
    ['true or false', 1],
    ['not true', 0],
    ['TRUE AND NOT False', 1],
    ['false or true and false', 0],
    ["lower('AbC')", 'abc'],
    ["upper('AbC')", 'ABC'],
    ["trim('  x  ')", 'x'],
    ["length('héllo')", 5],
    ["substr('hello', 2)", 'ello'],
    ["substr('hello', 2, 3)", 'ell'],
    ["replace('a-b-c', '-', '+')", 'a+b+c'],
    ['round(2.567)', 3],
    ['round(2.567, 2)', 2.57],
    ['abs(-3)', 3],
    ['coalesce(null, 2, 3)', 2],
    ['coalesce(5)', 5],
    ['coalesce(null)', null],
    ['nullif(1, 1)', null],
    ['nullif(1, 2)', 1],
    ["concat('a', null, 1)", 'a1'],
    ['concat(null)', ''],
    ["number('3.5') + 1", 4.5],
    ["integer('42')", 42],
    ['integer(3.9)', 3],
    ['text(12) || \'x\'', '12x'],
    ["date('2024-03-01 10:20:30')", '2024-03-01'],
    ["datetime('2024-03-01')", '2024-03-01 00:00:00'],
    ["if(1 > 2, 'yes', 'no')", 'no'],
    ["IF(2 > 1, UPPER('yes'), 'no')", 'YES'],
    ["Lower(Concat('A', 'B'))", 'ab'],
    ["'it''s'", "it's"],
    ['1e3', 1000],
    ['7 / 2', 3],
    ['-7.0 / 2', -3.5],
    ['2e0 / 4', 0.5],
  ])('%s = %j', async (text, expected) => {
    expect(await value(text)).toBe(expected);
  });

  it('reads columns, including quoted names with spaces and quotes', async () => {
    expect(await column('"order id"')).toEqual(['A-1', 'B-2', null]);
    expect(await column('`a"b`')).toEqual(['x', 'y', null]);
    expect(await column('"a""b" = \'y\'')).toEqual([0, 1, null]);
    expect(await column("concat(name, '/', \"order id\")")).toEqual(['Ann/A-1', 'bob/B-2', '/']);
    expect(await column('coalesce(amount, 0) * 2')).toEqual([25, 0, 6]);
    expect(await column("if(amount is null, 'none', text(amount))")).toEqual(['12.5', 'none', '3.0']);
    expect(await column("upper(name) like 'B%' or id = 3")).toEqual([0, 1, 1]);
  });

  it('binds hostile string literals instead of splicing them into SQL', async () => {
    const { sql, params } = compile("c = 'x''); DROP TABLE t; --'");
    expect(sql).toBe('("c" = ?)');
    expect(params).toEqual(["x'); DROP TABLE t; --"]);
    expect(await column("c = 'x''); DROP TABLE t; --' or \"a\"\"b\" = 'x'")).toEqual([1, 0, null]);
    expect(await all('SELECT count(*) AS n FROM t')).toEqual([{ n: 3 }]);
  });
});

describe('errors', () => {
  it.each([
    ['price > (10))', `unexpected ')' at position 13 in "price > (10))"; it has no matching '('`],
    ["name = 'abc", `unterminated string at position 8 in "name = 'abc"; add the closing ' (write '' for a ' inside)`],
    ['"order id = 1', `unterminated quoted column name at position 1 in ""order id = 1"; add the closing " (write "" for a " inside)`],
    ['price > 10 20', 'unexpected number 20 at position 12 in "price > 10 20"; expected an operator or the end of the expression'],
    ['price > ', "unexpected end of expression at position 8 in \"price > \"; expected a value (a number, a 'string', a column name or a function call)"],
    ['a and and b', "unexpected 'and' at position 7 in \"a and and b\"; expected a value (a number, a 'string', a column name or a function call)"],
    ['(a + b', `unexpected end of expression at position 7 in "(a + b"; expected ')' to close the '(' at position 1`],
    ['lowr(name)', 'unknown function "lowr" at position 1 in "lowr(name)"; did you mean lower? functions are abs, coalesce, concat, date, datetime, if, integer, length, lower, nullif, number, replace, round, substr, text, trim, upper'],
    ['x + sqrt(x)', 'unknown function "sqrt" at position 5 in "x + sqrt(x)"; functions are abs, coalesce, concat, date, datetime, if, integer, length, lower, nullif, number, replace, round, substr, text, trim, upper'],
    ['substr(name)', 'substr() takes 2 or 3 arguments but got 1 at position 1 in "substr(name)"'],
    ['a = upper(name, 1)', 'upper() takes 1 argument but got 2 at position 5 in "a = upper(name, 1)"'],
    ['if(a, b)', 'if() takes 3 arguments but got 2 at position 1 in "if(a, b)"'],
    ['coalesce()', 'coalesce() takes at least 1 argument but got 0 at position 1 in "coalesce()"'],
    ['upper(a b)', "unexpected name b at position 9 in \"upper(a b)\"; expected ',' or ')' to close the call to upper() opened at position 6"],
    ['email != null', "a comparison with null is never true at position 7 in \"email != null\"; use 'is not null'"],
    ['null = a', "a comparison with null is never true at position 6 in \"null = a\"; use 'is null'"],
    ['a < b < c', "comparisons cannot be chained at position 7 in \"a < b < c\"; combine them with 'and'"],
    ['a is 1', "unexpected number 1 at position 6 in \"a is 1\"; expected 'null' (only 'is null' and 'is not null' are supported)"],
    ['a in 1', "unexpected number 1 at position 6 in \"a in 1\"; expected '(' starting the list after 'in', as in: country in ('FR', 'DE')"],
    ['a in ()', "the 'in' list is empty at position 6 in \"a in ()\""],
    ['a between 1 or 2', "unexpected 'or' at position 13 in \"a between 1 or 2\"; expected 'and' as in: x between 1 and 10"],
    ['a @ b', 'unexpected character "@" at position 3 in "a @ b"'],
    ['a; drop table t', 'unexpected character ";" at position 2 in "a; drop table t"'],
    ['1.2.3', 'invalid number "1.2.3" at position 1 in "1.2.3"'],
    ['12abc', 'invalid number "12abc" at position 1 in "12abc"'],
    ['1e999', 'number 1e999 is too large at position 1 in "1e999"'],
    ['"" = 1', 'empty column name at position 1 in """ = 1"'],
    ['é = ?', 'unexpected character "é" at position 1 in "é = ?"'],
    ["'é' = 'x' @", 'unexpected character "@" at position 11 in "\'é\' = \'x\' @"'],
  ])('%s', (text, message) => {
    const err = errorOf(() => parseExpression(text, 'transform.steps[2].where'));
    expect(err.message).toBe(message);
    expect([err.code, err.details]).toEqual(['BAD_USER_INPUT', { field: 'transform.steps[2].where' }]);
  });

  it('refuses an empty expression', () => {
    for (const text of ['', '   ', '\n']) {
      const err = errorOf(() => parseExpression(text, 'transform.steps[0].where'));
      expect(err.message).toBe('the expression is empty');
      expect(err.details.field).toBe('transform.steps[0].where');
    }
  });

  it('names an unknown column, its position and the available columns', () => {
    const err = errorOf(() => parseExpression('amount > 1 and nme = 2', 'transform.steps[0].where', COLUMNS));
    expect(err.message).toBe(
      'unknown column "nme" (did you mean "name"?) at position 16 in "amount > 1 and nme = 2"; available columns: "id", "name", "amount", "order id", "a\\"b", "c"',
    );
    const many = Array.from({ length: 25 }, (_, i) => `col${i}`);
    const err2 = errorOf(() => parseExpression('"zzz zzz"', 'w', many));
    expect(err2.message).toBe(`unknown column "zzz zzz" at position 1 in ""zzz zzz""; available columns: ${many.slice(0, 20).map((c) => `"${c}"`).join(', ')} and 5 more`);
    // Column names are case-sensitive: only syntax and exact names count.
    expect(errorOf(() => parseExpression('Amount', 'w', COLUMNS)).message).toContain('unknown column "Amount" (did you mean "amount"?)');
    expect(() => parseExpression('unknown_col > 1', 'w')).not.toThrow();
  });

  it('refuses expressions nested too deeply', () => {
    expect(errorOf(() => parseExpression(`${'('.repeat(150)}1${')'.repeat(150)}`, 'w')).message).toMatch(/^expression is nested too deeply \(more than 100 levels\) at position 101 /);
    expect(errorOf(() => parseExpression(Array(150).fill('x').join(' + '), 'w')).message).toMatch(/^expression is too complex \(more than 100 levels deep\) at position 399 in "….{121}…"$/);
    expect(errorOf(() => parseExpression('-'.repeat(150) + 'x', 'w')).message).toMatch(/^expression is nested too deeply/);
    expect(() => parseExpression(Array(90).fill('x').join(' + '), 'w')).not.toThrow();
  });

  it('shows a window of long expressions', () => {
    const text = `${'a + '.repeat(40)}) + ${'b + '.repeat(40)}c`;
    const err = errorOf(() => parseExpression(text, 'w'));
    expect(err.message).toMatch(/^unexpected '\)' at position 161 in "….{60}\).{60}…"; expected a value/);
  });
});
