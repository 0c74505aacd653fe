import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithFactories, type Factories, type Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

const LINEAGE = `query($filter: LineageFilter, $maxNodes: Int) { lineage(filter: $filter, maxNodes: $maxNodes) { total truncated nodes { id name } edges { source target kind } } }`;

describe('lineage(filter: { expand })', () => {
  let t: TestServer;
  let f: Factories;
  // raw -> e1 -> mid -> e2 -> out, and mid -> e3 -> side
  let raw: Ref, mid: Ref, out: Ref, side: Ref;
  beforeAll(async () => {
    ({ t, f } = await serverWithFactories());
    raw = await f.storage({ name: 'x_raw' });
    mid = await f.storage({ name: 'x_mid' });
    out = await f.storage({ name: 'x_out' });
    side = await f.storage({ name: 'x_side' });
    await f.etl(raw, mid, { name: 'x_e1' });
    await f.etl(mid, out, { name: 'x_e2' });
    await f.etl(mid, side, { name: 'x_e3' });
  });
  afterAll(() => t?.close());

  const lineage = async (filter: Record<string, unknown>, maxNodes?: number) => {
    const answer = (await t.ok(LINEAGE, { filter, maxNodes })).lineage as { total: number; truncated: boolean; nodes: { id: string; name: string }[]; edges: { source: string; target: string; kind: string }[] };
    const name = new Map(answer.nodes.map((n) => [n.id, n.name]));
    return { ...answer, names: [...name.values()].sort(), links: answer.edges.map((e) => `${name.get(e.source)} > ${name.get(e.target)}`).sort() };
  };

  it('adds the levels a node is opened by to the view, with every edge among what is shown', async () => {
    const base = await lineage({ select: 'x_out' });
    expect(base.names).toEqual(['x_out']);
    const one = await lineage({ select: 'x_out', expand: [{ id: out.id, direction: 'UPSTREAM', depth: 1 }] });
    expect(one.names).toEqual(['x_e2', 'x_out']);
    const more = await lineage({ select: 'x_out', expand: [{ id: out.id, direction: 'UPSTREAM', depth: 2 }, { id: mid.id, direction: 'DOWNSTREAM', depth: 1 }] });
    expect(more.names).toEqual(['x_e2', 'x_e3', 'x_mid', 'x_out']);
    expect(more.links).toEqual(['x_e2 > x_out', 'x_mid > x_e2', 'x_mid > x_e3']);
    // An expansion shows what it asked for even where the other filters would not (nothing here is scheduled).
    expect((await lineage({ scheduledOnly: true, expand: [{ id: raw.id, direction: 'DOWNSTREAM', depth: 1 }] })).names).toEqual(['x_e1', 'x_raw']);
    // Over maxNodes, the opened nodes are the focus: what is nearest to them stays.
    const cut = await lineage({ select: 'x_side', expand: [{ id: side.id, direction: 'UPSTREAM', depth: 3 }] }, 2);
    expect(cut).toMatchObject({ truncated: true, total: 4, names: ['x_e3', 'x_side'] }); // x_side, x_e3, x_mid, x_e1
  });

  it('refuses an unknown node, a depth out of range and too many expansions, naming the field', async () => {
    expect((await t.fail(LINEAGE, { filter: { expand: [{ id: 'nope', direction: 'UPSTREAM', depth: 1 }] } })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.expand[0].id' });
    expect((await t.fail(LINEAGE, { filter: { expand: [{ id: out.id, direction: 'UPSTREAM', depth: 0 }] } })).extensions).toMatchObject({ field: 'filter.expand[0].depth' });
    expect((await t.fail(LINEAGE, { filter: { expand: [{ id: out.id, direction: 'UPSTREAM', depth: 21 }] } })).extensions).toMatchObject({ field: 'filter.expand[0].depth' });
    const many = Array.from({ length: 51 }, () => ({ id: out.id, direction: 'UPSTREAM', depth: 1 }));
    expect((await t.fail(LINEAGE, { filter: { expand: many } })).extensions).toMatchObject({ field: 'filter.expand' });
  });
});
