import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithFactories } from '../factories/index.js';
import type { Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { runEvent } from '../openlineage/fixtures.js';

const EDGES = `{ lineage { nodes { id name } edges { source target kind declared observedAt stale } } }`;
const DRIFT = `query($runs: Int) { lineageDrift(runs: $runs) { kind direction runs message lastObservedAt automation { name } datasource { name } } }`;

describe('lineageDrift', () => {
  let t: TestServer;
  let f: Factories;
  beforeAll(async () => {
    // The graph's stale flag looks at the last 2 observed runs here (30 by default).
    ({ t, f } = await serverWithFactories({ LINEAGE_STALE_AFTER_RUNS: '2' }));
    writeFileSync(join(t.filesDir, 'input.csv'), 'id,amount\n1,10\n2,20\n');
  });
  afterAll(() => t?.close());

  const drift = async (runs?: number) => (await t.ok(DRIFT, { runs })).lineageDrift as { kind: string; direction: string; runs: number; message: string; lastObservedAt: string | null; automation: { name: string }; datasource: { name: string } }[];
  /** The lineage edges touching `name`, in names: `source > target KIND` with their observation. */
  const edgesOf = async (name: string) => {
    const { nodes, edges } = (await t.ok(EDGES)).lineage as { nodes: { id: string; name: string }[]; edges: { source: string; target: string; kind: string; declared: boolean; observedAt: string | null; stale: boolean }[] };
    const names = new Map(nodes.map((n) => [n.id, n.name]));
    return edges
      .map(({ source, target, ...rest }) => ({ edge: `${names.get(source)} > ${names.get(target)} ${rest.kind}`, declared: rest.declared, observed: rest.observedAt !== null, stale: rest.stale, observedAt: rest.observedAt }))
      .filter((e) => e.edge.includes(name))
      .sort((a, b) => a.edge.localeCompare(b.edge));
  };
  const runs = async (id: string, n: number) => {
    for (let i = 0; i < n; i++) expect((await finished(t, (await runNow(t, id)).id)).status).toBe('SUCCESS');
  };

  it('records what runs read and wrote; an ETL step that does what it declares shows no drift', async () => {
    const etl = await f.etl(await f.file({ name: 'drift_file' }), await f.storage({ name: 'drift_table' }), { name: 'drift_etl' });
    await runs(etl.id, 2);
    expect((await drift(2)).filter((d) => d.automation.name === 'drift_etl')).toEqual([]);
    const edges = await edgesOf('drift_etl');
    expect(edges.map(({ observedAt, ...e }) => e)).toEqual([
      { edge: 'drift_etl > drift_table OUTPUT', declared: true, observed: true, stale: false },
      { edge: 'drift_file > drift_etl INPUT', declared: true, observed: true, stale: false },
    ]);
  });

  it('flags a declared input a script has not read in its last runs as STALE, in words', async () => {
    const used = await f.file({ name: 'drift_used' });
    const unused = await f.file({ name: 'drift_unused' });
    const out = await f.storage({ name: 'drift_script_out' });
    const script = await f.script({
      name: 'drift_script',
      language: 'JAVASCRIPT',
      inputIds: [used.id, unused.id],
      outputIds: [out.id],
      code: `for await (const r of tributary.read('drift_used')) await tributary.write('drift_script_out', r);`,
    });
    await runs(script.id, 2);
    const flagged = (await drift(2)).filter((d) => d.automation.name === 'drift_script');
    expect(flagged).toEqual([{ kind: 'STALE', direction: 'INPUT', runs: 2, lastObservedAt: null, message: 'declares "drift_unused" but has not read it in 2 runs', automation: { name: 'drift_script' }, datasource: { name: 'drift_unused' } }]);
    // The graph says the same per edge: the unused declaration is stale and never observed.
    expect((await edgesOf('drift_script')).map(({ observedAt, ...e }) => e)).toEqual([
      { edge: 'drift_script > drift_script_out OUTPUT', declared: true, observed: true, stale: false },
      { edge: 'drift_unused > drift_script INPUT', declared: true, observed: false, stale: true },
      { edge: 'drift_used > drift_script INPUT', declared: true, observed: true, stale: false },
    ]);
    // One automation's drift, asked for by its id (as its page does).
    const own = (await t.ok(`query($id: ID) { lineageDrift(runs: 2, automationId: $id) { kind automation { name } datasource { name } } }`, { id: script.id })).lineageDrift;
    expect(own).toEqual([{ kind: 'STALE', automation: { name: 'drift_script' }, datasource: { name: 'drift_unused' } }]);
    // With more runs asked for than it has had, nothing is judged yet.
    expect((await drift(3)).filter((d) => d.automation.name === 'drift_script')).toEqual([]);
  });

  it('flags what an external job’s earlier runs used and it no longer declares as UNDECLARED', async () => {
    const post = (body: unknown) => fetch(`${t.url}/api/v1/lineage`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const job = { namespace: 'airflow', name: 'drift.external' };
    const first = runEvent({ eventType: 'COMPLETE', eventTime: '2026-11-01T00:00:00.000Z', run: { runId: randomUUID() }, job, inputs: [{ namespace: 's3://lake', name: 'old_source' }, { namespace: 's3://lake', name: 'kept_source' }], outputs: [] });
    const second = runEvent({ eventType: 'COMPLETE', eventTime: '2026-11-02T00:00:00.000Z', run: { runId: randomUUID() }, job, inputs: [{ namespace: 's3://lake', name: 'kept_source' }], outputs: [] });
    expect((await post(first)).status).toBe(201);
    expect((await post(second)).status).toBe(201);
    const flagged = (await drift()).filter((d) => d.automation.name === 'drift.external');
    expect(flagged).toEqual([
      { kind: 'UNDECLARED', direction: 'INPUT', runs: 1, lastObservedAt: '2026-11-01T00:00:00.000Z', message: 'read "old_source" in 1 run (last 2026-11-01T00:00:00.000Z) but does not declare it', automation: { name: 'drift.external' }, datasource: { name: 'old_source' } },
    ]);
    // In the graph: the edge only the earlier run showed is drawn as observed, not declared.
    expect(await edgesOf('drift.external')).toEqual([
      { edge: 'kept_source > drift.external INPUT', declared: true, observed: true, stale: false, observedAt: '2026-11-02T00:00:00.000Z' },
      { edge: 'old_source > drift.external INPUT', declared: false, observed: true, stale: false, observedAt: '2026-11-01T00:00:00.000Z' },
    ]);
    expect((await t.fail(`{ lineageDrift(runs: 0) { kind } }`)).extensions?.field).toBe('runs');
  });

  it('forgets what pruned runs observed, in the graph too', async () => {
    expect((await edgesOf('drift_etl')).every((e) => e.observed)).toBe(true);
    // Every run is older than the retention age a day after 91 days from now.
    expect(await t.server.scheduler.prune(new Date(Date.now() + 91 * 86_400_000))).toBeGreaterThan(0);
    expect((await edgesOf('drift_etl')).map((e) => [e.edge, e.observed])).toEqual([
      ['drift_etl > drift_table OUTPUT', false],
      ['drift_file > drift_etl INPUT', false],
    ]);
    expect((await edgesOf('drift_script')).filter((e) => e.stale)).toEqual([]);
  });
});
