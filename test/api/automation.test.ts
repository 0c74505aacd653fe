import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutomationService } from '../../api/services/automation.service.js';
import { SecretBox } from '../../core/secrets.js';
import { serverWithFactories, type Factories, uniqueName, type Ref } from '../factories/index.js';
import { TEST_SECRET_KEY, type TestServer } from '../helpers/server.js';
import { TEST_BACKEND } from '../helpers/postgres.js';
import { finished, runNow } from '../scheduler/helpers.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

const COMMON = `id name kind description state effectivelyScheduled schedule { cron timezone nextRunAt } inputs { name } outputs { name } lastRun { id } runs(first: 5) { totalCount }`;
const AUTOMATION = `query($id: ID!) { automation(id: $id) { ${COMMON}
  ... on EtlStep { input { name } output { name } transform }
  ... on SftpImport { host port username remoteDir filePattern hasPassword hasPrivateKey output { name } }
  ... on Script { language code variables }
  ... on ChainTask { steps { name } continueOnFailure } } }`;
const get = async (ref: Ref) => (await t.ok(AUTOMATION, { id: ref.id })).automation;
const names = (list: { name: string }[]) => list.map((x) => x.name);

describe(AutomationService.name, () => {
  it('creates and partially updates an ETL step', async () => {
    const [input, output, other] = [await f.storage(), await f.storage(), await f.storage()];
    const etl = await f.etl(input, output, { description: 'cleans', transform: { sql: 'SELECT * FROM input' }, schedule: { cron: '*/15 * * * *' } });
    expect(await get(etl)).toMatchObject({
      kind: 'ETL_STEP',
      description: 'cleans',
      state: 'ACTIVE',
      effectivelyScheduled: true,
      schedule: { cron: '*/15 * * * *', timezone: 'UTC' },
      inputs: [{ name: input.name }],
      outputs: [{ name: output.name }],
      input: { name: input.name },
      output: { name: output.name },
      transform: { sql: 'SELECT * FROM input' },
      lastRun: null,
      runs: { totalCount: 0 },
    });
    await t.ok(`mutation($id: ID!, $i: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $i) { id } }`, { id: etl.id, i: { outputId: other.id, schedule: null } });
    expect(await get(etl)).toMatchObject({ description: 'cleans', input: { name: input.name }, output: { name: other.name }, schedule: null, effectivelyScheduled: false });

    const MODE = `query($id: ID!) { automation(id: $id) { writeMode writeKeys } }`;
    expect((await t.ok(MODE, { id: etl.id })).automation).toEqual({ writeMode: 'REPLACE', writeKeys: [] });
    await t.ok(`mutation($id: ID!, $i: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $i) { id } }`, { id: etl.id, i: { writeMode: 'UPSERT', writeKeys: ['id'] } });
    expect((await t.ok(MODE, { id: etl.id })).automation).toEqual({ writeMode: 'UPSERT', writeKeys: ['id'] });
  });

  it('keeps SFTP secrets write-only and sealed at rest', async () => {
    const output = await f.storage();
    const password = `pw-${uniqueName('secret')}`;
    const sftp = await f.sftp(output, { port: 2222, remoteDir: '/drop', filePattern: '*.csv', password });
    expect(await get(sftp)).toMatchObject({ host: 'sftp.example.test', port: 2222, username: 'loader', remoteDir: '/drop', filePattern: '*.csv', hasPassword: true, hasPrivateKey: false, output: { name: output.name } });

    // No field exposes a secret, by any name.
    const introspection = await t.ok(`{ __type(name: "SftpImport") { fields { name } } }`);
    expect(names(introspection.__type.fields).filter((n) => /^(password|privateKey)$|sealed/i.test(n))).toEqual([]);
    expect((await t.fail(`query($id: ID!) { automation(id: $id) { ... on SftpImport { password } } }`, { id: sftp.id })).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    // Stored sealed: the plaintext is nowhere in the database files, yet the key opens it.
    expect(await storedBytes(t)).not.toContain(password);
    const [row] = await t.server.orm.em.getConnection().execute('select c.password_sealed from connection c join automation a on a.connection_id = c.id where a.id = ?', [sftp.id]);
    expect(SecretBox.fromKey(TEST_SECRET_KEY).unseal(row.password_sealed)).toBe(password);

    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    await t.ok(`mutation($id: ID!, $i: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $i) { id } }`, { id: sftp.id, i: { privateKey: key, password: null, port: 22 } });
    expect(await get(sftp)).toMatchObject({ hasPassword: false, hasPrivateKey: true, port: 22, remoteDir: '/drop' });
  });

  it('creates a script with declared usage and variables, and updates its code and usage', async () => {
    const [a, b, c] = [await f.storage(), await f.storage(), await f.storage()];
    const code = 'for row in inputs[0]:\n    outputs[0].write(row)\n';
    const script = await f.script({ code, inputIds: [b.id, a.id], outputIds: [c.id], variables: { args: [1], kwargs: { mode: 'full' }, job_config: {} } });
    expect(await get(script)).toMatchObject({ language: 'PYTHON', code, inputs: [{ name: b.name }, { name: a.name }], outputs: [{ name: c.name }], variables: { args: [1], kwargs: { mode: 'full' }, job_config: {} } });
    await t.ok(`mutation($id: ID!, $i: UpdateScriptInput!) { updateScript(id: $id, input: $i) { id } }`, {
      id: script.id,
      i: { language: 'JAVASCRIPT', code: 'export default () => {}', inputIds: [], variables: null },
    });
    expect(await get(script)).toMatchObject({ language: 'JAVASCRIPT', code: 'export default () => {}', inputs: [], outputs: [{ name: c.name }], variables: null });
  });

  it('creates chain tasks with ordered steps, reorders them, and spreads their schedule to every depth', async () => {
    const [a, b, c] = [await f.storage(), await f.storage(), await f.storage()];
    const e1 = await f.etl(a, b);
    const e2 = await f.etl(b, c);
    const e3 = await f.etl(a, c);
    const inner = await f.chain([e2, e3]);
    const outer = await f.chain([e1, inner], { continueOnFailure: true });
    expect(await get(outer)).toMatchObject({ steps: [{ name: e1.name }, { name: inner.name }], continueOnFailure: true, effectivelyScheduled: false });
    expect((await get(e3)).effectivelyScheduled).toBe(false);

    const { setSchedule } = await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "0 30 2 * * *", timezone: "Europe/Paris") { schedule { cron timezone nextRunAt } } }`, { id: outer.id });
    expect(setSchedule.schedule).toMatchObject({ cron: '0 30 2 * * *', timezone: 'Europe/Paris' });
    const next = new Date(setSchedule.schedule.nextRunAt);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(25 * 3600_000);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('02:30');
    for (const ref of [outer, e1, inner, e2, e3]) expect((await get(ref)).effectivelyScheduled).toBe(true);

    // A paused chain does not count, nor do steps below it; a paused step does not count either.
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { state } }`, { id: inner.id });
    expect((await get(e2)).effectivelyScheduled).toBe(false);
    expect((await get(e1)).effectivelyScheduled).toBe(true);
    await t.ok(`mutation($id: ID!) { startAutomation(id: $id) { state } }`, { id: inner.id });
    expect((await get(e2)).effectivelyScheduled).toBe(true);

    await t.ok(`mutation($id: ID!, $i: UpdateChainTaskInput!) { updateChainTask(id: $id, input: $i) { id } }`, { id: inner.id, i: { stepIds: [e3.id, e2.id], continueOnFailure: true } });
    expect(await get(inner)).toMatchObject({ steps: [{ name: e3.name }, { name: e2.name }], continueOnFailure: true });

    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: outer.id });
    expect(await get(outer)).toMatchObject({ schedule: null, effectivelyScheduled: false });
    expect((await get(e2)).effectivelyScheduled).toBe(false);
  });

  it('changes the stored state with pause, stop, start and deactivate', async () => {
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b, { schedule: { cron: '0 6 * * 1-5', timezone: 'America/New_York' } });
    for (const [mutation, state] of [['pauseAutomation', 'PAUSED'], ['stopAutomation', 'STOPPED'], ['deactivateAutomation', 'DEACTIVATED'], ['startAutomation', 'ACTIVE']] as const) {
      const data = await t.ok(`mutation($id: ID!) { ${mutation}(id: $id) { state effectivelyScheduled schedule { nextRunAt } } }`, { id: etl.id });
      expect(data[mutation].state).toBe(state);
      expect(data[mutation].effectivelyScheduled).toBe(state === 'ACTIVE');
      expect(data[mutation].schedule.nextRunAt === null).toBe(state !== 'ACTIVE');
      expect((await get(etl)).state).toBe(state);
    }
    expect((await t.fail(`mutation { pauseAutomation(id: "ghost") { state } }`)).extensions?.code).toBe('NOT_FOUND');
  });

  it('lists automations by name with kind, state and search filters', async () => {
    const prefix = uniqueName('auto-list');
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b, { name: `${prefix} etl` });
    await f.script({ name: `${prefix} script` });
    await f.chain([etl], { name: `${prefix} chain` });
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: etl.id });
    const LIST = `query($kind: AutomationKind, $state: AutomationState, $search: String) { automations(kind: $kind, state: $state, search: $search) { totalCount nodes { __typename name } } }`;
    expect((await t.ok(LIST, { search: prefix.toUpperCase() })).automations).toEqual({
      totalCount: 3,
      nodes: [{ __typename: 'ChainTask', name: `${prefix} chain` }, { __typename: 'EtlStep', name: `${prefix} etl` }, { __typename: 'Script', name: `${prefix} script` }],
    });
    expect((await t.ok(LIST, { search: prefix, kind: 'SCRIPT' })).automations.nodes).toEqual([{ __typename: 'Script', name: `${prefix} script` }]);
    expect((await t.ok(LIST, { search: prefix, state: 'PAUSED' })).automations.nodes).toEqual([{ __typename: 'EtlStep', name: `${prefix} etl` }]);
    expect((await t.ok(`query($n: String) { automation(name: $n) { id } }`, { n: `${prefix} etl` })).automation).toEqual({ id: etl.id });
    expect((await t.ok(`{ run(id: "whatever") { id } }`)).run).toBeNull();
  });

  it('filters automations by effective schedule and by last run status', async () => {
    const prefix = `${uniqueName('auto-filter')} `;
    const [a, b, c, d] = [await f.storage(), await f.storage(), await f.storage(), await f.storage()];
    await f.etl(a, b, { name: `${prefix}own`, schedule: { cron: '0 * * * *' } });
    const viaChain = await f.etl(b, c, { name: `${prefix}via chain` });
    const chain = await f.chain([viaChain], { name: `${prefix}chain`, schedule: { cron: '0 3 * * *' } });
    const paused = await f.etl(a, c, { name: `${prefix}paused`, schedule: { cron: '0 4 * * *' } });
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: paused.id });
    const ok = await f.script({ name: `${prefix}ok`, language: 'JAVASCRIPT', code: `await tributary.write(${JSON.stringify(d.name)}, { a: 1 });`, outputIds: [d.id] });
    const failing = await f.script({ name: `${prefix}failing`, language: 'JAVASCRIPT', code: `throw new Error('no');` });
    for (const [ref, status] of [[ok, 'SUCCESS'], [failing, 'FAILED']] as const) {
      expect((await finished(t, (await runNow(t, ref.id)).id)).status).toBe(status);
    }

    const LIST = `query($search: String, $scheduled: Boolean, $lastRunStatus: RunStatus, $kind: AutomationKind, $first: Int, $after: String) {
      automations(search: $search, scheduled: $scheduled, lastRunStatus: $lastRunStatus, kind: $kind, first: $first, after: $after) {
        totalCount nodes { name effectivelyScheduled lastRunStatus } pageInfo { hasNextPage endCursor } } }`;
    const list = async (variables: Record<string, unknown>) => (await t.ok(LIST, { search: prefix, ...variables })).automations;
    const listed = async (variables: Record<string, unknown>) => names((await list(variables)).nodes).map((n) => n.slice(prefix.length));

    // Own active schedule, or triggered by a scheduled chain; a paused schedule does not count.
    expect(await list({ scheduled: true })).toMatchObject({
      totalCount: 3,
      nodes: [
        { name: `${prefix}chain`, effectivelyScheduled: true },
        { name: `${prefix}own`, effectivelyScheduled: true },
        { name: `${prefix}via chain`, effectivelyScheduled: true },
      ],
    });
    expect(await listed({ scheduled: false })).toEqual(['failing', 'ok', 'paused']);
    expect(await listed({ scheduled: true, kind: 'CHAIN_TASK' })).toEqual(['chain']);

    expect(await list({ lastRunStatus: 'SUCCESS' })).toMatchObject({ totalCount: 1, nodes: [{ name: `${prefix}ok`, lastRunStatus: 'SUCCESS' }] });
    expect(await listed({ lastRunStatus: 'FAILED' })).toEqual(['failing']);
    expect(await listed({ lastRunStatus: 'SUCCESS', scheduled: false })).toEqual(['ok']);
    expect(await list({ lastRunStatus: 'SUCCESS', scheduled: true })).toMatchObject({ totalCount: 0, nodes: [] });

    // Pages keep the filter: the total counts every match, the cursor moves on.
    const first = await list({ scheduled: false, first: 2 });
    expect(first).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    expect(names(first.nodes)).toEqual([`${prefix}failing`, `${prefix}ok`]);
    const second = await list({ scheduled: false, first: 2, after: first.pageInfo.endCursor });
    expect(second).toMatchObject({ totalCount: 3, nodes: [{ name: `${prefix}paused` }], pageInfo: { hasNextPage: false } });

    // The filter follows schedule changes as effectivelyScheduled does.
    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: chain.id });
    expect(await listed({ scheduled: true })).toEqual(['own']);
    expect(await listed({ scheduled: false })).toEqual(['chain', 'failing', 'ok', 'paused', 'via chain']);

    // Over the whole workspace, the filter splits the automations exactly as the field does.
    const ALL = `query($scheduled: Boolean) { automations(first: 500, scheduled: $scheduled) { totalCount nodes { id effectivelyScheduled } } }`;
    const all = (await t.ok(ALL)).automations;
    expect(all.totalCount).toBeLessThanOrEqual(500);
    for (const scheduled of [true, false]) {
      const { automations } = await t.ok(ALL, { scheduled });
      const expected = all.nodes.filter((n: { effectivelyScheduled: boolean }) => n.effectivelyScheduled === scheduled);
      expect(automations).toEqual({ totalCount: expected.length, nodes: expected });
    }
  });

  it('refuses bad list arguments with BAD_USER_INPUT', async () => {
    const LIST = `query($scheduled: Boolean, $lastRunStatus: RunStatus, $first: Int, $after: String) {
      automations(scheduled: $scheduled, lastRunStatus: $lastRunStatus, first: $first, after: $after) { totalCount } }`;
    expect((await t.fail(LIST, { scheduled: true, first: -1 })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect((await t.fail(LIST, { lastRunStatus: 'SUCCESS', after: 'not-a-cursor' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    // Types are checked before any resolver runs; the message names the variable and the value.
    const status = await t.fail(LIST, { lastRunStatus: 'DONE' });
    expect(status.extensions?.code).toBe('BAD_USER_INPUT');
    expect(status.message).toMatch(/\$lastRunStatus.*DONE/);
    const scheduled = await t.fail(LIST, { scheduled: 'yes' });
    expect(scheduled.extensions?.code).toBe('BAD_USER_INPUT');
    expect(scheduled.message).toMatch(/\$scheduled.*yes/);
  });
});

/** What the database holds, as stored: the SQLite file's bytes, or every automation row as PostgreSQL keeps it. */
async function storedBytes(server: TestServer): Promise<string> {
  const connection = server.server.orm.em.getConnection();
  if (TEST_BACKEND === 'postgres') return JSON.stringify([await connection.execute('select * from automation'), await connection.execute('select * from connection')]);
  await connection.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  return readFileSync(join(server.dataDir, 'tributary.db')).toString('latin1');
}
