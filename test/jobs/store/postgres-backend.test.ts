import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AgendaBackend } from 'agenda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('PostgreSQL job store, opened by several processes at once', () => {
  it('connects every one when they all create the same table together', { timeout: 60_000 }, async () => {
    // Processes started together (two workers, an API process) each create the table, its indexes and
    // its trigger function on connect; unserialised, one of them failed with "tuple concurrently updated".
    const own = await createTestDatabase('tributary_jobs_race');
    try {
      for (let round = 0; round < 3; round++) {
        const tableName = `jobs_race_${randomBytes(4).toString('hex')}`;
        const stores = await Promise.all(Array.from({ length: 6 }, () => openJobStore('/nonexistent', own.url, { tableName })));
        const outcomes = await Promise.allSettled(stores.map((store) => store.connect()));
        await Promise.all(stores.map((store) => store.disconnect()));
        expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      }
    } finally {
      // pg-pool's end() returns before its connections have closed: dropping the database at once
      // would terminate them mid-goodbye, which pg reports as an error. Wait until they are gone.
      const watcher = new pg.Client({ connectionString: own.url });
      await watcher.connect();
      for (let i = 0; i < 50; i++) {
        const { rows } = await watcher.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
        if (Number(rows[0]!.n) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await watcher.end();
      await own.drop();
    }
  });
});
