import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../core/config.js';
import { startServer, type RunningServer } from '../../api/server.js';
import { TEST_SECRET_KEY } from '../helpers/server.js';
import { addTestUser, signIn } from '../helpers/auth.js';
import { Role } from '../../core/enums.js';

/** A stand-in bundle, so these tests check the serving rules without building the real one. */
function fakeBundle(dir: string): void {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app shell</title>');
  writeFileSync(join(dir, 'graphiql.html'), '<!doctype html><title>graphiql shell</title>');
  writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log("app")');
}

async function start(webDist: string): Promise<{ server: RunningServer; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-serving-'));
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });
  const server = await startServer({ config, logger: pino({ level: 'silent' }), secretKey: TEST_SECRET_KEY, webDist });
  return { server, dataDir };
}

const get = (url: string, accept = 'text/html') => fetch(url, { headers: { accept } });

describe('web UI serving', () => {
  const bundle = mkdtempSync(join(tmpdir(), 'tributary-bundle-'));
  let built: { server: RunningServer; dataDir: string };
  let unbuilt: { server: RunningServer; dataDir: string };

  beforeAll(async () => {
    fakeBundle(bundle);
    built = await start(bundle);
    unbuilt = await start(join(bundle, 'does-not-exist'));
  });
  afterAll(async () => {
    for (const { server, dataDir } of [built, unbuilt]) {
      await server?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
    rmSync(bundle, { recursive: true, force: true });
  });

  it('serves the app at / and index.html for client routes, assets as files, GraphiQL at /graphiql', async () => {
    for (const path of ['/', '/datasources/123', '/automations?kind=ETL_STEP']) {
      const response = await get(`${built.server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toContain('app shell');
    }
    const asset = await get(`${built.server.url}/assets/app-1234.js`, '*/*');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // GraphiQL needs a session: without one, to the login page and back.
    const anonymous = await fetch(`${built.server.url}/graphiql`, { redirect: 'manual' });
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([303, '/login?next=%2Fgraphiql']);
    const admin = await addTestUser(built.server.orm, Role.ADMIN);
    const cookie = await signIn(built.server.url, admin.email);
    expect(await (await fetch(`${built.server.url}/graphiql`, { headers: { accept: 'text/html', cookie } })).text()).toContain('graphiql shell');
  });

  it('never answers index.html for /graphql, /healthz or a missing asset', async () => {
    const health = await get(`${built.server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const graphqlGet = await get(`${built.server.url}/graphql`);
    expect(await graphqlGet.text()).not.toContain('app shell');
    const nested = await get(`${built.server.url}/graphql/extra`);
    expect(await nested.text()).not.toContain('app shell');
    const missing = await get(`${built.server.url}/assets/gone-999.js`, '*/*');
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toContain('app shell');
    const post = await fetch(`${built.server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await post.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('says how to build the UI when web/dist is missing, and the API still works', async () => {
    for (const path of ['/', '/graphiql', '/some/route']) {
      const response = await get(`${unbuilt.server.url}${path}`);
      expect(response.status, path).toBe(503);
      expect(await response.text(), path).toContain('npm run build:web');
    }
    expect(await (await get(`${unbuilt.server.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });
});
