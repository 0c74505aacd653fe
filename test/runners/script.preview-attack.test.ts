import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithFactories, type Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { PY_ESCAPE } from './sandbox-helpers.js';

/**
 * Previews run in the server that answers the request (a preview must write nothing). These are
 * the attacks that shut a real server down or made it write, tried again through GraphQL.
 */

const PREVIEW = `query($id: ID!) { previewAutomation(id: $id, sampleSize: 1) { log } }`;
const SECRET = `secret-${randomBytes(12).toString('hex')}`;

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  ({ t, f } = await serverWithFactories());
  writeFileSync(join(t.dataDir, 'secret.key'), SECRET, { mode: 0o600 });
});
afterAll(() => t.close());

async function stillServing(): Promise<void> {
  expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  expect((await t.ok(`query { datasource(name: "does not exist") { id } }`)).datasource).toBeNull();
}

describe('a script preview cannot reach the server', () => {
  it('process.kill(process.ppid) (SIGTERM, SIGKILL) and kill(-1) leave the server running', async () => {
    const output = await f.storage();
    const code = `for (const [pid, sig] of [[process.ppid, 'SIGTERM'], [process.ppid, 'SIGKILL'], [-1, 'SIGKILL']]) {
      try { process.kill(pid, sig); console.log('sent', sig, 'to', pid); } catch (error) { console.log('refused', pid, error.code); }
    }
    await new Promise((r) => setTimeout(r, 300));
    console.log('still here');`;
    const script = await f.script({ language: 'JAVASCRIPT', code, outputIds: [output.id] });
    const { previewAutomation } = await t.ok(PREVIEW, { id: script.id });
    expect(previewAutomation.log).toContain('sent SIGTERM to 1'); // the attack ran; the ppid it sees is the sandbox's own PID 1
    expect(previewAutomation.log).toContain('still here');
    await stillServing();
  });

  it('fetch() to the server\'s own GraphQL endpoint fails: no datasource is created', async () => {
    const name = `pwned-${randomUUID()}`;
    const output = await f.storage();
    const mutation = JSON.stringify({ query: `mutation { createDatasource(input: { name: "${name}", kind: STORAGE }) { id } }` });
    const code = `try {
      const response = await fetch(${JSON.stringify(`${t.url}/graphql`)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(mutation)} });
      console.log('answered', response.status, await response.text());
    } catch (error) {
      console.log('refused', error.cause?.code ?? error.message);
    }`;
    const script = await f.script({ language: 'JAVASCRIPT', code, outputIds: [output.id] });
    const { previewAutomation } = await t.ok(PREVIEW, { id: script.id });
    expect(previewAutomation.log).toContain('refused ECONNREFUSED');
    expect((await t.ok(`query($name: String) { datasource(name: $name) { id } }`, { name })).datasource).toBeNull();
    await stillServing();
  });

  it('a Python preview that escapes the audit hook reads neither the secret key nor the databases', async () => {
    const output = await f.storage();
    const code = `${PY_ESCAPE}
print(shell("echo uid=$(id -u); cat ${t.dataDir}/secret.key; ls ${t.dataDir}"))
import sqlite3
try:
    print(sqlite3.connect("file:${t.dataDir}/tributary.db?mode=ro", uri=True).execute("select * from sqlite_master").fetchall())
except Exception as error:
    print("refused", error)`;
    const script = await f.script({ language: 'PYTHON', code, outputIds: [output.id] });
    const { previewAutomation } = await t.ok(PREVIEW, { id: script.id });
    const log = previewAutomation.log.join('\n');
    expect(log).toContain('uid=65534');
    expect(log).toContain(`cat: ${t.dataDir}/secret.key: No such file or directory`);
    expect(log).toContain('refused unable to open database file');
    expect(log).not.toContain(SECRET);
    await stillServing();
  });
});
