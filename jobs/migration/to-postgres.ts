import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import type { Config } from '../../core/config.js';
import { DatasourceKind } from '../../core/enums.js';
import { KEY_CHECK_SETTING, SecretKeyMismatchError } from '../../core/db/key-check.js';
import { openOrm, sqliteDatabase } from '../../core/db/orm.js';
import { inTransaction } from '../../core/db/postgres.js';
import { describeLocation, type StoreLocation } from '../../core/db/sql.js';
import { SecretBox } from '../../core/secrets.js';
import { SFTP_STATE_FILE, openSftpState } from '../runners/sftp-state.js';
import { openWarehouse } from '../warehouse/open.js';
import { WriteMode, type DatasourceSpec } from '../warehouse/warehouse.js';
import { copyMetadata } from './copy-metadata.js';

/** What a migration moved. */
export interface MigrationReport {
  metadata: Record<string, number>;
  /** Rows copied per STORAGE datasource id (empty when the warehouse stays in SQLite). */
  warehouse: Record<string, number>;
  sftpState: { files: number; hostKeys: number };
}

/** The migration cannot go ahead; the message says why and what to do. */
export class MigrationError extends Error {}

const PAGE = 5_000;

/**
 * Moves the SQLite workspace in `config.dataDir` (metadata, warehouse, SFTP state) to the
 * PostgreSQL database of DATABASE_URL (and WAREHOUSE_URL for the warehouse's tables), which must
 * hold no datasource, automation or run yet. The warehouse and the SFTP state go first (both can
 * be copied again: REPLACE, and "already imported" marks that ignore duplicates); the metadata
 * goes last, in one transaction, so a failed migration can simply be run again. The job store is
 * not copied: schedules are rebuilt from the metadata at start, and queued runs dispatched again.
 */
export async function migrateToPostgres(config: Config, log: (line: string) => void = () => undefined): Promise<MigrationReport> {
  const target = config.database;
  if (target.dialect !== 'postgresql') throw new MigrationError('DATABASE_URL must be the postgres:// URL of the database to move the workspace to');
  const sourceFile = join(config.dataDir, 'tributary.db');
  if (!existsSync(sourceFile)) throw new MigrationError(`there is no SQLite workspace to move: ${sourceFile} does not exist (DATA_DIR is ${config.dataDir})`);

  const source = await openOrm({ database: sqliteDatabase(sourceFile) }); // brings an older workspace up to date first
  try {
    const read = async (table: string) => (await source.em.fork().execute(`select * from "${table}"`)) as Record<string, unknown>[];
    const secrets = SecretBox.open(config.dataDir, config.secretKey);
    const [stored] = (await read('setting')).filter((row) => row.key === KEY_CHECK_SETTING);
    if (stored && stored.value !== secrets.checkValue()) throw new SecretKeyMismatchError(config.secretKey ? 'TRIBUTARY_SECRET_KEY' : `the key file ${join(config.dataDir, 'secret.key')}`);

    const orm = await openOrm({ database: target }); // the PostgreSQL schema, migrated
    await orm.close();
    const client = new pg.Client({ connectionString: target.url, application_name: 'tributary-migrate' });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`select ((select count(*) from datasource) + (select count(*) from automation) + (select count(*) from run))::int as n`);
      if (rows[0]!.n > 0) throw new MigrationError(`the target database ${describeLocation(target)} already holds a workspace (${rows[0]!.n} datasources, automations and runs); move into an empty one`);

      const warehouse = await copyWarehouse(config, (await read('datasource')) as { id: string; kind: string }[], log);
      const sftpState = await copySftpState(config, target, log);

      const metadata = await inTransaction(client, async (tx) => {
        const copied = await copyMetadata(read, tx);
        if (!stored) await tx.query(`insert into setting (key, value) values ($1, $2)`, [KEY_CHECK_SETTING, secrets.checkValue()]);
        return copied;
      });
      log(`metadata: ${Object.entries(metadata).map(([table, n]) => `${n} ${table}`).join(', ')}`);
      return { metadata, warehouse, sftpState };
    } finally {
      await client.end();
    }
  } finally {
    await source.close();
  }
}

/** Every STORAGE datasource's rows, from DATA_DIR/warehouse.db to the PostgreSQL warehouse (REPLACE). */
async function copyWarehouse(config: Config, datasources: { id: string; kind: string }[], log: (line: string) => void): Promise<Record<string, number>> {
  if (config.warehouse.dialect !== 'postgresql') {
    log('warehouse: stays in DATA_DIR/warehouse.db (WAREHOUSE_URL is not a postgres:// URL)');
    return {};
  }
  const copied: Record<string, number> = {};
  const options = { dataDir: config.dataDir, fileRoots: config.fileRoots, queryTimeoutMs: 600_000 };
  const from = await openWarehouse({ dialect: 'sqlite', file: join(config.dataDir, 'warehouse.db') }, options);
  const to = await openWarehouse(config.warehouse, options);
  try {
    for (const { id } of datasources.filter((d) => d.kind === DatasourceKind.STORAGE)) {
      const spec: DatasourceSpec = { id, kind: DatasourceKind.STORAGE };
      if ((await from.stats(spec)) === null) continue; // never written
      const write = await to.openWrite(spec, WriteMode.REPLACE);
      try {
        for (let after: string | null = null; ; ) {
          const page = await from.page(spec, PAGE, after);
          await write.write(page.rows);
          if (!page.endCursor) break;
          after = page.endCursor;
        }
        await write.commit();
      } catch (error) {
        await write.abort();
        throw error;
      }
      copied[id] = write.rowsWritten;
    }
    log(`warehouse: ${Object.keys(copied).length} table(s), ${Object.values(copied).reduce((a, b) => a + b, 0)} row(s)`);
    return copied;
  } finally {
    await from.close();
    await to.close();
  }
}

/** What SFTP imports remember (files taken, host keys trusted), from DATA_DIR/sftp-state.db to PostgreSQL. */
async function copySftpState(config: Config, target: StoreLocation, log: (line: string) => void): Promise<{ files: number; hostKeys: number }> {
  const file = join(config.dataDir, SFTP_STATE_FILE);
  if (!existsSync(file)) return { files: 0, hostKeys: 0 };
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle: sqlite3.Database = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(handle)));
  });
  const all = <T>(sql: string) => new Promise<T[]>((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
  const state = await openSftpState(target);
  try {
    const files = await all<{ import_id: string; name: string; size: number; mtime: number }>('select import_id, name, size, mtime from imported_file');
    const byImport = new Map<string, { name: string; size: number; mtime: number }[]>();
    for (const { import_id, name, size, mtime } of files) {
      let taken = byImport.get(import_id);
      if (!taken) byImport.set(import_id, (taken = []));
      taken.push({ name, size, mtime });
    }
    for (const [importId, taken] of byImport) await state.markImported(importId, taken);
    const keys = await all<{ import_id: string; host: string; port: number; fingerprint: string }>('select import_id, host, port, fingerprint from host_key');
    for (const key of keys) if ((await state.knownHostKey(key.import_id, key.host, key.port)) === null) await state.recordHostKey(key.import_id, key.host, key.port, key.fingerprint);
    log(`SFTP state: ${files.length} imported file(s), ${keys.length} host key(s)`);
    return { files: files.length, hostKeys: keys.length };
  } finally {
    await state.close();
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}
