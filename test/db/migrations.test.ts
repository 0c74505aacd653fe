import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initOrm, openOrm, sqliteDatabase, type Orm } from '../../core/db/orm.js';
import { MIGRATIONS, POSTGRES_MIGRATIONS } from '../../core/db/migrations/index.js';
import { Datasource, DatasourceKind } from '../../core/db/entities/index.js';
import { DatasourceService } from '../../api/services/datasource.service.js';
import { LineageStore } from '../../api/lineage/store.js';
import { METADATA_TABLES } from '../../jobs/migration/copy-metadata.js';
import { historyTriggerNames } from '../../core/db/migrations/history-triggers.js';
import { createTestDatabase } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Tables, columns, indexes and foreign keys as SQLite itself reports them. */
async function describeSchema(orm: Orm) {
  const conn = orm.em.getConnection();
  const tables = (await conn.execute(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name != 'mikro_orm_migrations' order by name`)) as { name: string }[];
  const result: Record<string, unknown> = {};
  for (const { name } of tables) {
    const columns = await conn.execute(`select name, type, "notnull", dflt_value, pk from pragma_table_info('${name}') order by name`);
    const indexes = await conn.execute(
      `select il.name, il."unique", group_concat(ii.name) as cols from pragma_index_list('${name}') il join pragma_index_info(il.name) ii group by il.name order by il.name`,
    );
    const fks = await conn.execute(`select "table", "from", "to", on_delete from pragma_foreign_key_list('${name}') order by "from"`);
    result[name] = { columns, indexes, fks };
  }
  return result;
}

describe('migrations', () => {
  it('build exactly the schema the entities describe', async () => {
    const migrated = await openOrm({ database: sqliteDatabase(join(dir, 'migrated.db')) });
    const fromEntities = await initOrm({ database: sqliteDatabase(join(dir, 'entities.db')) });
    await fromEntities.schema.createSchema();
    try {
      expect(await describeSchema(migrated)).toEqual(await describeSchema(fromEntities));
    } finally {
      await migrated.close();
      await fromEntities.close();
    }
  });

  it('make no table that `npm run migrate-to-postgres` would leave behind', async () => {
    const migrated = await openOrm({ database: sqliteDatabase(join(dir, 'tables.db')) });
    try {
      const tables = Object.keys(await describeSchema(migrated)).sort();
      expect(METADATA_TABLES.map((t) => t.table).sort()).toEqual(tables);
    } finally {
      await migrated.close();
    }
  });

  it('apply once and keep user data across restarts', async () => {
    const file = join(dir, 'restart.db');
    const first = await openOrm({ database: sqliteDatabase(file) });
    await new DatasourceService(first.em.fork() as never, new LineageStore()).create({ name: 'kept', kind: DatasourceKind.STORAGE });
    expect(await first.getMigrator().getExecutedMigrations()).toHaveLength(MIGRATIONS.length);
    await first.close();

    const second = await openOrm({ database: sqliteDatabase(file) });
    expect(await second.getMigrator().getPendingMigrations()).toEqual([]);
    expect((await second.em.fork().findOneOrFail(Datasource, { name: 'kept' })).kind).toBe(DatasourceKind.STORAGE);
    const [{ journal_mode }] = await second.em.getConnection().execute('PRAGMA journal_mode');
    expect(journal_mode).toBe('wal');
    const [{ foreign_keys }] = await second.em.getConnection().execute('PRAGMA foreign_keys');
    expect(foreign_keys).toBe(1);
    await second.close();
  });

  it('keep declarations when automation_io is rebuilt for the ERRORS direction', async () => {
    const orm = await initOrm({ database: sqliteDatabase(join(dir, 'upgrade.db')) });
    await orm.getMigrator().up({ to: 'Migration20261122300000RunnerSettings' });
    const conn = orm.em.getConnection();
    await conn.execute(`insert into datasource (id, name, kind, tags, columns, created_at, modified_at) values ('d1', 'in', 'STORAGE', '[]', '[]', 0, 0), ('d2', 'out', 'STORAGE', '[]', '[]', 0, 0)`);
    await conn.execute(`insert into automation (id, name, kind, state, created_at, modified_at) values ('a1', 'etl', 'ETL_STEP', 'ACTIVE', 0, 0)`);
    await conn.execute(`insert into automation_io (automation_id, datasource_id, direction, position) values ('a1', 'd1', 'INPUT', 0), ('a1', 'd2', 'OUTPUT', 0)`);
    await orm.getMigrator().up();
    expect(await conn.execute(`select automation_id, datasource_id, direction from automation_io order by id`)).toEqual([
      { automation_id: 'a1', datasource_id: 'd1', direction: 'INPUT' },
      { automation_id: 'a1', datasource_id: 'd2', direction: 'OUTPUT' },
    ]);
    expect(await conn.execute(`select error_policy, write_mode from automation`)).toEqual([{ error_policy: 'FAIL_RUN', write_mode: 'REPLACE' }]);
    await expect(conn.execute(`delete from datasource where id = 'd1'`)).rejects.toThrow(/FOREIGN KEY/);
    await orm.close();
  });
});

/** Before connections: an SFTP import holding its server and sealed secrets, a version of it, and a run. */
async function seedSftpImport(execute: (sql: string) => Promise<unknown>, q: (name: string) => string): Promise<void> {
  await execute(`insert into datasource (id, name, kind, tags, columns, created_at, modified_at) values ('d1', 'landing', 'STORAGE', '[]', '[]', ${q('now')}, ${q('now')})`);
  await execute(
    `insert into automation (id, name, kind, state, host, port, username, password_sealed, private_key_sealed, remote_dir, file_pattern, created_at, modified_at) values ('a1', 'nightly drop', 'SFTP_IMPORT', 'ACTIVE', 'sftp.example.test', 2222, 'loader', 'v1:iv:tag:sealed-password', null, '/drop', '*.csv', ${q('now')}, ${q('now')})`,
  );
  const definition = JSON.stringify({ kind: 'SFTP_IMPORT', name: 'nightly drop', host: 'sftp.example.test', port: 2222, username: 'loader', passwordSealed: 'v1:iv:tag:sealed-password', privateKeySealed: null, remoteDir: '/drop', filePattern: '*.csv', inputIds: [], outputIds: ['d1'] });
  await execute(`insert into automation_version (id, automation_id, number, status, definition, contributor_ids, created_at) values ('v1', 'a1', 1, 'LIVE', '${definition}', '[]', ${q('now')})`);
  await execute(`insert into run (id, automation_id, status, trigger, queued_at) values ('r1', 'a1', 'SUCCESS', 'MANUAL', ${q('now')})`);
}

async function expectSftpMoved(rows: (sql: string) => Promise<any[]>): Promise<void> {
  expect(await rows(`select id, name, type, host, port, username, password_sealed, private_key_sealed, owner_automation_id from connection`)).toEqual([
    { id: 'a1', name: 'nightly drop', type: 'SFTP', host: 'sftp.example.test', port: 2222, username: 'loader', password_sealed: 'v1:iv:tag:sealed-password', private_key_sealed: null, owner_automation_id: 'a1' },
  ]);
  expect(await rows(`select connection_id, remote_dir from automation`)).toEqual([{ connection_id: 'a1', remote_dir: '/drop' }]);
  const [version] = await rows(`select definition from automation_version`);
  const definition = typeof version.definition === 'string' ? JSON.parse(version.definition) : version.definition;
  expect(definition).toMatchObject({ connectionId: 'a1', remoteDir: '/drop' });
  expect(Object.keys(definition)).not.toEqual(expect.arrayContaining(['host']));
  expect(JSON.stringify(definition)).not.toMatch(/sealed|username|port/);
  // Nothing cascaded away while the automation table changed, and the new kind is accepted.
  expect(await rows(`select id from run`)).toEqual([{ id: 'r1' }]);
  await rows(`insert into automation (id, name, kind, state, created_at, modified_at, write_mode, write_keys, error_policy, error_record_format) values ('a2', 'orders', 'DATABASE_TABLE', 'ACTIVE', '2026-01-01', '2026-01-01', 'REPLACE', '[]', 'FAIL_RUN', 'ORIGINAL_RECORD')`);
}

describe('the connections migration', () => {
  it('moves each SFTP import\'s server and sealed secrets into a connection of its own (SQLite)', async () => {
    const orm = await initOrm({ database: sqliteDatabase(join(dir, 'connections.db')) });
    await orm.getMigrator().up({ to: 'Migration20261128200000Templates' });
    const conn = orm.em.getConnection();
    await seedSftpImport((sql) => conn.execute(sql), () => "'2026-01-01'");
    await orm.getMigrator().up();
    await expectSftpMoved((sql) => conn.execute(sql));
    expect(await conn.execute(`pragma integrity_check`)).toEqual([{ integrity_check: 'ok' }]);
    await orm.close();
  });

  it('moves each SFTP import\'s server and sealed secrets into a connection of its own (PostgreSQL)', { timeout: 60_000 }, async () => {
    const db = await createTestDatabase('tributary_migrate_connections');
    const orm = await initOrm({ database: { dialect: 'postgresql', url: db.url } } as never);
    try {
      await orm.getMigrator().up({ to: 'Migration20261128200000Templates' });
      const conn = orm.em.getConnection();
      await seedSftpImport((sql) => conn.execute(sql), () => 'now()');
      await orm.getMigrator().up();
      await expectSftpMoved((sql) => conn.execute(sql));
    } finally {
      await orm.close();
      await db.drop();
    }
  });
});

describe('migrations on PostgreSQL', () => {
  it('apply once when several processes open an empty database together', { timeout: 90_000 }, async () => {
    const db = await createTestDatabase('tributary_migrate_race');
    const orms: Orm[] = [];
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, () => openOrm({ database: { dialect: 'postgresql', url: db.url } }).then((orm) => orms.push(orm))),
      );
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      const applied = await orms[0]!.em.fork().getConnection().execute<{ name: string }[]>('select name from mikro_orm_migrations');
      expect(applied.map((row) => row.name).sort()).toEqual(POSTGRES_MIGRATIONS.map((m) => m.name).sort());
    } finally {
      await Promise.all(orms.map((orm) => orm.close(true)));
      await db.drop();
    }
  });
});

/** A datasource, an ETL step reading it and writing another, made before history was kept. */
async function seedBeforeHistory(run: (sql: string) => Promise<any[]>, created: string): Promise<void> {
  await run(`insert into datasource (id, name, kind, tags, columns, created_at, modified_at) values ('d1', 'orders', 'STORAGE', '["raw"]', '[]', ${created}, ${created}), ('d2', 'totals', 'STORAGE', '[]', '[]', ${created}, ${created})`);
  await run(
    `insert into automation (id, name, kind, state, created_at, modified_at, write_mode, write_keys, error_policy, error_record_format) values ('a1', 'sum', 'ETL_STEP', 'ACTIVE', ${created}, ${created}, 'REPLACE', '[]', 'FAIL_RUN', 'ORIGINAL_RECORD')`,
  );
  await run(`insert into automation_io (automation_id, datasource_id, direction, position) values ('a1', 'd1', 'INPUT', 0), ('a1', 'd2', 'OUTPUT', 0)`);
}

async function expectHistoryKept(run: (sql: string) => Promise<any[]>, dialect: 'sqlite' | 'postgresql'): Promise<void> {
  // Every trigger is there (a later migration that rebuilds one of these tables must make them again).
  const triggers = await run(dialect === 'sqlite' ? `select name from sqlite_master where type = 'trigger'` : `select tgname as name from pg_trigger where not tgisinternal`);
  expect(triggers.map((r) => r.name).sort()).toEqual(historyTriggerNames(dialect).sort());
  const periods = (await run(`select datasource_id, name, valid_until from datasource_history order by datasource_id`)).map((r) => ({ ...r, valid_until: r.valid_until ?? null }));
  expect(periods).toEqual([
    { datasource_id: 'd1', name: 'orders', valid_until: null },
    { datasource_id: 'd2', name: 'totals', valid_until: null },
  ]);
  expect(await run(`select automation_id, datasource_id, direction from automation_io_history order by direction`)).toEqual([
    { automation_id: 'a1', datasource_id: 'd1', direction: 'INPUT' },
    { automation_id: 'a1', datasource_id: 'd2', direction: 'OUTPUT' },
  ]);
  // From now on the triggers keep it: a rename closes one period and opens the next, a delete closes it.
  await run(`update datasource set name = 'orders_v2' where id = 'd1'`);
  await run(`update datasource set modified_at = modified_at where id = 'd1'`); // nothing the graph shows: no new period
  await run(`update datasource set producer = 'urn:another' where id = 'd1'`); // nor a producer reporting it
  await run(`delete from automation_io where direction = 'OUTPUT'`);
  const d1 = await run(`select name, valid_until from datasource_history where datasource_id = 'd1' order by id`);
  expect(d1.map((r) => [r.name, r.valid_until !== null])).toEqual([['orders', true], ['orders_v2', false]]);
  expect((await run(`select valid_until from automation_io_history where direction = 'OUTPUT'`))[0].valid_until).not.toBeNull();
}

describe('the lineage history migration', () => {
  it('dates what exists from its creation and keeps every later change (SQLite)', async () => {
    const orm = await initOrm({ database: sqliteDatabase(join(dir, 'history.db')) });
    await orm.getMigrator().up({ to: 'Migration20261129000000OpenLineage' });
    const conn = orm.em.getConnection();
    await seedBeforeHistory((sql) => conn.execute(sql), '1767225600000');
    await orm.getMigrator().up();
    await expectHistoryKept((sql) => conn.execute(sql), 'sqlite');
    expect((await conn.execute(`select valid_from from datasource_history where datasource_id = 'd2'`))[0].valid_from).toBe(1767225600000);
    await orm.close();
  });

  it('dates what exists from its creation and keeps every later change (PostgreSQL)', { timeout: 60_000 }, async () => {
    const db = await createTestDatabase('tributary_migrate_history');
    const orm = await initOrm({ database: { dialect: 'postgresql', url: db.url } } as never);
    try {
      await orm.getMigrator().up({ to: 'Migration20261129000000OpenLineage' });
      const conn = orm.em.getConnection();
      await seedBeforeHistory((sql) => conn.execute(sql), "'2026-01-01T00:00:00Z'");
      await orm.getMigrator().up();
      await expectHistoryKept((sql) => conn.execute(sql), 'postgresql');
      expect(new Date((await conn.execute(`select valid_from from datasource_history where datasource_id = 'd2'`))[0].valid_from).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    } finally {
      await orm.close();
      await db.drop();
    }
  });
});
