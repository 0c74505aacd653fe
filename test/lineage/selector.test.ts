import { describe, expect, it } from 'vitest';
import { SelectorError, parseSelector, type SelectorAtom, type SelectorExpr, type SelectorTerm } from '../../api/lineage/selector.js';

const name = (value: string, position: number): SelectorAtom => ({ type: 'name', name: value, position });
/** A term; `position` defaults to the atom's (no prefix operator). */
const term = (atom: SelectorAtom, ops: Partial<Omit<SelectorTerm, 'atom'>> = {}): SelectorTerm => ({
  atom,
  position: atom.position,
  at: false,
  ...ops,
});
/** A single-term selection. */
const one = (atom: SelectorAtom, ops: Partial<Omit<SelectorTerm, 'atom'>> = {}): SelectorExpr => [[term(atom, ops)]];

describe(parseSelector.name, () => {
  const cases: [string, SelectorExpr][] = [
    // names and graph operators
    ['orders', one(name('orders', 1))],
    ['+orders', one(name('orders', 2), { position: 1, upstream: null })],
    ['orders+', one(name('orders', 1), { downstream: null })],
    ['2+orders', one(name('orders', 3), { position: 1, upstream: 2 })],
    ['orders+3', one(name('orders', 1), { downstream: 3 })],
    ['@orders', one(name('orders', 2), { position: 1, at: true })],
    ['+orders+', one(name('orders', 2), { position: 1, upstream: null, downstream: null })],
    ['1000+orders+1000', one(name('orders', 6), { position: 1, upstream: 1000, downstream: 1000 })],
    ['123', one(name('123', 1))],
    ['2+3', one(name('3', 3), { position: 1, upstream: 2 })],
    ['a+b', one(name('a+b', 1))],
    ['a+b+2', one(name('a+b', 1), { downstream: 2 })],
    ['a++', one(name('a+', 1), { downstream: null })],
    ['a@b', one(name('a@b', 1))],
    ['café', one(name('café', 1))],
    // quoted names
    ['"ORDERS <> CUSTOMERS"', one(name('ORDERS <> CUSTOMERS', 1))],
    ["'users.csv'", one(name('users.csv', 1))],
    ['+"ORDERS <> CUSTOMERS"+2', one(name('ORDERS <> CUSTOMERS', 2), { position: 1, upstream: null, downstream: 2 })],
    ["@'users.csv'", one(name('users.csv', 2), { position: 1, at: true })],
    ['"say \\"hi\\" \\\\ ok"', one(name('say "hi" \\ ok', 1))],
    ["'it\\'s'", one(name("it's", 1))],
    [`"it's"`, one(name("it's", 1))],
    ["'C:\\data'", one(name('C:\\data', 1))],
    ['"kind:SCRIPT"', one(name('kind:SCRIPT', 1))],
    ['"a,b c"+', one(name('a,b c', 1), { downstream: null })],
    // union and intersection
    ['a b', [[term(name('a', 1))], [term(name('b', 3))]]],
    ['a,b', [[term(name('a', 1)), term(name('b', 3))]]],
    ['a , b', [[term(name('a', 1)), term(name('b', 5))]]],
    ['a ,b', [[term(name('a', 1)), term(name('b', 4))]]],
    ['  a\t\n b  ', [[term(name('a', 3))], [term(name('b', 7))]]],
    ['a,"b c" d', [[term(name('a', 1)), term(name('b c', 3))], [term(name('d', 9))]]],
    [
      '+a,kind:etl_step b+',
      [
        [term(name('a', 2), { position: 1, upstream: null }), term({ type: 'kind', value: 'ETL_STEP', position: 4 })],
        [term(name('b', 18), { downstream: null })],
      ],
    ],
    // attributes
    ['tag:finance', one({ type: 'tag', value: 'finance', position: 1 })],
    ['tag:"needs review"', one({ type: 'tag', value: 'needs review', position: 1 })],
    ['tag:Finance+2', one({ type: 'tag', value: 'Finance', position: 1 }, { downstream: 2 })],
    ['+tag:"needs review"+1', one({ type: 'tag', value: 'needs review', position: 2 }, { position: 1, upstream: null, downstream: 1 })],
    ['tag:a:b', one({ type: 'tag', value: 'a:b', position: 1 })],
    ['status:failed', one({ type: 'status', value: 'FAILED', position: 1 })],
    ['status:never', one({ type: 'status', value: 'NEVER', position: 1 })],
    ["status:'Success'", one({ type: 'status', value: 'SUCCESS', position: 1 })],
    ['scheduled:true', one({ type: 'scheduled', value: true, position: 1 })],
    ['Scheduled:FALSE', one({ type: 'scheduled', value: false, position: 1 })],
    ['kind:join', one({ type: 'kind', value: 'JOIN_DATASOURCE', position: 1 })],
    ['KIND:Sftp_Import', one({ type: 'kind', value: 'SFTP_IMPORT', position: 1 })],
    ['@kind:CHAIN_TASK', one({ type: 'kind', value: 'CHAIN_TASK', position: 2 }, { position: 1, at: true })],
    // names that look like attributes
    ['db:orders', one(name('db:orders', 1))],
    [':orders', one(name(':orders', 1))],
    ['name:orders', one(name('orders', 1))],
    ['name:"a b"', one(name('a b', 1))],
    ['Name:kind:x', one(name('kind:x', 1))],
    ['2+name:orders+', one(name('orders', 3), { position: 1, upstream: 2, downstream: null })],
  ];

  it.each(cases)('parses %j', (text, expected) => {
    expect(parseSelector(text)).toStrictEqual(expected);
  });

  it('accepts exactly 10,000 characters', () => {
    expect(parseSelector('x'.repeat(10_000))).toStrictEqual(one(name('x'.repeat(10_000), 1)));
  });
});

describe(SelectorError.name, () => {
  const errors: [string, number, RegExp][] = [
    // empty or too long
    ['', 1, /^empty selection/],
    ['   ', 1, /^empty selection/],
    ['\n\t', 1, /^empty selection/],
    ['x'.repeat(10_001), 10_001, /^selection is too long \(10001 characters, at most 10000 are allowed\)/],
    // quotes
    ['orders "x', 8, /^unterminated quote; add the closing "/],
    ["'abc", 1, /^unterminated quote; add the closing '/],
    ['"abc\\"', 1, /^unterminated quote/],
    ['""', 1, /^empty name ""/],
    ['"a"b', 4, /^unexpected 'b' after the closing quote; put a space or a comma between selectors/],
    ['"a""b"', 4, /^unexpected '"' after the closing quote/],
    ['"a"+b', 5, /^unexpected 'b' after the closing quote/],
    ['a"b"', 2, /^unexpected quote inside a name; quote the whole name/],
    ['db:"x"', 4, /^unexpected quote inside a name/],
    ['tag:x"y"', 6, /^unexpected quote inside a name/],
    // empty parts
    ['a,,b', 3, /^missing selector between two commas/],
    ['a, ,b', 4, /^missing selector between two commas/],
    ['a,', 2, /^nothing follows the trailing ','/],
    ['a , ', 3, /^nothing follows the trailing ','/],
    [',a', 1, /^missing selector before ','/],
    ['+', 1, /^'\+' must be followed by a name or an attribute without a space, e\.g\. \+orders/],
    ['2+', 1, /^'2\+' must be followed by a name or an attribute .* e\.g\. 2\+orders/],
    ['@', 1, /^'@' must be followed by a name or an attribute .* e\.g\. @orders/],
    ['a +', 3, /^'\+' must be followed/],
    ['+ a', 1, /^'\+' must be followed/],
    ['+,a', 1, /^'\+' must be followed/],
    ['@ a', 1, /^'@' must be followed/],
    ['++', 1, /^'\+' must be followed/],
    // attribute values
    ['kind:TABLE', 6, /^unknown kind "TABLE"; use one of DATASOURCE, JOIN_DATASOURCE, ETL_STEP, SFTP_IMPORT, SCRIPT, CHAIN_TASK, DATABASE_TABLE, EXTERNAL_JOB, EXTERNAL_DATASOURCE \(or JOIN/],
    ['a,kind:"x y"', 8, /^unknown kind "x y"/],
    ['status:done', 8, /^unknown status "done"; use one of QUEUED, RUNNING, SUCCESS, FAILED, CANCELLED, or NEVER/],
    ['scheduled:yes', 11, /^scheduled must be true or false, not "yes"/],
    ['kind:', 6, /^'kind:' needs a value, e\.g\. kind:ETL_STEP/],
    ['Tag:""', 5, /^'Tag:' needs a value, e\.g\. tag:finance/],
    ['name:', 6, /^'name:' needs a value/],
    ['status:+', 8, /^'status:' needs a value/],
    // '@' with other operators
    ['@2+x', 2, /^'@' cannot be combined with '\+'/],
    ['@+x', 2, /^'@' cannot be combined with '\+'/],
    ['+@x', 2, /^'@' cannot be combined with '\+'/],
    ['@x+', 3, /^'@' cannot be combined with '\+' \(@orders already includes everything downstream/],
    ['@x+0', 3, /^'@' cannot be combined with '\+'/],
    ['@"x"+2', 5, /^'@' cannot be combined with '\+'/],
    ['@@x', 2, /^'@' is repeated/],
    // depths
    ['0+x', 1, /^depth "0" is out of range; use 1 to 1000 hops, or no number for unlimited/],
    ['1001+x', 1, /^depth "1001" is out of range/],
    ['x+0', 3, /^depth "0" is out of range/],
    ['a b+99999999999999999999', 5, /^depth "99999999999999999999" is out of range/],
    ['"a"+0', 5, /^depth "0" is out of range/],
  ];

  it.each(errors)('rejects %j at position %i', (text, position, message) => {
    let error: unknown;
    try {
      parseSelector(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SelectorError);
    const selectorError = error as SelectorError;
    expect(selectorError.position).toBe(position);
    expect([selectorError.code, selectorError.details.field]).toEqual(['BAD_USER_INPUT', 'filter.select']);
    expect(selectorError.message).toMatch(message);
    expect(selectorError.message).toMatch(new RegExp(` at position ${position}$`));
  });
});
