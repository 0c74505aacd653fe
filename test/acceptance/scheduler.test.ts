import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../api/demo/workspace.js';
import { SecretBox } from '../../core/secrets.js';
import { TEST_SECRET_KEY, type TestServer } from '../helpers/server.js';
import { eventually, RUN_FIELDS, schedulerServer } from '../scheduler/helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await schedulerServer();
  await loadDemo(t.server.orm, t.dataDir, SecretBox.fromKey(TEST_SECRET_KEY));
  await t.server.scheduler.reconcile();
});
afterAll(() => t?.close());

describe('issue #5 acceptance: the demo workspace on a schedule', () => {
  it('runs the scheduled chain "nightly refresh" on time; its runs, statuses and logs show through GraphQL', { timeout: 90_000 }, async () => {
    const { automation: chain } = await t.ok(`{ automation(name: "nightly refresh") { id schedule { cron timezone nextRunAt } } }`);
    expect(chain.schedule).toMatchObject({ cron: '0 2 * * *', timezone: 'Europe/Paris' });
    expect(new Date(chain.schedule.nextRunAt).getTime()).toBeGreaterThan(Date.now()); // read from the job store

    // Bring 02:00 to every third second, as a user editing the schedule would.
    await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "*/3 * * * * *", timezone: "Europe/Paris") { id } }`, { id: chain.id });
    const runs = await eventually(
      async () => (await t.ok(`query($id: ID!) { automation(id: $id) { runs(first: 5) { nodes { ${RUN_FIELDS} steps { ${RUN_FIELDS} steps { ${RUN_FIELDS} } } } } } }`, { id: chain.id })).automation.runs.nodes,
      (nodes: any[]) => nodes.some((r) => ['SUCCESS', 'FAILED', 'CANCELLED'].includes(r.status)),
      60_000,
      250,
    );
    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: chain.id });
    const run = runs.find((r: any) => r.finishedAt);
    expect(run.status).toBe('SUCCESS');
    expect(run.trigger).toBe('SCHEDULE');
    expect(new Date(run.queuedAt).getUTCSeconds() % 3).toBe(0);
    expect(run.steps.map((s: any) => [s.automation.name, s.status])).toEqual([
      ['load users', 'SUCCESS'],
      ['load customers', 'SUCCESS'],
      ['load sample orders', 'SUCCESS'],
      ['reporting', 'SUCCESS'],
    ]);
    expect(run.steps[3].steps.map((s: any) => [s.automation.name, s.status])).toEqual([
      ['aggregate revenue', 'SUCCESS'],
      ['revenue report', 'SUCCESS'],
    ]);
    expect(run.log.join('\n')).toMatch(/step 4\/4 "reporting": SUCCESS/);
    expect(run.steps[3].steps[1].log.join('\n')).toMatch(/report written/);

    const after = await t.ok(`{
      users: datasource(name: "users-storage") { rowCount }
      load: automation(name: "load users") { lastRunStatus lastRun { trigger parentRun { automation { name } } } }
      revenue: datasource(name: "revenue-by-country") { rowCount }
      lineage(filter: { select: "status:SUCCESS" }) { nodes { name lastRunStatus } }
    }`);
    expect(after.users.rowCount).toBe(3);
    expect(after.revenue.rowCount).toBe(3); // FR, FI, US
    expect(after.load).toEqual({ lastRunStatus: 'SUCCESS', lastRun: { trigger: 'CHAIN', parentRun: { automation: { name: 'nightly refresh' } } } });
    expect(after.lineage.nodes.map((n: any) => n.name)).toEqual(expect.arrayContaining(['load users', 'load customers', 'aggregate revenue', 'revenue report']));
  });
});
