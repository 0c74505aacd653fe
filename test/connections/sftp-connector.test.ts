/**
 * An SFTP connector against a real OpenSSH server: its connection tested live (and an AUTH failure
 * named), file patterns becoming SFTP imports, their rows ingested and counted per hour.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSshd, type SshServer } from '../helpers/sshd.js';
import { finished, runNow } from '../scheduler/helpers.js';

let t: TestServer;
let sshd: SshServer;
beforeAll(async () => {
  [t, sshd] = await Promise.all([startTestServer(), startSshd()]);
});
afterAll(async () => {
  await Promise.all([t.close(), sshd.stop()]);
});

const create = async (input: Record<string, unknown>) =>
  (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id name } }`, { input: { name: uniqueName('sftp'), type: 'SFTP', host: sshd.host, port: sshd.port, ...input } }))
    .createConnection as { id: string; name: string };
const test = async (id: string) => (await t.ok(`mutation($id: ID!) { testConnection(id: $id) { ok message failure } }`, { id })).testConnection;

describe('an SFTP connector', () => {
  it('tests its connection live, naming a refused login', async () => {
    const good = await create({ username: sshd.username, privateKey: sshd.privateKey });
    const result = await test(good.id);
    expect(result).toMatchObject({ ok: true, failure: null });
    expect(result.message).toContain(sshd.hostKeyFingerprint);
    const bad = await create({ username: 'nobody-here', password: 'wrong' });
    expect(await test(bad.id)).toMatchObject({ ok: false, failure: 'AUTH' });
  });

  it('turns file patterns into SFTP imports that ingest the files', { timeout: 60_000 }, async () => {
    const dir = sshd.newDir();
    mkdirSync(join(dir, 'incoming'));
    writeFileSync(join(dir, 'incoming', 'orders-1.csv'), 'id,total\n1,9.5\n2,3\n');
    writeFileSync(join(dir, 'incoming', 'orders-2.csv'), 'id,total\n3,1\n');
    writeFileSync(join(dir, 'incoming', 'notes.txt'), 'not data\n');
    const connection = await create({ username: sshd.username, privateKey: sshd.privateKey });
    const name = uniqueName('files');
    const c = (await t.ok(`mutation($input: CreateConnectorInput!) { createConnector(input: $input) { id } }`, { input: { name, type: 'SFTP' } })).createConnector;
    await t.ok(`mutation($id: ID!) { completePrerequisites(connectorId: $id) { id } }`, { id: c.id });
    await t.ok(`mutation($id: ID!) { configureConnector(connectorId: $id, input: { tablePrefix: "drop_" }) { id } }`, { id: c.id });
    await t.ok(`mutation($id: ID!, $c: ID!) { setConnectorConnection(connectorId: $id, connectionId: $c) { id } }`, { id: c.id, c: connection.id });
    const done = (
      await t.ok(`mutation($id: ID!, $tables: [String!]!) { finalizeConnector(connectorId: $id, input: { tables: $tables }) { status ingestions { id ... on SftpImport { remoteDir filePattern writeMode output { id name } connection { id } } } } }`, {
        id: c.id,
        tables: [`${dir}/incoming/orders-*.csv`],
      })
    ).finalizeConnector;
    expect(done.status).toBe('STARTED');
    const [ingestion] = done.ingestions;
    expect(ingestion).toMatchObject({ remoteDir: `${dir}/incoming`, filePattern: 'orders-*.csv', writeMode: 'APPEND', connection: { id: connection.id }, output: { name: 'drop_orders' } });
    const run = await finished(t, (await runNow(t, ingestion.id)).id, 30_000);
    expect([run.status, run.error, run.rowsWritten]).toEqual(['SUCCESS', null, 3]);
    const now = Date.now();
    const stats = (
      await t.ok(`query($c: ID!, $from: DateTime!, $to: DateTime!) { ingestionStatistics(connectorId: $c, from: $from, to: $to) { rows runs } }`, {
        c: c.id,
        from: new Date(now - 3_600_000).toISOString(),
        to: new Date(now + 3_600_000).toISOString(),
      })
    ).ingestionStatistics;
    expect(stats.reduce((n: number, h: { rows: number }) => n + h.rows, 0)).toBe(3);
  });
});
