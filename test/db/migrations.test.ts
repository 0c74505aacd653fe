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
