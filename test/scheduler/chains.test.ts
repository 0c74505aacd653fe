import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factories, Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { finished, runById, runNow, runsOf, setState, sleepyScript, schedulerWithFactories } from './helpers.js';

let t: TestServer;
let f: Factories;

beforeAll(async () => ({ t, f } = await schedulerWithFactories()));
afterAll(() => t?.close());

/** A script that appends its own name to `trail` (so the order of steps is recorded in data), or fails. */
async function step(trail: Ref, name: string, fail = false): Promise<Ref> {
  const code = `await tributary.write(${JSON.stringify(trail.name)}, { step: ${JSON.stringify(name)}, at: Date.now() });${fail ? `\nthrow new Error('step ${name} broke');` : ''}`;
  return f.script({ name: `${name}-${trail.name}`, language: 'JAVASCRIPT', code, outputIds: [trail.id], writeMode: 'APPEND' });
}

async function trailOf(trail: Ref): Promise<string[]> {
  const data = await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 100) { nodes } }`, { id: trail.id });
  return data.rows.nodes.map((r: { step: string }) => r.step);
}

describe('chain task runs', () => {
  it('runs its steps in order as child runs, nested chains included, and sums their rows', async () => {
    const trail = await f.storage();
    const [a, b, c] = [await step(trail, 'a'), await step(trail, 'b'), await step(trail, 'c')];
    const inner = await f.chain([b, c]);
    const outer = await f.chain([a, inner]);

    const run = await finished(t, (await runNow(t, outer.id)).id);
    expect(run).toMatchObject({ status: 'SUCCESS', trigger: 'MANUAL', rowsWritten: 3 });
    expect(await trailOf(trail)).toEqual(['a', 'b', 'c']);

    expect(run.steps!.map((s) => [s.automation.id, s.status, s.trigger, s.parentRun?.id])).toEqual([
      [a.id, 'SUCCESS', 'CHAIN', run.id],
      [inner.id, 'SUCCESS', 'CHAIN', run.id],
    ]);
    const innerRun = await runById(t, run.steps![1]!.id);
    expect(innerRun.steps!.map((s) => [s.automation.id, s.status, s.parentRun?.id])).toEqual([
      [b.id, 'SUCCESS', innerRun.id],
      [c.id, 'SUCCESS', innerRun.id],
    ]);
    expect(run.log.join('\n')).toMatch(/step 2\/2 ".*": SUCCESS/);
    // The steps' own run histories show the chain runs.
    expect((await runsOf(t, c.id))[0]).toMatchObject({ trigger: 'CHAIN', parentRun: { id: innerRun.id } });
  });

  it('stops at a failed step unless continueOnFailure, and fails the chain either way', async () => {
    const trail = await f.storage();
    const [a, bad, c] = [await step(trail, 'a'), await step(trail, 'bad', true), await step(trail, 'c')];
    const strict = await f.chain([a, bad, c]);
    const run = await finished(t, (await runNow(t, strict.id)).id);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/step 2 ".*bad.*" failed; the steps after it did not run/);
    expect(run.steps!.map((s) => s.status)).toEqual(['SUCCESS', 'FAILED']);
    expect(run.steps![1]!.error).toMatch(/step bad broke/);
    expect(await trailOf(trail)).toEqual(['a']); // the failed step's write was rolled back, c never ran

    const lenient = await f.chain([a, bad, c], { continueOnFailure: true });
    const run2 = await finished(t, (await runNow(t, lenient.id)).id);
    expect(run2.status).toBe('FAILED');
    expect(run2.error).toMatch(/1 of 3 step\(s\) did not succeed/);
    expect(run2.steps!.map((s) => s.status)).toEqual(['SUCCESS', 'FAILED', 'SUCCESS']);
    expect(await trailOf(trail)).toEqual(['a', 'a', 'c']);
  });

  it('skips a step that is paused, saying so, and goes on', async () => {
    const trail = await f.storage();
    const [a, b] = [await step(trail, 'a'), await step(trail, 'b')];
    await setState(t, a.id, 'pause');
    const chain = await f.chain([a, b]);
    const run = await finished(t, (await runNow(t, chain.id)).id);
    expect(run.status).toBe('SUCCESS');
    expect(run.steps!.map((s) => [s.status, s.error])).toEqual([
      ['CANCELLED', expect.stringMatching(/skipped: .* is PAUSED/)],
      ['SUCCESS', null],
    ]);
    expect(await trailOf(trail)).toEqual(['b']);
  });

  it('stopping a chain cancels the step in flight and the steps after it', async () => {
    const trail = await f.storage();
    const slow = await f.script({ language: 'JAVASCRIPT', code: sleepyScript(trail.name, 30_000), outputIds: [trail.id] });
    const after = await step(trail, 'after');
    const chain = await f.chain([slow, after]);
    const queued = await runNow(t, chain.id);
    await (async () => {
      for (let i = 0; i < 100; i++) {
        const current = await runById(t, queued.id);
        if (current.steps?.[0]?.status === 'RUNNING') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the first step never started');
    })();
    expect(await setState(t, chain.id, 'stop')).toBe('STOPPED');
    const run = await finished(t, queued.id);
    expect(run.status).toBe('CANCELLED');
    expect(run.steps!.map((s) => s.status)).toEqual(['CANCELLED']);
    expect(await trailOf(trail)).toEqual([]);
  });
});
