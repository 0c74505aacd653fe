/**
 * The audit log: who changed what, with plain fields before and after, refused mutations with
 * their code, sign-ins, first uses of tokens and runs started by hand; never a secret's value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { AuditEvent, LoginThrottle } from '../../core/db/entities/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TEST_PASSWORD, type TestUser } from '../helpers/auth.js';

let t: TestServer;
let editor: TestUser;

beforeAll(async () => {
  t = await startTestServer({ SCHEDULER_POLL_MS: '200' });
  editor = await t.addUser(Role.EDITOR);
}, 60_000);
afterAll(() => t?.close());

const LOG = `query($objectId: ID, $actorId: ID, $action: String, $first: Int, $after: String) {
  auditLog(objectId: $objectId, actorId: $actorId, action: $action, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id at actorId actorEmail tokenId action objectType objectId objectName outcome errorCode changes { type id change name } fieldChanges { objectId field before after } }
  }
}`;
const entries = async (filter: Record<string, unknown>) => (await t.ok(LOG, filter)).auditLog.nodes;

describe('the audit log', () => {
  it('records a create, an update with before and after, a refused delete and a delete, newest first', async () => {
    const asEditor = t.as({ token: editor.token });
    const source = (await asEditor.ok(`mutation { createDatasource(input: { name: "audited", kind: STORAGE, tags: ["a"] }) { id } }`)).createDatasource.id;
    const target = (await asEditor.ok(`mutation { createDatasource(input: { name: "audited-out", kind: STORAGE }) { id } }`)).createDatasource.id;
    await asEditor.ok(`mutation($id: ID!) { updateDatasource(id: $id, input: { name: "audited-renamed", description: "now described", tags: ["a", "b"] }) { id } }`, { id: source });
    const etl = (await asEditor.ok(`mutation($i: ID!, $o: ID!) { createEtlStep(input: { name: "audited etl", inputId: $i, outputId: $o }) { id } }`, { i: source, o: target })).createEtlStep.id;
    expect((await asEditor.fail(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: source })).extensions?.code).toBe('DATASOURCE_IN_USE');
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: etl }); // it was live: an admin deletes it
    await asEditor.ok(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: source });

    const history = await entries({ objectId: source });
    expect(history.map((e: any) => `${e.action} ${e.outcome}${e.errorCode ? ` ${e.errorCode}` : ''}`)).toEqual([
      'deleteDatasource OK',
      'deleteDatasource REFUSED DATASOURCE_IN_USE',
      'updateDatasource OK',
      'createDatasource OK',
    ]);
    for (const entry of history) expect(entry).toMatchObject({ actorId: editor.id, actorEmail: editor.email, tokenId: expect.any(String), objectType: 'Datasource', objectId: source });
    const [deleted, refused, updated, created] = history;
    expect(created.objectName).toBe('audited');
    expect(created.changes).toEqual([{ type: 'Datasource', id: source, change: 'created', name: 'audited' }]);
    const fields = (entry: any) => entry.fieldChanges.map(({ objectId, ...field }: any) => (expect(objectId).toBe(source), field));
    expect(fields(created)).toEqual(expect.arrayContaining([{ field: 'name', before: null, after: 'audited' }, { field: 'tags', before: null, after: ['a'] }]));
    expect(fields(updated)).toEqual(
      expect.arrayContaining([
        { field: 'name', before: 'audited', after: 'audited-renamed' },
        { field: 'description', before: null, after: 'now described' },
        { field: 'tags', before: ['a'], after: ['a', 'b'] },
      ]),
    );
    expect(fields(updated).map((f: { field: string }) => f.field)).not.toContain('modifiedAt');
    expect(refused.changes).toEqual([]);
    expect(deleted.changes).toEqual([{ type: 'Datasource', id: source, change: 'deleted', name: 'audited-renamed' }]);
    expect(deleted.fieldChanges).toEqual([]);
    // The refused delete deleted nothing; the other one did.
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { id } }`, { id: source })).datasource).toBeNull();
  });

  it('never holds a secret: an SFTP password shows only that it changed (on the import\'s connection)', async () => {
    const out = (await t.ok(`mutation { createDatasource(input: { name: "sftp-out", kind: STORAGE }) { id } }`)).createDatasource.id;
    const secret = 'pa55word-that-must-never-show';
    const created = (
      await t.ok(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`, {
        input: { name: 'audited sftp', host: 'sftp.example', username: 'me', password: secret, remoteDir: '/in', outputId: out },
      })
    ).createSftpImport.id;
    await t.ok(`mutation($id: ID!, $input: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $input) { id } }`, { id: created, input: { password: `${secret}-2` } });
    const history = await entries({ objectId: created });
    expect(history.map((e: any) => e.action)).toEqual(['updateSftpImport', 'createSftpImport']);
    expect(JSON.stringify(history)).not.toContain(secret);
    const connectionId = (await t.ok(`query($id: ID!) { automation(id: $id) { ... on SftpImport { connection { id } } } }`, { id: created })).automation.connection.id;
    expect(history[0].fieldChanges).toContainEqual({ objectId: connectionId, field: 'passwordSealed', before: null, after: '(secret changed)' });
    const all = await t.ok(LOG, { first: 200 });
    expect(JSON.stringify(all)).not.toContain(secret);
  });

  it('records sign-ins (refused ones with the address tried), the first use of a token, and who started a run', async () => {
    const login = (password: string) => t.as(null).gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { id } }`, { e: editor.email, p: password });
    await login('not the right password');
    await login(TEST_PASSWORD);
    const signIns = await entries({ action: 'login', first: 2 });
    expect(signIns.map((e: any) => [e.outcome, e.errorCode, e.actorId, e.objectName])).toEqual([
      ['OK', null, editor.id, null],
      ['REFUSED', 'UNAUTHENTICATED', null, editor.email],
    ]);

    // Entries about people are for admins: a viewer sees the workspace's history, not who signed in.
    const viewer = await t.addUser(Role.VIEWER);
    const asViewer = t.as({ token: viewer.token });
    expect((await asViewer.ok(LOG, { action: 'login' })).auditLog.totalCount).toBe(0);
    expect(JSON.stringify((await asViewer.ok(LOG, { first: 200 })).auditLog.nodes)).not.toMatch(/"action":"(login|createApiToken|apiTokenFirstUse)"/);
    // A refused sign-in for an address nobody has keeps nothing of what was typed.
    await t.as(null).gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { id } }`, { e: 'hunter2-typed-in-the-wrong-box', p: 'x' });
    expect(JSON.stringify(await t.ok(LOG, { action: 'login', first: 50 }))).not.toContain('hunter2');

    const fresh = await t.addUser(Role.EDITOR);
    const asFresh = t.as({ token: fresh.token });
    await asFresh.ok('{ me { id } }');
    await asFresh.ok('{ me { id } }');
    const firstUses = await entries({ actorId: fresh.id, action: 'apiTokenFirstUse' });
    expect(firstUses).toHaveLength(1);
    expect(firstUses[0]).toMatchObject({ objectType: 'ApiToken', tokenId: firstUses[0].objectId, actorEmail: fresh.email });

    const out = (await asFresh.ok(`mutation { createDatasource(input: { name: "run-out", kind: STORAGE }) { id } }`)).createDatasource.id;
    const script = (
      await asFresh.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
        input: { name: 'audited script', language: 'JAVASCRIPT', code: 'await tributary.write("run-out", [{ n: 1 }]);', outputIds: [out] },
      })
    ).createScript.id;
    const run = (await asFresh.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: script })).runAutomation;
    expect((await t.ok(`query($id: ID!) { run(id: $id) { startedBy { email } } }`, { id: run.id })).run.startedBy).toEqual({ email: fresh.email });
    const started = await entries({ objectId: script, action: 'runAutomation' });
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ actorId: fresh.id, outcome: 'OK' });
    expect(started[0].changes.map((c: any) => `${c.type} ${c.change}`)).toContain('Run created');
  });

  it('forgets entries older than AUDIT_RETENTION_DAYS and failed sign-ins long past, in the daily prune', async () => {
    const em = t.server.orm.em.fork();
    const old = em.create(AuditEvent, { action: 'createDatasource', outcome: 'OK', at: new Date(Date.now() - 400 * 86_400_000) });
    const recent = em.create(AuditEvent, { action: 'createDatasource', outcome: 'OK', at: new Date(Date.now() - 300 * 86_400_000) });
    em.create(LoginThrottle, { key: 'address:203.0.113.9', failures: 3, lastFailureAt: new Date(Date.now() - 2 * 86_400_000), blockedUntil: null });
    em.create(LoginThrottle, { key: 'account:still-blocked@example.com', failures: 9, lastFailureAt: new Date(Date.now() - 2 * 86_400_000), blockedUntil: new Date(Date.now() + 60_000) });
    await em.flush();
    await t.server.scheduler.prune();
    const fresh = t.server.orm.em.fork();
    expect(await fresh.findOne(AuditEvent, { id: old.id })).toBeNull();
    expect(await fresh.findOne(AuditEvent, { id: recent.id })).not.toBeNull();
    const kept = (await fresh.find(LoginThrottle, {})).map((row) => row.key);
    expect(kept).not.toContain('address:203.0.113.9');
    expect(kept).toContain('account:still-blocked@example.com');
  });

  it('pages newest first with cursors, refusing a foreign cursor', async () => {
    const first = (await t.ok(LOG, { first: 3 })).auditLog;
    expect(first.nodes).toHaveLength(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await t.ok(LOG, { first: 3, after: first.pageInfo.endCursor })).auditLog;
    expect(Number(next.nodes[0].id)).toBeLessThan(Number(first.nodes[2].id));
    expect(first.totalCount).toBe(next.totalCount);
    const foreign = Buffer.from(JSON.stringify(['a name', 'an id'])).toString('base64url');
    expect((await t.fail(LOG, { after: foreign })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});
