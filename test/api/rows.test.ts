import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteMode } from '../../core/db/entities/index.js';
import { DataService } from '../../jobs/warehouse/data.service.js';
import { serverWithFactories, type Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

const ROWS = `query($id: ID!, $first: Int, $after: String) {
  rows(datasourceId: $id, first: $first, after: $after) { columns nodes totalCount pageInfo { hasNextPage endCursor } } }`;

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

describe(DataService.name, () => {
  it('pages through a CSV file datasource', async () => {
    const path = join(t.filesDir, 'people.csv');
    writeFileSync(path, 'id,name\n1,Ann\n2,Bob\n3,Cy\n');
    const csv = await f.file({ path });
    const first = (await t.ok(ROWS, { id: csv.id, first: 2 })).rows;
    expect(first).toMatchObject({ columns: ['id', 'name'], nodes: [{ id: 1, name: 'Ann' }, { id: 2, name: 'Bob' }], pageInfo: { hasNextPage: true } });
    const second = (await t.ok(ROWS, { id: csv.id, first: 2, after: first.pageInfo.endCursor })).rows;
    expect(second).toMatchObject({ nodes: [{ id: 3, name: 'Cy' }], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('answers an empty page for a table with no data yet, and the rows and stats after a write', async () => {
    const table = await f.storage();
    expect((await t.ok(ROWS, { id: table.id })).rows).toMatchObject({ columns: [], nodes: [], totalCount: null });

    const data = new DataService(t.server.orm.em.fork() as EntityManager, t.server.warehouse);
    const write = await t.server.warehouse.openWrite(await data.spec(table.id), WriteMode.REPLACE);
    await write.write([{ sku: 'a', qty: 2 }, { sku: 'b', qty: 5 }]);
    await data.recordWrite(table.id, await write.commit());

    expect((await t.ok(ROWS, { id: table.id })).rows).toMatchObject({ columns: ['sku', 'qty'], nodes: [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 5 }], totalCount: 2 });
    const meta = (await t.ok(`query($id: ID!) { datasource(id: $id) { columns { name type } rowCount updatedAt } }`, { id: table.id })).datasource;
    expect(meta).toMatchObject({ columns: [{ name: 'sku', type: 'text' }, { name: 'qty', type: 'integer' }], rowCount: 2 });
    expect(Date.parse(meta.updatedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('says clearly when a file is missing, an id unknown or a cursor forged', async () => {
    const missing = await f.file({ path: join(t.filesDir, 'nope.csv') });
    const error = await t.fail(ROWS, { id: missing.id });
    expect(error.extensions?.code).toBe('DATA_UNAVAILABLE');
    expect(error.message).toMatch(/does not exist: .*nope\.csv/);
    expect((await t.fail(ROWS, { id: '00000000-0000-4000-8000-000000000000' })).extensions?.code).toBe('NOT_FOUND');
    const csv = await f.file({ path: join(t.filesDir, 'people.csv') });
    expect((await t.fail(ROWS, { id: csv.id, after: 'not a cursor!' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect((await t.fail(ROWS, { id: csv.id, first: 501 })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});
