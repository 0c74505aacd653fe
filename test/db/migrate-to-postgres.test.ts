import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { SecretKeyMismatchError } from '../../core/db/key-check.js';
import { SecretBox } from '../../core/secrets.js';
import { openSftpState, SFTP_STATE_FILE } from '../../jobs/runners/sftp-state.js';
import { MigrationError, migrateToPostgres } from '../../jobs/migration/to-postgres.js';
import { factories, type Ref } from '../factories/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { spawnTsx } from '../helpers/process.js';
import { startTestServer, TEST_SECRET_KEY, type TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';

/**
 * `npm run migrate-to-postgres` on a real workspace: what the API answers over the SQLite
 * workspace, it answers the same from PostgreSQL afterwards, served by a process on another
 * DATA_DIR (another machine): objects, lineage, schedules, runs and their logs, the warehouse's
 * rows, sealed secrets (still opened by the same key), and what SFTP imports remember.
 */

const SNAPSHOT = `{
  datasources(first: 100) { nodes { id name kind description tags path columns { name type } rowCount updatedAt join { leftKey rightKey type } createdAt modifiedAt } }
  automations(first: 100) { nodes {
    id name kind state writeMode errorPolicy lastRunStatus createdAt modifiedAt schedule { cron timezone }
    inputs { id } outputs { id } runs(first: 20) { nodes { id status trigger queuedAt startedAt finishedAt rowsRead rowsWritten error log } }
    ... on EtlStep { transform } ... on SftpImport { host port username hasPassword hasPrivateKey }
    ... on Script { language code variables } ... on ChainTask { steps { id } continueOnFailure }
  } }
  lineage(filter: { scheduledOnly: false }) { nodes { id type name } edges { source target kind } }
}`;

const dirs: string[] = [];
let source: TestServer;
let sourceDir: string;
let target: TestDatabase;
let before: unknown;
let a: Ref;

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tributary-migrate-'));
  dirs.push(d);
  return d;
}

/** The settings of the workspace to move: its DATA_DIR, the target database, the same key. */
function config(overrides: Record<string, string> = {}) {
  return loadConfig({ DATA_DIR: sourceDir, DATABASE_URL: target.url, WAREHOUSE_URL: target.url, TRIBUTARY_SECRET_KEY: TEST_SECRET_KEY.toString('hex'), LOG_LEVEL: 'silent', ...overrides });
}

async function count(table: string): Promise<number> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return 0; // not created yet
    throw error;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  sourceDir = dir();
  target = await createTestDatabase('tributary_migrate');
  // The workspace: SQLite files in DATA_DIR, whatever backend the suite runs on.
  source = await startTestServer({ DATA_DIR: sourceDir, DATABASE_URL: `sqlite://${join(sourceDir, 'tributary.db')}`, SCHEDULER_POLL_MS: '200' });
  const f = factories(source);
  a = await f.storage({ name: 'orders', tags: ['sales'], description: 'raw orders' });
  const b = await f.storage({ name: 'orders clean' });
  const j = await f.join(a, b, { name: 'orders joined' });
  const etl = await f.etl(a, b, { name: 'clean orders', schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris' }, transform: { steps: [{ op: 'filter', where: 'n > 1' }] } });
  await f.sftp(a, { name: 'drop box', password: 'pa55word' });
  const writer = await f.script({ name: 'writer', language: 'JAVASCRIPT', code: `await tributary.write("orders", [{ n: 1, s: "x" }, { n: 2, s: "y" }, { n: 3, s: null }]);\nconsole.log('wrote 3');`, outputIds: [a.id] });
  await f.chain([writer, etl], { name: 'nightly', continueOnFailure: true });
  await finished(source, (await runNow(source, writer.id)).id);
  await finished(source, (await runNow(source, etl.id)).id);
  expect(j.id).toBeTruthy();
  // What SFTP imports remember lives in its own file.
  const state = await openSftpState({ dialect: 'sqlite', file: join(sourceDir, SFTP_STATE_FILE) });
  await state.markImported('import-1', [{ name: 'a.csv', size: 10, mtime: 1_700_000_000_000 }]);
  await state.recordHostKey('import-1', 'sftp.example.test', 22, 'SHA256:abc');
  await state.close();
  before = await source.ok(SNAPSHOT);
  await source.server.close(); // every process stopped before moving
}, 120_000);

afterAll(async () => {
  await target?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('migrate-to-postgres', () => {
  it('refuses a process key that does not open the workspace, writing nothing', async () => {
    await expect(migrateToPostgres(config({ TRIBUTARY_SECRET_KEY: '09'.repeat(32) }))).rejects.toThrow(SecretKeyMismatchError);
    expect(await count('datasource')).toBe(0);
  });

  it('moves everything, and a server on another machine answers as the old one did', { timeout: 120_000 }, async () => {
    const report = await migrateToPostgres(config());
    expect(report.metadata).toMatchObject({ datasource: 3, automation: 4 });
    // The script's 3 rows in `orders`, and the 2 the ETL step kept in `orders clean`.
    expect(report.warehouse[a.id]).toBe(3);
    expect(Object.values(report.warehouse).sort()).toEqual([2, 3]);
    expect(report.sftpState).toEqual({ files: 1, hostKeys: 1 });

    const moved = await startTestServer({ DATA_DIR: dir(), DATABASE_URL: target.url, JOB_STORE_URL: target.url, WAREHOUSE_URL: target.url });
    try {
      expect(await moved.ok(SNAPSHOT)).toEqual(before);
      const rows = await moved.ok(`query($id: ID!) { rows(datasourceId: $id, first: 10) { nodes } }`, { id: a.id });
      expect(rows.rows.nodes).toEqual([
        { n: 1, s: 'x' },
        { n: 2, s: 'y' },
        { n: 3, s: null },
      ]);
      // The sealed password still opens with the same key: the import's plan has it in the clear.
      const sftp = (await moved.ok(`{ automation(name: "drop box") { id } }`)).automation;
      const { buildPlan } = await import('../../jobs/runs/run-plan.js');
      const { DataService } = await import('../../jobs/warehouse/data.service.js');
      const em = moved.server.orm.em.fork();
      const plan = await buildPlan(em as never, new DataService(em as never, moved.server.warehouse), SecretBox.fromKey(TEST_SECRET_KEY), sftp.id);
      expect(plan.sftp?.password).toBe('pa55word');
      // The schedule is back in the job store of the new deployment.
      expect((await moved.ok(`{ automation(name: "clean orders") { schedule { nextRunAt } } }`)).automation.schedule.nextRunAt).not.toBeNull();
      // New objects get ids and serial numbers after the copied ones.
      await factories(moved).storage({ name: 'after the move' });
      const state = await openSftpState({ dialect: 'postgresql', url: target.url });
      expect(await state.isImported('import-1', { name: 'a.csv', size: 10, mtime: 1_700_000_000_000 })).toBe(true);
      expect(await state.knownHostKey('import-1', 'sftp.example.test', 22)).toBe('SHA256:abc');
      await state.close();
    } finally {
      await moved.close();
    }
  });

  it('refuses to move into a database that already holds a workspace, changing nothing', async () => {
    const datasources = await count('datasource');
    await expect(migrateToPostgres(config())).rejects.toThrow(MigrationError);
    await expect(migrateToPostgres(config())).rejects.toThrow(/already holds a workspace/);
    expect(await count('datasource')).toBe(datasources);
  });

  it('is `npm run migrate-to-postgres`: it says what is wrong and exits 1', { timeout: 60_000 }, async () => {
    const empty = spawnTsx('jobs/migration/cli.ts', { DATA_DIR: dir(), DATABASE_URL: target.url });
    expect(await empty.exited).toBe(1);
    expect(empty.output()).toMatch(/Migration failed: there is no SQLite workspace to move: .*tributary\.db does not exist/);
    const notPostgres = spawnTsx('jobs/migration/cli.ts', { DATA_DIR: sourceDir, DATABASE_URL: '' });
    expect(await notPostgres.exited).toBe(1);
    expect(notPostgres.output()).toMatch(/DATABASE_URL must be the postgres:\/\/ URL of the database to move the workspace to/);
  });
});
