import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceKind, WriteMode } from '../../core/db/entities/index.js';
import { parseStoreUrl } from '../../core/db/sql.js';
import { openWarehouse } from '../../jobs/warehouse/open.js';
import { PostgresWarehouse } from '../../jobs/warehouse/postgres-warehouse.js';
import { ReadScopeError } from '../../jobs/warehouse/read-scope.js';
import { confine, scopeError } from '../../jobs/warehouse/pg-scope.js';
import { tableOf } from '../../jobs/warehouse/warehouse.js';
import { warehouseContract, type Attack } from './warehouse-contract.js';

/**
 * The PostgreSQL warehouse on the local server (127.0.0.1:5432, trust, user postgres): each run
 * makes a database of its own with a random name, dropped at the end with the reader role.
 */
const ADMIN_URL = process.env.TRIBUTARY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const database = `tributary_wh_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const url = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
const proof = join(tmpdir(), `tributary-pwned-${randomUUID()}`);
const admin = async <T>(work: (client: pg.Client) => Promise<T>, on = ADMIN_URL): Promise<T> => {
  const client = new pg.Client({ connectionString: on });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};
const inDatabase = <T>(work: (client: pg.Client) => Promise<T>) => admin(work, url);

const readerRoles: string[] = [];
beforeAll(async () => {
  await admin((c) => c.query(`create database ${database}`));
});
afterAll(async () => {
  await admin(async (c) => {
    await c.query(`drop database if exists ${database} with (force)`);
    for (const role of readerRoles) await c.query(`drop role if exists "${role}"`);
  });
  rmSync(proof, { force: true });
});

async function openTestWarehouse(schema?: string) {
  const root = mkdtempSync(join(tmpdir(), 'tributary-pg-contract-'));
  const dataDir = join(root, 'data');
  const filesDir = join(root, 'files');
  mkdirSync(dataDir);
  mkdirSync(filesDir);
  const queryTimeoutMs = 1_500;
  const warehouse = await PostgresWarehouse.open(url, { fileRoots: [filesDir], dataDir, queryTimeoutMs, schema });
  readerRoles.push(warehouse.readerRole);
  return { warehouse, root, filesDir, queryTimeoutMs };
}

const noLargeObjects = () => inDatabase(async (c) => Number((await c.query('select count(*) as n from pg_largeobject_metadata')).rows[0].n) === 0);
const noProofFile = async () => !existsSync(proof);

/** PostgreSQL's ways out of a query; each must be refused, and leave nothing behind. */
const ATTACKS: Attack[] = [
  { name: 'the password catalog (pg_authid)', sql: 'SELECT rolname, rolpassword FROM pg_authid, input' },
  { name: 'the catalog of tables (pg_class)', sql: 'SELECT relname FROM pg_catalog.pg_class, input' },
  { name: 'pg_read_file', sql: `SELECT pg_read_file('/etc/passwd') AS f FROM input` },
  { name: 'pg_read_file quoted (past the name check, refused by privileges)', sql: `SELECT pg_catalog."pg_read_file"('/etc/passwd') AS f FROM input` },
  { name: 'pg_ls_dir quoted', sql: `SELECT "pg_ls_dir"('/') AS f FROM input` },
  { name: 'a set-returning function in FROM', sql: `SELECT * FROM input, generate_series(1, 3) AS g` },
  { name: 'dblink', sql: `SELECT * FROM input, dblink('dbname=test', 'select 1') AS t(x int)` },
  {
    name: 'climbing back to the owner role with set_config, then reading through query_to_xml',
    sql: `SELECT "set_config"('role', 'none', true) AS r, "query_to_xml"('select * from $OTHER', true, false, '') AS x FROM input`,
  },
  { name: 'set_config to another role (quoted)', sql: `SELECT "set_config"('role', 'postgres', true) AS r FROM input` },
  { name: 'writing a large object (quoted lo_create)', sql: `SELECT "lo_create"(0) AS o FROM input`, noEffect: noLargeObjects },
  { name: 'deleting through a writable CTE', sql: 'WITH gone AS (DELETE FROM $OTHER RETURNING *) SELECT * FROM gone, input' },
  { name: "updating another datasource's table", sql: `SELECT * FROM input WHERE EXISTS (SELECT 1 FROM $OTHER FOR UPDATE)` },
  { name: 'the warehouse schema by information_schema', sql: 'SELECT table_name FROM information_schema.tables, input' },
];

warehouseContract(
  'PostgresWarehouse',
  async () => {
    const { warehouse, root, filesDir, queryTimeoutMs } = await openTestWarehouse();
    return {
      warehouse,
      filesDir,
      queryTimeoutMs,
      qualifiedTable: (ds) => `${warehouse.schema}.${tableOf(ds)}`,
      close: async () => {
        await warehouse.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
  ATTACKS,
);

describe('PostgresWarehouse specifics', () => {
  let opened: Awaited<ReturnType<typeof openTestWarehouse>>;
  beforeAll(async () => {
    opened = await openTestWarehouse('wh_specifics');
  }, 60_000);
  afterAll(async () => {
    await opened?.warehouse.close();
    rmSync(opened?.root ?? '/nonexistent', { recursive: true, force: true });
  });

  it('keeps its tables in its own schema, staged rows in the write connection only', async () => {
    const w = opened.warehouse;
    const ds = { id: randomUUID(), kind: DatasourceKind.STORAGE };
    const out = await w.openWrite(ds, WriteMode.REPLACE);
    await out.write([{ a: 1 }]);
    const tables = () => inDatabase(async (c) => (await c.query(`select table_schema, table_name from information_schema.tables where table_name like 'ds_%' and table_schema = 'wh_specifics'`)).rows);
    expect(await tables()).toEqual([]);
    await out.commit();
    expect(await tables()).toEqual([{ table_schema: 'wh_specifics', table_name: tableOf(ds) }]);
  });

  it('runs confined queries as a role that holds no privilege of its own', async () => {
    const role = opened.warehouse.readerRole;
    const privileges = await inDatabase(async (c) => (await c.query(`select table_schema, table_name from information_schema.role_table_grants where grantee = $1`, [role])).rows);
    expect(privileges).toEqual([]);
    const attrs = await inDatabase(async (c) => (await c.query(`select rolsuper, rolcanlogin, rolinherit from pg_roles where rolname = $1`, [role])).rows[0]);
    expect(attrs).toEqual({ rolsuper: false, rolcanlogin: false, rolinherit: false });
  });

  it('refuses the SQL even when its string holds the attack (no dynamic SQL gets through)', async () => {
    const w = opened.warehouse;
    const ds = { id: randomUUID(), kind: DatasourceKind.STORAGE };
    const out = await w.openWrite(ds, WriteMode.REPLACE);
    await out.write([{ a: 1 }]);
    await out.commit();
    const error = await w.query(async ({ relationOf }) => ({ sql: `select "query_to_xml"('select rolpassword from pg_authid', true, false, '') as x from ${await relationOf(ds)}`, params: [] }), 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadScopeError);
  });

  it('refuses a second statement smuggled after the subquery (COPY … TO PROGRAM), running nothing', async () => {
    const w = opened.warehouse;
    const ds = { id: randomUUID(), kind: DatasourceKind.STORAGE };
    const out = await w.openWrite(ds, WriteMode.REPLACE);
    await out.write([{ a: 1 }]);
    await out.commit();
    const smuggled = (relation: string) => `select 1 as x from ${relation}) as q; copy (select 1) to program 'touch ${proof}'; select * from (select 1`;
    const error = await w.query(async ({ relationOf }) => ({ sql: smuggled(await relationOf(ds)), params: [] }), 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadScopeError);
    const write = await w.openWrite({ id: randomUUID(), kind: DatasourceKind.STORAGE }, WriteMode.REPLACE);
    await expect(write.writeQuery(async ({ relationOf }) => ({ sql: smuggled(await relationOf(ds)), params: [] }))).rejects.toBeInstanceOf(ReadScopeError);
    await write.abort();
    expect(existsSync(proof)).toBe(false);
  });

  it.each([
    ['another role with set_config', `select set_config('role', 'postgres', true) as r`],
    ['the owner role with set_config', `select set_config('role', 'none', true) as r, query_to_xml('select rolpassword from pg_authid', true, false, '') as x`],
    ['pg_authid', 'select rolpassword from pg_authid'],
    ['pg_read_file', `select pg_read_file('/etc/passwd') as f`],
    ['pg_ls_dir', `select pg_ls_dir('/') as f`],
    ["another datasource's table through dynamic SQL", `select query_to_xml('select * from wh_specifics.$TABLE', true, false, '') as x`],
  ])('without the plan check, PostgreSQL itself still refuses %s', async (_name, attack) => {
    const w = opened.warehouse;
    const ds = { id: randomUUID(), kind: DatasourceKind.STORAGE };
    const out = await w.openWrite(ds, WriteMode.REPLACE);
    await out.write([{ secret: 'kept' }]);
    await out.commit();
    const client = new pg.Client({ connectionString: url, options: '-c search_path=wh_specifics,public' });
    await client.connect();
    try {
      await client.query('begin');
      const { fn } = await confine(client as never, w.readerRole, `select * from (\n${attack.replace('$TABLE', tableOf(ds))}\n) as q`, [], [], { planCheck: false });
      await client.query('set local transaction_read_only = on');
      const error = await client.query(`select * from ${fn}()`).then(() => null, (e: unknown) => scopeError(e));
      expect(error, String(error)).toBeInstanceOf(ReadScopeError);
    } finally {
      await client.query('rollback').catch(() => undefined);
      await client.end();
    }
  });

  it('is what openWarehouse opens for a postgres:// WAREHOUSE_URL, and SQLite otherwise', async () => {
    const location = parseStoreUrl(url, '/unused.db')!;
    expect(location.dialect).toBe('postgresql');
    const w = await openWarehouse(location, { dataDir: join(opened.root, 'data'), fileRoots: [opened.filesDir], schema: 'wh_opened' });
    try {
      expect(w).toBeInstanceOf(PostgresWarehouse);
      expect(w.dialect).toBe('postgresql');
      readerRoles.push((w as PostgresWarehouse).readerRole);
    } finally {
      await w.close();
    }
    const dataDir = join(opened.root, 'sqlite-data');
    mkdirSync(dataDir);
    const s = await openWarehouse(parseStoreUrl(undefined, join(dataDir, 'warehouse.db'))!, { dataDir });
    try {
      expect(s.dialect).toBe('sqlite');
    } finally {
      await s.close();
    }
  });
});
