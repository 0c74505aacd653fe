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
      headers: { ...t.auth, 'content-type': 'application/json' },
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

  it('starts with `npm start`, prints a one-time setup link, serves data only to who signs in, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-start-'));
    const post = (url: string, query: string, variables: Record<string, unknown> = {}, cookie?: string) =>
      fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify({ query, variables }) });
    const CREATE = 'mutation { createDatasource(input: { name: "survives", kind: STORAGE }) { name } }';
    const SETUP = 'mutation($input: SetupFirstAdminInput!) { setupFirstAdmin(input: $input) { email role } }';
    try {
      const proc = spawnTsx('api/main.ts', { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
      const line = await proc.waitFor(/Tributary is listening/);
      const url = JSON.parse(line).url as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const link = new URL(JSON.parse(await proc.waitFor(/"setupLink"/)).setupLink as string);
      expect(link.origin + link.pathname).toBe(`${url}/setup`);

      // Nobody signed in: refused, nothing written.
      const anonymous = await post(url, CREATE);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(((await (await post(url, '{ setupRequired }')).json()) as any).data).toEqual({ setupRequired: true });

      const input = { token: link.searchParams.get('token'), email: 'Owner@Example.com', name: 'Owner', password: 'a long first password' };
      const setup = await post(url, SETUP, { input });
      expect(await setup.json()).toEqual({ data: { setupFirstAdmin: { email: 'owner@example.com', role: 'ADMIN' } } });
      const cookie = setup.headers.getSetCookie()[0]!;
      expect(cookie).toMatch(/^tributary_session=trs_[\w-]{43}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
      const session = cookie.split(';')[0]!;
      // The link works once.
      const again = (await (await post(url, SETUP, { input: { ...input, email: 'second@example.com' } })).json()) as any;
      expect(again.errors[0].extensions.code).toBe('UNAUTHENTICATED');

      expect(await (await post(url, CREATE, {}, session)).json()).toEqual({ data: { createDatasource: { name: 'survives' } } });
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toMatch(/"msg":"stopped"/);

      // After a restart: no new link (a user exists), the session still works, the data is there.
      const restarted = spawnTsx('api/main.ts', { DATA_DIR: dataDir, PORT: '0' });
      const url2 = JSON.parse(await restarted.waitFor(/Tributary is listening/)).url as string;
      const list = await post(url2, '{ datasources { nodes { name } } }', {}, session);
      expect(await list.json()).toEqual({ data: { datasources: { nodes: [{ name: 'survives' }] } } });
      expect(restarted.output()).not.toMatch(/setupLink/);
      restarted.child.kill('SIGINT');
      expect(await restarted.exited).toBe(0);
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
