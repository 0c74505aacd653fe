import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The local PostgreSQL the suite uses (trust auth); TRIBUTARY_TEST_PG_URL points elsewhere. */
export const PG_ADMIN_URL = process.env.TRIBUTARY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * `TRIBUTARY_TEST_BACKEND=postgres` runs the suite with the metadata, the job store, the warehouse
 * and the SFTP state on PostgreSQL (a fresh database per test server); the default is SQLite.
 */
export const TEST_BACKEND: 'sqlite' | 'postgres' = process.env.TRIBUTARY_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, ending the connections still open to it. */
  drop(): Promise<void>;
}

function urlOf(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, application_name: 'tributary-test-admin' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database with a random name, so parallel test files and runs never collide. */
export async function createTestDatabase(prefix = 'tributary_test'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`create database "${name}"`));
  return {
    name,
    url: urlOf(name),
    drop: () => admin((client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/**
 * The environment that puts a test server's stores on the suite's backend: nothing for SQLite; for
 * PostgreSQL a fresh database holding the metadata, the job store and the warehouse, dropped by `drop`.
 */
export async function backendEnv(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (TEST_BACKEND === 'sqlite') return { env: {}, drop: async () => undefined };
  const db = await createTestDatabase();
  return { env: { DATABASE_URL: db.url, JOB_STORE_URL: db.url, WAREHOUSE_URL: db.url }, drop: () => db.drop() };
}

/**
 * The temporary relations of every session connected to the database at `url`: what a PostgreSQL
 * warehouse session stages (inputs, views, answers, staged rows) and must not leave behind once it
 * is closed, as the SQLite warehouse must leave no file in DATA_DIR/staging.
 */
export async function temporaryRelations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'tributary-test-admin' });
  await client.connect();
  try {
    return (await client.query<{ relname: string }>(`select relname from pg_class where relpersistence = 't'`)).rows.map((r) => r.relname);
  } finally {
    await client.end();
  }
}
