import { randomBytes } from 'node:crypto';
import type { AgendaBackend } from 'agenda';
import { afterAll, beforeAll, describe } from 'vitest';
import { openJobStore } from '../../../jobs/scheduler/job-store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { agendaContractSuite } from './agenda-contract.js';
import { repositoryContractSuite } from './repository-contract.js';

/**
 * The same contract suites as the SQLite store, on the PostgreSQL job store Tributary opens for
 * JOB_STORE_URL=postgres://… (@agendajs/postgres-backend, as openJobStore configures it). Each
 * backend gets an empty store of its own: a table of its own in a database made for this file.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('tributary_jobs');
}, 30_000);
afterAll(async () => db?.drop());

describe('PostgreSQL job store', () => {
  const createBackend = async (): Promise<AgendaBackend> => {
    const backend = await openJobStore('/nonexistent', db.url, { tableName: `jobs_${randomBytes(4).toString('hex')}` });
    await backend.connect();
    return backend;
  };
  repositoryContractSuite({ name: 'PostgreSQL', createBackend });
  // Its LISTEN/NOTIFY channel is the library's own: it does not share a burst's locks fairly (see JobStoreContractConfig.fairBurst).
  agendaContractSuite({ name: 'PostgreSQL', createBackend, fairBurst: false });
});
