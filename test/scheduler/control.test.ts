import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { eventually, finished, runNow, runsOf, setState, sleepyScript, type RunShape, schedulerWithFactories } from './helpers.js';

let t: TestServer;
let f: Factories;

beforeAll(async () => ({ t, f } = await schedulerWithFactories()));
afterAll(() => t?.close());

async function rowCount(id: string): Promise<number | null> {
  return (await t.ok(`query($id: ID!) { datasource(id: $id) { rowCount } }`, { id })).datasource.rowCount;
}

async function running(id: string): Promise<RunShape> {
  const [run] = await eventually(() => runsOf(t, id), (runs) => runs.some((r) => r.status === 'RUNNING'), 15_000);
  return run!;
}

describe('run control with a long-running script', () => {
  it('pause: the run in flight finishes, queued and scheduled runs do not happen; start resumes', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 1_500), outputIds: [output.id] });
    const first = await runNow(t, script.id);
    await running(script.id);
    const second = await runNow(t, script.id); // waits behind the first
    expect(second.status).toBe('QUEUED');
    expect(await setState(t, script.id, 'pause')).toBe('PAUSED');

    expect((await finished(t, first.id)).status).toBe('SUCCESS');
    expect(await rowCount(output.id)).toBe(3);
    const held = await finished(t, second.id);
    expect(held).toMatchObject({ status: 'CANCELLED', startedAt: null });
    expect(held.error).toMatch(/paused before the run started/);

    await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "* * * * * *") { id } }`, { id: script.id });
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await runsOf(t, script.id)).length).toBe(2); // paused: the schedule does not fire

    expect(await setState(t, script.id, 'start')).toBe('ACTIVE');
    await eventually(() => runsOf(t, script.id), (runs) => runs.some((r) => r.trigger === 'SCHEDULE'), 10_000);
    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: script.id });
  });

  it('stop: the run in flight is cancelled and rolled back; start makes it runnable again', async () => {
    const output = await f.storage();
    const seed = await f.script({ language: 'JAVASCRIPT', code: `await tributary.write(${JSON.stringify(output.name)}, [{ i: -1 }]);`, outputIds: [output.id] });
    await finished(t, (await runNow(t, seed.id)).id);
    expect(await rowCount(output.id)).toBe(1);

    const script = await f.script({ language: 'JAVASCRIPT', code: `await tributary.write(${JSON.stringify(output.name)}, { i: 1 });\n${sleepyScript(output.name, 60_000)}`, outputIds: [output.id] });
    const run = await runNow(t, script.id);
    await running(script.id);
    const stoppedAt = Date.now();
    expect(await setState(t, script.id, 'stop')).toBe('STOPPED');
    const done = await finished(t, run.id, 10_000);
    expect(done.status).toBe('CANCELLED');
    expect(done.error).toMatch(/cancelled: the automation was stopped/);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000); // far sooner than the script's minute
    expect(await rowCount(output.id)).toBe(1); // REPLACE rolled back: the seed row is still all there is
    const rows = await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 10) { nodes } }`, { id: output.id });
    expect(rows.rows.nodes).toEqual([{ i: -1 }]);

    expect((await t.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: script.id })).extensions?.code).toBe('CONFLICT');
    expect(await setState(t, script.id, 'start')).toBe('ACTIVE');
    const again = await runNow(t, script.id);
    expect(again.status).toBe('QUEUED');
    await running(script.id);
    await setState(t, script.id, 'stop');
    expect((await finished(t, again.id)).status).toBe('CANCELLED');
  });

  it('refuses to delete an automation while it runs', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 60_000), outputIds: [output.id] });
    const run = await runNow(t, script.id);
    await running(script.id);
    const error = await t.fail(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: script.id });
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toMatch(/is running: stop it/);
    await setState(t, script.id, 'stop');
    await finished(t, run.id);
    expect((await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: script.id })).deleteAutomation).toBe(script.id);
  });
});

describe('one run at a time', () => {
  it('coalesces schedule ticks that come while a run is in flight into one queued run, and records them', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 2_500, 1), outputIds: [output.id] });
    await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "* * * * * *") { id } }`, { id: script.id });
    const runs = await eventually(() => runsOf(t, script.id), (r) => r.filter((x) => x.status === 'SUCCESS').length >= 2, 20_000, 50);
    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: script.id });

    // Never more than one running, never more than one queued.
    expect(runs.filter((r) => r.status === 'RUNNING').length).toBeLessThanOrEqual(1);
    expect(runs.filter((r) => r.status === 'QUEUED').length).toBeLessThanOrEqual(1);
    // Every second ticked while a 2.5 s run went on: the second run absorbed the ticks in between.
    const second = runs.filter((r) => r.status === 'SUCCESS').at(-2)!;
    expect(second.coalesced).toBeGreaterThanOrEqual(1);
    expect(second.log.join('\n')).toMatch(/schedule request folded into this queued run/);
    // Runs did not overlap in time.
    const done = runs.filter((r) => r.finishedAt).sort((x, y) => x.startedAt!.localeCompare(y.startedAt!));
    for (let i = 1; i < done.length; i++) expect(new Date(done[i]!.startedAt!).getTime()).toBeGreaterThanOrEqual(new Date(done[i - 1]!.finishedAt!).getTime());
  });

  it('a manual request while one is queued is folded into it too', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(output.name, 1_500, 1), outputIds: [output.id] });
    const first = await runNow(t, script.id);
    await running(script.id);
    const second = await runNow(t, script.id);
    const third = await runNow(t, script.id);
    expect(third.id).toBe(second.id);
    expect(third.coalesced).toBe(1);
    await finished(t, second.id);
    expect((await finished(t, first.id)).status).toBe('SUCCESS');
    expect((await runsOf(t, script.id)).length).toBe(2);
  });
});
