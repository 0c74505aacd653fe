import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { eventually, finished, runById, runNow, runsOf, setState, sleepyScript, schedulerWithFactories } from './helpers.js';

let t: TestServer;
let f: Factories;

beforeAll(async () => ({ t, f } = await schedulerWithFactories()));
afterAll(() => t?.close());

async function csvSource(content: string) {
  const path = join(t.filesDir, `${uniqueName('in')}.csv`);
  writeFileSync(path, content);
  return f.file({ path });
}

describe('runAutomation', () => {
  it('queues a run, returns it at once, then runs it: rows move, the run, lastRun, the datasource and the lineage say so', async () => {
    const input = await csvSource('id,amount\n1,10\n2,20\n3,30\n');
    const output = await f.storage();
    const etl = await f.etl(input, output, { transform: { steps: [{ op: 'filter', where: 'amount >= 20' }] } });

    const queued = await runNow(t, etl.id);
    expect(queued).toMatchObject({ status: 'QUEUED', trigger: 'MANUAL', parentRun: null, startedAt: null, automation: { id: etl.id } });

    const run = await finished(t, queued.id);
    expect(run).toMatchObject({ status: 'SUCCESS', rowsRead: 3, rowsWritten: 2, error: null });
    expect(new Date(run.startedAt!).getTime()).toBeGreaterThanOrEqual(new Date(run.queuedAt).getTime());
    expect(new Date(run.finishedAt!).getTime()).toBeGreaterThanOrEqual(new Date(run.startedAt!).getTime());
    expect(run.log.join('\n')).toMatch(/started \(manual\)/);
    expect(run.log.join('\n')).toMatch(/finished: 3 row\(s\) read, 2 written/);

    const data = await t.ok(
      `query($a: ID!, $d: ID!) {
        automation(id: $a) { lastRunStatus lastRun { id status } runs(first: 10) { totalCount nodes { id } } }
        datasource(id: $d) { rowCount columns { name } }
        lineage { nodes { id lastRunStatus } }
      }`,
      { a: etl.id, d: output.id },
    );
    expect(data.automation).toMatchObject({ lastRunStatus: 'SUCCESS', lastRun: { id: queued.id, status: 'SUCCESS' }, runs: { totalCount: 1, nodes: [{ id: queued.id }] } });
    expect(data.datasource).toMatchObject({ rowCount: 2, columns: [{ name: 'id' }, { name: 'amount' }] });
    expect(data.lineage.nodes.find((n: { id: string }) => n.id === etl.id).lastRunStatus).toBe('SUCCESS');
  });

  it('records a failure with its reason, and the status: selector finds it', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: `await tributary.write('${output.name}', { a: 1 });\nthrow new Error('upstream said no');`, outputIds: [output.id] });
    const run = await finished(t, (await runNow(t, script.id)).id);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/upstream said no/);
    const lineage = await t.ok(`{ lineage(filter: { select: "status:FAILED" }) { nodes { id } } }`);
    expect(lineage.lineage.nodes.map((n: { id: string }) => n.id)).toContain(script.id);
    const rows = await t.ok(`query($id: ID!) { datasource(id: $id) { rowCount } }`, { id: output.id });
    expect(rows.datasource.rowCount).toBeNull(); // the failed run wrote nothing
  });

  it('refuses a manual run of a paused automation with CONFLICT, and queues nothing', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 0), outputIds: [output.id] });
    await setState(t, script.id, 'pause');
    const error = await t.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: script.id });
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toMatch(/PAUSED: start it before running it/);
    expect(await runsOf(t, script.id)).toEqual([]);
    await setState(t, script.id, 'start');
    expect((await finished(t, (await runNow(t, script.id)).id)).status).toBe('SUCCESS');
  });

  it('answers NOT_FOUND for an unknown automation and null for an unknown run', async () => {
    const error = await t.fail(`mutation { runAutomation(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(error.extensions?.code).toBe('NOT_FOUND');
    expect((await t.ok(`{ run(id: "00000000-0000-4000-8000-000000000000") { id } }`)).run).toBeNull();
  });

  it('pages runs newest first with cursors', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 0, 1), outputIds: [output.id] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runNow(t, script.id);
      ids.push(run.id);
      await finished(t, run.id);
    }
    const first = await t.ok(`query($id: ID!) { automation(id: $id) { runs(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } } }`, { id: script.id });
    expect(first.automation.runs.totalCount).toBe(3);
    expect(first.automation.runs.nodes.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[1]]);
    const rest = await t.ok(`query($id: ID!, $after: String) { automation(id: $id) { runs(first: 2, after: $after) { pageInfo { hasNextPage } nodes { id } } } }`, {
      id: script.id,
      after: first.automation.runs.pageInfo.endCursor,
    });
    expect(rest.automation.runs).toEqual({ pageInfo: { hasNextPage: false }, nodes: [{ id: ids[0] }] });
  });
});

describe('schedules', () => {
  it('fires a seconds-level schedule on time, shows the next run time, and stops when cleared', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 0, 1), outputIds: [output.id] });
    const scheduled = await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "*/2 * * * * *", timezone: "Europe/Paris") { schedule { cron timezone nextRunAt } } }`, {
      id: script.id,
    });
    const next = new Date(scheduled.setSchedule.schedule.nextRunAt).getTime();
    expect(next).toBeGreaterThan(Date.now() - 1000);
    expect(next).toBeLessThanOrEqual(Date.now() + 2_500);

    const runs = await eventually(() => runsOf(t, script.id), (r) => r.filter((x) => x.status === 'SUCCESS').length >= 2, 15_000);
    for (const run of runs.filter((r) => r.status === 'SUCCESS')) {
      expect(run.trigger).toBe('SCHEDULE');
      expect(new Date(run.queuedAt).getUTCSeconds() % 2).toBe(0); // queued on the even second it was due
    }

    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: script.id });
    await new Promise((r) => setTimeout(r, 500)); // a tick already under way may still land
    const settled = (await runsOf(t, script.id)).length;
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await runsOf(t, script.id)).length).toBe(settled);
  });

  it('keeps nextRunAt null while the automation is paused, and schedules again when started', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 0, 1), outputIds: [output.id], schedule: { cron: '0 3 * * *', timezone: 'UTC' } });
    const read = async () => (await t.ok(`query($id: ID!) { automation(id: $id) { schedule { nextRunAt } } }`, { id: script.id })).automation.schedule.nextRunAt;
    const at = new Date(await read());
    expect(at.getUTCHours()).toBe(3);
    expect(at.getTime()).toBeGreaterThan(Date.now());
    await setState(t, script.id, 'pause');
    expect(await read()).toBeNull();
    await setState(t, script.id, 'start');
    expect(new Date(await read()).getTime()).toBe(at.getTime());
  });
});

describe('retention', () => {
  it('prunes finished runs older than the retention age, with their steps and logs, and keeps the rest', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 0, 1), outputIds: [output.id] });
    const chain = await f.chain([script]);
    const old = await finished(t, (await runNow(t, chain.id)).id);
    const recent = await finished(t, (await runNow(t, script.id)).id);
    const stepRun = (await runById(t, old.id)).steps![0]!;

    const removed = await t.server.scheduler.prune(new Date(new Date(old.finishedAt!).getTime() + 90 * 86_400_000 + 1));
    expect(removed).toBeGreaterThanOrEqual(1);
    expect((await t.ok(`query($id: ID!) { run(id: $id) { id } }`, { id: old.id })).run).toBeNull();
    expect((await t.ok(`query($id: ID!) { run(id: $id) { id } }`, { id: stepRun.id })).run).toBeNull();
    const [{ n }] = (await t.server.orm.em.fork().getConnection().execute(`select cast(count(*) as integer) as n from run_log where run_id in (?, ?)`, [old.id, stepRun.id])) as { n: number }[];
    expect(n).toBe(0);
    expect((await t.ok(`query($id: ID!) { run(id: $id) { id } }`, { id: recent.id })).run).toEqual({ id: recent.id }); // finished later: younger than the cut
    expect(await t.server.scheduler.prune(new Date())).toBe(0);
  });

  it('prunes on a schedule: one daily job in the job store, shared by every process', async () => {
    const { jobs } = await t.server.scheduler.agenda.queryJobs({ name: 'runs:prune' });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ type: 'single', repeatInterval: '0 3 * * *', repeatTimezone: 'UTC' });
    expect(new Date(jobs[0]!.nextRunAt!).getUTCHours()).toBe(3);
  });
});
