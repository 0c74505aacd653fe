import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceService } from '../../api/services/datasource.service.js';
import { serverWithFactories, type Factories, uniqueName } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

const FIELDS = `id name kind description tags path columns { name type } rowCount updatedAt
  join { left { name } right { name } leftKey rightKey type }`;

describe(DatasourceService.name, () => {
  it('creates STORAGE, FILE and JOIN datasources and reads them back by id and by name', async () => {
    const { createDatasource: orders } = await t.ok(`mutation($i: CreateDatasourceInput!) { createDatasource(input: $i) { ${FIELDS} } }`, {
      i: { name: 'ORDERS', kind: 'STORAGE', description: 'Shop orders', tags: ['finance', 'finance', 'core'], columns: [{ name: 'customer_id', type: 'integer' }] },
    });
    expect(orders).toMatchObject({ name: 'ORDERS', kind: 'STORAGE', description: 'Shop orders', tags: ['finance', 'core'], path: null, join: null, rowCount: null });
    expect(orders.columns).toEqual([{ name: 'customer_id', type: 'integer' }]);

    const file = await f.file({ name: 'users.csv', path: 'data/users.csv' }); // relative: taken from the first FILE_ROOTS directory
    const customers = await f.storage({ name: 'CUSTOMERS' });
    const { createDatasource: join } = await t.ok(`mutation($i: CreateDatasourceInput!) { createDatasource(input: $i) { ${FIELDS} } }`, {
      i: { name: 'ORDERS <> CUSTOMERS', kind: 'JOIN', join: { leftId: orders.id, rightId: customers.id, leftKey: 'customer_id', rightKey: 'id', type: 'LEFT' } },
    });
    expect(join.join).toEqual({ left: { name: 'ORDERS' }, right: { name: 'CUSTOMERS' }, leftKey: 'customer_id', rightKey: 'id', type: 'LEFT' });

    const byId = await t.ok(`query($id: ID) { datasource(id: $id) { name path kind } }`, { id: file.id });
    expect(byId.datasource).toEqual({ name: 'users.csv', path: joinPath(t.filesDir, 'data/users.csv'), kind: 'FILE' });
    const byName = await t.ok(`query { datasource(name: "ORDERS <> CUSTOMERS") { id kind } }`);
    expect(byName.datasource).toEqual({ id: join.id, kind: 'JOIN' });
    expect((await t.ok(`query { datasource(name: "no such thing") { id } }`)).datasource).toBeNull();
    expect((await t.ok(`query { datasource(id: "not-a-uuid") { id } }`)).datasource).toBeNull();
  });

  it('updates only the given fields, including a join spec', async () => {
    const [a, b, c] = [await f.storage(), await f.storage(), await f.storage()];
    const join = await f.join(a, b, { description: 'first', tags: ['x'] });
    const { updateDatasource } = await t.ok(
      `mutation($id: ID!, $i: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $i) { ${FIELDS} } }`,
      { id: join.id, i: { description: 'second', join: { leftId: a.id, rightId: c.id, leftKey: 'k1', rightKey: 'k2' } } },
    );
    expect(updateDatasource).toMatchObject({ name: join.name, description: 'second', tags: ['x'] });
    expect(updateDatasource.join).toEqual({ left: { name: a.name }, right: { name: c.name }, leftKey: 'k1', rightKey: 'k2', type: 'INNER' });

    const file = await f.file();
    const renamed = uniqueName('renamed');
    const { updateDatasource: updatedFile } = await t.ok(
      `mutation($id: ID!, $i: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $i) { name path description } }`,
      { id: file.id, i: { name: renamed, path: joinPath(t.filesDir, 'new/place.csv'), description: null } },
    );
    expect(updatedFile).toEqual({ name: renamed, path: joinPath(t.filesDir, 'new/place.csv'), description: null });
  });

  it('keeps modifiedAt when only other objects referring to it change', async () => {
    const [input, output] = [await f.storage(), await f.storage()];
    const MODIFIED = `query($id: ID!) { datasource(id: $id) { modifiedAt } }`;
    const before = (await t.ok(MODIFIED, { id: input.id })).datasource.modifiedAt;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await f.etl(input, output);
    await f.join(input, output);
    expect((await t.ok(MODIFIED, { id: input.id })).datasource.modifiedAt).toBe(before);
  });

  it('resolves producedBy, consumedBy (through joins of joins) and usedInJoins', async () => {
    const [raw, clean, other, out] = [await f.storage(), await f.storage(), await f.storage(), await f.storage()];
    const load = await f.etl(raw, clean);
    const sftp = await f.sftp(raw);
    const join = await f.join(clean, other);
    const join2 = await f.join(join, other);
    const reader = await f.etl(join2, out);
    const script = await f.script({ inputIds: [clean.id] });
    const { datasource } = await t.ok(`query($id: ID!) { datasource(id: $id) { producedBy { name } consumedBy { name } usedInJoins { name } } }`, { id: clean.id });
    expect(datasource.producedBy).toEqual([{ name: load.name }]);
    expect(datasource.consumedBy.map((a: { name: string }) => a.name).sort()).toEqual([reader.name, script.name].sort());
    expect(datasource.usedInJoins).toEqual([{ name: join.name }]);
    const rawInfo = await t.ok(`query($id: ID!) { datasource(id: $id) { producedBy { name } consumedBy { name } } }`, { id: raw.id });
    expect(rawInfo.datasource.producedBy.map((a: { name: string }) => a.name).sort()).toEqual([sftp.name].sort());
    expect(rawInfo.datasource.consumedBy).toEqual([{ name: load.name }]);
  });

  it('pages by name with cursors, totalCount, search and kind filters', async () => {
    const prefix = uniqueName('page');
    for (let i = 0; i < 7; i++) await f.storage({ name: `${prefix}-${i}` });
    await f.file({ name: `${prefix}-file` });
    await f.storage({ name: `${prefix.toUpperCase()}_100%` });
    const LIST = `query($first: Int, $after: String, $search: String, $kind: DatasourceKind) {
      datasources(first: $first, after: $after, search: $search, kind: $kind) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } nodes { name } } }`;

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { datasources } = (await t.ok(LIST, { first: 3, after, search: prefix })) as any;
      expect(datasources.totalCount).toBe(9);
      expect(datasources.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(datasources.edges.map((e: any) => e.node.name)).toEqual(datasources.nodes.map((n: any) => n.name));
      seen.push(...datasources.nodes.map((n: any) => n.name));
      pages += 1;
      if (!datasources.pageInfo.hasNextPage) break;
      after = datasources.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(9);

    const percent = (await t.ok(LIST, { search: '_100%' })).datasources;
    expect(percent.nodes).toEqual([{ name: `${prefix.toUpperCase()}_100%` }]);
    const files = (await t.ok(LIST, { search: prefix, kind: 'FILE' })).datasources;
    expect(files.nodes).toEqual([{ name: `${prefix}-file` }]);
    expect(files.totalCount).toBe(1);
    const none = (await t.ok(LIST, { first: 0, search: prefix })).datasources;
    expect(none).toMatchObject({ totalCount: 9, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('refuses page sizes over the limit and cursors it did not issue', async () => {
    expect(await t.fail(`{ datasources(first: 501) { totalCount } }`)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
    expect(await t.fail(`{ datasources(first: -1) { totalCount } }`)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
    expect(await t.fail(`{ datasources(after: "garbage") { totalCount } }`)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
  });
});
