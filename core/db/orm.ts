import { MikroORM, type Options } from '@mikro-orm/sqlite';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

export interface OrmOptions {
  databaseFile: string;
  /** Called with every SQL statement the ORM sends (used by tests to count queries). */
  onQuery?: (sql: string) => void;
}

/** MikroORM configuration for the SQLite metadata database. */
export function ormConfig({ databaseFile }: OrmOptions): Options {
  return {
    dbName: databaseFile,
    entities: ENTITIES,
    extensions: [Migrator],
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    migrations: {
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: {
      // WAL and a busy timeout let several processes share the file; FKs back the deletion rules.
      afterCreate: (conn: { exec: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) =>
        conn.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;', (err) =>
          done(err, conn),
        ),
    },
    forceUtcTimezone: true,
    allowGlobalContext: false,
  };
}

/** Opens the metadata database and applies pending migrations, so an upgrade keeps user data. */
export async function openOrm(options: OrmOptions): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(options));
  await orm.getMigrator().up();
  if (options.onQuery) {
    const onQuery = options.onQuery;
    orm.em.getConnection().getKnex().on('query', (q: { sql: string }) => onQuery(q.sql));
  }
  return orm;
}
