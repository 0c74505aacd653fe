import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSftpState, SFTP_STATE_FILE } from '../../jobs/runners/sftp-state.js';
import { SqliteSftpState } from '../../jobs/runners/sftp-state.sqlite.js';
import { sftpStateContract } from './sftp-state-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-sftp-state-'));
const file = join(dir, SFTP_STATE_FILE);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one query on the file through a connection of its own. */
function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (error) => {
      if (error) return reject(error);
      db.all(sql, params, (failure, rows) => db.close(() => (failure ? reject(failure) : resolve(rows as T[]))));
    });
  });
}

sftpStateContract({
  name: 'SQLite',
  open: () => openSftpState({ dialect: 'sqlite', file }),
  countImported: async (importId) => (await query<{ n: number }>('select count(*) as n from imported_file where import_id = ?', [importId]))[0]!.n,
});

describe('SQLite SFTP state file', () => {
  it('is a SqliteSftpState set up like our other SQLite files (WAL, busy timeout)', async () => {
    const state = await openSftpState({ dialect: 'sqlite', file });
    try {
      expect(state).toBeInstanceOf(SqliteSftpState);
      expect(await query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      const names = (await query<{ name: string }>(`select name from sqlite_master where type = 'table' order by name`)).map((r) => r.name);
      expect(names).toEqual(['host_key', 'imported_file', 'ingestion_cursor']);
    } finally {
      await state.close();
    }
  });
});
