/**
 * The "async update" of the flow seed: a version made live while a run of the former one is in
 * flight does not interrupt it. That run finishes on its version (and says so); the next run uses
 * the new one; the version says what it waits for, then since when it is in force. Real
 * sandboxed script runs on a real scheduler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factories, Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { eventually, finished, runById, runNow, schedulerWithFactories } from '../scheduler/helpers.js';
import { APPROVE, MAKE_LIVE, SUBMIT, setApproval, team } from './helpers.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  ({ t, f } = await schedulerWithFactories());
});
afterAll(() => t.close());

/** A script writing `{ by: marker }` to `out` after `ms`. */
const code = (out: Ref, marker: string, ms: number) =>
  `await new Promise((r) => setTimeout(r, ${ms}));\nawait tributary.write(${JSON.stringify(out.name)}, { by: ${JSON.stringify(marker)} });`;

const UPDATE_SCRIPT = `mutation($id: ID!, $input: UpdateScriptInput!) { updateScript(id: $id, input: $input) { id } }`;
const VERSIONED_RUN = `query($id: ID!) { run(id: $id) { status version { id number } } }`;

describe('making a version live while a run is in flight', () => {
  it('lets the run finish on its version; the next run uses the new one', { timeout: 60_000 }, async () => {
    const people = await team(t);
    const out = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: code(out, 'v1', 4_000), outputIds: [out.id], writeMode: 'APPEND' });
    await setApproval(t, true);
    await people.editor.client.ok(UPDATE_SCRIPT, { id: script.id, input: { code: code(out, 'v2', 0) } });
    const v2 = (await people.editor.client.ok(SUBMIT, { id: script.id })).submitForApproval;
    await people.reviewer.client.ok(APPROVE, { v: v2.id });

    const first = await runNow(t, script.id);
    await eventually(() => runById(t, first.id), (r) => r.status === 'RUNNING');
    const live = (await people.editor.client.ok(MAKE_LIVE, { v: v2.id })).makeLive;
    expect(live).toMatchObject({ status: 'LIVE', liveFrom: null });
    const waiting = await t.ok(`query($id: ID!) { automationVersion(id: $id) { liveFrom waitingForRun { id } } }`, { id: v2.id });
    expect(waiting.automationVersion).toEqual({ liveFrom: null, waitingForRun: { id: first.id } });
    // Not interrupted:
    expect((await runById(t, first.id)).status).toBe('RUNNING');

    const done = await finished(t, first.id);
    expect(done.status).toBe('SUCCESS');
    expect((await t.ok(VERSIONED_RUN, { id: first.id })).run.version.number).toBe(1);
    const settled = await t.ok(`query($id: ID!) { automationVersion(id: $id) { liveFrom waitingForRun { id } } }`, { id: v2.id });
    expect(settled.automationVersion.waitingForRun).toBeNull();
    expect(new Date(settled.automationVersion.liveFrom).getTime()).toBeGreaterThanOrEqual(new Date(done.finishedAt!).getTime());

    const second = await finished(t, (await runNow(t, script.id)).id);
    expect(second.status).toBe('SUCCESS');
    expect((await t.ok(VERSIONED_RUN, { id: second.id })).run.version).toEqual({ id: v2.id, number: 2 });
    const rows = await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 10) { nodes } }`, { id: out.id });
    expect(rows.rows.nodes.map((r: { by: string }) => r.by)).toEqual(['v1', 'v2']);
  });

  it('is in force at once when nothing runs', async () => {
    await setApproval(t, false);
    const out = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: code(out, 'a', 0), outputIds: [out.id] });
    const run = await finished(t, (await runNow(t, script.id)).id);
    const { automation } = await t.ok(`query($id: ID!) { automation(id: $id) { liveVersion { id number liveFrom waitingForRun { id } } } }`, { id: script.id });
    expect(automation.liveVersion).toMatchObject({ number: 1, waitingForRun: null, liveFrom: expect.any(String) });
    expect((await t.ok(VERSIONED_RUN, { id: run.id })).run.version.id).toBe(automation.liveVersion.id);
  });
});
