/**
 * A server on PostgreSQL whose connections are all ended from the server side (PostgreSQL
 * restarted, an administrator's pg_terminate_backend, a database dropped under a second process)
 * keeps running: no pool or listener may turn the lost connection into an uncaught error, which
 * would end the process. Vitest fails a run on any uncaught error, so this test fails if one does.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, TEST_BACKEND } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0).reverse()) await s.close();
});

/** Ends every connection to `database` but the caller's, as PostgreSQL does on a restart; how many it ended. */
async function terminateAll(database: string): Promise<number> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ ended: boolean }>(
      `select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    );
    return rows.filter((r) => r.ended).length;
  } finally {
    await client.end();
  }
}

describe.skipIf(TEST_BACKEND !== 'postgres')('losing every PostgreSQL connection', () => {
  it('keeps the server up, and it serves again on new connections', async () => {
    const t = await startTestServer();
    servers.push(t);
    await t.ok(`mutation { createDatasource(input: { name: "before", kind: STORAGE }) { id } }`);
    const database = new URL(t.backendEnv.DATABASE_URL!).pathname.slice(1);

    // Every store's pool and listener holds idle connections by now: the job store, its LISTEN, the events listener, the warehouse, the SFTP state.
    expect(await terminateAll(database)).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the 'error' events arrive on idle connections

    expect(t.logs.some((l) => l.level === 40 && /job store connection failed/.test(l.msg))).toBe(true);
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    await t.ok(`mutation { createDatasource(input: { name: "after", kind: STORAGE }) { id } }`);
    const { datasources } = await t.ok(`{ datasources(first: 10) { nodes { name } } }`);
    expect(datasources.nodes.map((d: { name: string }) => d.name).sort()).toEqual(['after', 'before']);
  });
});
