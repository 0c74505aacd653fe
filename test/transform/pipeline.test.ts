import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../core/errors.js';
import { compileTransform, parseTransform, quoteIdent, TransformError, type Transform } from '../../jobs/transform/pipeline.js';

type Row = Record<string, unknown>;
const db = new sqlite3.Database(':memory:');
function all(sql: string, params: unknown[] = []): Promise<Row[]> {
  return new Promise((resolve, reject) => db.all<Row>(sql, params, (err, rows) => (err ? reject(err) : resolve(rows))));
}
function exec(sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
}

const COLUMNS = ['id', 'amount', 'country', 'order date', 'a"b'];

beforeAll(async () => {
  await exec(`CREATE TABLE t (id INTEGER, amount REAL, country TEXT, "order date" TEXT, "a""b" TEXT);
    INSERT INTO t VALUES
      (1, 12.5, 'FR', '2024-01-05', 'x'),
      (2, 8, 'DE', '2024-01-06', 'y'),
      (3, NULL, 'FR', '2024-02-01', NULL),
      (4, 20, NULL, NULL, 'x'),
      (5, 15, 'US', '2024-02-10', 'z'),
      (6, 30, 'DE', '2024-03-01', 'y'),
      (7, 5, 'fr', '2024-03-15', 'x'),
      (8, 11, 'FR', '2024-04-01', 'w'),
      (9, NULL, NULL, NULL, NULL),
      (10, 100, 'IT', '2024-05-20', 'it''s');`);
});
afterAll(() => new Promise<void>((resolve) => db.close(() => resolve())));

/** Validates, compiles over table t with its columns known, runs on SQLite; checks the reported columns. */
async function run(json: unknown, input = '"t"'): Promise<Row[]> {
  const compiled = compileTransform(parseTransform(json, COLUMNS), input, COLUMNS);
  expect(compiled.params.length).toBe(compiled.sql.split('?').length - 1);
  const rows = await all(compiled.sql, compiled.params);
  if (rows.length > 0 && compiled.columns) expect(Object.keys(rows[0])).toEqual(compiled.columns);
  return rows;
}
const ids = (rows: Row[]) => rows.map((r) => r.id);
const steps = (...list: unknown[]) => ({ steps: list });

function errorOf(fn: () => unknown): TransformError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TransformError);
    expect(err).toBeInstanceOf(BadUserInputError);
    expect((err as TransformError).code).toBe('BAD_USER_INPUT');
    return err as TransformError;
  }
  throw new Error('expected a TransformError');
}

describe('compiled pipelines on SQLite', () => {
  it('copies every row for {} and an empty pipeline', async () => {
    const everything = await all('SELECT * FROM t');
    expect(await run({})).toEqual(everything);
    expect(await run({ steps: [] })).toEqual(everything);
    expect(compileTransform(parseTransform({}), '"t"')).toEqual({ sql: 'WITH\n  s0 AS (SELECT * FROM "t")\nSELECT * FROM s0', params: [], columns: null });
  });

  it('select keeps the listed columns in order', async () => {
    const rows = await run(steps({ op: 'select', columns: ['country', 'a"b', 'id'] }));
    expect(rows[0]).toEqual({ country: 'FR', 'a"b': 'x', id: 1 });
    expect(rows).toHaveLength(10);
  });

  it('rename renames in place, and later steps use the new name', async () => {
    const rows = await run(steps({ op: 'rename', columns: { amount: 'price', 'a"b': 'tag' } }));
    expect(Object.keys(rows[0])).toEqual(['id', 'price', 'country', 'order date', 'tag']);
    const filtered = await run(steps({ op: 'rename', columns: { amount: 'price' } }, { op: 'filter', where: 'price >= 20' }));
    expect(ids(filtered)).toEqual([4, 6, 10]);
    const swapped = await run(steps({ op: 'rename', columns: { id: 'country', country: 'id' } }));
    expect(swapped[0]).toMatchObject({ country: 1, id: 'FR' });
  });

  it('filter keeps matching rows', async () => {
    expect(ids(await run(steps({ op: 'filter', where: 'amount > 10' })))).toEqual([1, 4, 5, 6, 8, 10]);
    expect(ids(await run(steps({ op: 'filter', where: "country is null or upper(country) = 'FR'" })))).toEqual([1, 3, 4, 7, 8, 9]);
    expect(ids(await run(steps({ op: 'filter', where: "\"order date\" between '2024-02-01' and '2024-03-31' and not \"a\"\"b\" is null" })))).toEqual([5, 6, 7]);
  });

  it('derive adds columns at the end and overwrites in place', async () => {
    const rows = await run(
      steps({ op: 'derive', columns: { label: "concat(country, '-', id)", amount: 'coalesce(amount, 0) * 2', month: 'substr("order date", 1, 7)' } }),
    );
    expect(Object.keys(rows[0])).toEqual(['id', 'amount', 'country', 'order date', 'a"b', 'label', 'month']);
    expect(rows.slice(2, 4)).toEqual([
      { id: 3, amount: 0, country: 'FR', 'order date': '2024-02-01', 'a"b': null, label: 'FR-3', month: '2024-02' },
      { id: 4, amount: 40, country: null, 'order date': null, 'a"b': 'x', label: '-4', month: null },
    ]);
    // Expressions in one step all read the step's input: amount here is the original value.
    const chained = await run(steps({ op: 'derive', columns: { amount: 'amount + 1', before: 'amount' } }), '(SELECT * FROM t WHERE id = 1)');
    expect(chained).toEqual([{ id: 1, amount: 13.5, country: 'FR', 'order date': '2024-01-05', 'a"b': 'x', before: 12.5 }]);
  });

  it('groupBy with each aggregate', async () => {
    const rows = await run(
      steps(
        {
          op: 'groupBy',
          keys: ['country'],
          aggregates: {
            n: { fn: 'count' },
            priced: { fn: 'count', of: 'amount' },
            total: { fn: 'sum', of: 'amount' },
            lowest: { fn: 'min', of: 'amount' },
            highest: { fn: 'max', of: 'amount' },
            mean: { fn: 'avg', of: 'amount' },
          },
        },
        { op: 'sort', by: [{ column: 'country' }] },
      ),
    );
    expect(rows).toEqual([
      { country: null, n: 2, priced: 1, total: 20, lowest: 20, highest: 20, mean: 20 },
      { country: 'DE', n: 2, priced: 2, total: 38, lowest: 8, highest: 30, mean: 19 },
      { country: 'FR', n: 3, priced: 2, total: 23.5, lowest: 11, highest: 12.5, mean: 11.75 },
      { country: 'IT', n: 1, priced: 1, total: 100, lowest: 100, highest: 100, mean: 100 },
      { country: 'US', n: 1, priced: 1, total: 15, lowest: 15, highest: 15, mean: 15 },
      { country: 'fr', n: 1, priced: 1, total: 5, lowest: 5, highest: 5, mean: 5 },
    ]);
  });

  it('groupBy without keys is one group; without aggregates it lists the keys', async () => {
    expect(await run(steps({ op: 'groupBy', keys: [], aggregates: { n: { fn: 'count' }, total: { fn: 'sum', of: 'amount' }, mean: { fn: 'avg', of: 'amount' } } }))).toEqual([
      { n: 10, total: 201.5, mean: 25.1875 },
    ]);
    const rows = await run(steps({ op: 'groupBy', keys: ['a"b'] }, { op: 'sort', by: [{ column: 'a"b', nulls: 'last' }] }));
    expect(rows.map((r) => r['a"b'])).toEqual(["it's", 'w', 'x', 'y', 'z', null]);
  });

  it('distinct over whole rows and over some columns', async () => {
    const whole = await run(steps({ op: 'select', columns: ['country'] }, { op: 'distinct' }, { op: 'sort', by: [{ column: 'country' }] }));
    expect(whole.map((r) => r.country)).toEqual([null, 'DE', 'FR', 'IT', 'US', 'fr']);
    const some = await run(steps({ op: 'distinct', columns: ['a"b'] }, { op: 'sort', by: [{ column: 'a"b', desc: true }] }));
    expect(some).toEqual([{ 'a"b': 'z' }, { 'a"b': 'y' }, { 'a"b': 'x' }, { 'a"b': 'w' }, { 'a"b': "it's" }, { 'a"b': null }]);
  });

  it('sort with NULLs first or last', async () => {
    const by = (amount: object) => steps({ op: 'sort', by: [{ column: 'amount', ...amount }, { column: 'id' }] });
    expect(ids(await run(by({})))).toEqual([3, 9, 7, 2, 8, 1, 5, 4, 6, 10]);
    expect(ids(await run(by({ nulls: 'last' })))).toEqual([7, 2, 8, 1, 5, 4, 6, 10, 3, 9]);
    expect(ids(await run(by({ desc: true })))).toEqual([10, 6, 4, 5, 1, 8, 2, 7, 3, 9]);
    expect(ids(await run(by({ desc: true, nulls: 'first' })))).toEqual([3, 9, 10, 6, 4, 5, 1, 8, 2, 7]);
  });

  it('limit with and without offset', async () => {
    const sorted = { op: 'sort', by: [{ column: 'id', desc: true }] };
    expect(ids(await run(steps(sorted, { op: 'limit', count: 3 })))).toEqual([10, 9, 8]);
    expect(ids(await run(steps(sorted, { op: 'limit', count: 3, offset: 2 })))).toEqual([8, 7, 6]);
    expect(await run(steps({ op: 'limit', count: 0 }))).toEqual([]);
  });

  it('keeps the sort order through later steps', async () => {
    const rows = await run(
      steps(
        { op: 'sort', by: [{ column: 'amount', desc: true, nulls: 'last' }] },
        { op: 'filter', where: 'id > 1' },
        { op: 'rename', columns: { amount: 'price' } },
        { op: 'derive', columns: { double: 'price * 2' } },
        { op: 'select', columns: ['id', 'price'] },
        { op: 'limit', count: 4, offset: 1 },
      ),
    );
    expect(rows).toEqual([
      { id: 6, price: 30 },
      { id: 4, price: 20 },
      { id: 5, price: 15 },
      { id: 8, price: 11 },
    ]);
  });

  it('runs a full pipeline', async () => {
    const example = steps(
      { op: 'select', columns: ['id', 'amount', 'country'] },
      { op: 'rename', columns: { amount: 'price' } },
      { op: 'filter', where: "price > 10 and country in ('FR', 'DE')" },
      { op: 'derive', columns: { total: 'price * 1.2', label: "upper(country) || '-' || id" } },
      { op: 'groupBy', keys: ['country'], aggregates: { n: { fn: 'count' }, revenue: { fn: 'sum', of: 'total' }, avg_price: { fn: 'avg', of: 'price' } } },
      { op: 'distinct' },
      { op: 'sort', by: [{ column: 'revenue', desc: true }, { column: 'country' }] },
      { op: 'limit', count: 100 },
    );
    const rows = await run(example);
    expect(rows.map((r) => [r.country, r.n, r.avg_price])).toEqual([
      ['DE', 1, 30],
      ['FR', 2, 11.75],
    ]);
    expect(rows[0].revenue).toBeCloseTo(36);
    expect(rows[1].revenue).toBeCloseTo(28.2);
    const compiled = compileTransform(parseTransform(example), '"t"', COLUMNS);
    expect(compiled.columns).toEqual(['country', 'n', 'revenue', 'avg_price']);
    expect(compiled.params).toEqual([10, 'FR', 'DE', 1.2, '-', 100]);
    expect(compiled.sql).toContain(`s3 AS (SELECT * FROM s2 WHERE (("price" > ?) AND ("country" IN (?, ?))))`);
  });

  it('compiles without known input columns where it can', async () => {
    const transform = parseTransform(steps({ op: 'filter', where: 'amount > 10' }, { op: 'sort', by: [{ column: 'amount' }] }, { op: 'limit', count: 2 }));
    const compiled = compileTransform(transform, '"t"');
    expect(compiled.columns).toBeNull();
    expect(ids(await all(compiled.sql, compiled.params))).toEqual([8, 1]);
    expect(compileTransform(parseTransform(steps({ op: 'select', columns: ['id'] })), '"t"').columns).toEqual(['id']);
    const rename = errorOf(() => compileTransform(parseTransform(steps({ op: 'rename', columns: { a: 'b' } })), '"t"'));
    expect(rename.details.field).toBe('transform.steps[0]');
    expect(rename.message).toBe('a rename step needs the input columns to be known; pass them to compileTransform');
    // Once a select makes the columns known, derive works.
    const derive = parseTransform(steps({ op: 'select', columns: ['id'] }, { op: 'derive', columns: { twice: 'id * 2' } }, { op: 'limit', count: 1 }));
    expect(await all(compileTransform(derive, '"t"').sql, compileTransform(derive, '"t"').params)).toEqual([{ id: 1, twice: 2 }]);
  });

  it('runs SQL mode, plain and starting with WITH', async () => {
    const plain = compileTransform(parseTransform({ sql: 'SELECT country, count(*) AS n FROM input GROUP BY country ORDER BY n DESC, country;  -- done' }), '"t"');
    expect(plain).toEqual({ sql: 'WITH input AS (SELECT * FROM "t")\nSELECT country, count(*) AS n FROM input GROUP BY country ORDER BY n DESC, country', params: [], columns: null });
    expect((await all(plain.sql)).slice(0, 3)).toEqual([
      { country: 'FR', n: 3 },
      { country: null, n: 2 },
      { country: 'DE', n: 2 },
    ]);
    const withSql = '-- big ones\n/* note; */ with big AS (SELECT * FROM Input WHERE amount > 10), ids AS (SELECT id FROM big) SELECT id FROM ids ORDER BY id;';
    const compiled = compileTransform(parseTransform({ sql: withSql }), '(SELECT * FROM t WHERE id <> 10)');
    expect(compiled.sql).toBe(
      'WITH input AS (SELECT * FROM (SELECT * FROM t WHERE id <> 10)),\nbig AS (SELECT * FROM Input WHERE amount > 10), ids AS (SELECT id FROM big) SELECT id FROM ids ORDER BY id',
    );
    expect(ids(await all(compiled.sql))).toEqual([1, 4, 5, 6, 8]);
    const recursive = compileTransform(
      parseTransform({ sql: 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < (SELECT count(*) FROM input)) SELECT count(*) AS c FROM n' }),
      '"t"',
    );
    expect(recursive.sql.startsWith('WITH RECURSIVE input AS (SELECT * FROM "t"),\nn(x) AS')).toBe(true);
    expect(await all(recursive.sql)).toEqual([{ c: 10 }]);
    const quoted = compileTransform(parseTransform({ sql: "select 'a;b' AS s, \"a\"\"b\" FROM input WHERE id = 10" }), '"t"');
    expect(await all(quoted.sql)).toEqual([{ s: 'a;b', 'a"b': "it's" }]);
  });

  it('compiles hostile strings and column names safely', async () => {
    const rows = await run(
      steps(
        { op: 'filter', where: "\"a\"\"b\" = 'x''); DROP TABLE t; --' or `a\"b` = 'x'" },
        { op: 'derive', columns: { 'x"); DROP TABLE t; --': "'x''); DROP TABLE t; --'" } },
        { op: 'rename', columns: { 'a"b': 'b"); DELETE FROM t; --' } },
        { op: 'select', columns: ['id', 'b"); DELETE FROM t; --', 'x"); DROP TABLE t; --'] },
      ),
    );
    expect(rows).toEqual([1, 4, 7].map((id) => ({ id, 'b"); DELETE FROM t; --': 'x', 'x"); DROP TABLE t; --': "x'); DROP TABLE t; --" })));
    expect(await all('SELECT count(*) AS n FROM t')).toEqual([{ n: 10 }]);
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});

describe('validation errors', () => {
  const many = Array.from({ length: 201 }, () => ({ op: 'limit', count: 1 }));
  const example = [
    { op: 'select', columns: ['id', 'amount', 'country'] },
    { op: 'rename', columns: { amount: 'price' } },
    { op: 'filter', where: 'price > 10' },
    { op: 'derive', columns: { total: 'price * 1.2' } },
  ];
  it.each<[string, unknown, string, string | RegExp]>([
    ['not an object', null, 'transform', 'the transform must be a JSON object: {"steps": [...]} or {"sql": "SELECT ... FROM input"}'],
    ['an array', [], 'transform', /must be a JSON object/],
    ['sql and steps', { sql: 'SELECT * FROM input', steps: [] }, 'transform', 'a transform has either "steps" or "sql", not both'],
    ['an unknown top-level key', { stpes: [] }, 'transform.stpes', 'unknown key "stpes" in the transform; allowed keys are steps, sql'],
    ['steps not an array', { steps: {} }, 'transform.steps', 'must be an array of steps'],
    ['too many steps', { steps: many }, 'transform.steps', 'too many steps (201); at most 200 are allowed'],
    ['a step that is not an object', steps('select'), 'transform.steps[0]', /^each step must be an object/],
    ['a missing op', steps({ columns: ['id'] }), 'transform.steps[0].op', 'missing "op"; it is one of select, rename, filter, derive, groupBy, distinct, sort, limit'],
    ['an unknown op', steps({ op: 'fliter', where: 'id > 1' }), 'transform.steps[0].op', 'unknown op "fliter" (did you mean filter?); it is one of select, rename, filter, derive, groupBy, distinct, sort, limit'],
    ['an extra key', steps({ op: 'select', columns: ['id'], where: 'id > 1' }), 'transform.steps[0].where', 'unknown key "where" in a select step; allowed keys are op, columns'],
    ['select without columns', steps({ op: 'select' }), 'transform.steps[0].columns', 'a select step needs "columns"'],
    ['select with no columns', steps({ op: 'select', columns: [] }), 'transform.steps[0].columns', 'must list at least one column'],
    ['select of a number', steps({ op: 'select', columns: ['id', 3] }), 'transform.steps[0].columns[1]', 'must be a column name (a string)'],
    ['select of a duplicate', steps({ op: 'select', columns: ['id', 'ID'] }), 'transform.steps[0].columns[1]', 'duplicate column "ID" (same as "id": column names are case-insensitive)'],
    ['select of an unknown column', steps({ op: 'select', columns: ['id', 'amont'] }), 'transform.steps[0].columns[1]', /^unknown column "amont" \(did you mean "amount"\?\); available columns: "id", "amount", "country", "order date", "a\\"b"$/],
    ['a long column name', steps({ op: 'select', columns: ['x'.repeat(201)] }), 'transform.steps[0].columns[0]', 'the column name is too long (201 characters; at most 200)'],
    ['a rename clash', steps({ op: 'rename', columns: { amount: 'Country' } }), 'transform.steps[0].columns.amount', 'cannot rename "amount" to "Country": a column named "country" already exists'],
    ['two renames to one name', steps({ op: 'rename', columns: { amount: 'x', 'order date': 'x' } }), 'transform.steps[0].columns["order date"]', 'duplicate new name "x"'],
    ['a rename of an unknown column', steps({ op: 'rename', columns: { price: 'cost' } }), 'transform.steps[0].columns.price', /^unknown column "price"; available columns: /],
    ['an empty rename', steps({ op: 'rename', columns: {} }), 'transform.steps[0].columns', 'must contain at least one entry (old name → new name)'],
    ['a filter syntax error', steps({ op: 'select', columns: ['id'] }, { op: 'filter', where: 'id > (10))' }), 'transform.steps[1].where', `unexpected ')' at position 10 in "id > (10))"; it has no matching '('`],
    ['a filter on a dropped column', steps({ op: 'select', columns: ['id'] }, { op: 'filter', where: 'amount > 1' }), 'transform.steps[1].where', 'unknown column "amount" at position 1 in "amount > 1"; available columns: "id"'],
    ['a filter that is not a string', steps({ op: 'filter', where: 5 }), 'transform.steps[0].where', 'must be an expression (a string), e.g. "price * 1.2"'],
    ['a derive from an unknown column', steps({ op: 'derive', columns: { 'my col': 'lower(county)' } }), 'transform.steps[0].columns["my col"]', /^unknown column "county" \(did you mean "country"\?\) at position 7 in "lower\(county\)"; available columns: /],
    ['a derive using a column of the same step', steps({ op: 'derive', columns: { total: 'amount * 2', twice: 'total * 2' } }), 'transform.steps[0].columns.twice', /^unknown column "total" at position 1 in "total \* 2"; columns derived in the same step cannot be used there; add a second derive step; available columns:/],
    ['a derive clashing by case', steps({ op: 'derive', columns: { ID: 'id + 1' } }), 'transform.steps[0].columns.ID', '"ID" clashes with the existing column "id" (column names are case-insensitive); name it "id" to replace it'],
    ['groupBy without keys or aggregates', steps({ op: 'groupBy' }), 'transform.steps[0].aggregates', 'a groupBy step without keys needs at least one aggregate, e.g. {"n": {"fn": "count"}}'],
    ['groupBy with empty keys and aggregates', steps({ op: 'groupBy', keys: [], aggregates: {} }), 'transform.steps[0].aggregates', /needs at least one aggregate/],
    ['an unknown aggregate function', steps({ op: 'groupBy', keys: ['country'], aggregates: { n: { fn: 'median', of: 'amount' } } }), 'transform.steps[0].aggregates.n.fn', 'unknown aggregate function "median"; it is one of count, sum, min, max, avg'],
    ['sum without of', steps({ op: 'groupBy', keys: ['country'], aggregates: { total: { fn: 'sum' } } }), 'transform.steps[0].aggregates.total.of', 'sum needs "of": the column to aggregate'],
    ['an extra aggregate key', steps({ op: 'groupBy', aggregates: { n: { fn: 'count', distinct: true } } }), 'transform.steps[0].aggregates.n.distinct', 'unknown key "distinct" in an aggregate; allowed keys are fn, of'],
    ['an aggregate named like a key', steps({ op: 'groupBy', keys: ['country'], aggregates: { Country: { fn: 'count' } } }), 'transform.steps[0].aggregates.Country', /^duplicate column "Country"/],
    ['an aggregate of an unknown column', steps(...example, { op: 'groupBy', keys: ['country'], aggregates: { revenue: { fn: 'sum', of: 'amount' } } }), 'transform.steps[4].aggregates.revenue.of', /^unknown column "amount"; available columns: "id", "price", "country", "total"$/],
    ['a groupBy of an unknown key', steps({ op: 'groupBy', keys: ['nation'] }), 'transform.steps[0].keys[0]', /^unknown column "nation"/],
    ['distinct with no columns', steps({ op: 'distinct', columns: [] }), 'transform.steps[0].columns', 'must list at least one column; leave "columns" out to remove duplicate rows over all columns'],
    ['sort without keys', steps({ op: 'sort', by: [] }), 'transform.steps[0].by', 'must be a non-empty array such as [{"column": "price", "desc": true}]'],
    ['sort nulls in the middle', steps({ op: 'sort', by: [{ column: 'id', nulls: 'middle' }] }), 'transform.steps[0].by[0].nulls', 'must be "first" or "last"'],
    ['sort desc as a string', steps({ op: 'sort', by: [{ column: 'id' }, { column: 'amount', desc: 'yes' }] }), 'transform.steps[0].by[1].desc', 'must be true or false'],
    ['sort on a dropped column', steps(...example, { op: 'sort', by: [{ column: 'amount' }] }), 'transform.steps[4].by[0].column', /^unknown column "amount"/],
    ['a negative limit', steps({ op: 'limit', count: -1 }), 'transform.steps[0].count', 'must be a whole number from 0 to 1000000000'],
    ['a fractional limit', steps({ op: 'limit', count: 1.5 }), 'transform.steps[0].count', 'must be a whole number from 0 to 1000000000'],
    ['a huge limit', steps({ op: 'limit', count: 2e9 }), 'transform.steps[0].count', 'must be a whole number from 0 to 1000000000'],
    ['a negative offset', steps({ op: 'limit', count: 1, offset: -5 }), 'transform.steps[0].offset', /^must be a whole number from 0 to /],
    ['sql not starting with SELECT', { sql: '/* hi */ DELETE FROM input' }, 'transform.sql', 'the SQL query must start with SELECT or WITH, not "DELETE"'],
    ['sql with two statements', { sql: 'SELECT 1; DELETE FROM t' }, 'transform.sql', 'the SQL must be a single statement, but another one starts at position 11: "DELETE FROM t"'],
    ['sql with a second statement after input', { sql: 'SELECT * FROM input;\n-- x\nDROP TABLE t;' }, 'transform.sql', /^the SQL must be a single statement, but another one starts at position 27: "DROP TABLE t;"$/],
    ['sql without input', { sql: 'SELECT * FROM t' }, 'transform.sql', "the SQL query must read from input (the step's input datasource), e.g. SELECT * FROM input"],
    ['sql naming input_rows only', { sql: 'SELECT * FROM input_rows' }, 'transform.sql', /must read from input/],
    ['empty sql', { sql: ' -- nothing\n' }, 'transform.sql', 'the SQL query is empty'],
    ['sql that is not a string', { sql: 42 }, 'transform.sql', 'must be a string containing an SQL query'],
    ['sql that is too long', { sql: `SELECT * FROM input WHERE 1 ${' '.repeat(100_000)}` }, 'transform.sql', /^the SQL query is too long \(100028 characters; at most 100000\)$/],
  ])('%s', (_name, json, field, message) => {
    const err = errorOf(() => parseTransform(json, COLUMNS));
    expect(err.details.field).toBe(field);
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });

  it('checks columns only when they are known', () => {
    const transform = steps({ op: 'select', columns: ['nope'] }, { op: 'filter', where: 'nope > 1' });
    expect(parseTransform(transform)).toMatchObject({ kind: 'pipeline', steps: [{ op: 'select', columns: ['nope'] }, { op: 'filter', source: 'nope > 1' }] });
    expect(errorOf(() => compileTransform(parseTransform(transform), '"t"', COLUMNS)).details.field).toBe('transform.steps[0].columns[0]');
  });

  it('reports the example with a distinct that drops the sort column', () => {
    const json = steps(
      ...example,
      { op: 'groupBy', keys: ['country'], aggregates: { n: { fn: 'count' }, revenue: { fn: 'sum', of: 'total' } } },
      { op: 'distinct' },
      { op: 'distinct', columns: ['country'] },
      { op: 'sort', by: [{ column: 'revenue', desc: true }] },
    );
    const err = errorOf(() => parseTransform(json, COLUMNS));
    expect(err.details.field).toBe('transform.steps[7].by[0].column');
    expect(err.message).toBe('unknown column "revenue"; available columns: "country"');
  });

  it('accepts the documented forms', () => {
    const ok: Transform[] = [
      parseTransform({}),
      parseTransform({ steps: [] }),
      parseTransform({ sql: "  select 'a;b' from input;  /* trailing */ " }),
      parseTransform({ sql: 'WITH x AS (SELECT 1) SELECT * FROM x, input' }),
    ];
    expect(ok.map((t) => t.kind)).toEqual(['pipeline', 'pipeline', 'sql', 'sql']);
    expect(parseTransform(steps({ op: 'limit', count: 5 }))).toEqual({ kind: 'pipeline', steps: [{ op: 'limit', count: 5, offset: 0 }] });
    expect(parseTransform(steps({ op: 'sort', by: [{ column: 'id' }] }))).toEqual({ kind: 'pipeline', steps: [{ op: 'sort', by: [{ column: 'id', desc: false, nulls: null }] }] });
    expect(parseTransform({ steps: Array.from({ length: 200 }, () => ({ op: 'distinct' })) }, COLUMNS).kind).toBe('pipeline');
  });
});
