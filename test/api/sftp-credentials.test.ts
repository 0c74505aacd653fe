import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithFactories, uniqueName, type Factories, type Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

const UPDATE = `mutation($id: ID!, $input: UpdateSftpImportInput!) {
  updateSftpImport(id: $id, input: $input) { host port username hasPassword hasPrivateKey credentialsDropped } }`;
const PREVIEW = `query($id: ID!) { previewAutomation(id: $id, sampleSize: 1) { log } }`;
const SECRET = 'old-server-s3cret';

/** An SSH server an attacker controls: it records every login attempt (and refuses them all). */
interface Trap {
  host: string;
  port: number;
  attempts: { method: string; username: string; password?: string }[];
  close(): Promise<void>;
}

async function startTrap(): Promise<Trap> {
  const attempts: Trap['attempts'] = [];
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      attempts.push({ method: ctx.method, username: ctx.username, password: ctx.method === 'password' ? ctx.password : undefined });
      ctx.reject(['password', 'publickey']);
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: '127.0.0.1', port, attempts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let t: TestServer;
let f: Factories;
let trap: Trap;
let output: Ref;
beforeAll(async () => {
  ({ t, f } = await serverWithFactories());
  trap = await startTrap();
  output = await f.storage();
});
afterAll(async () => {
  await trap?.close();
  await t?.close();
});

const sftpImport = () => f.sftp(output, { name: uniqueName('bound'), host: 'sftp.partner.test', port: 22, username: 'loader', password: SECRET });

describe('SFTP credentials are bound to where they go', () => {
  it('a host and port change without a new password clears the stored one, so a preview never sends it to the new server', async () => {
    const sftp = await sftpImport();
    const { updateSftpImport } = await t.ok(UPDATE, { id: sftp.id, input: { host: trap.host, port: trap.port } });
    expect(updateSftpImport).toMatchObject({ host: trap.host, port: trap.port, hasPassword: false, hasPrivateKey: false, credentialsDropped: true });

    const error = await t.fail(PREVIEW, { id: sftp.id });
    expect(error.extensions?.code).toBe('PREVIEW_FAILED');
    expect(error.message).toMatch(/no password or private key.*host, port or user name changes/);
    // The attack was to make the server log in to the trap with the stored password: nothing reached it.
    expect(trap.attempts).toEqual([]);

    // The same import with a password given again does reach the trap, and only with that new password.
    await t.ok(UPDATE, { id: sftp.id, input: { password: 'typed-again' } });
    await t.fail(PREVIEW, { id: sftp.id });
    expect(trap.attempts.filter((a) => a.method === 'password').map((a) => a.password)).toEqual(['typed-again']);
    expect(JSON.stringify(trap.attempts)).not.toContain(SECRET);
  });

  it('a changed port or user name alone clears the secrets too; other edits keep them', async () => {
    const byPort = await sftpImport();
    expect((await t.ok(UPDATE, { id: byPort.id, input: { port: 2222 } })).updateSftpImport).toMatchObject({ hasPassword: false, credentialsDropped: true });
    const byUser = await sftpImport();
    expect((await t.ok(UPDATE, { id: byUser.id, input: { username: 'root' } })).updateSftpImport).toMatchObject({ hasPassword: false, credentialsDropped: true });

    const kept = await sftpImport();
    const same = { host: 'sftp.partner.test', port: 22, username: 'loader', remoteDir: '/out', filePattern: '*.csv' }; // what the edit form sends
    expect((await t.ok(UPDATE, { id: kept.id, input: same })).updateSftpImport).toMatchObject({ hasPassword: true, credentialsDropped: false });
  });

  it('new secrets given in the same update are kept, and a key stored for the old server goes with the password', async () => {
    const sftp = await sftpImport();
    const { updateSftpImport } = await t.ok(UPDATE, { id: sftp.id, input: { host: 'other.partner.test', password: 'for-the-new-host' } });
    expect(updateSftpImport).toMatchObject({ host: 'other.partner.test', hasPassword: true, credentialsDropped: false });

    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    const both = await sftpImport();
    await t.ok(UPDATE, { id: both.id, input: { privateKey: key } });
    const moved = await t.ok(UPDATE, { id: both.id, input: { host: 'third.partner.test', password: 'new' } });
    expect(moved.updateSftpImport).toMatchObject({ hasPassword: true, hasPrivateKey: false, credentialsDropped: true });
  });

  it('a run of an import whose secrets were cleared fails clearly without connecting', async () => {
    const sftp = await sftpImport();
    await t.ok(UPDATE, { id: sftp.id, input: { host: trap.host, port: trap.port } });
    const before = trap.attempts.length;
    const { runAutomation } = await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: sftp.id });
    let run: { status: string; error: string | null } = { status: 'QUEUED', error: null };
    for (let i = 0; i < 100 && ['QUEUED', 'RUNNING'].includes(run.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await t.ok(`query($id: ID!) { run(id: $id) { status error } }`, { id: runAutomation.id })).run;
    }
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/no password or private key/);
    expect(trap.attempts.length).toBe(before);
  });
});
