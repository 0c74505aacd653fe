import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSftpState } from '../../jobs/runners/sftp-state.js';
import { PostgresSftpState } from '../../jobs/runners/sftp-state.postgres.js';
import { sftpStateContract } from './sftp-state-contract.js';

/** The local server (127.0.0.1:5432, trust, user postgres), database `test`: this file's own schema, dropped at the end. */
const URL = process.env.TRIBUTARY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sftp_state_test_${randomBytes(6).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: URL, application_name: 'tributary-test-admin' });
  await admin.connect();
});
afterAll(async () => {
  await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

sftpStateContract({
  name: 'PostgreSQL',
  open: () => openSftpState({ dialect: 'postgresql', url: URL }, { schema }),
  countImported: async (importId) => Number((await admin.query(`select count(*) as n from "${schema}".imported_file where import_id = $1`, [importId])).rows[0].n),
});

describe('PostgreSQL SFTP state schema', () => {
  it('keeps its tables in its own schema, and several processes may create them at once', async () => {
    const fresh = `${schema}_x`;
    try {
      const states = await Promise.all(Array.from({ length: 4 }, () => openSftpState({ dialect: 'postgresql', url: URL }, { schema: fresh })));
      expect(states[0]).toBeInstanceOf(PostgresSftpState);
      await Promise.all(states.map((s) => s.close()));
      const { rows } = await admin.query(`select table_name from information_schema.tables where table_schema = $1 order by table_name`, [fresh]);
      expect(rows.map((r) => r.table_name)).toEqual(['host_key', 'imported_file', 'ingestion_cursor']);
    } finally {
      await admin.query(`drop schema if exists "${fresh}" cascade`);
    }
  });
});
