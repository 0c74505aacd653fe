import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories, uniqueName, type Ref } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

let t: TestServer;
let f: ReturnType<typeof factories>;
/** A small workspace the bad mutations refer to. */
let w: {
  a: Ref;
  b: Ref;
  typed: Ref;
  join: Ref;
  joinOfJoin: Ref;
  etl: Ref;
  sftp: Ref;
  script: Ref;
  inner: Ref;
  outer: Ref;
};

beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
  const a = await f.storage({ name: 'A' });
  const b = await f.storage({ name: 'B' });
  const typed = await f.storage({ name: 'TYPED', columns: [{ name: 'id', type: 'integer' }, { name: 'email', type: 'text' }] });
  const join = await f.join(a, b, { name: 'A <> B' });
  const joinOfJoin = await f.join(join, typed, { name: 'AB <> TYPED' });
  const etl = await f.etl(a, b, { name: 'etl A to B' });
  const sftp = await f.sftp(a, { name: 'sftp to A' });
  const script = await f.script({ name: 'script one' });
  const inner = await f.chain([etl], { name: 'inner chain' });
  const outer = await f.chain([inner, sftp], { name: 'outer chain' });
  w = { a, b, typed, join, joinOfJoin, etl, sftp, script, inner, outer };
});
afterAll(() => t.close());

const CREATE_DS = `mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }`;
const UPDATE_DS = `mutation($id: ID!, $input: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $input) { id } }`;
const CREATE_ETL = `mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id } }`;
const UPDATE_ETL = `mutation($id: ID!, $input: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $input) { id } }`;
const CREATE_SFTP = `mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`;
const UPDATE_SFTP = `mutation($id: ID!, $input: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $input) { id } }`;
const CREATE_SCRIPT = `mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`;
const UPDATE_SCRIPT = `mutation($id: ID!, $input: UpdateScriptInput!) { updateScript(id: $id, input: $input) { id } }`;
const CREATE_CHAIN = `mutation($input: CreateChainTaskInput!) { createChainTask(input: $input) { id } }`;
const UPDATE_CHAIN = `mutation($id: ID!, $input: UpdateChainTaskInput!) { updateChainTask(id: $id, input: $input) { id } }`;
const SET_SCHEDULE = `mutation($id: ID!, $cron: String!, $tz: String) { setSchedule(automationId: $id, cron: $cron, timezone: $tz) { id } }`;

type Case = [label: string, query: string, variables: () => Record<string, unknown>, code: string, field: string | null, message: RegExp];

const ds = (input: Record<string, unknown>) => () => ({ input: { name: uniqueName('new'), kind: 'STORAGE', ...input } });
const etl = (input: Record<string, unknown>) => () => ({ input: { name: uniqueName('new'), inputId: w.a.id, outputId: w.typed.id, ...input } });
const sftp = (input: Record<string, unknown>) => () => ({
  input: { name: uniqueName('new'), host: 'h.example', username: 'u', password: 'p', outputId: w.b.id, ...input },
});
const script = (input: Record<string, unknown>) => () => ({ input: { name: uniqueName('new'), language: 'JAVASCRIPT', code: '1', ...input } });

/** One cheap code body per quote so the token cap trips after the script and its declarations were written. */
const tooManyLiterals = () => Array.from({ length: 140_000 }, (_, i) => `'${i.toString(36)}'`).join('');

/** `{ "a": { "a": … } }` nested `depth` levels deep. */
const nested = (depth: number): Record<string, unknown> => {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
};

const CASES: Case[] = [
  // names: nothing invisible, no control or direction-changing character
  ['name with a right-to-left override', CREATE_DS, ds({ name: 'invoice\u202Efdp.exe' }), 'BAD_USER_INPUT', 'name', /U\+202E.*position 7/],
  ['name with a C1 control', CREATE_DS, ds({ name: 'orders\u0085b' }), 'BAD_USER_INPUT', 'name', /U\+0085 \(a control character\)/],
  ['name with a zero-width space, looking like an existing one', CREATE_DS, ds({ name: 'A\u200B' }), 'BAD_USER_INPUT', 'name', /U\+200B/],
  ['name with a non-breaking space', CREATE_DS, ds({ name: 'users\u00A0storage' }), 'BAD_USER_INPUT', 'name', /U\+00A0/],
  ['automation name with a zero-width joiner', CREATE_ETL, etl({ name: 'etl A\u200Dto B' }), 'BAD_USER_INPUT', 'name', /U\+200D/],
  ['automation rename with a bidi isolate', UPDATE_SCRIPT, () => ({ id: w.script.id, input: { name: 'script\u2066one' } }), 'BAD_USER_INPUT', 'name', /U\+2066/],
  ['tag with a byte order mark', CREATE_DS, ds({ tags: ['ok', 'fin\uFEFFance'] }), 'BAD_USER_INPUT', 'tags[1]', /U\+FEFF/],
  ['column name with a left-to-right mark', CREATE_DS, ds({ columns: [{ name: 'id\u200E', type: 'int' }] }), 'BAD_USER_INPUT', 'columns[0].name', /U\+200E/],
  // JSON nested deeper than anything legitimate: refused, never a stack overflow
  ['transform nested 33 deep', CREATE_ETL, etl({ transform: nested(33) }), 'BAD_USER_INPUT', 'transform', /nested more than 32 levels/],
  ['transform update nested 33 deep', UPDATE_ETL, () => ({ id: w.etl.id, input: { transform: nested(33) } }), 'BAD_USER_INPUT', 'transform', /nested more than 32/],
  ['script variables nested 40 deep', CREATE_SCRIPT, script({ variables: { kwargs: nested(40) } }), 'BAD_USER_INPUT', 'variables', /nested more than 32/],
  // names
  ['empty name', CREATE_DS, ds({ name: '' }), 'BAD_USER_INPUT', 'name', /must not be empty/],
  ['name over 200 characters', CREATE_DS, ds({ name: 'x'.repeat(201) }), 'BAD_USER_INPUT', 'name', /201 characters.*limit is 200/],
  ['name with surrounding spaces', CREATE_DS, ds({ name: ' A ' }), 'BAD_USER_INPUT', 'name', /whitespace/],
  ['name with a control character', CREATE_DS, ds({ name: 'a\u0007b' }), 'BAD_USER_INPUT', 'name', /control/],
  ['duplicate datasource name', CREATE_DS, ds({ name: 'A' }), 'CONFLICT', 'name', /"A" already exists/],
  ['rename onto a taken name', UPDATE_DS, () => ({ id: w.b.id, input: { name: 'A' } }), 'CONFLICT', 'name', /already exists/],
  ['null name in an update', UPDATE_DS, () => ({ id: w.b.id, input: { name: null } }), 'BAD_USER_INPUT', 'name', /cannot be null/],
  ['duplicate automation name', CREATE_ETL, etl({ name: 'etl A to B' }), 'CONFLICT', 'name', /already exists/],
  ['automation name taken by another kind', CREATE_SCRIPT, script({ name: 'sftp to A' }), 'CONFLICT', 'name', /already exists/],
  // oversized input
  ['description over 10,000 characters', CREATE_DS, ds({ description: 'd'.repeat(10_001) }), 'BAD_USER_INPUT', 'description', /limit is 10000/],
  ['too many tags', CREATE_DS, ds({ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 'BAD_USER_INPUT', 'tags', /at most 50/],
  ['script code over 1 MB', CREATE_SCRIPT, script({ code: 'x'.repeat(1_048_577) }), 'BAD_USER_INPUT', 'code', /1048577 bytes.*1 MB/],
  ['script code with too many literals', CREATE_SCRIPT, script({ code: tooManyLiterals(), outputIds: [] }), 'BAD_USER_INPUT', 'code', /split it/],
  ['transform too large', CREATE_ETL, etl({ transform: { sql: 'x'.repeat(300_000) } }), 'BAD_USER_INPUT', 'transform', /limit is 262144/],
  // datasource kinds
  ['FILE without a path', CREATE_DS, ds({ kind: 'FILE' }), 'BAD_USER_INPUT', 'path', /path is required/],
  ['path on a STORAGE datasource', CREATE_DS, ds({ path: '/x.csv' }), 'BAD_USER_INPUT', 'path', /FILE datasources only/],
  ['JOIN without its spec', CREATE_DS, ds({ kind: 'JOIN' }), 'BAD_USER_INPUT', 'join', /needs join/],
  ['join on a STORAGE datasource', CREATE_DS, () => ds({ join: { leftId: w.a.id, rightId: w.b.id, leftKey: 'id', rightKey: 'id' } })(), 'BAD_USER_INPUT', 'join', /JOIN datasources only/],
  ['duplicate column', CREATE_DS, ds({ columns: [{ name: 'id', type: 'int' }, { name: 'id', type: 'text' }] }), 'BAD_USER_INPUT', 'columns[1].name', /twice/],
  // joins
  ['join source that does not exist', CREATE_DS, () => ds({ kind: 'JOIN', join: { leftId: 'nope', rightId: w.b.id, leftKey: 'id', rightKey: 'id' } })(), 'BAD_USER_INPUT', 'join.leftId', /"nope" does not exist/],
  ['empty join key', CREATE_DS, () => ds({ kind: 'JOIN', join: { leftId: w.a.id, rightId: w.b.id, leftKey: ' ', rightKey: 'id' } })(), 'BAD_USER_INPUT', 'join.leftKey', /required/],
  ['join key missing from declared columns', CREATE_DS, () => ds({ kind: 'JOIN', join: { leftId: w.a.id, rightId: w.typed.id, leftKey: 'id', rightKey: 'user_id' } })(), 'BAD_USER_INPUT', 'join.rightKey', /no column "user_id".*id, email/],
  ['join using itself', UPDATE_DS, () => ({ id: w.join.id, input: { join: { leftId: w.join.id, rightId: w.b.id, leftKey: 'id', rightKey: 'id' } } }), 'BAD_USER_INPUT', 'join.leftId', /itself/],
  ['join cycle through a join of joins', UPDATE_DS, () => ({ id: w.join.id, input: { join: { leftId: w.joinOfJoin.id, rightId: w.b.id, leftKey: 'id', rightKey: 'id' } } }), 'BAD_USER_INPUT', 'join', /depend on itself/],
  ['unknown datasource to update', UPDATE_DS, () => ({ id: 'missing', input: { description: 'x' } }), 'NOT_FOUND', 'id', /does not exist/],
  // ETL steps
  ['ETL input equal to output', CREATE_ETL, () => etl({ outputId: w.a.id })(), 'BAD_USER_INPUT', 'outputId', /different datasource/],
  ['ETL unknown input', CREATE_ETL, etl({ inputId: 'ghost' }), 'BAD_USER_INPUT', 'inputId', /"ghost" does not exist/],
  ['ETL writing to a join', CREATE_ETL, () => etl({ outputId: w.join.id })(), 'BAD_USER_INPUT', 'outputId', /JOIN datasource/],
  ['ETL transform not an object', CREATE_ETL, etl({ transform: [1, 2] }), 'BAD_USER_INPUT', 'transform', /JSON object/],
  ['ETL transform with an unknown op', CREATE_ETL, etl({ transform: { steps: [{ op: 'explode' }] } }), 'BAD_USER_INPUT', 'transform.steps[0].op', /unknown op "explode"/],
  ['ETL filter that does not parse', CREATE_ETL, etl({ transform: { steps: [{ op: 'filter', where: 'id >' }] } }), 'BAD_USER_INPUT', 'transform.steps[0].where', /position 5/],
  ['ETL SQL that is not a SELECT', CREATE_ETL, etl({ transform: { sql: 'DELETE FROM input' } }), 'BAD_USER_INPUT', 'transform.sql', /SELECT or WITH/],
  ['ETL column the input does not have', CREATE_ETL, () => ({ input: { name: uniqueName('new'), inputId: w.typed.id, outputId: w.a.id, transform: { steps: [{ op: 'select', columns: ['mail'] }] } } }), 'BAD_USER_INPUT', 'transform.steps[0].columns[0]', /unknown column "mail"/],
  ['SFTP host key that is not a fingerprint', CREATE_SFTP, sftp({ hostKeyFingerprint: 'ssh-ed25519 AAAA' }), 'BAD_USER_INPUT', 'hostKeyFingerprint', /SHA256:/],
  ['SFTP MOVE without a directory', CREATE_SFTP, sftp({ afterImport: 'MOVE' }), 'BAD_USER_INPUT', 'moveToDir', /needs moveToDir/],
  ['script timeout of 0 s', CREATE_SCRIPT, script({ timeoutSeconds: 0 }), 'BAD_USER_INPUT', 'timeoutSeconds', /from 1 to 86400/],
  ['script memory below 32 MB', CREATE_SCRIPT, script({ memoryMb: 8 }), 'BAD_USER_INPUT', 'memoryMb', /from 32 to 16384/],
  ['UPSERT without key columns', CREATE_ETL, etl({ writeMode: 'UPSERT' }), 'BAD_USER_INPUT', 'writeKeys', /UPSERT needs the key columns/],
  ['a key column listed twice', CREATE_ETL, etl({ writeMode: 'UPSERT', writeKeys: ['id', 'id'] }), 'BAD_USER_INPUT', 'writeKeys', /listed twice/],
  ['an empty key column', CREATE_ETL, etl({ writeMode: 'UPSERT', writeKeys: [''] }), 'BAD_USER_INPUT', 'writeKeys[0]', /.+/],
  ['ETL update making input equal output', UPDATE_ETL, () => ({ id: w.etl.id, input: { outputId: w.a.id } }), 'BAD_USER_INPUT', 'outputId', /different/],
  ['ETL update of another kind', UPDATE_ETL, () => ({ id: w.script.id, input: { description: 'x' } }), 'BAD_USER_INPUT', 'id', /is a SCRIPT, not a ETL_STEP/],
  // SFTP imports
  ['SFTP without any secret', CREATE_SFTP, sftp({ password: null }), 'BAD_USER_INPUT', 'password', /password or a private key/],
  ['SFTP port out of range', CREATE_SFTP, sftp({ port: 70000 }), 'BAD_USER_INPUT', 'port', /between 1 and 65535/],
  ['SFTP host with spaces', CREATE_SFTP, sftp({ host: 'bad host' }), 'BAD_USER_INPUT', 'host', /without spaces/],
  ['SFTP private key that is not a key', CREATE_SFTP, sftp({ password: null, privateKey: 'hunter2' }), 'BAD_USER_INPUT', 'privateKey', /PRIVATE KEY/],
  ['SFTP removing its only secret', UPDATE_SFTP, () => ({ id: w.sftp.id, input: { password: null } }), 'BAD_USER_INPUT', 'password', /password or a private key/],
  // scripts
  ['script unknown input', CREATE_SCRIPT, script({ inputIds: ['ghost'] }), 'BAD_USER_INPUT', 'inputIds[0]', /does not exist/],
  ['script duplicate output', CREATE_SCRIPT, () => script({ outputIds: [w.a.id, w.a.id] })(), 'BAD_USER_INPUT', 'outputIds[1]', /twice/],
  ['script output to a join', CREATE_SCRIPT, () => script({ outputIds: [w.a.id, w.join.id] })(), 'BAD_USER_INPUT', 'outputIds[1]', /JOIN/],
  ['script variables not an object', CREATE_SCRIPT, script({ variables: 'x' }), 'BAD_USER_INPUT', 'variables', /JSON object/],
  ['script args not a list', CREATE_SCRIPT, script({ variables: { args: { a: 1 } } }), 'BAD_USER_INPUT', 'variables.args', /list/],
  ['script kwargs not an object', CREATE_SCRIPT, script({ variables: { kwargs: [1] } }), 'BAD_USER_INPUT', 'variables.kwargs', /JSON object/],
  // chains
  ['chain step that does not exist', CREATE_CHAIN, () => ({ input: { name: uniqueName('c'), stepIds: [w.etl.id, 'ghost'] } }), 'BAD_USER_INPUT', 'stepIds[1]', /does not exist/],
  ['chain with a duplicate step', CREATE_CHAIN, () => ({ input: { name: uniqueName('c'), stepIds: [w.etl.id, w.etl.id] } }), 'BAD_USER_INPUT', 'stepIds[1]', /twice/],
  ['chain triggering itself', UPDATE_CHAIN, () => ({ id: w.inner.id, input: { stepIds: [w.inner.id] } }), 'BAD_USER_INPUT', 'stepIds[0]', /cannot trigger itself/],
  ['chain containing itself through another chain', UPDATE_CHAIN, () => ({ id: w.inner.id, input: { stepIds: [w.etl.id, w.outer.id] } }), 'BAD_USER_INPUT', 'stepIds[1]', /"outer chain" already triggers "inner chain"/],
  // schedules
  ['cron with 4 fields', SET_SCHEDULE, () => ({ id: w.etl.id, cron: '* * * *' }), 'BAD_USER_INPUT', 'cron', /4 field\(s\); expected 5.*or 6/],
  ['cron with 7 fields', SET_SCHEDULE, () => ({ id: w.etl.id, cron: '0 0 0 * * * 2027' }), 'BAD_USER_INPUT', 'cron', /7 field/],
  ['cron minute out of range', SET_SCHEDULE, () => ({ id: w.etl.id, cron: '61 * * * *' }), 'BAD_USER_INPUT', 'cron', /invalid cron expression "61 \* \* \* \*": .+/],
  ['cron with garbage', SET_SCHEDULE, () => ({ id: w.etl.id, cron: 'every day at noon please' }), 'BAD_USER_INPUT', 'cron', /invalid cron/],
  ['unknown time zone', SET_SCHEDULE, () => ({ id: w.etl.id, cron: '0 * * * *', tz: 'Mars/Olympus' }), 'BAD_USER_INPUT', 'timezone', /unknown time zone "Mars\/Olympus"/],
  ['bad cron in a create input', CREATE_ETL, etl({ schedule: { cron: '0 25 * * *' } }), 'BAD_USER_INPUT', 'schedule.cron', /invalid cron/],
  ['bad zone in an update input', UPDATE_SCRIPT, () => ({ id: w.script.id, input: { schedule: { cron: '0 * * * *', timezone: 'Nowhere' } } }), 'BAD_USER_INPUT', 'schedule.timezone', /unknown time zone/],
  ['schedule for an unknown automation', SET_SCHEDULE, () => ({ id: 'ghost', cron: '0 * * * *' }), 'NOT_FOUND', 'id', /does not exist/],
];

describe('validation', () => {
  it.each(CASES)('refuses %s with a clear error and writes nothing', async (_label, query, variables, code, field, message) => {
    const before = await snapshotDatabase(t.server.orm);
    const error = await t.fail(query, variables());
    expect(error.extensions?.code).toBe(code);
    if (field) expect(error.extensions?.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(await snapshotDatabase(t.server.orm)).toEqual(before);
  });

  it('stores names in NFC, so the same name typed with combining accents is one name', async () => {
    const decomposed = `Cafe\u0301 ${uniqueName('menu')}`; // "é" as e + combining acute
    const composed = decomposed.normalize('NFC');
    const { createDatasource } = await t.ok(`mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id name } }`, { input: { name: decomposed, kind: 'STORAGE' } });
    expect(createDatasource.name).toBe(composed);
    expect(createDatasource.name).not.toBe(decomposed);
    const clash = await t.fail(CREATE_DS, { input: { name: composed, kind: 'STORAGE' } });
    expect(clash.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    expect((await t.ok(`query($n: String) { datasource(name: $n) { id } }`, { n: decomposed })).datasource).toEqual({ id: createDatasource.id });
    const { createEtlStep } = await t.ok(`mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { name } }`, { input: { name: `Re\u0301sume\u0301 ${uniqueName('e')}`, inputId: w.a.id, outputId: w.b.id } });
    expect(createEtlStep.name).toBe(createEtlStep.name.normalize('NFC'));
    expect(createEtlStep.name).toMatch(/^Résumé /);
  });

  it('refuses JSON nested 5,000 deep, as a variable or as a literal, with a coded error and no crash', async () => {
    // Built as text: JSON.stringify itself overflows the stack on such a value.
    const deep = `${'{"a":'.repeat(5_000)}{}${'}'.repeat(5_000)}`;
    const post = async (body: string) => {
      const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body });
      return { status: response.status, body: (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } };
    };
    const before = await snapshotDatabase(t.server.orm);
    const name = uniqueName('deep');
    const asVariable = await post(`{"query":${JSON.stringify(CREATE_ETL)},"variables":{"input":{"name":"${name}","inputId":"${w.a.id}","outputId":"${w.typed.id}","transform":${deep}}}}`);
    // Refused before JSON.parse builds it (seconds on the event loop for a 4 MB body of brackets).
    expect(asVariable.status).toBe(400);
    expect(asVariable.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(asVariable.body.errors?.[0]?.message).toMatch(/nests JSON more than 64 levels/);
    const variables = await post(`{"query":${JSON.stringify(CREATE_SCRIPT)},"variables":{"input":{"name":"${name}","language":"PYTHON","code":"1","variables":{"kwargs":${deep}}}}}`);
    expect(variables.body.errors?.[0]?.message).toMatch(/nests JSON more than 64 levels/);
    // Brackets inside strings are text, not nesting: a 150-bracket string is fine.
    const inString = await post(JSON.stringify({ query: '{ datasources(search: $s) { totalCount } }'.replace('{ datasources', 'query($s: String) { datasources'), variables: { s: '['.repeat(150) } }));
    expect(inString.body.errors).toBeUndefined();
    // Under the body's limit, the JSON input's own limit answers at its field.
    const mid = `${'{"a":'.repeat(40)}{}${'}'.repeat(40)}`;
    const midDeep = await post(`{"query":${JSON.stringify(CREATE_ETL)},"variables":{"input":{"name":"${name}","inputId":"${w.a.id}","outputId":"${w.typed.id}","transform":${mid}}}}`);
    expect(midDeep.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'transform' });
    expect(midDeep.body.errors?.[0]?.message).toMatch(/nested more than 32 levels/);
    const literal = `mutation { createEtlStep(input: { name: "${name}", inputId: "${w.a.id}", outputId: "${w.typed.id}", transform: ${'{a: '.repeat(5_000)}{}${'}'.repeat(5_000)} }) { id } }`;
    const asLiteral = await post(JSON.stringify({ query: literal }));
    expect(asLiteral.body.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|QUERY_TOO_COMPLEX)$/);
    expect(asLiteral.body.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(await snapshotDatabase(t.server.orm)).toEqual(before);
    expect((await t.ok(`{ datasources(first: 1) { totalCount } }`)).datasources.totalCount).toBeGreaterThan(0); // still serving
  });

  it('rejects wrong types and missing arguments before any resolver runs', async () => {
    const before = await snapshotDatabase(t.server.orm);
    const error = await t.fail(CREATE_DS, { input: { name: 'x', kind: 'TABLE' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
    expect(error.message).toMatch(/TABLE/);
    expect(await snapshotDatabase(t.server.orm)).toEqual(before);
  });

  it.each([
    ['a nested wrong type', CREATE_DS, { input: { name: 'x', kind: 'JOIN', join: { leftId: 'a', rightId: 'b', leftKey: 1.5, rightKey: 'id' } } }, 'join.leftKey'],
    ['a missing required field', CREATE_DS, { input: { kind: 'STORAGE' } }, 'name'],
    ['a top-level argument', `query($lastRunStatus: RunStatus) { automations(lastRunStatus: $lastRunStatus) { totalCount } }`, { lastRunStatus: 'DONE' }, 'lastRunStatus'],
  ])('names the field of %s that GraphQL itself refuses', async (_what, query, variables, field) => {
    const error = await t.fail(query, variables);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
