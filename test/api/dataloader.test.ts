import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoaders } from '../../api/graphql/loaders.js';
import { factories, type Ref } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const f = factories(t);
  const source = await f.storage({ name: 'zz-source' });
  const other = await f.storage({ name: 'zz-other' });
  const pageItems: Ref[] = [];
  for (let i = 0; i < 100; i++) {
    const ds = await f.storage({ name: `page-${String(i).padStart(3, '0')}` });
    pageItems.push(ds);
    await f.etl(source, ds); // producedBy
    if (i % 10 === 0) {
      const join = await f.join(ds, other, { name: `zz-join-${i}` }); // usedInJoins
      await f.etl(join, await f.storage({ name: `zz-out-${i}` })); // consumedBy through the join
    }
  }
  await f.script({ name: 'zz-reader', inputIds: pageItems.map((d) => d.id) }); // consumedBy
});
afterAll(() => t.close());

const PAGE = `query($first: Int) { datasources(first: $first, search: "page-") {
  totalCount nodes { name producedBy { name kind } consumedBy { name } usedInJoins { name join { left { name } right { name } } } } } }`;

/** Waits until the server has sent no SQL statement for 300 ms. */
async function quiet() {
  for (let seen = -1; seen !== t.queries.length; ) {
    seen = t.queries.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function statementsFor(first: number) {
  t.queries.length = 0;
  const data = await t.ok(PAGE, { first });
  return { count: t.queries.length, data: data.datasources };
}

describe(createLoaders.name, () => {
  it('resolves a page of 100 datasources with their relations in as many SQL statements as a page of 10', async () => {
    // The lineage graph catches up with the setup's writes once; that is not part of a page's cost.
    // (On PostgreSQL the server also hears each of the setup's writes through LISTEN/NOTIFY and
    // catches up in the background: wait until that is over, so only the page's statements count.)
    await t.ok(`{ lineage(maxNodes: 1) { total } }`);
    await quiet();
    const small = await statementsFor(10);
    const large = await statementsFor(100);
    expect(large.data.nodes).toHaveLength(100);
    expect(large.data.nodes[0].producedBy).toEqual([{ name: expect.stringMatching(/^etl-/), kind: 'ETL_STEP' }]);
    expect(large.data.nodes[0].consumedBy.map((a: Ref) => a.name)).toContain('zz-reader');
    expect(large.data.nodes[0].consumedBy).toHaveLength(2); // the script, and the ETL step reading its join
    expect(large.data.nodes[0].usedInJoins).toEqual([{ name: 'zz-join-0', join: { left: { name: 'page-000' }, right: { name: 'zz-other' } } }]);
    expect(large.data.nodes[1].usedInJoins).toEqual([]);
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(12);
  });
});
