/**
 * Templates (the flow seed, seeds/000: "global dataflow templates copied into your organization …
 * saved in Draft state"): a built-in gallery covering every automation kind, each creating objects
 * that validate clean and run; a workspace's own templates (saveAsTemplate); createFromTemplate
 * all or nothing, drafts when approval is required.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { setApproval } from '../versions/helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  mkdirSync(join(t.filesDir, 'incoming'), { recursive: true });
  const put = (name: string, text: string) => writeFileSync(join(t.filesDir, 'incoming', name), text);
  put('data.csv', 'id,name\n1,ann\n2,bob\n');
  put('orders.csv', 'order_id,customer_id,amount\n1,10,5\n2,10,7\n3,20,1\n');
  put('customers.csv', 'customer_id,country\n10,NL\n20,DE\n');
  put('leads.csv', 'lead,value\na,2\nb,4\n');
  put('first.csv', 'id\n1\n');
  put('second.csv', 'id\n2\n');
  put('records.csv', 'id,amount\n1,10\n2,20\n"broken,line\n');
});
afterAll(() => t.close());

const CREATE = `mutation($id: ID!, $parameters: [ParameterInput!], $prefix: String) {
  createFromTemplate(templateId: $id, parameters: $parameters, namePrefix: $prefix) { type id name outcome draft } }`;
type Created = { type: string; id: string; name: string; outcome: string; draft: boolean };
const create = async (id: string, prefix: string, parameters: Record<string, string> = {}) =>
  (await t.ok(CREATE, { id, prefix, parameters: Object.entries(parameters).map(([name, value]) => ({ name, value })) })).createFromTemplate as Created[];
const rowsOf = async (name: string) => {
  const { datasources } = await t.ok(`query($name: String) { datasources(search: $name, first: 5) { nodes { id name } } }`, { name });
  const ds = datasources.nodes.find((d: { name: string }) => d.name === name);
  return (await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 50) { nodes } }`, { id: ds.id })).rows.nodes as Record<string, unknown>[];
};
const validate = async (id: string) => (await t.ok(`query($id: ID!) { validateAutomation(id: $id) { success issues { type message } } }`, { id })).validateAutomation;
const automationsOf = (created: Created[]) => created.filter((o) => o.type === 'AUTOMATION');
const byName = (created: Created[], name: string) => created.find((o) => o.name === name)!;

describe('built-in templates', () => {
  it('are at least six, covering every automation kind', async () => {
    const { templates } = await t.ok(`{ templates { id name builtIn description parameters { name default } objects { type kind } } }`);
    const builtIn = templates.filter((x: { builtIn: boolean }) => x.builtIn);
    expect(builtIn.length).toBeGreaterThanOrEqual(6);
    const kinds = new Set(builtIn.flatMap((x: { objects: { kind: string }[] }) => x.objects.map((o) => o.kind)));
    for (const kind of ['ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK', 'FILE', 'STORAGE', 'JOIN']) expect(kinds, kind).toContain(kind);
  });

  it('CSV into a table nightly: its parameters filled in, valid, and it runs', async () => {
    const created = await create('builtin:csv-nightly', 'crm ', { hour: '5', timezone: 'Europe/Berlin' });
    expect(created.map((o) => o.name).sort()).toEqual(['crm csv file', 'crm nightly load', 'crm table']);
    const load = byName(created, 'crm nightly load');
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { schedule { cron timezone } } }`, { id: load.id })).automation.schedule).toEqual({ cron: '0 5 * * *', timezone: 'Europe/Berlin' });
    expect(await validate(load.id)).toEqual({ success: true, issues: [] });
    expect((await finished(t, (await runNow(t, load.id)).id)).status).toBe('SUCCESS');
    expect(await rowsOf('crm table')).toEqual([{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }]);
  });

  it('Join and aggregate: joins the two files and sums per group', async () => {
    const created = await create('builtin:join-aggregate', 'sales ');
    const aggregate = byName(created, 'sales aggregate');
    expect(await validate(aggregate.id)).toEqual({ success: true, issues: [] });
    const run = await finished(t, (await runNow(t, aggregate.id)).id);
    expect(run.status, run.error ?? '').toBe('SUCCESS');
    const rows = await rowsOf('sales report');
    expect(rows.sort((a, b) => String(a.country).localeCompare(String(b.country)))).toEqual([{ country: 'DE', total: 1, rows: 1 }, { country: 'NL', total: 12, rows: 2 }]);
  });

  it('Python scoring script: scores each row in the sandbox', async () => {
    const created = await create('builtin:python-scoring', 'leads ', { factor: '10' });
    const score = byName(created, 'leads score');
    expect(await validate(score.id)).toEqual({ success: true, issues: [] });
    const run = await finished(t, (await runNow(t, score.id)).id, 60_000);
    expect(run.status, run.error ?? '').toBe('SUCCESS');
    expect((await rowsOf('leads scores')).map((r) => r.score)).toEqual([20, 40]);
  });

  it('Chain of loads: the chain runs both loads in order', async () => {
    const created = await create('builtin:chain-of-loads', 'pair ');
    for (const a of automationsOf(created)) expect(await validate(a.id), a.name).toEqual({ success: true, issues: [] });
    const run = await finished(t, (await runNow(t, byName(created, 'pair nightly chain').id)).id, 60_000);
    expect(run.status, run.error ?? '').toBe('SUCCESS');
    expect(await rowsOf('pair second table')).toEqual([{ id: 2 }]);
  });

  it('Error records to a quarantine table: the unreadable row lands there and the load succeeds', async () => {
    const created = await create('builtin:quarantine', 'q ');
    const load = byName(created, 'q load with quarantine');
    expect(await validate(load.id)).toEqual({ success: true, issues: [] });
    const run = await finished(t, (await runNow(t, load.id)).id);
    expect(run.status, run.error ?? '').toBe('SUCCESS');
    expect(await rowsOf('q records')).toHaveLength(2);
    expect((await rowsOf('q quarantine')).length).toBeGreaterThanOrEqual(1);
  });

  it('SFTP drop folder with dedupe: made valid (it needs a server to run), and its required parameters are required', async () => {
    const before = (await t.ok(`{ automations(first: 1) { totalCount } }`)).automations.totalCount;
    const missing = await t.fail(CREATE, { id: 'builtin:sftp-dedupe', prefix: 'drop ', parameters: [{ name: 'host', value: 'sftp.example.test' }] });
    expect(missing.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters' });
    expect(missing.message).toContain('"username"');
    expect((await t.ok(`{ automations(first: 1) { totalCount } }`)).automations.totalCount).toBe(before);
    const created = await create('builtin:sftp-dedupe', 'drop ', { host: 'sftp.example.test', username: 'loader' });
    for (const a of automationsOf(created)) expect(await validate(a.id), a.name).toEqual({ success: true, issues: [] });
    const { automation } = await t.ok(`query($id: ID!) { automation(id: $id) { ... on SftpImport { host username remoteDir filePattern hasPassword } } }`, { id: byName(created, 'drop import drop folder').id });
    expect(automation).toEqual({ host: 'sftp.example.test', username: 'loader', remoteDir: '/outgoing', filePattern: '*.csv', hasPassword: false });
  });

  it('refuses a taken name, an unknown parameter and an unknown template, creating nothing', async () => {
    const count = async () => (await t.ok(`{ automations(first: 1) { totalCount } datasources(first: 1) { totalCount } }`));
    const before = await count();
    expect((await t.fail(CREATE, { id: 'builtin:csv-nightly', prefix: 'crm ', parameters: [] })).extensions).toMatchObject({ code: 'CONFLICT', field: 'namePrefix' });
    expect((await t.fail(CREATE, { id: 'builtin:csv-nightly', prefix: 'x ', parameters: [{ name: 'nope', value: '1' }] })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters' });
    expect((await t.fail(CREATE, { id: 'no-such-template', prefix: 'x ' })).extensions?.code).toBe('NOT_FOUND');
    // A value that breaks a check (an hour that is no hour) is refused by the check, and nothing is made.
    expect((await t.fail(CREATE, { id: 'builtin:csv-nightly', prefix: 'y ', parameters: [{ name: 'hour', value: '99' }] })).extensions?.code).toBe('BAD_USER_INPUT');
    expect(await count()).toEqual(before);
  });

  it('creates drafts when approval is required', async () => {
    await setApproval(t, true);
    try {
      const created = await create('builtin:csv-nightly', 'reviewed ');
      expect(automationsOf(created).every((o) => o.draft)).toBe(true);
      expect((await t.ok(`query($id: ID!) { automation(id: $id) { liveVersion { id } draft { number } } }`, { id: byName(created, 'reviewed nightly load').id })).automation).toEqual({ liveVersion: null, draft: { number: 1 } });
    } finally {
      await setApproval(t, false);
    }
  });
});

describe('a workspace’s own templates', () => {
  it('saves automations with what they use, and makes new ones from it under a prefix', async () => {
    const f = factories(t);
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b, { transform: { sql: 'select * from input' } });
    const chain = await f.chain([etl]);
    const { saveAsTemplate } = await t.ok(`mutation($ids: [ID!]!) { saveAsTemplate(automationIds: $ids, name: "our flow", description: "mine") { id name builtIn size objects { type name } } }`, { ids: [chain.id] });
    expect(saveAsTemplate).toMatchObject({ name: 'our flow', builtIn: false, size: 4 });
    expect((await t.fail(`mutation($ids: [ID!]!) { saveAsTemplate(automationIds: $ids, name: "our flow") { id } }`, { ids: [chain.id] })).extensions?.code).toBe('CONFLICT');

    const created = await create(saveAsTemplate.id, 'copy ');
    expect(created.map((o) => o.name).sort()).toEqual([`copy ${a.name}`, `copy ${b.name}`, `copy ${chain.name}`, `copy ${etl.name}`].sort());
    const copyChain = byName(created, `copy ${chain.name}`);
    const { automation } = await t.ok(`query($id: ID!) { automation(id: $id) { ... on ChainTask { steps { name inputs { name } } } } }`, { id: copyChain.id });
    expect(automation.steps).toEqual([{ name: `copy ${etl.name}`, inputs: [{ name: `copy ${a.name}` }] }]);
    expect(await t.ok(`mutation($id: ID!) { deleteTemplate(id: $id) }`, { id: saveAsTemplate.id })).toEqual({ deleteTemplate: saveAsTemplate.id });
    expect((await t.fail(`mutation { deleteTemplate(id: "builtin:csv-nightly") }`)).extensions?.code).toBe('BAD_USER_INPUT');
  });
});
