/**
 * Duplicating (the SDK flows seed, seeds/001: "duplicate a flow with a name and an optional
 * description"): an automation of each kind becomes a new one doing the same, with no schedule
 * and no runs, live at once or a draft when approval is required; a datasource becomes a new one
 * with the same definition and no data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories, type Factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { setApproval, statuses, versionsOf } from './helpers.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
});
afterAll(() => t.close());

const DUPLICATE = `mutation($id: ID!, $name: String!, $description: String) {
  duplicateAutomation(id: $id, name: $name, description: $description) {
    id name kind description schedule { cron } inputs { id } outputs { id } runs(first: 5) { totalCount }
    ... on EtlStep { transform } ... on Script { code language } ... on SftpImport { host hasPassword remoteDir }
    ... on ChainTask { steps { id } continueOnFailure } } }`;

describe('duplicateAutomation', () => {
  it('copies what each kind does, without the schedule or the runs, as a new live version 1', async () => {
    await setApproval(t, false);
    const [a, b] = [await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] }), await f.storage()];
    const etl = await f.etl(a, b, { transform: { sql: 'select id from input' }, schedule: { cron: '0 * * * *' }, description: 'the original' });
    const script = await f.script({ language: 'JAVASCRIPT', code: `await tributary.write(${JSON.stringify(b.name)}, { x: 1 });`, outputIds: [b.id] });
    const sftp = await f.sftp(b, { password: 'kept-sealed', remoteDir: '/drop' });
    const chain = await f.chain([etl, script], { continueOnFailure: true });
    await finished(t, (await runNow(t, script.id)).id);

    const copy = async (id: string, name: string, description?: string) => (await t.ok(DUPLICATE, { id, name, description })).duplicateAutomation;
    const etlCopy = await copy(etl.id, `${etl.name} copy`, 'a copy');
    expect(etlCopy).toMatchObject({ kind: 'ETL_STEP', description: 'a copy', schedule: null, transform: { sql: 'select id from input' }, inputs: [{ id: a.id }], outputs: [{ id: b.id }] });
    expect(etlCopy.id).not.toBe(etl.id);
    expect((await copy(etl.id, `${etl.name} copy 2`)).description).toBe('the original');
    const scriptCopy = await copy(script.id, `${script.name} copy`);
    expect(scriptCopy).toMatchObject({ language: 'JAVASCRIPT', outputs: [{ id: b.id }], runs: { totalCount: 0 } });
    expect(await copy(sftp.id, `${sftp.name} copy`)).toMatchObject({ host: 'sftp.example.test', hasPassword: true, remoteDir: '/drop' });
    expect(await copy(chain.id, `${chain.name} copy`)).toMatchObject({ steps: [{ id: etl.id }, { id: script.id }], continueOnFailure: true });

    expect(await statuses(t, scriptCopy.id)).toEqual(['v1 LIVE']);
    // The copy's code is indexed like any script's: the datasource it names cannot go while it does.
    const impact = await t.ok(`query($id: ID!) { deletionImpact(datasourceId: $id) { id } }`, { id: b.id });
    expect(impact.deletionImpact.map((d: { id: string }) => d.id)).toContain(scriptCopy.id);
    // And it runs.
    expect((await finished(t, (await runNow(t, scriptCopy.id)).id)).status).toBe('SUCCESS');
  });

  it('makes a draft when approval is required: out of the graph until it is live', async () => {
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b);
    await setApproval(t, true);
    const copy = (await t.ok(DUPLICATE, { id: etl.id, name: `${etl.name} reviewed` })).duplicateAutomation;
    const { liveVersion, draft } = await versionsOf(t, copy.id);
    expect(liveVersion).toBeNull();
    expect(draft).toMatchObject({ number: 1, definition: { inputIds: [a.id], outputIds: [b.id], schedule: null } });
    const { lineage } = await t.ok(`{ lineage { nodes { id } } }`);
    expect(lineage.nodes.map((n: { id: string }) => n.id)).not.toContain(copy.id);
    // A copy of that never-live draft copies the draft.
    const again = (await t.ok(DUPLICATE, { id: copy.id, name: `${etl.name} reviewed again` })).duplicateAutomation;
    expect((await versionsOf(t, again.id)).draft!.definition).toMatchObject({ inputIds: [a.id], outputIds: [b.id] });
    await setApproval(t, false);
  });

  it('refuses a name in use, a blank name and an unknown id, creating nothing', async () => {
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b);
    const count = async () => (await t.ok(`{ automations(first: 1) { totalCount } }`)).automations.totalCount;
    const before = await count();
    expect((await t.fail(DUPLICATE, { id: etl.id, name: etl.name })).extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    expect((await t.fail(DUPLICATE, { id: etl.id, name: '  ' })).extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.fail(DUPLICATE, { id: 'nope', name: 'whatever' })).extensions?.code).toBe('NOT_FOUND');
    expect(await count()).toBe(before);
  });
});

describe('duplicateDatasource', () => {
  const DUPLICATE_DS = `mutation($id: ID!, $name: String!, $description: String) {
    duplicateDatasource(id: $id, name: $name, description: $description) { id name kind description tags columns { name type } path rowCount join { left { id } right { id } leftKey rightKey type } } }`;

  it('copies the definition of each kind, not the data', async () => {
    const orders = await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }], tags: ['sales'], description: 'orders' });
    const script = await f.script({ language: 'JAVASCRIPT', code: `await tributary.write(${JSON.stringify(orders.name)}, { id: 1 });`, outputIds: [orders.id], writeMode: 'APPEND' });
    expect((await finished(t, (await runNow(t, script.id)).id)).status).toBe('SUCCESS');
    const copy = (await t.ok(DUPLICATE_DS, { id: orders.id, name: `${orders.name} copy` })).duplicateDatasource;
    const original = await t.ok(`query($id: ID!) { datasource(id: $id) { columns { name type } rowCount } }`, { id: orders.id });
    expect(original.datasource.rowCount).toBe(1);
    expect(copy).toMatchObject({ kind: 'STORAGE', description: 'orders', tags: ['sales'], columns: original.datasource.columns, rowCount: null });
    const rows = await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 5) { nodes } }`, { id: copy.id });
    expect(rows.rows.nodes).toEqual([]);

    const customers = await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] });
    const join = await f.join(orders, customers);
    const joinCopy = (await t.ok(DUPLICATE_DS, { id: join.id, name: `${join.name} copy`, description: 'the same join' })).duplicateDatasource;
    expect(joinCopy).toMatchObject({ kind: 'JOIN', description: 'the same join', join: { left: { id: orders.id }, right: { id: customers.id }, leftKey: 'id', rightKey: 'id', type: 'INNER' } });

    const file = await f.file({ name: `file-${Date.now()}` });
    const fileCopy = (await t.ok(DUPLICATE_DS, { id: file.id, name: `${file.name} copy` })).duplicateDatasource;
    expect(fileCopy.path).toMatch(/input\.csv$/);
    expect((await t.fail(DUPLICATE_DS, { id: file.id, name: file.name })).extensions?.code).toBe('CONFLICT');
  });
});
