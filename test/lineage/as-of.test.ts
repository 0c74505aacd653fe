import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithFactories, type Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { randomUUID } from 'node:crypto';
import { runEvent } from '../openlineage/fixtures.js';

const LINEAGE = `query($filter: LineageFilter) { lineage(filter: $filter) { total nodes { id name type lastRunStatus } edges { source target kind declared observedAt stale } } }`;

interface Answer {
  total: number;
  nodes: { id: string; name: string; type: string; lastRunStatus: string | null }[];
  edges: { source: string; target: string; kind: string; declared: boolean; observedAt: string | null; stale: boolean }[];
}

describe('lineage(filter: { asOf })', () => {
  let t: TestServer;
  let f: Factories;
  beforeAll(async () => {
    ({ t, f } = await serverWithFactories());
    writeFileSync(join(t.filesDir, 'input.csv'), 'id,amount\n1,10\n2,20\n');
  });
  afterAll(() => t?.close());

  const lineage = async (filter: Record<string, unknown>) => (await t.ok(LINEAGE, { filter })).lineage as Answer;
  /** The answer in names: `source > target (kind, declared|observed)`. */
  const described = (answer: Answer, prefix = 'asof_') => {
    const name = new Map(answer.nodes.filter((n) => n.name.startsWith(prefix)).map((n) => [n.id, n.name]));
    return {
      nodes: [...name.values()].sort(),
      edges: answer.edges.filter((e) => name.has(e.source) && name.has(e.target)).map((e) => `${name.get(e.source)} > ${name.get(e.target)} ${e.kind}${e.declared ? '' : ' observed-only'}${e.observedAt ? ' seen' : ''}`).sort(),
    };
  };
  /** A moment between two changes, clear of both (the database dates them in milliseconds). */
  const moment = async () => {
    await sleep(20);
    const at = new Date();
    await sleep(20);
    return at;
  };
  const run = async (id: string) => expect((await finished(t, (await runNow(t, id)).id)).status).toBe('SUCCESS');

  it('answers the graph as it was before and after a change, with the names, declarations and observations of then', async () => {
    const before = await moment();
    const source = await f.file({ name: 'asof_source' });
    const first = await f.storage({ name: 'asof_first' });
    const gone = await f.storage({ name: 'asof_gone' });
    const etl = await f.etl(source, first, { name: 'asof_etl' });
    await run(etl.id);
    const then = await moment();

    // The change: the step writes elsewhere, its old output is renamed, another datasource is deleted.
    const second = await f.storage({ name: 'asof_second' });
    await t.ok(`mutation($id: ID!, $out: ID!) { updateEtlStep(id: $id, input: { outputId: $out }) { id } }`, { id: etl.id, out: second.id });
    await t.ok(`mutation($id: ID!) { updateDatasource(id: $id, input: { name: "asof_first_renamed" }) { id } }`, { id: first.id });
    await t.ok(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: gone.id });
    await run(etl.id);

    const select = undefined;
    expect(described(await lineage({ select, asOf: before.toISOString() }))).toEqual({ nodes: [], edges: [] });
    const past = await lineage({ select, asOf: then.toISOString() });
    expect(described(past)).toEqual({
      nodes: ['asof_etl', 'asof_first', 'asof_gone', 'asof_source'],
      edges: ['asof_etl > asof_first OUTPUT seen', 'asof_source > asof_etl INPUT seen'],
    });
    expect(past.nodes.find((n) => n.name === 'asof_etl')?.lastRunStatus).toBe('SUCCESS');
    // Observations are those up to then.
    for (const edge of past.edges) expect(new Date(edge.observedAt!).getTime()).toBeLessThanOrEqual(then.getTime());

    // Now: the new output declared and seen; what the earlier run wrote is an edge runs showed but nothing declares.
    expect(described(await lineage({ select }))).toEqual({
      nodes: ['asof_etl', 'asof_first_renamed', 'asof_second', 'asof_source'],
      edges: ['asof_etl > asof_first_renamed OUTPUT observed-only seen', 'asof_etl > asof_second OUTPUT seen', 'asof_source > asof_etl INPUT seen'],
    });

    // Every other filter applies to the past graph.
    expect(described(await lineage({ leadingTo: first.id, asOf: then.toISOString() })).nodes).toEqual(['asof_etl', 'asof_first', 'asof_source']);
    expect(described(await lineage({ select, exclude: 'asof_gone', asOf: then.toISOString() })).nodes).toEqual(['asof_etl', 'asof_first', 'asof_source']);
    expect(described(await lineage({ select: 'kind:ETL_STEP', asOf: then.toISOString() })).nodes).toEqual(['asof_etl']);
  });

  it('keeps an automation deleted since, and its run status of then', async () => {
    const input = await f.file({ name: 'asof_del_in' });
    const output = await f.storage({ name: 'asof_del_out' });
    const etl = await f.etl(input, output, { name: 'asof_del_etl' });
    const then = await moment();
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: etl.id });
    const past = await lineage({ asOf: then.toISOString() });
    expect(described(past, 'asof_del_').edges).toEqual(['asof_del_etl > asof_del_out OUTPUT', 'asof_del_in > asof_del_etl INPUT']);
    expect(past.nodes.find((n) => n.name === 'asof_del_etl')?.lastRunStatus).toBeNull();
    expect(described(await lineage({}), 'asof_del_')).toEqual({ nodes: ['asof_del_in', 'asof_del_out'], edges: [] });
  });

  it('keeps the past of chain steps, join sources and what OpenLineage events declared', async () => {
    const left = await f.storage({ name: 'asof_left' });
    const right = await f.storage({ name: 'asof_right' });
    const other = await f.storage({ name: 'asof_other' });
    const joined = await f.join(left, right, { name: 'asof_join' });
    const step = await f.etl(await f.file({ name: 'asof_step_in' }), await f.storage({ name: 'asof_step_out' }), { name: 'asof_step' });
    const chain = await f.chain([step], { name: 'asof_chain' });
    const post = (inputs: string[], eventTime: string) =>
      fetch(`${t.url}/api/v1/lineage`, {
        method: 'POST',
        headers: { ...t.auth, 'content-type': 'application/json' },
        body: JSON.stringify(runEvent({ eventType: 'COMPLETE', eventTime, run: { runId: randomUUID() }, job: { namespace: 'airflow', name: 'asof_external' }, inputs: inputs.map((name) => ({ namespace: 's3://asof', name })), outputs: [] })),
      });
    expect((await post(['asof_first_input'], '2026-11-01T00:00:00.000Z')).status).toBe(201);
    const then = await moment();

    await t.ok(`mutation($id: ID!, $steps: [ID!]!) { updateChainTask(id: $id, input: { stepIds: $steps }) { id } }`, { id: chain.id, steps: [] });
    await t.ok(`mutation($id: ID!, $l: ID!, $r: ID!) { updateDatasource(id: $id, input: { join: { leftId: $l, rightId: $r, leftKey: "id", rightKey: "id", type: INNER } }) { id } }`, { id: joined.id, l: left.id, r: other.id });
    expect((await post(['asof_second_input'], '2026-11-02T00:00:00.000Z')).status).toBe(201);

    const past = await t.ok(`query($f: LineageFilter) { lineage(filter: $f) { nodes { id name } edges { source target kind } } }`, { f: { asOf: then.toISOString(), includeChainTasks: true } });
    const now = await t.ok(`query($f: LineageFilter) { lineage(filter: $f) { nodes { id name } edges { source target kind } } }`, { f: { includeChainTasks: true } });
    const named = (answer: any) => {
      const name = new Map<string, string>(answer.lineage.nodes.map((n: { id: string; name: string }) => [n.id, n.name]));
      return answer.lineage.edges.map((e: { source: string; target: string; kind: string }) => `${name.get(e.source)} > ${name.get(e.target)} ${e.kind}`).filter((e: string) => /asof_(chain|join|external)\b/.test(e)).sort();
    };
    expect(named(past)).toEqual(['asof_chain > asof_step TRIGGERS', 'asof_first_input > asof_external INPUT', 'asof_left > asof_join JOIN_SOURCE', 'asof_right > asof_join JOIN_SOURCE']);
    // Now the chain triggers nothing, the join reads another table, and the job declares its second input;
    // the first is still an edge its earlier run showed.
    expect(named(now)).toEqual(['asof_first_input > asof_external INPUT', 'asof_left > asof_join JOIN_SOURCE', 'asof_other > asof_join JOIN_SOURCE', 'asof_second_input > asof_external INPUT']);
  });

  it('refuses a time in the future, naming the field, and a graph asked for twice is built once', async () => {
    const error = await t.fail(LINEAGE, { filter: { asOf: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.asOf' });
    expect(error.message).toMatch(/in the future/);
    const at = (await moment()).toISOString();
    expect(await lineage({ asOf: at })).toEqual(await lineage({ asOf: at }));
    // One past time per request: aliases cannot make the server build many past graphs at once.
    const times = [at, new Date(Date.parse(at) - 1_000).toISOString()];
    const aliased = await t.gql(`query($a: DateTime, $b: DateTime) { a: lineage(filter: { asOf: $a }, maxNodes: 1) { total } b: lineage(filter: { asOf: $b }, maxNodes: 1) { total } }`, { a: times[0], b: times[1] });
    expect(aliased.errors?.map((e: { extensions?: { field?: string } }) => e.extensions?.field)).toEqual(['filter.asOf']);
    expect(aliased.errors?.[0]?.message).toMatch(/one asOf time only/);
    const same = await t.gql(`query($a: DateTime) { a: lineage(filter: { asOf: $a }, maxNodes: 1) { total } b: lineage(filter: { asOf: $a }, maxNodes: 1) { total } }`, { a: times[0] });
    expect(same.errors).toBeUndefined();
  });
});
