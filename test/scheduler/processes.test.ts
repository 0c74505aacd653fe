import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrm, sqliteDatabase } from '../../core/db/orm.js';
import { RunTrigger } from '../../core/db/entities/index.js';
import { RunService } from '../../jobs/runs/run.service.js';
import { backendEnv } from '../helpers/postgres.js';
import { PROCESS_ENV, spawnTsx, startServerProcess, type Spawned } from '../helpers/process.js';
import { eventually, sleepyScript } from './helpers.js';

const dirs: string[] = [];
const procs: Spawned[] = [];
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const drop of drops.splice(0)) await drop();
});

/** A data dir, and on TRIBUTARY_TEST_BACKEND=postgres a fresh database for its stores (in `env`, with DATA_DIR). */
async function dataDir(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-procs-'));
  dirs.push(dir);
  const backend = await backendEnv();
  drops.push(backend.drop);
  return { dir, env: { DATA_DIR: dir, ...backend.env } };
}

/** `npm start` in a child process; resolves once it listens, with a GraphQL client. */
const server = (space: { env: Record<string, string> }) => startServerProcess(space.env, procs);

/** The metadata database the processes of `space` use, opened here directly. */
const metadata = (space: { dir: string; env: Record<string, string> }) =>
  openOrm({ database: space.env.DATABASE_URL ? { dialect: 'postgresql', url: space.env.DATABASE_URL } : sqliteDatabase(join(space.dir, 'tributary.db')) });

const RUNS = `runs(first: 50) { nodes { id status trigger error startedAt log } }`;

describe('crash safety', () => {
  it('after kill -9 mid-run the run is FAILED ("worker stopped") at restart and the schedule goes on', async () => {
    const space = await dataDir();
    const first = await server(space);
    const out = (await first.ok(`mutation { createDatasource(input: { name: "out", kind: STORAGE }) { id } }`)).createDatasource;
    const script = (
      await first.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
        input: { name: 'slow', language: 'JAVASCRIPT', code: sleepyScript('out', 120_000), outputIds: [out.id], schedule: { cron: '*/2 * * * * *', timezone: 'UTC' } },
      })
    ).createScript;
    const runs = async (api: typeof first) => (await api.ok(`query($id: ID!) { automation(id: $id) { ${RUNS} } }`, { id: script.id })).automation.runs.nodes as any[];
    const [victim] = (await eventually(() => runs(first), (r) => r.some((x) => x.status === 'RUNNING'), 20_000)).filter((r) => r.status === 'RUNNING');

    first.proc.child.kill('SIGKILL');
    await first.proc.exited;

    const restartedAt = Date.now();
    const second = await server(space);
    const after = await eventually(
      () => runs(second),
      (r) => r.find((x) => x.id === victim.id)?.status === 'FAILED' && r.some((x) => x.trigger === 'SCHEDULE' && x.startedAt && new Date(x.startedAt).getTime() >= restartedAt),
      30_000,
    );
    const failed = after.find((x) => x.id === victim.id)!;
    expect(failed.error).toMatch(/worker stopped/);
    expect(failed.log.join('\n')).toMatch(/stopped while running; marked FAILED/);
    expect(after.filter((x) => x.status === 'RUNNING')).toHaveLength(1); // the new one; never two
    await second.ok(`mutation($id: ID!) { stopAutomation(id: $id) { state } }`, { id: script.id });
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  });

  it('reconciles the job store with a database edited while the server was stopped', async () => {
    const space = await dataDir();
    const first = await server(space);
    const out = (await first.ok(`mutation { createDatasource(input: { name: "out", kind: STORAGE }) { id } }`)).createDatasource;
    const create = async (name: string, schedule: unknown) =>
      (
        await first.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
          input: { name, language: 'JAVASCRIPT', code: sleepyScript('out', 0, 1), outputIds: [out.id], schedule },
        })
      ).createScript.id as string;
    const wasScheduled = await create('was scheduled', { cron: '0 0 1 1 *', timezone: 'UTC' });
    const becomesScheduled = await create('becomes scheduled', null);
    first.proc.child.kill('SIGTERM');
    expect(await first.proc.exited).toBe(0);

    const orm = await metadata(space);
    await orm.em.getConnection().execute(`update automation set schedule_cron = null, schedule_timezone = null where id = ?`, [wasScheduled]);
    await orm.em.getConnection().execute(`update automation set schedule_cron = '*/2 * * * * *', schedule_timezone = 'UTC' where id = ?`, [becomesScheduled]);
    await orm.close();

    const second = await server(space);
    const line = await second.proc.waitFor(/schedules reconciled/, 30_000);
    expect(JSON.parse(line)).toMatchObject({ added: 1, removed: 1 });
    const data = await eventually(
      () => second.ok(`query($a: ID!, $b: ID!) { a: automation(id: $a) { schedule { nextRunAt } runs { totalCount } } b: automation(id: $b) { runs { nodes { trigger status } } } }`, { a: wasScheduled, b: becomesScheduled }),
      (d: any) => d.b.runs.nodes.some((r: any) => r.status === 'SUCCESS'),
      20_000,
    );
    expect(data.a).toEqual({ schedule: null, runs: { totalCount: 0 } });
    expect(data.b.runs.nodes[0].trigger).toBe('SCHEDULE');
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  });
});

describe('worker processes', () => {
  it('two `npm run worker` processes share the queue: 200 runs, each run exactly once', { timeout: 180_000 }, async () => {
    const space = await dataDir();
    const dir = space.dir;
    const input = join(dir, 'files', 'in.csv'); // the default FILE_ROOTS directory
    mkdirSync(join(dir, 'files'), { recursive: true });
    writeFileSync(input, 'id,v\n1,a\n2,b\n');
    const api = await server(space);
    const source = (await api.ok(`mutation($path: String!) { createDatasource(input: { name: "in", kind: FILE, path: $path }) { id } }`, { path: input })).createDatasource;
    const sink = (await api.ok(`mutation { createDatasource(input: { name: "sink", kind: STORAGE }) { id } }`)).createDatasource;
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const etl = await api.ok(`mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id } }`, {
        input: { name: `copy ${i}`, inputId: source.id, outputId: sink.id, writeMode: 'APPEND' },
      });
      ids.push(etl.createEtlStep.id);
    }
    api.proc.child.kill('SIGTERM');
    expect(await api.proc.exited).toBe(0);

    // Queue the runs with no process running, then start two workers on the backlog.
    const orm = await metadata(space);
    const runs = new RunService(orm.em.fork() as EntityManager);
    for (const id of ids) await runs.enqueue({ automationId: id, trigger: RunTrigger.MANUAL });
    const workers = [spawnTsx('jobs/worker.ts', { ...PROCESS_ENV, ...space.env }), spawnTsx('jobs/worker.ts', { ...PROCESS_ENV, ...space.env })];
    procs.push(...workers);
    await Promise.all(workers.map((w) => w.waitFor(/worker is running jobs/, 60_000)));

    const conn = orm.em.getConnection();
    await eventually(async () => Number((await conn.execute(`select count(*) as n from run where status in ('SUCCESS', 'FAILED', 'CANCELLED')`))[0].n), (n) => n === 200, 120_000, 250);
    const rows = (await conn.execute(`select status, worker, error, (select count(*) from run_log l where l.run_id = run.id and l.line like '%started (manual)%') as starts from run`)) as {
      status: string;
      worker: string;
      starts: number;
    }[];
    expect(rows).toHaveLength(200);
    expect(rows.filter((r) => r.status !== 'SUCCESS' || Number(r.starts) !== 1)).toEqual([]);
    const pids = new Set(rows.map((r) => r.worker.split(':')[1]));
    expect(pids).toEqual(new Set(workers.map((w) => String(w.child.pid))));
    // APPEND: a run done twice would have written its two rows twice.
    const [{ total }] = (await conn.execute(`select sum(rows_written) as total from run`)) as { total: number }[];
    expect(Number(total)).toBe(400);
    await orm.close();
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  });
});
