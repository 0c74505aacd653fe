import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOrm, sqliteDatabase } from '../../core/db/orm.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { repositoriesContract } from './repositories-contract.js';

repositoriesContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-repos-'));
  const orm = await openOrm({ database: sqliteDatabase(join(dir, 'tributary.db')) });
  return { orm, close: async () => (await orm.close(), rmSync(dir, { recursive: true, force: true })) };
});

repositoriesContract('PostgreSQL', async () => {
  const db = await createTestDatabase('tributary_repos');
  const orm = await openOrm({ database: { dialect: 'postgresql', url: db.url } });
  return { orm, close: async () => (await orm.close(), await db.drop()) };
});
