import type { MikroORM, Options } from '@mikro-orm/core';
import type { AbstractSqlDriver, EntityManager } from '@mikro-orm/knex';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities/index.js';
import { AuditSubscriber } from '../audit/subscriber.js';
import { MIGRATIONS, POSTGRES_MIGRATIONS } from './migrations/index.js';
import { sqliteSetup, type StoreLocation } from './sql.js';

/** The metadata database, on SQLite or PostgreSQL: everything above it sees only this type. */
export type Orm = MikroORM<AbstractSqlDriver, EntityManager>;

export interface OrmOptions {
  /** Where the metadata lives: a SQLite file (the default, DATA_DIR/tributary.db) or a PostgreSQL database. */
  database: StoreLocation;
  /** Called with every SQL statement the ORM sends (used by tests to count queries). */
  onQuery?: (sql: string) => void;
}

/** The metadata database in a SQLite file. */
export const sqliteDatabase = (file: string): StoreLocation => ({ dialect: 'sqlite', file });

/** How long a metadata connection waits for another process's write lock (SQLite). */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** MikroORM configuration for the metadata database; each dialect has its own list of migrations. */
export function ormConfig({ database }: OrmOptions): Options {
  const common: Options = {
    entities: ENTITIES,
    extensions: [Migrator],
    // The audit log's view of each flush (core/audit): which objects and fields a mutation changed.
    subscribers: [new AuditSubscriber()],
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    forceUtcTimezone: true,
    allowGlobalContext: false,
  };
  const migrations = (list: typeof MIGRATIONS) => ({ migrationsList: list, transactional: true, allOrNothing: true, snapshot: false, silent: true });
  if (database.dialect === 'postgresql') {
    return { ...common, clientUrl: database.url, migrations: migrations(POSTGRES_MIGRATIONS), pool: { min: 0, max: 10 } };
  }
  // WAL and a busy timeout let several processes share the file; FKs back the deletion rules.
  const setup = [...sqliteSetup(SQLITE_BUSY_TIMEOUT_MS), 'PRAGMA foreign_keys = ON'].join('; ');
  return {
    ...common,
    dbName: database.file,
    migrations: migrations(MIGRATIONS),
    pool: {
      afterCreate: (conn: { exec: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) =>
        conn.exec(setup, (err) => done(err, conn)),
    },
  };
}

/** MikroORM with the driver of the database's dialect, not yet migrated. */
export async function initOrm(options: OrmOptions): Promise<Orm> {
  const config = ormConfig(options);
  if (options.database.dialect === 'postgresql') {
    const { MikroORM: PostgresOrm } = await import('@mikro-orm/postgresql');
    return (await PostgresOrm.init(config as never)) as unknown as Orm;
  }
  const { MikroORM: SqliteOrm } = await import('@mikro-orm/sqlite');
  return (await SqliteOrm.init(config as never)) as unknown as Orm;
}

/** Opens the metadata database and applies pending migrations, so an upgrade keeps user data. */
export async function openOrm(options: OrmOptions): Promise<Orm> {
  const orm = await initOrm(options);
  try {
    const migrate = async () => {
      await orm.getMigrator().up();
      const { recordMissingVersions } = await import('../versions/live.js');
      await recordMissingVersions(orm.em.fork() as EntityManager);
    };
    // Processes starting together on one PostgreSQL database take turns: the first applies what is
    // pending, the others find nothing left to do.
    if (options.database.dialect === 'postgresql') {
      const { whileLocked } = await import('./postgres.js');
      await whileLocked(options.database.url, 'metadata-migrations', migrate);
    } else await migrate();
  } catch (error) {
    await orm.close(true).catch(() => undefined);
    throw error;
  }
  if (options.onQuery) {
    const onQuery = options.onQuery;
    orm.em.getConnection().getKnex().on('query', (q: { sql: string }) => onQuery(q.sql));
  }
  return orm;
}
