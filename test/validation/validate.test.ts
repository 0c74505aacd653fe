/**
 * Validation (the SDK flows seed, seeds/001: "validate a flow … ValidationResult(success, issues)"):
 * validateAutomation and validateWorkspace find what saving cannot check, each issue type on a
 * workspace made to have it, and nothing on one that is sound.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Automation, Datasource } from '../../core/db/entities/index.js';
import { Role } from '../../core/enums.js';
import { factories, uniqueName, type Factories, type Ref } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
});
afterAll(() => t.close());

const VALIDATE = `query($id: ID!, $check: Boolean) { validateAutomation(id: $id, checkConnections: $check) { success issues { type objectId objectName field message } } }`;
const validate = async (id: string, check = false) => (await t.ok(VALIDATE, { id, check })).validateAutomation as { success: boolean; issues: { type: string; objectId: string; field: string | null; message: string }[] };
const em = () => t.server.orm.em.fork() as EntityManager;

/** A STORAGE datasource written by an ETL step from a file that exists: a fed input. */
async function fedStorage(columns: { name: string; type: string }[] = [{ name: 'id', type: 'INTEGER' }]): Promise<Ref> {
  const name = `${uniqueName('src')}.csv`;
  writeFileSync(join(t.filesDir, name), `${columns.map((c) => c.name).join(',')}\n1\n`);
  const file = await f.file({ path: name, columns });
  const table = await f.storage({ columns });
  await f.etl(file, table);
  return table;
}

describe('validateAutomation', () => {
  it('finds nothing in a sound flow', async () => {
    const input = await fedStorage();
    const etl = await f.etl(input, await f.storage(), { transform: { sql: 'select id from input' }, schedule: { cron: '0 6 * * *' } });
    expect(await validate(etl.id)).toEqual({ success: true, issues: [] });
  });

  it('TRANSFORM_COLUMNS: a transform naming a column its input no longer has', async () => {
    const input = await fedStorage([{ name: 'id', type: 'INTEGER' }, { name: 'amount', type: 'REAL' }]);
    const etl = await f.etl(input, await f.storage(), { transform: { steps: [{ op: 'filter', where: 'amount > 5' }] } });
    expect((await validate(etl.id)).success).toBe(true);
    // A run of the upstream step wrote other columns since.
    await em().nativeUpdate(Datasource, { id: input.id }, { columns: [{ name: 'id', type: 'INTEGER' }, { name: 'total', type: 'REAL' }] });
    const { success, issues } = await validate(etl.id);
    expect(success).toBe(false);
    expect(issues).toEqual([expect.objectContaining({ type: 'TRANSFORM_COLUMNS', objectId: etl.id, field: 'transform.steps[0].where', message: expect.stringContaining('amount') })]);
  });

  it('INPUT_NOT_FED: an input nobody writes, a FILE input whose file is missing, through joins', async () => {
    const orphan = await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] });
    const missing = await f.file({ path: 'not-there-yet.csv', columns: [{ name: 'id', type: 'INTEGER' }] });
    const joined = await f.join(orphan, missing);
    const etl = await f.etl(joined, await f.storage());
    const { issues } = await validate(etl.id);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'INPUT_NOT_FED', objectId: orphan.id, message: expect.stringContaining('no automation writes it') }),
        expect.objectContaining({ type: 'INPUT_NOT_FED', objectId: missing.id, field: 'path', message: expect.stringContaining('does not exist') }),
      ]),
    );
  });

  it('CHAIN_STEP_INACTIVE: a chain step that is paused or deactivated', async () => {
    const input = await fedStorage();
    const [a, b] = [await f.etl(input, await f.storage()), await f.etl(input, await f.storage())];
    const chain = await f.chain([a, b]);
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: a.id });
    await t.ok(`mutation($id: ID!) { deactivateAutomation(id: $id) { id } }`, { id: b.id });
    const { issues } = await validate(chain.id);
    expect(issues.map((i) => [i.type, i.field, /PAUSED|DEACTIVATED/.exec(i.message)?.[0]])).toEqual([
      ['CHAIN_STEP_INACTIVE', 'stepIds[0]', 'PAUSED'],
      ['CHAIN_STEP_INACTIVE', 'stepIds[1]', 'DEACTIVATED'],
    ]);
  });

  it('SCHEDULE_NEVER_FIRES: a cron with no next time, and a schedule on a paused automation', async () => {
    const input = await fedStorage();
    const etl = await f.etl(input, await f.storage(), { schedule: { cron: '0 6 * * *' } });
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: etl.id });
    expect((await validate(etl.id)).issues).toEqual([expect.objectContaining({ type: 'SCHEDULE_NEVER_FIRES', field: 'state', message: expect.stringContaining('PAUSED') })]);
    // Saving refuses such a cron; one stored by an older version (or by hand) is found here.
    await em().nativeUpdate(Automation, { id: etl.id }, { scheduleCron: '0 0 30 2 *' });
    expect((await validate(etl.id)).issues).toEqual([expect.objectContaining({ type: 'SCHEDULE_NEVER_FIRES', field: 'schedule.cron', message: expect.stringContaining('never fires') })]);
  });

  it('UNKNOWN_PARAMETER: a reference no attached set defines any more', async () => {
    const set = (await t.ok(`mutation { createParameterSet(input: { name: "${uniqueName('vset').replace(/-/g, '_')}", parameters: [{ name: "p", value: "1" }] }) { id name } }`)).createParameterSet;
    const input = await fedStorage();
    const etl = await f.etl(input, await f.storage(), { parameterSetIds: [set.id], transform: { sql: `select id from input where id >= \${${set.name}__p}` } });
    expect((await validate(etl.id)).success).toBe(true);
    // The set changed behind its back (an older version, or a hand edit): saving would have refused it.
    await em().nativeUpdate('ParameterSet', { id: set.id }, { parameters: [] });
    expect((await validate(etl.id)).issues).toEqual([expect.objectContaining({ type: 'UNKNOWN_PARAMETER', field: 'transform.sql', message: expect.stringContaining('has no parameter "p"') })]);
  });

  it('UNDECLARED_DATASOURCE: a script whose code names a datasource it does not declare', async () => {
    const named = await fedStorage();
    const script = await f.script({ language: 'PYTHON', code: `rows = tributary.read(${JSON.stringify((await t.ok(`query($id: ID!) { datasource(id: $id) { name } }`, { id: named.id })).datasource.name)})\n` });
    expect((await validate(script.id)).issues).toEqual([expect.objectContaining({ type: 'UNDECLARED_DATASOURCE', field: 'code', message: expect.stringContaining('does not declare it') })]);
  });

  it('JOIN_KEY_MISSING: a join key its source no longer has', async () => {
    const [left, right] = [await fedStorage(), await fedStorage()];
    const joined = await f.join(left, right);
    const etl = await f.etl(joined, await f.storage());
    await em().nativeUpdate(Datasource, { id: right.id }, { columns: [{ name: 'key', type: 'INTEGER' }] });
    expect((await validate(etl.id)).issues).toEqual([expect.objectContaining({ type: 'JOIN_KEY_MISSING', objectId: joined.id, field: 'join.rightKey' })]);
  });

  it('CONNECTION_FAILED, only when asked: an SFTP server or a database that cannot be reached, within 10 s', async () => {
    const output = await f.storage();
    const sftp = await f.sftp(output, { host: '127.0.0.1', port: 1 });
    expect((await validate(sftp.id)).issues.filter((i) => i.type === 'CONNECTION_FAILED')).toEqual([]);
    const started = Date.now();
    const { issues } = await validate(sftp.id, true);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(issues).toEqual([expect.objectContaining({ type: 'CONNECTION_FAILED', field: 'connectionId', message: expect.stringMatching(/refused|ECONNREFUSED|connect/i) })]);

    // A database ingestion's source likewise.
    const pg = (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }`, { input: { name: `closed-${Date.now()}`, type: 'POSTGRES', host: '127.0.0.1', port: 1, username: 'u', database: 'd' } })).createConnection;
    const ingestion = (await t.ok(`mutation($input: CreateDatabaseIngestionInput!) { createDatabaseIngestion(input: $input) { id } }`, { input: { name: `ingest-${Date.now()}`, connectionId: pg.id, table: 'orders', outputId: (await f.storage()).id } })).createDatabaseIngestion;
    expect((await validate(ingestion.id, true)).issues).toEqual([expect.objectContaining({ type: 'CONNECTION_FAILED', field: 'connectionId', message: expect.stringMatching(/refused/) })]);
    const viewer = await t.addUser(Role.VIEWER);
    expect((await t.as({ token: viewer.token }).fail(VALIDATE, { id: sftp.id, check: true })).extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'EDITOR' });
  });
});

describe('validateWorkspace', () => {
  it('lists the issues of every automation in force and of the datasources', async () => {
    const { validateWorkspace } = await t.ok(`{ validateWorkspace { success issues { type objectId } } }`);
    expect(validateWorkspace.success).toBe(false);
    const types = new Set(validateWorkspace.issues.map((i: { type: string }) => i.type));
    for (const type of ['TRANSFORM_COLUMNS', 'INPUT_NOT_FED', 'CHAIN_STEP_INACTIVE', 'SCHEDULE_NEVER_FIRES', 'UNKNOWN_PARAMETER', 'UNDECLARED_DATASOURCE', 'JOIN_KEY_MISSING']) expect(types, type).toContain(type);
    expect(types).not.toContain('CONNECTION_FAILED');
  });
});
