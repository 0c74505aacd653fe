import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../api/server.js';
import { spawnTsx } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe(startServer.name, () => {
  it('answers /healthz', async () => {
    const response = await fetch(`${t.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('blocks cross-site simple requests (Apollo CSRF prevention)', async () => {
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/Cross-Site Request Forgery/);
    const get = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(400);
  });

  it('answers an oversized body with a JSON error, not a stack page', async () => {
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(5 * 1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ errors: [{ message: 'request body is larger than the 4mb limit', extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('hides internals of unexpected errors from clients and logs them with their stack', async () => {
    const broken = await startTestServer();
    try {
      await broken.server.orm.em.getConnection().execute('drop table script_token');
      const { data: ds } = await broken.gql(`mutation { createDatasource(input: { name: "x", kind: STORAGE }) { id } }`);
      const result = await broken.gql(`query($id: ID!) { deletionImpact(datasourceId: $id) { id } }`, { id: (ds as any).createDatasource.id });
      expect(result.errors).toEqual([expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
      expect(JSON.stringify(result)).not.toMatch(/script_token|SQLITE|stack/i);
      const logged = broken.logs.find((l) => l.msg === 'unexpected error while resolving a request');
      expect(logged?.level).toBe(50);
      expect(logged?.err.stack).toMatch(/(no such table: script_token|relation "script_token" does not exist)[\s\S]*at /);
    } finally {
      await broken.close();
    }
  });

  it('starts with `npm start`, serves data from DATA_DIR and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-start-'));
    try {
      const proc = spawnTsx('api/main.ts', { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
      const line = await proc.waitFor(/Tributary is listening/);
      const url = JSON.parse(line).url as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { createDatasource(input: { name: "survives", kind: STORAGE }) { name } }' }),
      });
      expect(await response.json()).toEqual({ data: { createDatasource: { name: 'survives' } } });
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toMatch(/"msg":"stopped"/);

      const again = spawnTsx('api/main.ts', { DATA_DIR: dataDir, PORT: '0' });
      const url2 = JSON.parse(await again.waitFor(/Tributary is listening/)).url as string;
      const list = await fetch(`${url2}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ datasources { nodes { name } } }"}' });
      expect(await list.json()).toEqual({ data: { datasources: { nodes: [{ name: 'survives' }] } } });
      again.child.kill('SIGINT');
      expect(await again.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on bad configuration, naming each bad variable', async () => {
    const proc = spawnTsx('api/main.ts', { PORT: 'abc', LOG_LEVEL: 'shout', DATA_DIR: join(tmpdir(), 'tributary-unused') });
    expect(await proc.exited).toBe(78);
    expect(proc.output()).toMatch(/Invalid configuration:\n {2}- PORT must be an integer[^\n]*\n {2}- LOG_LEVEL must be one of/);
  });
});
