/**
 * Parameter sets (the SDK flows seed, seeds/001: "${parameter_set_name__parameter_name}", string
 * parameters only): named sets, attached to automations, filled in at run and preview time in each
 * place that takes them, the values used written to the log, and an unknown reference refused
 * when saving. A value is never a way out: filled-in paths and SQL are confined as typed ones are.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories, uniqueName, type Factories, type Ref } from '../factories/index.js';
import { startTestServer, type GraphQLErrorShape, type TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { setApproval } from '../versions/helpers.js';
import { TEST_BACKEND } from '../helpers/postgres.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
});
afterAll(() => t.close());

/** A fingerprint in the form ssh-keygen prints (no server has it). */
const PINNED = `SHA256:${'A'.repeat(43)}`;
const SET_FIELDS = 'id name description parameters { name value } usedBy { id name reason }';
const CREATE = `mutation($input: CreateParameterSetInput!) { createParameterSet(input: $input) { ${SET_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateParameterSetInput!) { updateParameterSet(id: $id, input: $input) { ${SET_FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteParameterSet(id: $id) }`;

async function createSet(parameters: Record<string, string>, name = uniqueName('set').replace(/-/g, '_')): Promise<Ref & { parameters: { name: string; value: string }[] }> {
  const input = { name, parameters: Object.entries(parameters).map(([n, value]) => ({ name: n, value })) };
  return (await t.ok(CREATE, { input })).createParameterSet;
}

/** The GraphQL error a factory call (which must fail) met. */
async function refusal(call: Promise<unknown>): Promise<GraphQLErrorShape> {
  const error = await call.then(
    () => null,
    (e: Error) => e,
  );
  if (!error) throw new Error('expected a refusal');
  return JSON.parse(error.message.replace(/^unexpected GraphQL errors: /, ''))[0];
}

const rowsOf = async (id: string) => (await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 100) { nodes } }`, { id })).rows.nodes as Record<string, unknown>[];
const setCount = async () => (await t.ok(`{ parameterSets { id } }`)).parameterSets.length as number;

describe('parameter sets', () => {
  it('are created, listed, changed and deleted; names and values are checked', async () => {
    const set = await createSet({ country: 'NL', limit: '10' }, 'sales_eu');
    expect(set).toMatchObject({ name: 'sales_eu', parameters: [{ name: 'country', value: 'NL' }, { name: 'limit', value: '10' }], usedBy: [] });
    expect((await t.ok(`{ parameterSets { name } }`)).parameterSets.map((s: Ref) => s.name)).toContain('sales_eu');
    const changed = (await t.ok(UPDATE, { id: set.id, input: { description: 'EU sales', parameters: [{ name: 'country', value: 'BE' }] } })).updateParameterSet;
    expect(changed).toMatchObject({ description: 'EU sales', parameters: [{ name: 'country', value: 'BE' }] });

    const before = await setCount();
    for (const [input, field] of [
      [{ name: 'sales_eu' }, 'name'],
      [{ name: 'two__parts' }, 'name'],
      [{ name: '1st' }, 'name'],
      [{ name: 'ok_name', parameters: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] }, 'parameters[1].name'],
      [{ name: 'ok_name', parameters: [{ name: 'bad name', value: '1' }] }, 'parameters[0].name'],
      [{ name: 'ok_name', parameters: [{ name: 'big', value: 'x'.repeat(5_000) }] }, 'parameters[0].value'],
    ] as const) {
      const error = await t.fail(CREATE, { input });
      expect(error.extensions).toMatchObject({ field });
    }
    expect(await setCount()).toBe(before);
    expect(await t.ok(DELETE, { id: set.id })).toEqual({ deleteParameterSet: set.id });
    expect(await setCount()).toBe(before - 1);
  });

  it('fill an ETL step\'s SQL and pipeline literals at run and preview time, and log the values used', async () => {
    const set = await createSet({ country: 'NL', minimum: '5' });
    writeFileSync(join(t.filesDir, 'sales.csv'), 'country,amount\nNL,7\nNL,3\nDE,9\n');
    const input = await f.file({ path: 'sales.csv' });
    const output = await f.storage();
    const sql = await f.etl(input, output, { parameterSetIds: [set.id], transform: { sql: `select country, amount from input where country = '\${${set.name}__country}' and amount >= \${${set.name}__minimum}` } });
    const run = await finished(t, (await runNow(t, sql.id)).id);
    expect(run.status).toBe('SUCCESS');
    expect(await rowsOf(output.id)).toEqual([{ country: 'NL', amount: 7 }]);
    expect(run.log.join('\n')).toContain(`\${${set.name}__country} = "NL"`);

    // Resolved when it runs, not when it was saved: a new value is used by the next run and preview.
    await t.ok(UPDATE, { id: set.id, input: { parameters: [{ name: 'country', value: 'DE' }, { name: 'minimum', value: '1' }] } });
    const preview = (await t.ok(`query($id: ID!) { previewAutomation(id: $id) { log outputs { rows } } }`, { id: sql.id })).previewAutomation;
    expect(preview.outputs[0].rows).toEqual([{ country: 'DE', amount: 9 }]);
    expect(preview.log.join('\n')).toContain(`\${${set.name}__country} = "DE"`);

    // A pipeline transform's string literals take them too.
    const pipeline = await f.etl(input, await f.storage(), {
      parameterSetIds: [set.id],
      transform: { steps: [{ op: 'filter', where: `country = '\${${set.name}__country}'` }] },
    });
    const piped = (await t.ok(`query($id: ID!) { previewAutomation(id: $id) { outputs { rows } } }`, { id: pipeline.id })).previewAutomation;
    expect(piped.outputs[0].rows).toEqual([{ country: 'DE', amount: 9 }]);
  });

  it('fill FILE paths (any set) and script variables, at run time', async () => {
    const dir = join(t.filesDir, 'eu');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'orders.csv'), 'id,amount\n1,10\n2,20\n');
    const set = await createSet({ region: 'eu', factor: '3' });
    const file = await f.file({ path: `\${${set.name}__region}/orders.csv` });
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { path } }`, { id: file.id })).datasource.path).toBe(`\${${set.name}__region}/orders.csv`);
    expect(await rowsOf(file.id)).toEqual([{ id: 1, amount: 10 }, { id: 2, amount: 20 }]);

    const output = await f.storage();
    const script = await f.script({
      language: 'JAVASCRIPT',
      inputIds: [file.id],
      outputIds: [output.id],
      parameterSetIds: [set.id],
      variables: { kwargs: { factor: `\${${set.name}__factor}`, note: 'a ${shell} variable stays' } },
      code: `const rows = []; for await (const r of tributary.read(${JSON.stringify(file.name)})) rows.push({ id: r.id, scaled: r.amount * Number(tributary.kwargs.factor), note: tributary.kwargs.note });
await tributary.write(${JSON.stringify(output.name)}, rows);`,
    });
    const run = await finished(t, (await runNow(t, script.id)).id);
    expect(run.status, run.error ?? '').toBe('SUCCESS');
    expect(await rowsOf(output.id)).toEqual([{ id: 1, scaled: 30, note: 'a ${shell} variable stays' }, { id: 2, scaled: 60, note: 'a ${shell} variable stays' }]);
    expect(run.log.join('\n')).toContain(`\${${set.name}__factor} = "3"`);
    expect(run.log.join('\n')).toContain(`parameters in file paths: \${${set.name}__region} = "eu"`);
  });

  it('fill an SFTP import\'s host, directory and pattern (a real OpenSSH server)', async () => {
    const { startSshd } = await import('../helpers/sshd.js');
    const sshd = await startSshd();
    try {
      const remoteDir = sshd.newDir();
      writeFileSync(join(remoteDir, 'orders-1.csv'), 'id,amount\n1,9.5\n2,3\n');
      writeFileSync(join(remoteDir, 'other.csv'), 'id,amount\n9,9\n');
      const set = await createSet({ host: sshd.host, dir: remoteDir, pattern: 'orders-*.csv' });
      const output = await f.storage();
      const p = (name: string) => `\${${set.name}__${name}}`;
      const sftp = await f.sftp(output, {
        host: p('host'),
        port: sshd.port,
        username: sshd.username,
        password: null,
        privateKey: sshd.privateKey,
        hostKeyFingerprint: sshd.hostKeyFingerprint,
        remoteDir: p('dir'),
        filePattern: p('pattern'),
        parameterSetIds: [set.id],
      });
      const run = await finished(t, (await runNow(t, sftp.id)).id);
      expect(run.status, run.error ?? '').toBe('SUCCESS');
      expect(await rowsOf(output.id)).toEqual([{ id: 1, amount: 9.5 }, { id: 2, amount: 3 }]);
      expect(run.log.join('\n')).toContain(`${p('dir')} = ${JSON.stringify(remoteDir)}`);
    } finally {
      await sshd.stop();
    }
  });

  it('refuses an unknown reference when saving, in each place, and writes nothing', async () => {
    const set = await createSet({ known: 'x' });
    const other = await createSet({ elsewhere: 'y' });
    const [a, b] = [await f.storage(), await f.storage()];
    const automations = async () => (await t.ok(`{ automations(first: 1) { totalCount } }`)).automations.totalCount;
    const before = await automations();
    const attempts: [() => Promise<unknown>, string, RegExp][] = [
      [() => f.etl(a, b, { parameterSetIds: [set.id], transform: { sql: `select * from input where x = '\${${set.name}__unknown}'` } }), 'transform.sql', /has no parameter "unknown"/],
      [() => f.etl(a, b, { parameterSetIds: [set.id], transform: { sql: `select * from input where x = '\${nosuchset__p}'` } }), 'transform.sql', /"nosuchset" does not exist/],
      [() => f.etl(a, b, { parameterSetIds: [set.id], transform: { sql: `select * from input where x = '\${${other.name}__elsewhere}'` } }), 'transform.sql', /is not attached to this automation/],
      [() => f.sftp(b, { host: `\${${set.name}__nope}`, hostKeyFingerprint: PINNED }), 'host', /is not attached/],
      [() => f.sftp(b, { parameterSetIds: [set.id], host: `\${${set.name}__known}` }), 'hostKeyFingerprint', /needs a pinned hostKeyFingerprint/],
      [() => f.sftp(b, { parameterSetIds: [set.id], remoteDir: `/in/\${${set.name}__nope}` }), 'remoteDir', /has no parameter/],
      [() => f.script({ parameterSetIds: [set.id], variables: { kwargs: { k: `\${${set.name}__nope}` } } }), 'variables.kwargs.k', /has no parameter/],
      [() => f.etl(a, b, { parameterSetIds: ['no-such-id'] }), 'parameterSetIds[0]', /does not exist/],
    ];
    for (const [attempt, field, message] of attempts) {
      const error = await refusal(attempt());
      expect(error.message, field).toMatch(message);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await automations()).toBe(before);
    // An update is refused the same way, and leaves the automation as it was.
    const etl = await f.etl(a, b, { parameterSetIds: [set.id], transform: { sql: `select * from input where '\${${set.name}__known}' = 'x'` } });
    const error = await t.fail(`mutation($id: ID!) { updateEtlStep(id: $id, input: { parameterSetIds: [] }) { id } }`, { id: etl.id });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'transform.sql' });
    const kept = await t.ok(`query($id: ID!) { automation(id: $id) { parameterSets { id } } }`, { id: etl.id });
    expect(kept.automation.parameterSets).toEqual([{ id: set.id }]);
    // A FILE path naming an unknown set or parameter is refused too.
    const datasources = async () => (await t.ok(`{ datasources(first: 1) { totalCount } }`)).datasources.totalCount;
    const count = await datasources();
    expect((await refusal(f.file({ path: `\${${set.name}__nope}/x.csv` }))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'path' });
    expect(await datasources()).toBe(count);
  });

  it('never lets a value lead a FILE path out of FILE_ROOTS or an SQL transform past its input', async () => {
    const set = await createSet({ sub: 'in', cond: '1 = 1' });
    mkdirSync(join(t.filesDir, 'in'), { recursive: true });
    writeFileSync(join(t.filesDir, 'in', 'data.csv'), 'id\n1\n');
    // At save time the value is checked as it is now…
    await t.ok(UPDATE, { id: set.id, input: { parameters: [{ name: 'sub', value: '../../../../../../etc' }, { name: 'cond', value: '1 = 1' }] } });
    const refused = await refusal(f.file({ path: `\${${set.name}__sub}/passwd` }));
    expect(refused).toMatchObject({ message: expect.stringMatching(/FILE_ROOTS/), extensions: { field: 'path' } });
    // …and a value changed after saving is checked again when the file is read: nothing is read.
    await t.ok(UPDATE, { id: set.id, input: { parameters: [{ name: 'sub', value: 'in' }, { name: 'cond', value: '1 = 1' }] } });
    const file = await f.file({ path: `\${${set.name}__sub}/data.csv` });
    await t.ok(UPDATE, { id: set.id, input: { parameters: [{ name: 'sub', value: '../../../../../../etc' }, { name: 'cond', value: '1 = 1' }] } });
    const out = await f.storage();
    const etl = await f.etl(file, out);
    const run = await finished(t, (await runNow(t, etl.id)).id);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/FILE_ROOTS/);
    expect(run.log.join('\n')).not.toMatch(/root:x:0/);
    expect(await rowsOf(out.id)).toEqual([]);
    const read = await t.fail(`query($id: ID!) { rows(datasourceId: $id, first: 5) { nodes } }`, { id: file.id });
    expect(read.message).not.toMatch(/root:x:0/);

    // A value spliced into SQL cannot reach past the input: the warehouse's read scope refuses it when it runs.
    const catalog = TEST_BACKEND === 'postgres' ? 'pg_catalog.pg_class' : 'sqlite_master';
    const [input, sink] = [await f.file({ path: 'in/data.csv' }), await f.storage()];
    const etlSql = await f.etl(input, sink, { parameterSetIds: [set.id], transform: { sql: `select * from input where \${${set.name}__cond}` } });
    await t.ok(UPDATE, { id: set.id, input: { parameters: [{ name: 'sub', value: 'in' }, { name: 'cond', value: `id in (select 1 from ${catalog})` }] } });
    const sneaky = await finished(t, (await runNow(t, etlSql.id)).id);
    expect(sneaky.status).toBe('FAILED');
    expect(sneaky.error).toMatch(/may read only input/);
    expect(await rowsOf(sink.id)).toEqual([]);
    expect((await t.ok(`{ health: __typename }`)).health).toBe('Query');
  });

  it('cannot be deleted or renamed while used, nor lose a parameter something refers to', async () => {
    const set = await createSet({ p: 'v', spare: 'w' });
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b, { parameterSetIds: [set.id], transform: { sql: `select * from input where '\${${set.name}__p}' = 'v'` } });
    const used = await t.fail(DELETE, { id: set.id });
    expect(used.extensions).toMatchObject({ code: 'CONFLICT', dependents: [{ id: etl.id, name: etl.name }] });
    expect((await t.fail(UPDATE, { id: set.id, input: { name: 'renamed_set' } })).extensions?.code).toBe('CONFLICT');
    const dropping = await t.fail(UPDATE, { id: set.id, input: { parameters: [{ name: 'spare', value: 'w' }] } });
    expect(dropping.message).toContain(etl.name);
    // A parameter nobody names may go.
    expect((await t.ok(UPDATE, { id: set.id, input: { parameters: [{ name: 'p', value: 'v2' }] } })).updateParameterSet.parameters).toEqual([{ name: 'p', value: 'v2' }]);
    // Detached, it may go.
    await t.ok(`mutation($id: ID!) { updateEtlStep(id: $id, input: { parameterSetIds: [], transform: { sql: "select * from input" } }) { id } }`, { id: etl.id });
    expect(await t.ok(DELETE, { id: set.id })).toEqual({ deleteParameterSet: set.id });

    // A FILE path naming a set keeps it.
    const pathSet = await createSet({ dir: 'x' });
    const file = await f.file({ path: `\${${pathSet.name}__dir}/f.csv` });
    expect((await t.fail(DELETE, { id: pathSet.id })).extensions).toMatchObject({ code: 'CONFLICT', dependents: [{ id: file.id }] });
    expect(await setCount()).toBeGreaterThan(0);
  });

  it('travel with versions: attached in a draft, kept until the draft goes, live when approved', async () => {
    const set = await createSet({ v: '1' });
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b);
    await setApproval(t, true);
    try {
      await t.ok(`mutation($id: ID!, $sets: [ID!]) { updateEtlStep(id: $id, input: { parameterSetIds: $sets }) { id } }`, { id: etl.id, sets: [set.id] });
      const shown = await t.ok(`query($id: ID!) { automation(id: $id) { parameterSets { id } draft { definition } } }`, { id: etl.id });
      expect(shown.automation.parameterSets).toEqual([]); // the live definition has none yet
      expect(shown.automation.draft.definition.parameterSetIds).toEqual([set.id]);
      const refused = await t.fail(DELETE, { id: set.id });
      expect(refused.extensions?.dependents).toEqual([expect.objectContaining({ id: etl.id, reason: expect.stringContaining('draft') })]);
    } finally {
      await setApproval(t, false);
    }
  });
});
