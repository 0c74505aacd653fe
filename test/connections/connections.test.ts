/**
 * The connection store (seeds 000 and 003: connection values are selected from a store, never
 * typed into a flow): admins keep named, typed connections with write-only secrets; editors select
 * them; a test says within 10 s what failed; a connection in use cannot be deleted.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { factories, uniqueName, type Factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { MYSQL_SOURCE, PG_SOURCE, mysqlSource, postgresSource, type SourceDb } from './sources.js';

let t: TestServer;
let f: Factories;
let pgDb: SourceDb;
let myDb: SourceDb;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
  [pgDb, myDb] = await Promise.all([postgresSource(), mysqlSource()]);
});
afterAll(async () => {
  await t.close();
  await Promise.all([pgDb.drop(), myDb.drop()]);
});

const FIELDS = 'id name type host port username database hasPassword hasPrivateKey secretsCleared usedBy { id name type reason }';
const CREATE = `mutation($input: CreateConnectionInput!) { createConnection(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { ${FIELDS} } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok message failure } }`;
const count = async () => (await t.ok(`{ connections { id } }`)).connections.length as number;

async function connection(input: Record<string, unknown>) {
  return (await t.ok(CREATE, { input: { name: uniqueName('conn'), ...input } })).createConnection;
}
const pgConnection = (extra: Record<string, unknown> = {}) => connection({ type: 'POSTGRES', ...PG_SOURCE, database: pgDb.name, ...extra });
const myConnection = (extra: Record<string, unknown> = {}) => connection({ type: 'MYSQL', ...MYSQL_SOURCE, password: '', database: myDb.name, ...extra });
const test = async (id: string) => (await t.ok(TEST, { id })).testConnection;

describe('connections', () => {
  it('are kept by admins and selected by editors; secrets are never returned', async () => {
    const password = `pw-${uniqueName('secret')}`;
    const created = await connection({ type: 'POSTGRES', host: 'db.example.test', username: 'reader', password, database: 'sales' });
    expect(created).toMatchObject({ type: 'POSTGRES', port: 5432, database: 'sales', hasPassword: true, hasPrivateKey: false, usedBy: [] });
    const introspection = await t.ok(`{ __type(name: "Connection") { fields { name } } }`);
    expect(introspection.__type.fields.map((x: { name: string }) => x.name).filter((n: string) => /^(password|privateKey)$|sealed/i.test(n))).toEqual([]);
    expect(JSON.stringify(await t.ok(`{ connections { ${FIELDS} } }`))).not.toContain(password);

    const editor = t.as({ token: (await t.addUser(Role.EDITOR)).token });
    const before = await count();
    const refused = await editor.fail(CREATE, { input: { name: uniqueName('conn'), type: 'SFTP', host: 'h', username: 'u', password: 'p' } });
    expect(refused.extensions?.code).toBe('FORBIDDEN');
    expect((await editor.fail(UPDATE, { id: created.id, input: { host: 'evil.example.test' } })).extensions?.code).toBe('FORBIDDEN');
    expect(await count()).toBe(before);
    // Editors and viewers see the store (to select from it), never a secret.
    const viewer = t.as({ token: (await t.addUser(Role.VIEWER)).token });
    expect((await viewer.ok(`{ connections { id host } }`)).connections).toEqual(expect.arrayContaining([{ id: created.id, host: 'db.example.test' }]));
  });

  it('check their settings by type, refuse a duplicate name and write nothing then', async () => {
    const before = await count();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ type: 'POSTGRES', host: 'h', username: 'u' }, 'BAD_USER_INPUT', 'database'],
      [{ type: 'SFTP', host: 'h', username: 'u', database: 'x', password: 'p' }, 'BAD_USER_INPUT', 'database'],
      [{ type: 'SFTP', host: 'h', username: 'u' }, 'BAD_USER_INPUT', 'password'],
      [{ type: 'MYSQL', host: 'h', username: 'u', database: 'd', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----' }, 'BAD_USER_INPUT', 'privateKey'],
      [{ type: 'POSTGRES', host: 'two words', username: 'u', database: 'd' }, 'BAD_USER_INPUT', 'host'],
      [{ type: 'POSTGRES', host: 'h', port: 70000, username: 'u', database: 'd' }, 'BAD_USER_INPUT', 'port'],
    ];
    for (const [input, code, field] of cases) {
      const error = await t.fail(CREATE, { input: { name: uniqueName('bad'), ...input } });
      expect([error.extensions?.code, error.extensions?.field]).toEqual([code, field]);
    }
    const taken = await pgConnection();
    expect((await t.fail(CREATE, { input: { name: taken.name, type: 'POSTGRES', host: 'h', username: 'u', database: 'd' } })).extensions?.code).toBe('CONFLICT');
    expect(await count()).toBe(before + 1);
  });

  it('clear stored secrets when the endpoint moves, so they never reach another server', async () => {
    const c = await connection({ type: 'MYSQL', host: 'a.example.test', username: 'u', password: 'p', database: 'd' });
    const moved = (await t.ok(UPDATE, { id: c.id, input: { host: 'b.example.test' } })).updateConnection;
    expect(moved).toMatchObject({ host: 'b.example.test', hasPassword: false, secretsCleared: true });
    const again = (await t.ok(UPDATE, { id: c.id, input: { host: 'c.example.test', password: 'q' } })).updateConnection;
    expect(again).toMatchObject({ hasPassword: true, secretsCleared: false });
  });

  it('test PostgreSQL and MariaDB logins live, naming each kind of failure', async () => {
    expect(await test((await pgConnection()).id)).toMatchObject({ ok: true, failure: null });
    expect(await test((await myConnection()).id)).toMatchObject({ ok: true, failure: null });
    const failures: [Promise<{ id: string }>, string, RegExp][] = [
      [pgConnection({ host: 'no-such-host.invalid' }), 'DNS', /host not found/],
      [pgConnection({ port: 1 }), 'REFUSED', /refused/],
      [pgConnection({ username: 'no_such_role' }), 'AUTH', /no_such_role/],
      [pgConnection({ database: 'no_such_database' }), 'NOT_FOUND', /no_such_database/],
      [myConnection({ password: 'wrong-password' }), 'AUTH', /authentication failed/],
      [myConnection({ database: 'no_such_database' }), 'NOT_FOUND', /no_such_database/],
    ];
    for (const [made, failure, message] of failures) {
      const result = await test((await made).id);
      expect(result).toMatchObject({ ok: false, failure });
      expect(result.message).toMatch(message);
    }
  });

  it('name a login that may not use the database a PERMISSION failure', async () => {
    const role = `trib_noconnect_${Date.now().toString(36)}`;
    await pgDb.sql(`create role ${role} login`);
    await pgDb.sql(`revoke connect on database ${pgDb.name} from public`);
    const user = `trib_nogrant_${Date.now().toString(36)}`;
    await myDb.sql(`create user '${user}'@'%' identified by 'pw'`);
    try {
      const pgResult = await test((await pgConnection({ username: role })).id);
      expect(pgResult).toMatchObject({ ok: false, failure: 'PERMISSION' });
      const myResult = await test((await myConnection({ username: user, password: 'pw' })).id);
      expect(myResult).toMatchObject({ ok: false, failure: 'PERMISSION' });
    } finally {
      await pgDb.sql(`grant connect on database ${pgDb.name} to public`);
      await pgDb.sql(`drop role ${role}`);
      await myDb.sql(`drop user '${user}'@'%'`);
    }
  });

  it('answer a test of a server that accepts and then never answers, within 10 s', { timeout: 30_000 }, async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket)); // takes the connection, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const result = await test((await pgConnection({ port })).id);
      expect(result).toMatchObject({ ok: false, failure: 'TIMEOUT' });
      expect(sockets.length).toBeGreaterThan(0); // it did reach the server
      // The server is still up and answering.
      expect((await t.ok(`{ connections { id } }`)).connections.length).toBeGreaterThan(0);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('refuse deletion while used, listing the users; deletion then changes nothing', async () => {
    const c = await pgConnection();
    const out = await f.storage();
    const ingestion = (await t.ok(`mutation($input: CreateDatabaseIngestionInput!) { createDatabaseIngestion(input: $input) { id name } }`, {
      input: { name: uniqueName('ingest'), connectionId: c.id, table: 'public.orders', outputId: out.id },
    })).createDatabaseIngestion;
    const refused = await t.fail(`mutation($id: ID!) { deleteConnection(id: $id) }`, { id: c.id });
    expect(refused.extensions?.code).toBe('CONFLICT');
    expect(refused.extensions?.dependents).toEqual([expect.objectContaining({ id: ingestion.id, name: ingestion.name, type: 'DATABASE_TABLE' })]);
    expect((await t.ok(`query($id: ID!) { connection(id: $id) { usedBy { name } } }`, { id: c.id })).connection.usedBy).toEqual([{ name: ingestion.name }]);
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: ingestion.id });
    expect(await t.ok(`mutation($id: ID!) { deleteConnection(id: $id) }`, { id: c.id })).toEqual({ deleteConnection: c.id });
    expect((await t.ok(`query($id: ID!) { connection(id: $id) { id } }`, { id: c.id })).connection).toBeNull();
  });

  it('are what SFTP imports log in with: selected by id, or made from the settings given inline', async () => {
    const out = await f.storage();
    const shared = await connection({ type: 'SFTP', host: 'files.example.test', port: 2200, username: 'loader', password: 'pw' });
    const q = `query($id: ID!) { automation(id: $id) { ... on SftpImport { host port username hasPassword connection { id name } } } }`;
    const selected = (await t.ok(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`, { input: { name: uniqueName('sftp'), connectionId: shared.id, outputId: out.id } })).createSftpImport;
    expect((await t.ok(q, { id: selected.id })).automation).toEqual({ host: 'files.example.test', port: 2200, username: 'loader', hasPassword: true, connection: { id: shared.id, name: shared.name } });

    const inline = await f.sftp(out, { host: 'own.example.test' });
    const own = (await t.ok(q, { id: inline.id })).automation;
    expect(own).toMatchObject({ host: 'own.example.test', hasPassword: true, connection: { name: inline.name } });

    // Inline settings change the import's own connection, never one an admin stored, even used by this import alone.
    const editor = t.as({ token: (await t.addUser(Role.EDITOR)).token });
    const alone = (await editor.ok(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`, { input: { name: uniqueName('sftp'), connectionId: shared.id, outputId: out.id } })).createSftpImport;
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: selected.id });
    const redirect = await editor.fail(`mutation($id: ID!, $i: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $i) { id } }`, { id: alone.id, i: { host: 'attacker.example.test', password: 'x' } });
    expect([redirect.extensions?.code, redirect.extensions?.field]).toEqual(['BAD_USER_INPUT', 'host']);
    expect((await t.ok(`query($id: ID!) { connection(id: $id) { host hasPassword } }`, { id: shared.id })).connection).toEqual({ host: 'files.example.test', hasPassword: true });
    await editor.ok(`mutation($id: ID!, $i: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $i) { id } }`, { id: inline.id, i: { host: 'own2.example.test', password: 'new' } });
    expect((await t.ok(q, { id: inline.id })).automation).toMatchObject({ host: 'own2.example.test', hasPassword: true });
    const second = (await t.ok(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`, { input: { name: uniqueName('sftp'), connectionId: shared.id, outputId: out.id } })).createSftpImport;
    const refused = await t.fail(`mutation($id: ID!, $i: UpdateSftpImportInput!) { updateSftpImport(id: $id, input: $i) { id } }`, { id: second.id, i: { host: 'elsewhere.example.test' } });
    expect([refused.extensions?.code, refused.extensions?.field]).toEqual(['BAD_USER_INPUT', 'host']);
    expect((await t.ok(`query($id: ID!) { connection(id: $id) { host } }`, { id: shared.id })).connection.host).toBe('files.example.test');

    const both = await t.fail(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`, { input: { name: uniqueName('sftp'), connectionId: shared.id, host: 'x', outputId: out.id } });
    expect(both.extensions?.field).toBe('connectionId');
    const wrongType = await t.fail(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id } }`, { input: { name: uniqueName('sftp'), connectionId: (await pgConnection()).id, outputId: out.id } });
    expect([wrongType.extensions?.code, wrongType.extensions?.field]).toEqual(['BAD_USER_INPUT', 'connectionId']);
  });
});
