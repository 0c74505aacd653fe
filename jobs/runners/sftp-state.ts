import { SqliteDb } from '../warehouse/sqlite-db.js';

/** The state file's name inside DATA_DIR. */
export const SFTP_STATE_FILE = 'sftp-state.db';

/** A remote file as SFTP lists it: the three things that tell "already imported" from "new". */
export interface RemoteFileId {
  name: string;
  size: number;
  /** Modification time as listed (milliseconds since the epoch). */
  mtime: number;
}

const SCHEMA = `
  PRAGMA journal_mode = WAL;
  PRAGMA busy_timeout = 10000;
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
`;

/**
 * What SFTP imports remember between runs, in its own SQLite file (`DATA_DIR/sftp-state.db`):
 * the files each import took (name + size + mtime, so a re-uploaded file counts as new) and the
 * host keys trusted on first use.
 */
export class SftpState {
  private constructor(private readonly db: SqliteDb) {}

  /** Opens (creating if needed) the state file. */
  static async open(file: string): Promise<SftpState> {
    const db = await SqliteDb.open(file);
    try {
      await db.exec(SCHEMA);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    return new SftpState(db);
  }

  /** True when this import already took this exact file (same name, size and modification time). */
  async isImported(importId: string, file: RemoteFileId): Promise<boolean> {
    const row = await this.db.get('select 1 as hit from imported_file where import_id = ? and name = ? and size = ? and mtime = ?', [
      importId,
      file.name,
      file.size,
      file.mtime,
    ]);
    return row !== undefined;
  }

  /** Remembers files as imported, all at once (called after the rows are committed). */
  async markImported(importId: string, files: RemoteFileId[]): Promise<void> {
    if (files.length === 0) return;
    const now = new Date().toISOString();
    await this.db.transaction(async () => {
      for (const file of files) {
        await this.db.run('insert or ignore into imported_file (import_id, name, size, mtime, imported_at) values (?, ?, ?, ?, ?)', [
          importId,
          file.name,
          file.size,
          file.mtime,
          now,
        ]);
      }
    });
  }

  /** The fingerprint trusted for this import's server, or null before the first successful connection. */
  async knownHostKey(importId: string, host: string, port: number): Promise<string | null> {
    const row = await this.db.get<{ fingerprint: string }>('select fingerprint from host_key where import_id = ? and host = ? and port = ?', [importId, host, port]);
    return row?.fingerprint ?? null;
  }

  /** Trusts a host key for this import's server (replacing any earlier one). */
  async recordHostKey(importId: string, host: string, port: number, fingerprint: string): Promise<void> {
    await this.db.run(
      `insert into host_key (import_id, host, port, fingerprint, recorded_at) values (?, ?, ?, ?, ?)
       on conflict (import_id, host, port) do update set fingerprint = excluded.fingerprint, recorded_at = excluded.recorded_at`,
      [importId, host, port, fingerprint, new Date().toISOString()],
    );
  }

  /** Drops everything remembered for an import (its imported files and trusted host keys). */
  async forget(importId: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run('delete from imported_file where import_id = ?', [importId]);
      await this.db.run('delete from host_key where import_id = ?', [importId]);
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
