/**
 * Versions of every automation kind, and versionDiff between them: field changes (with names for
 * datasources and steps), line diffs of code, SQL and pipeline transforms, secrets only said to
 * have changed, and the refusals of a diff across automations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories, type Factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { versionsOf } from './helpers.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
});
afterAll(() => t.close());

const DIFF = `query($a: ID!, $b: ID!) { versionDiff(fromId: $a, toId: $b) { from { number } to { number } changes { path before after } lines { path kind text beforeLine afterLine } } }`;

async function diffOf(automationId: string, from: number, to: number) {
  const { versions } = await versionsOf(t, automationId);
  const id = (n: number) => versions.find((v) => v.number === n)!.id;
  return (await t.ok(DIFF, { a: id(from), b: id(to) })).versionDiff;
}

describe('versionDiff', () => {
  it('shows a script’s code line by line, and its declarations by name', async () => {
    const [a, b] = [await f.storage({ name: `orders-${Date.now()}` }), await f.storage({ name: `clean-${Date.now()}` })];
    const script = await f.script({ code: 'x = 1\ny = 2\nprint(x)\n', inputIds: [a.id] });
    await t.ok(`mutation($id: ID!, $input: UpdateScriptInput!) { updateScript(id: $id, input: $input) { id } }`, {
      id: script.id,
      input: { code: 'x = 1\ny = 3\nprint(x)\n', outputIds: [b.id], timeoutSeconds: 60 },
    });
    const diff = await diffOf(script.id, 1, 2);
    expect(diff.from.number).toBe(1);
    expect(diff.changes).toEqual(
      expect.arrayContaining([
        { path: 'outputIds', before: [], after: [`${b.name} (${b.id})`] },
        { path: 'timeoutSeconds', before: 600, after: 60 },
        { path: 'code', before: 'x = 1\ny = 2\nprint(x)\n', after: 'x = 1\ny = 3\nprint(x)\n' },
      ]),
    );
    expect(diff.changes.map((c: { path: string }) => c.path)).not.toContain('inputIds');
    expect(diff.lines).toEqual([
      { path: 'code', kind: 'SAME', text: 'x = 1', beforeLine: 1, afterLine: 1 },
      { path: 'code', kind: 'REMOVED', text: 'y = 2', beforeLine: 2, afterLine: null },
      { path: 'code', kind: 'ADDED', text: 'y = 3', beforeLine: null, afterLine: 2 },
      { path: 'code', kind: 'SAME', text: 'print(x)', beforeLine: 3, afterLine: 3 },
    ]);
    // The other way round is the mirror image.
    const back = await diffOf(script.id, 2, 1);
    expect(back.lines.map((l: { kind: string }) => l.kind)).toEqual(['SAME', 'REMOVED', 'ADDED', 'SAME']);
    expect(back.lines[1].text).toBe('y = 3');
  });

  it('diffs an SQL transform as SQL and a pipeline transform as JSON, and the schedule field by field', async () => {
    const [a, b] = [await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] }), await f.storage()];
    const etl = await f.etl(a, b, { transform: { sql: 'select id\nfrom input' } });
    const update = (input: Record<string, unknown>) =>
      t.ok(`mutation($id: ID!, $input: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $input) { id } }`, { id: etl.id, input });
    await update({ transform: { sql: 'select id\nfrom input\nwhere id > 1' }, schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' } });
    await update({ transform: { steps: [{ op: 'filter', where: 'id > 1' }] } });

    const sql = await diffOf(etl.id, 1, 2);
    expect(new Set(sql.lines.map((l: { path: string }) => l.path))).toEqual(new Set(['transform.sql']));
    expect(sql.lines).toContainEqual({ path: 'transform.sql', kind: 'ADDED', text: 'where id > 1', beforeLine: null, afterLine: 3 });
    expect(sql.changes).toEqual(expect.arrayContaining([{ path: 'schedule', before: null, after: { cron: '0 3 * * *', timezone: 'Europe/Paris' } }]));

    const pipeline = await diffOf(etl.id, 2, 3);
    expect(new Set(pipeline.lines.map((x: { path: string }) => x.path))).toEqual(new Set(['transform']));
    expect(pipeline.lines.some((l: { kind: string; text: string }) => l.kind === 'ADDED' && l.text.includes('"op": "filter"'))).toBe(true);
    expect(pipeline.changes.map((c: { path: string }) => c.path).sort()).toEqual(['transform.sql', 'transform.steps']);
  });

  it('never holds an SFTP secret: a definition selects the connection, whose secrets stay in the store', async () => {
    const out = await f.storage();
    const sftp = await f.sftp(out, { password: 'first-secret' });
    const { sftpImport } = await t.ok(`query($id: ID!) { sftpImport: automation(id: $id) { ... on SftpImport { connection { id } } } }`, { id: sftp.id });
    await t.ok(`mutation($id: ID!, $input: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $input) { id } }`, {
      id: sftp.id,
      input: { password: 'second-secret', remoteDir: '/in' },
    });
    const { versions } = await versionsOf(t, sftp.id);
    expect(versions[0]!.definition).toMatchObject({ connectionId: sftpImport.connection.id, remoteDir: '/in' });
    expect(JSON.stringify(versions)).not.toMatch(/secret|Sealed|password/i);
    const diff = await diffOf(sftp.id, 1, 2);
    expect(diff.changes).toEqual([{ path: 'remoteDir', before: '.', after: '/in' }]);
    expect(JSON.stringify(diff)).not.toMatch(/first-secret|second-secret|Sealed/);

    // Selecting another connection is a change of the definition, shown by name.
    const other = (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id name } }`, { input: { name: `other-${Date.now()}`, type: 'SFTP', host: 'h2', username: 'u', password: 'p' } })).createConnection;
    await t.ok(`mutation($id: ID!, $input: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $input) { id } }`, { id: sftp.id, input: { connectionId: other.id } });
    const switched = await diffOf(sftp.id, 2, 3);
    expect(switched.changes).toEqual([{ path: 'connectionId', before: `${sftp.name} (${sftpImport.connection.id})`, after: `${other.name} (${other.id})` }]);
  });

  it('names a chain’s steps', async () => {
    const [x, y] = [await f.script({ name: `step-x-${Date.now()}` }), await f.script({ name: `step-y-${Date.now()}` })];
    const chain = await f.chain([x]);
    await t.ok(`mutation($id: ID!, $input: UpdateChainTaskInput!) { updateChainTask(id: $id, input: $input) { id } }`, {
      id: chain.id,
      input: { stepIds: [x.id, y.id], continueOnFailure: true },
    });
    const diff = await diffOf(chain.id, 1, 2);
    expect(diff.changes).toEqual([
      { path: 'continueOnFailure', before: false, after: true },
      { path: 'stepIds', before: [`${x.name} (${x.id})`], after: [`${x.name} (${x.id})`, `${y.name} (${y.id})`] },
    ]);
  });

  it('compares only versions of one automation, and says which id is unknown', async () => {
    const [s1, s2] = [await f.script(), await f.script()];
    const [v1, v2] = [(await versionsOf(t, s1.id)).liveVersion!, (await versionsOf(t, s2.id)).liveVersion!];
    expect((await t.fail(DIFF, { a: v1.id, b: v2.id })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'toId' });
    expect((await t.fail(DIFF, { a: 'nope', b: v2.id })).extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});
