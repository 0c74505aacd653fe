import { sqliteSetup } from '../../core/db/sql.js';
import { SqliteDb } from '../warehouse/sqlite-db.js';
import type { RemoteFileId, SftpState } from './sftp-state.types.js';

const SCHEMA = `
  create table if not exists imported_file (
    import_id text not null,
    name text not null,
    size integer not null,
    mtime integer not null,
    imported_at text not null,
    primary key (import_id, name, size, mtime)
  );
  create table if not exists host_key (
    import_id text not null,
    host text not null,
    port integer not null,
    fingerprint text not null,
    recorded_at text not null,
    primary key (import_id, host, port)
  );
  create table if not exists ingestion_cursor (
    ingestion_id text not null primary key,
    value text not null,
    recorded_at text not null
  );
`;

/**
 * The SFTP state in its own SQLite file (`DATA_DIR/sftp-state.db`), set up like every SQLite
 * connection of ours (core/db/sql.ts: busy timeout, WAL, NORMAL sync). Several processes may share
 * the file. The writes of this connection run one after another, so a transaction never has
 * another write of ours slip into it.
 */
export class SqliteSftpState implements SftpState {
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: SqliteDb) {}

  /** Opens (creating if needed) the state file. */
  static async open(file: string): Promise<SqliteSftpState> {
    const db = await SqliteDb.open(file);
    try {
      await db.exec(`${sqliteSetup().join(';\n')};\n${SCHEMA}`);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    return new SqliteSftpState(db);
  }

  async isImported(importId: string, file: RemoteFileId): Promise<boolean> {
    const row = await this.db.get('select 1 as hit from imported_file where import_id = ? and name = ? and size = ? and mtime = ?', [
      importId,
      file.name,
      file.size,
      file.mtime,
    ]);
    return row !== undefined;
  }

  async markImported(importId: string, files: RemoteFileId[]): Promise<void> {
    if (files.length === 0) return;
    const list = JSON.stringify(files.map(({ name, size, mtime }) => ({ name, size, mtime })));
    // One statement: all the files or none. (`where true` lets SQLite parse the upsert after a SELECT.)
    await this.write(() =>
      this.db.run(
        `insert into imported_file (import_id, name, size, mtime, imported_at)
         select ?, json_extract(value, '$.name'), json_extract(value, '$.size'), json_extract(value, '$.mtime'), ? from json_each(?) where true
         on conflict (import_id, name, size, mtime) do nothing`,
        [importId, new Date().toISOString(), list],
      ),
    );
  }

  async knownHostKey(importId: string, host: string, port: number): Promise<string | null> {
    const row = await this.db.get<{ fingerprint: string }>('select fingerprint from host_key where import_id = ? and host = ? and port = ?', [importId, host, port]);
    return row?.fingerprint ?? null;
  }

  async recordHostKey(importId: string, host: string, port: number, fingerprint: string): Promise<void> {
    await this.write(() =>
      this.db.run(
        `insert into host_key (import_id, host, port, fingerprint, recorded_at) values (?, ?, ?, ?, ?)
         on conflict (import_id, host, port) do update set fingerprint = excluded.fingerprint, recorded_at = excluded.recorded_at`,
        [importId, host, port, fingerprint, new Date().toISOString()],
      ),
    );
  }

  async lastCursor(ingestionId: string): Promise<string | null> {
    const row = await this.db.get<{ value: string }>('select value from ingestion_cursor where ingestion_id = ?', [ingestionId]);
    return row?.value ?? null;
  }

  async recordCursor(ingestionId: string, value: string): Promise<void> {
    await this.write(() =>
      this.db.run(
        `insert into ingestion_cursor (ingestion_id, value, recorded_at) values (?, ?, ?)
         on conflict (ingestion_id) do update set value = excluded.value, recorded_at = excluded.recorded_at`,
        [ingestionId, value, new Date().toISOString()],
      ),
    );
  }

  async forget(importId: string): Promise<void> {
    await this.write(() =>
      this.db.transaction(async () => {
        await this.db.run('delete from ingestion_cursor where ingestion_id = ?', [importId]);
        await this.db.run('delete from imported_file where import_id = ?', [importId]);
        await this.db.run('delete from host_key where import_id = ?', [importId]);
      }),
    );
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    await this.db.close();
  }

  /** Runs `work` once the writes asked for before it have finished. */
  private write<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work, work);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
