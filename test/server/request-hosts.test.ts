/**
 * Requests from where they belong: a request addressed to a host name this server is not reached
 * by (DNS rebinding: a page whose own name now points at 127.0.0.1), or sent by a page of another
 * site, is refused with 403 before GraphQL runs, and writes nothing.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAllowed } from '../../api/http/request-hosts.js';
import { loadConfig } from '../../core/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let port: number;

beforeAll(async () => {
  t = await startTestServer({ ALLOWED_HOSTS: 'tributary.internal,.corp.example' });
  port = Number(new URL(t.url).port);
});
afterAll(() => t?.close());

const CREATE = JSON.stringify({ query: `mutation { createDatasource(input: { name: "rebound", kind: STORAGE }) { id } }` });

/** A raw HTTP request to the test server with exactly these headers (fetch may not set Host), and the admin's token: refused all the same. */
function send(path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // setHost: false sends exactly the given Host header, or none.
    const req = request({ host: '127.0.0.1', port, path, setHost: false, method: body ? 'POST' : 'GET', headers: { ...t.auth, ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function datasourceNamed(name: string): Promise<boolean> {
  const data = await t.ok(`query($name: String!) { datasource(name: $name) { id } }`, { name });
  return Boolean(data.datasource);
}

describe('requests addressed to a foreign host', () => {
  it('refuses a mutation for Host: attacker.example with 403 FORBIDDEN, and creates nothing', async () => {
    const refused = await send('/graphql', { host: `attacker.example:${port}` }, CREATE);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(JSON.parse(refused.text).errors[0].message).toMatch(/host "attacker\.example:\d+" are not accepted here: set PUBLIC_URL or ALLOWED_HOSTS/);
    expect(await datasourceNamed('rebound')).toBe(false);
    expect((await send('/', { host: 'attacker.example' })).status).toBe(403);
    expect((await send('/graphql', {}, CREATE)).status).toBe(400); // no Host at all: Node's HTTP server refuses it first
    expect((await send('/graphql', { host: '127.0.0.1.attacker.example' }, CREATE)).status).toBe(403);
    expect(await datasourceNamed('rebound')).toBe(false);
    expect(t.logs.some((l) => l.msg === 'refused a request for a foreign host' && l.host === `attacker.example:${port}`)).toBe(true);
  });

  it('refuses a request a page of another site sends, even to the right host', async () => {
    const refused = await send('/graphql', { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' }, CREATE);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).errors[0].message).toMatch(/pages of "http:\/\/attacker\.example"/);
    expect((await send('/graphql', { host: `127.0.0.1:${port}`, origin: 'null' }, CREATE)).status).toBe(403);
    expect(await datasourceNamed('rebound')).toBe(false);
  });

  it('answers the names it is reached by, its own pages, and /healthz for any name', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'tributary.internal', 'TRIBUTARY.internal:8443', 'data.corp.example', 'corp.example']) {
      const answer = await send('/graphql', { host }, JSON.stringify({ query: '{ __typename }' }));
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
    expect((await send('/graphql', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }, CREATE)).status).toBe(200);
    expect(await datasourceNamed('rebound')).toBe(true);
    expect((await send('/healthz', { host: '10.1.2.3:4000' })).status).toBe(200);
  });
});

describe('the names a configuration accepts', () => {
  it('takes PUBLIC_URL\'s host, and refuses to listen on every interface without one', () => {
    const behind = loadConfig({ HOST: '0.0.0.0', PUBLIC_URL: 'https://tributary.example.com', DATA_DIR: t.dataDir });
    const allowed = hostAllowed(behind);
    expect(['tributary.example.com', 'attacker.example', '0.0.0.0', 'localhost'].map(allowed)).toEqual([true, false, false, false]);
    expect(() => loadConfig({ HOST: '0.0.0.0', DATA_DIR: t.dataDir })).toThrow(/HOST=0\.0\.0\.0 accepts connections on every interface: set PUBLIC_URL/);
    expect(() => loadConfig({ PUBLIC_URL: 'javascript:alert(1)', DATA_DIR: t.dataDir })).toThrow(/PUBLIC_URL must be the http:\/\/ or https:\/\/ address/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'ok.example,bad host', DATA_DIR: t.dataDir })).toThrow(/ALLOWED_HOSTS must be host names/);
  });
});
