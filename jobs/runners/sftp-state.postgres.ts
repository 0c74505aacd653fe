import type pg from 'pg';
import { advisoryLockSql, openPostgresPool, poolTransaction } from '../../core/db/postgres.js';
import { quoteIdent } from '../../core/db/sql.js';
import { DEFAULT_SFTP_STATE_SCHEMA, type OpenSftpStateOptions, type RemoteFileId, type SftpState } from './sftp-state.types.js';

/**
 * The SFTP state in two tables of a PostgreSQL schema (default `tributary_sftp_state`), with the
 * SQLite state's semantics: marking a file again does nothing, recording a host key replaces the
 * one before. Sizes and modification times are bigint (milliseconds outgrow 32 bits).
 */
export class PostgresSftpState implements SftpState {
  private readonly files: string;
  private readonly hostKeys: string;
  private readonly cursors: string;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    this.files = `${quoteIdent(schema)}.imported_file`;
    this.hostKeys = `${quoteIdent(schema)}.host_key`;
    this.cursors = `${quoteIdent(schema)}.ingestion_cursor`;
  }

  /** Connects, creating the schema and the tables when missing. */
  static async open(url: string, options: OpenSftpStateOptions = {}): Promise<PostgresSftpState> {
    const schema = options.schema ?? DEFAULT_SFTP_STATE_SCHEMA;
    const pool = await openPostgresPool(url, { applicationName: 'tributary-sftp-state', schema, max: 4, onIdleError: options.onIdleError });
    const state = new PostgresSftpState(pool, schema);
    try {
      await state.createTables();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return state;
  }

  /**
   * CREATE TABLE IF NOT EXISTS is not safe against itself: two processes starting together can
   * both try, and one fails on the catalog's unique index. A transaction-scoped advisory lock on
   * the schema's name makes them take turns.
   */
  private async createTables(): Promise<void> {
    await poolTransaction(this.pool, async (client) => {
      await client.query(advisoryLockSql('$1'), [`sftp-state:${this.schema}`]);
      await client.query(`create table if not exists ${this.files} (
        import_id text not null,
        name text not null,
        size bigint not null,
        mtime bigint not null,
        imported_at timestamptz not null,
        primary key (import_id, name, size, mtime)
      )`);
      await client.query(`create table if not exists ${this.hostKeys} (
        import_id text not null,
        host text not null,
        port integer not null,
        fingerprint text not null,
        recorded_at timestamptz not null,
        primary key (import_id, host, port)
      )`);
      await client.query(`create table if not exists ${this.cursors} (
        ingestion_id text not null primary key,
        value text not null,
        recorded_at timestamptz not null
      )`);
    });
  }

  async isImported(importId: string, file: RemoteFileId): Promise<boolean> {
    const { rowCount } = await this.pool.query(`select 1 from ${this.files} where import_id = $1 and name = $2 and size = $3 and mtime = $4`, [
      importId,
      file.name,
      file.size,
      file.mtime,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async markImported(importId: string, files: RemoteFileId[]): Promise<void> {
    if (files.length === 0) return;
    await this.pool.query(
      `insert into ${this.files} (import_id, name, size, mtime, imported_at)
       select $1, f.name, f.size, f.mtime, $5 from unnest($2::text[], $3::bigint[], $4::bigint[]) as f (name, size, mtime)
       on conflict (import_id, name, size, mtime) do nothing`,
      [importId, files.map((f) => f.name), files.map((f) => f.size), files.map((f) => f.mtime), new Date().toISOString()],
    );
  }

  async knownHostKey(importId: string, host: string, port: number): Promise<string | null> {
    const { rows } = await this.pool.query<{ fingerprint: string }>(`select fingerprint from ${this.hostKeys} where import_id = $1 and host = $2 and port = $3`, [
      importId,
      host,
      port,
    ]);
    return rows[0]?.fingerprint ?? null;
  }

  async recordHostKey(importId: string, host: string, port: number, fingerprint: string): Promise<void> {
    await this.pool.query(
      `insert into ${this.hostKeys} (import_id, host, port, fingerprint, recorded_at) values ($1, $2, $3, $4, $5)
       on conflict (import_id, host, port) do update set fingerprint = excluded.fingerprint, recorded_at = excluded.recorded_at`,
      [importId, host, port, fingerprint, new Date().toISOString()],
    );
  }

  async lastCursor(ingestionId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ value: string }>(`select value from ${this.cursors} where ingestion_id = $1`, [ingestionId]);
    return rows[0]?.value ?? null;
  }

  async recordCursor(ingestionId: string, value: string): Promise<void> {
    await this.pool.query(
      `insert into ${this.cursors} (ingestion_id, value, recorded_at) values ($1, $2, $3)
       on conflict (ingestion_id) do update set value = excluded.value, recorded_at = excluded.recorded_at`,
      [ingestionId, value, new Date().toISOString()],
    );
  }

  async forget(importId: string): Promise<void> {
    await poolTransaction(this.pool, async (client) => {
      await client.query(`delete from ${this.cursors} where ingestion_id = $1`, [importId]);
      await client.query(`delete from ${this.files} where import_id = $1`, [importId]);
      await client.query(`delete from ${this.hostKeys} where import_id = $1`, [importId]);
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
