import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_ENV, spawnTsx, startServerProcess, type ServerProcess, type Spawned } from '../helpers/process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { eventually } from './helpers.js';

/**
 * Scale-out on PostgreSQL, as a two-machine deployment runs it: two API processes started with
 * --no-jobs and one worker, each with a DATA_DIR of its own (nothing shared on disk), all three
 * stores in one PostgreSQL database, one TRIBUTARY_SECRET_KEY. Runs queued through either API
 * process run in the worker; a stop asked of one API process reaches the worker; lineage written
 * through one API process is what the other answers; a process with another key refuses to start.
 */

const procs: Spawned[] = [];
const dirs: string[] = [];
let db: TestDatabase;
let client: pg.Client;
let apiA: ServerProcess;
let apiB: ServerProcess;
let worker: Spawned;

const RUN = `mutation($id: ID!) { runAutomation(id: $id) { id status } }`;
const RUN_STATUS = `query($id: ID!) { run(id: $id) { status error } }`;

function env(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-scale-'));
  dirs.push(dir);
  return { ...PROCESS_ENV, DATA_DIR: dir, DATABASE_URL: db.url, JOB_STORE_URL: db.url, WAREHOUSE_URL: db.url };
}

beforeAll(async () => {
  db = await createTestDatabase('tributary_scale');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  apiA = await startServerProcess(env(), procs, ['--no-jobs']);
  apiB = await startServerProcess(env(), procs, ['--no-jobs']);
  worker = spawnTsx('jobs/worker.ts', env());
  procs.push(worker);
  await worker.waitFor(/worker is running jobs/, 60_000);
}, 180_000);

afterAll(async () => {
  for (const proc of procs) proc.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await client?.end();
  await db?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function runStatus(api: ServerProcess, id: string): Promise<{ status: string; error: string | null }> {
  return (await api.ok(RUN_STATUS, { id })).run;
}

describe('scale-out on PostgreSQL', () => {
  it('is what the processes say they are: API processes take no job, the worker does', () => {
    for (const api of [apiA, apiB]) expect(api.proc.output()).toMatch(/"runsJobs":false/);
  });

  it('runs a run queued through either API process in the worker, exactly once', { timeout: 120_000 }, async () => {
    const out = (await apiA.ok(`mutation { createDatasource(input: { name: "scaled", kind: STORAGE }) { id } }`)).createDatasource;
    const script = (
      await apiA.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
        input: { name: 'writer', language: 'JAVASCRIPT', code: `await tributary.write("scaled", [{ n: 1 }, { n: 2 }]);`, outputIds: [out.id] },
      })
    ).createScript;
    const runs: string[] = [];
    for (const api of [apiA, apiB]) {
      const { id } = (await api.ok(RUN, { id: script.id })).runAutomation;
      runs.push(id);
      await eventually(() => runStatus(api, id), (r) => r.status === 'SUCCESS' || r.status === 'FAILED', 60_000, 100);
      expect(await runStatus(api, id)).toEqual({ status: 'SUCCESS', error: null });
    }
    const { rows } = await client.query<{ worker: string; starts: string }>(
      `select worker, (select count(*) from run_log l where l.run_id = run.id and l.line like '%started (manual)%') as starts from run where id = any($1)`,
      [runs],
    );
    expect(rows.map((r) => r.worker.split(':')[1])).toEqual([String(worker.child.pid), String(worker.child.pid)]);
    expect(rows.map((r) => Number(r.starts))).toEqual([1, 1]);
    // The rows are in the shared warehouse: the other API process reads them.
    expect((await apiB.ok(`query($id: ID!) { rows(datasourceId: $id, first: 10) { nodes } }`, { id: out.id })).rows.nodes).toHaveLength(2);
  });

  it('delivers a stop asked of one API process to the worker running the run', { timeout: 120_000 }, async () => {
    const out = (await apiA.ok(`mutation { createDatasource(input: { name: "slow out", kind: STORAGE }) { id } }`)).createDatasource;
    const script = (
      await apiA.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
        input: { name: 'slow', language: 'JAVASCRIPT', code: `await new Promise((r) => setTimeout(r, 120000));`, outputIds: [out.id] },
      })
    ).createScript;
    const { id } = (await apiB.ok(RUN, { id: script.id })).runAutomation;
    await eventually(() => runStatus(apiA, id), (r) => r.status === 'RUNNING', 60_000, 100);
    await apiA.ok(`mutation($id: ID!) { stopAutomation(id: $id) { state } }`, { id: script.id });
    await eventually(() => runStatus(apiB, id), (r) => r.status !== 'RUNNING', 30_000, 100);
    expect((await runStatus(apiB, id)).status).toBe('CANCELLED');
  });

  it('shows lineage written through one API process in the other', async () => {
    const a = (await apiA.ok(`mutation { createDatasource(input: { name: "lin a", kind: STORAGE }) { id } }`)).createDatasource;
    const b = (await apiA.ok(`mutation { createDatasource(input: { name: "lin b", kind: STORAGE }) { id } }`)).createDatasource;
    await apiA.ok(`mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id } }`, { input: { name: 'lin etl', inputId: a.id, outputId: b.id } });
    const refused = await apiB.ok(`query($id: ID!) { deletionImpact(datasourceId: $id) { name } }`, { id: a.id });
    expect(refused.deletionImpact.map((d: { name: string }) => d.name)).toEqual(['lin etl']);
  });

  it('refuses to start a process whose TRIBUTARY_SECRET_KEY differs, before it does anything', { timeout: 60_000 }, async () => {
    const before = (await client.query(`select count(*) as n from run`)).rows[0].n;
    const stranger = spawnTsx('jobs/worker.ts', { ...env(), TRIBUTARY_SECRET_KEY: '08'.repeat(32) });
    procs.push(stranger);
    expect(await stranger.exited).toBe(1);
    expect(stranger.output()).toMatch(/TRIBUTARY_SECRET_KEY does not match the key this database's secrets are sealed with/);
    expect(stranger.output()).not.toMatch(/08080808/);
    expect((await client.query(`select count(*) as n from run`)).rows[0].n).toBe(before);
    // The processes that share the key still answer.
    expect((await apiA.ok(`{ datasources(first: 1) { totalCount } }`)).datasources.totalCount).toBeGreaterThan(0);
  });
});
