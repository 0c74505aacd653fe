/**
 * Database ingestions: a table or a SELECT of a real PostgreSQL or MariaDB source, streamed into a
 * STORAGE datasource, all of it or (with a cursor column) only what is new; previews, runs and
 * write modes as for the other kinds; a query is only ever a read.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDb } from '../../jobs/warehouse/sqlite-db.js';
import { SqliteWarehouse } from '../../jobs/warehouse/sqlite-warehouse.js';
import type { PostgresWarehouse } from '../../jobs/warehouse/postgres-warehouse.js';
import { factories, uniqueName, type Factories, type Ref } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { MYSQL_SOURCE, PG_SOURCE, mysqlSource, postgresSource, type SourceDb } from './sources.js';

let t: TestServer;
let f: Factories;
let pgDb: SourceDb;
let myDb: SourceDb;
let pgConn: Ref;
let myConn: Ref;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
  [pgDb, myDb] = await Promise.all([postgresSource(), mysqlSource()]);
  const create = `mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id name } }`;
  pgConn = (await t.ok(create, { input: { name: uniqueName('pg'), type: 'POSTGRES', ...PG_SOURCE, database: pgDb.name } })).createConnection;
  myConn = (await t.ok(create, { input: { name: uniqueName('my'), type: 'MYSQL', ...MYSQL_SOURCE, password: '', database: myDb.name } })).createConnection;
  await pgDb.sql(`create table orders (id bigint primary key, customer text, amount numeric(10,2), placed_at timestamp, paid boolean)`);
  await pgDb.sql(`insert into orders select g, 'c' || (g % 7), g * 1.5, timestamp '2026-01-01' + g * interval '1 minute', g % 2 = 0 from generate_series(1, 2500) g`);
  await myDb.sql(`create table events (id int primary key auto_increment, kind varchar(20), at datetime, score decimal(6,2))`);
  await myDb.sql(`insert into events (kind, at, score) values ('view', '2026-01-01 10:00:00', 1.25), ('click', '2026-01-01 10:05:00', 2.50), ('view', '2026-01-01 10:10:00', 0.75)`);
});
afterAll(async () => {
  await t.close();
  await Promise.all([pgDb.drop(), myDb.drop()]);
});

/** Tables holding a write's rows before it commits (stage_…) left in the warehouse, on either backend. */
async function stageTables(): Promise<string[]> {
  const warehouse = t.server.warehouse;
  if (warehouse instanceof SqliteWarehouse) {
    const db = await SqliteDb.open(warehouse.file);
    try {
      return (await db.all<{ name: string }>(`select name from sqlite_master where type = 'table' and name like 'stage%'`)).map((r) => r.name);
    } finally {
      await db.close();
    }
  }
  const client = new pg.Client({ connectionString: t.backendEnv.WAREHOUSE_URL });
  await client.connect();
  try {
    return (await client.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = $1 and table_name like 'stage%'`, [(warehouse as PostgresWarehouse).schema])).rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

const CREATE = `mutation($input: CreateDatabaseIngestionInput!) { createDatabaseIngestion(input: $input) { id name kind table query cursorColumn writeMode connection { id } output { id } } }`;
const rowsOf = async (id: string) => (await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 500) { nodes totalCount } }`, { id })).rows as { nodes: Record<string, unknown>[]; totalCount: number };
async function ingestion(input: Record<string, unknown>) {
  return (await t.ok(CREATE, { input: { name: uniqueName('ingest'), ...input } })).createDatabaseIngestion;
}
async function run(id: string) {
  const done = await finished(t, (await runNow(t, id)).id, 60_000);
  expect(done.error).toBeNull();
  expect(done.status).toBe('SUCCESS');
  return done;
}

describe('database ingestions', () => {
  it('read a whole PostgreSQL table into a STORAGE datasource, again on each run (REPLACE)', async () => {
    const out = await f.storage();
    const a = await ingestion({ connectionId: pgConn.id, table: 'public.orders', outputId: out.id });
    expect(a).toMatchObject({ kind: 'DATABASE_TABLE', table: 'public.orders', query: null, writeMode: 'REPLACE', connection: { id: pgConn.id }, output: { id: out.id } });
    const first = await run(a.id);
    expect(first.rowsWritten).toBe(2500);
    const rows = await rowsOf(out.id);
    expect(rows.totalCount).toBe(2500);
    expect(rows.nodes.find((r) => Number(r.id) === 2)).toMatchObject({ customer: 'c2', amount: '3.00', placed_at: '2026-01-01 00:02:00', paid: 1 });
    await run(a.id);
    expect((await rowsOf(out.id)).totalCount).toBe(2500);
    const lineage = await t.ok(`{ lineage { nodes { id type } edges { source target kind } } }`);
    expect(lineage.lineage.nodes).toEqual(expect.arrayContaining([{ id: a.id, type: 'DATABASE_TABLE' }]));
    expect(lineage.lineage.edges).toEqual(expect.arrayContaining([{ source: a.id, target: out.id, kind: 'OUTPUT' }]));
  });

  it('keep every PostgreSQL value as the server prints it: tabs, newlines, backslashes, a literal \\N, nulls, big integers, JSON', async () => {
    await pgDb.sql(String.raw`create table tricky (id int, note text, big bigint, ratio float8, flag boolean, doc jsonb, day date)`);
    await pgDb.sql(
      String.raw`insert into tricky values (1, E'tab\there\nnew line\\ back\rcr', 9007199254740993, 0.1, true, E'{"a": [1, "x\\ty"]}', '2026-02-03'),
        (2, null, null, null, null, null, null), (3, E'é€ \\N', -1, 1e300, false, 'null', '2026-12-31')`,
    );
    const out = await f.storage();
    await run((await ingestion({ connectionId: pgConn.id, query: 'select * from tricky order by id', outputId: out.id })).id);
    expect((await rowsOf(out.id)).nodes).toEqual([
      { id: 1, note: 'tab\there\nnew line\\ back\rcr', big: '9007199254740993', ratio: 0.1, flag: 1, doc: '{"a": [1, "x\\ty"]}', day: '2026-02-03' },
      { id: 2, note: null, big: null, ratio: null, flag: null, doc: null, day: null },
      { id: 3, note: 'é€ \\N', big: '-1', ratio: 1e300, flag: 0, doc: 'null', day: '2026-12-31' },
    ]);
  });

  it('keep row order when rows are appended after a full read replaced the table', async () => {
    const out = await f.storage();
    await run((await ingestion({ connectionId: pgConn.id, query: 'select g as n from generate_series(1, 3000) g order by g', outputId: out.id })).id);
    await run((await ingestion({ connectionId: pgConn.id, query: 'select g as n from generate_series(3001, 3005) g order by g', outputId: out.id, writeMode: 'APPEND' })).id);
    const page = await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 10, after: "${Buffer.from('2995').toString('base64url')}") { nodes totalCount } }`, { id: out.id });
    expect(page.rows.totalCount).toBe(3005);
    expect(page.rows.nodes.map((r: { n: number }) => r.n)).toEqual([2996, 2997, 2998, 2999, 3000, 3001, 3002, 3003, 3004, 3005]);
  });

  it('keep the old rows, and leave no staged rows behind, when a REPLACE read fails half-way', async () => {
    const out = await f.storage();
    const good = await ingestion({ connectionId: pgConn.id, query: 'select g as n from generate_series(1, 10) g', outputId: out.id });
    await run(good.id);
    // Fails at the 20,000th row, after the first batches have gone to the warehouse (division by zero).
    const bad = await ingestion({ connectionId: pgConn.id, query: 'select g as n, 1 / (g - 20000) as x from generate_series(1, 30000) g', outputId: out.id });
    const done = await finished(t, (await runNow(t, bad.id)).id, 60_000);
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatch(/division by zero/);
    const rows = await rowsOf(out.id);
    expect(rows.totalCount).toBe(10);
    expect(Object.keys(rows.nodes[0]!)).toEqual(['n']);
    expect(await stageTables()).toEqual([]);
  });

  it('read only new PostgreSQL rows past the cursor, appending them', async () => {
    await pgDb.sql(`create table ticks (seq int primary key, note text)`);
    await pgDb.sql(`insert into ticks values (1, 'a'), (2, 'b'), (3, 'c')`);
    const out = await f.storage();
    const a = await ingestion({ connectionId: pgConn.id, table: 'ticks', cursorColumn: 'seq', outputId: out.id });
    expect(a.writeMode).toBe('APPEND');
    expect((await run(a.id)).rowsWritten).toBe(3);
    await pgDb.sql(`insert into ticks values (4, 'd'), (5, 'e')`);
    const second = await run(a.id);
    expect(second.rowsWritten).toBe(2);
    expect(second.log.join('\n')).toMatch(/seq > 3/);
    const third = await run(a.id);
    expect(third.rowsWritten).toBe(0);
    expect((await rowsOf(out.id)).nodes.map((r) => Number(r.seq)).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('keep a text cursor exactly as read, past rows whose cursor is null', async () => {
    await pgDb.sql(String.raw`create table marks (k text, v int)`);
    await pgDb.sql(String.raw`insert into marks values ('a', 1), (E'b\tx\\y', 2), (null, 3)`);
    const out = await f.storage();
    const a = await ingestion({ connectionId: pgConn.id, table: 'marks', cursorColumn: 'k', outputId: out.id });
    expect((await run(a.id)).rowsWritten).toBe(3); // the null one comes last
    await pgDb.sql(String.raw`insert into marks values ('c', 4), (E'b\tw', 5)`); // only 'c' sorts after b<tab>x\y
    const second = await run(a.id);
    expect(second.rowsWritten).toBe(1);
    expect((await rowsOf(out.id)).nodes.map((r) => r.v)).toEqual([1, 2, 3, 4]);
  });

  it('read a MariaDB query in full and incrementally', async () => {
    const full = await f.storage();
    const a = await ingestion({ connectionId: myConn.id, query: 'select kind, count(*) as n from events group by kind', outputId: full.id });
    await run(a.id);
    expect((await rowsOf(full.id)).nodes.map((r) => [r.kind, Number(r.n)]).sort()).toEqual([['click', 1], ['view', 2]]);

    const inc = await f.storage();
    const b = await ingestion({ connectionId: myConn.id, table: 'events', cursorColumn: 'at', outputId: inc.id, writeMode: 'UPSERT', writeKeys: ['id'] });
    expect((await run(b.id)).rowsWritten).toBe(3);
    await myDb.sql(`insert into events (kind, at, score) values ('buy', '2026-01-01 11:00:00', 9.99)`);
    expect((await run(b.id)).rowsWritten).toBe(1);
    const rows = (await rowsOf(inc.id)).nodes;
    expect(rows).toHaveLength(4);
    expect(rows.find((r) => r.kind === 'buy')).toMatchObject({ at: '2026-01-01 11:00:00', score: '9.99' });
  });

  it('preview the first rows and write nothing', async () => {
    const out = await f.storage();
    const a = await ingestion({ connectionId: pgConn.id, table: 'orders', outputId: out.id });
    const preview = (await t.ok(`query($id: ID!) { previewAutomation(id: $id, sampleSize: 5) { outputs { columns rows } } }`, { id: a.id })).previewAutomation;
    expect(preview.outputs[0].rows).toHaveLength(5);
    expect(preview.outputs[0].columns).toEqual(['id', 'customer', 'amount', 'placed_at', 'paid']);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { rowCount } }`, { id: out.id })).datasource.rowCount).toBeNull();
  });

  it('only read: a query that would write fails its run and changes nothing at the source', async () => {
    await pgDb.sql(`create sequence counter`);
    await pgDb.sql(`create table victims (id int)`);
    const out = await f.storage();
    // The last two close the subqueries a read wraps the query in, so that wrapped it is several valid statements: a COMMIT ends the read-only transaction, then writes.
    const breakouts = ['insert into victims values (1)', 'drop table victims'].map((write) => `select 1 as x) a) b; commit; ${write}; select * from (select * from (select 1`);
    for (const query of [`select nextval('counter') as n`, `select 1 as x; drop table victims`, `with gone as (delete from victims returning *) select * from gone`, ...breakouts]) {
      const a = await ingestion({ connectionId: pgConn.id, query, outputId: out.id });
      const done = await finished(t, (await runNow(t, a.id)).id, 60_000);
      expect(done.status).toBe('FAILED');
      expect(done.error).toMatch(/read|syntax|refused|multiple commands/i);
    }
    expect(await pgDb.sql(`select last_value, is_called from counter`)).toEqual([{ last_value: '1', is_called: false }]);
    expect(await pgDb.sql(`select count(*)::int as n from victims`)).toEqual([{ n: 0 }]);
  });

  it('refuse what cannot be a read when saved, writing nothing', async () => {
    const out = await f.storage();
    const before = (await t.ok(`{ automations(first: 500) { totalCount } }`)).automations.totalCount;
    const cases: [Record<string, unknown>, string][] = [
      [{ connectionId: pgConn.id, outputId: out.id }, 'table'],
      [{ connectionId: pgConn.id, table: 'orders', query: 'select 1', outputId: out.id }, 'query'],
      [{ connectionId: pgConn.id, query: 'delete from orders', outputId: out.id }, 'query'],
      [{ connectionId: pgConn.id, table: 'orders; drop table orders', outputId: out.id }, 'table'],
      [{ connectionId: pgConn.id, table: 'orders', cursorColumn: 'id; --', outputId: out.id }, 'cursorColumn'],
      [{ connectionId: pgConn.id, table: 'orders', cursorColumn: 'id', writeMode: 'REPLACE', outputId: out.id }, 'writeMode'],
    ];
    for (const [input, field] of cases) {
      const error = await t.fail(CREATE, { input: { name: uniqueName('bad'), ...input } });
      expect([error.extensions?.code, error.extensions?.field]).toEqual(['BAD_USER_INPUT', field]);
    }
    expect((await t.ok(`{ automations(first: 500) { totalCount } }`)).automations.totalCount).toBe(before);
  });
});
