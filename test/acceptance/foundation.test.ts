/**
 * The acceptance scenario of the foundation issue, over HTTP with the names of API.md:
 * a user models the seed's dataflow, is told clearly what is wrong with bad input, is refused
 * an unsafe delete with the list of dependents, and deletes a safe datasource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const CREATE_DS = `mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id name kind path } }`;
const CREATE_ETL = `mutation($input: CreateEtlStepInput!) {
  createEtlStep(input: $input) { id name kind state effectivelyScheduled schedule { cron timezone nextRunAt }
    input { name } output { name } inputs { name } outputs { name } } }`;
const CREATE_SCRIPT = `mutation($input: CreateScriptInput!) { createScript(input: $input) { id name } }`;
const DELETE_DS = `mutation($id: ID!) { deleteDatasource(id: $id) }`;
const IMPACT = `query($id: ID!) { deletionImpact(datasourceId: $id) { id name type reason } }`;

describe('foundation acceptance: create, validate, refuse an unsafe delete, delete a safe one', () => {
  const ids: Record<string, string> = {};

  it('creates the seed dataflow: users.csv → "load users" → users-storage, scheduled', async () => {
    ids.csv = (await t.ok(CREATE_DS, { input: { name: 'users.csv', kind: 'FILE', path: 'in/users.csv' } })).createDatasource.id;
    ids.storage = (await t.ok(CREATE_DS, { input: { name: 'users-storage', kind: 'STORAGE' } })).createDatasource.id;
    const etl = (
      await t.ok(CREATE_ETL, {
        input: { name: 'load users', inputId: ids.csv, outputId: ids.storage, schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin' } },
      })
    ).createEtlStep;
    ids.etl = etl.id;
    expect(etl).toMatchObject({
      kind: 'ETL_STEP',
      state: 'ACTIVE',
      effectivelyScheduled: true,
      schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin' },
      input: { name: 'users.csv' },
      output: { name: 'users-storage' },
      inputs: [{ name: 'users.csv' }],
      outputs: [{ name: 'users-storage' }],
    });
    expect(Date.parse(etl.schedule.nextRunAt)).toBeGreaterThan(Date.now());

    const consumers = await t.ok(`query($id: ID!) { datasource(id: $id) { consumedBy { name } producedBy { name } } }`, { id: ids.csv });
    expect(consumers.datasource).toEqual({ consumedBy: [{ name: 'load users' }], producedBy: [] });
  });

  it('refuses bad input with a code and a field, and writes nothing', async () => {
    const before = await snapshotDatabase(t.server.orm);

    const duplicate = await t.fail(CREATE_DS, { input: { name: 'users.csv', kind: 'STORAGE' } });
    expect(duplicate.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });

    const loop = await t.fail(CREATE_ETL, { input: { name: 'loop', inputId: ids.storage, outputId: ids.storage } });
    expect(loop.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'outputId' });

    const cron = await t.fail(CREATE_ETL, { input: { name: 'bad cron', inputId: ids.csv, outputId: ids.storage, schedule: { cron: '61 * * * *' } } });
    expect(cron.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'schedule.cron' });
    expect(cron.message).toMatch(/minute/i);

    const unknown = await t.fail(CREATE_ETL, { input: { name: 'ghost', inputId: '00000000-0000-4000-8000-000000000000', outputId: ids.storage } });
    expect(unknown.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputId' });

    expect(await snapshotDatabase(t.server.orm)).toEqual(before);
  });

  it('refuses to delete a datasource in use, naming every dependent, and deletes nothing', async () => {
    ids.script = (
      await t.ok(CREATE_SCRIPT, { input: { name: 'export users', language: 'PYTHON', code: "rows = tributary.read('users-storage')\n" } })
    ).createScript.id;

    const impact = (await t.ok(IMPACT, { id: ids.storage })).deletionImpact;
    expect(impact).toEqual([
      { id: ids.script, name: 'export users', type: 'SCRIPT', reason: expect.stringMatching(/string literal/) },
      { id: ids.etl, name: 'load users', type: 'ETL_STEP', reason: 'declares it as output' },
    ]);

    const refused = await t.fail(DELETE_DS, { id: ids.storage });
    expect(refused.extensions?.code).toBe('DATASOURCE_IN_USE');
    expect(refused.extensions?.dependents).toEqual(impact);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { name } }`, { id: ids.storage })).datasource).toEqual({ name: 'users-storage' });
  });

  it('deletes a datasource nothing uses, and a used one once its users are gone', async () => {
    const scratch = (await t.ok(CREATE_DS, { input: { name: 'scratch', kind: 'STORAGE' } })).createDatasource.id;
    expect((await t.ok(IMPACT, { id: scratch })).deletionImpact).toEqual([]);
    expect((await t.ok(DELETE_DS, { id: scratch })).deleteDatasource).toBe(scratch);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { id } }`, { id: scratch })).datasource).toBeNull();

    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: ids.etl });
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: ids.script });
    expect((await t.ok(DELETE_DS, { id: ids.storage })).deleteDatasource).toBe(ids.storage);
    expect((await t.fail(DELETE_DS, { id: ids.storage })).extensions?.code).toBe('NOT_FOUND');
  });
});
