import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agenda, InMemoryNotificationChannel } from 'agenda';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalNotificationChannel, NotConnectedError, SqliteBackend, SqliteConnection } from '../../../jobs/store/index.js';
import { agendaContractSuite } from './agenda-contract.js';
import { jobParams } from './job-factory.js';
import { repositoryContractSuite } from './repository-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-job-store-'));
let files = 0;
const nextFile = (): string => join(dir, `jobs-${++files}.db`);
const opened: SqliteBackend[] = [];
const open = async (options: Partial<ConstructorParameters<typeof SqliteBackend>[0]> = {}): Promise<SqliteBackend> => {
  const backend = new SqliteBackend({ path: nextFile(), ...options });
  opened.push(backend);
  await backend.connect();
  return backend;
};

afterEach(async () => {
  for (const backend of opened.splice(0)) await backend.disconnect();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(SqliteBackend.name, () => {
  const createBackend = async (): Promise<SqliteBackend> => {
    const backend = new SqliteBackend({ path: nextFile() });
    await backend.connect();
    return backend;
  };
  repositoryContractSuite({ name: 'SQLite', createBackend });
  agendaContractSuite({ name: 'SQLite', createBackend });

  describe('file and schema', () => {
    it('creates the file and its directory, in WAL mode, with the table and indexes', async () => {
      const path = join(dir, 'nested', 'deeper', 'jobs.db');
      const backend = await open({ path, tableName: 'tributary_jobs', busyTimeoutMs: 1234 });
      expect(existsSync(path)).toBe(true);
      const db = backend.repository.getConnection()!;
      expect(await db.all('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await db.all('PRAGMA busy_timeout')).toEqual([{ timeout: 1234 }]);
      expect(await db.all('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
      const names = (await db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE tbl_name = 'tributary_jobs' ORDER BY name`)).map((r) => r.name);
      expect(names).toEqual(['tributary_jobs', 'tributary_jobs_find_and_lock_idx', 'tributary_jobs_next_run_at_idx', 'tributary_jobs_single_job_idx']);
    });

    it('connects many times at once to a new file, and keeps the jobs across connections', async () => {
      const path = nextFile();
      const backends = Array.from({ length: 6 }, () => new SqliteBackend({ path }));
      opened.push(...backends);
      await Promise.all(backends.flatMap((b) => [b.connect(), b.connect()]));
      const saved = await backends[0]!.repository.saveJob(jobParams({ name: 'kept', data: { n: 1 } }), undefined);
      await backends[0]!.disconnect();
      await backends[0]!.connect();
      expect(await backends[0]!.repository.getJobById(String(saved._id))).toMatchObject({ name: 'kept', data: { n: 1 } });
      expect((await backends[5]!.repository.queryJobs()).total).toBe(1);
    });

    it('finds the next job through the find-and-lock index without sorting', async () => {
      const backend = await open();
      const plan = await backend.repository.getConnection()!.all<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT id FROM agenda_jobs WHERE name = ? AND disabled = 0 AND locked_at IS NULL AND next_run_at <= ? ORDER BY next_run_at, priority DESC, id LIMIT 1`,
        ['x', 0],
      );
      expect(plan.map((p) => p.detail)).toEqual([expect.stringContaining('USING COVERING INDEX agenda_jobs_find_and_lock_idx')]);
    });

    it('fails clearly before connect(); after disconnect() the next call opens the file again', async () => {
      const never = new SqliteBackend({ path: nextFile() });
      await expect(never.repository.queryJobs()).rejects.toBeInstanceOf(NotConnectedError);
      const backend = await open();
      await backend.repository.saveJob(jobParams(), undefined);
      await backend.disconnect();
      expect(backend.repository.getConnection()).toBeUndefined();
      expect((await backend.repository.queryJobs()).total).toBe(1);
      expect(backend.repository.getConnection()).toBeDefined();
      await backend.disconnect();
      await backend.disconnect();
      await backend.connect();
      expect((await backend.repository.queryJobs()).total).toBe(1);
    });

    it('runs on a reopened file the calls made while disconnect() is closing it', async () => {
      const backend = await open();
      const closing = backend.disconnect();
      const saves = Array.from({ length: 10 }, (_, i) => backend.repository.saveJob(jobParams({ data: { i } }), undefined));
      await closing;
      expect(await Promise.all(saves)).toHaveLength(10);
      expect((await backend.repository.queryJobs()).total).toBe(10);
    });

    it('lets statements already running finish before it closes', async () => {
      const backend = await open();
      const saves = Array.from({ length: 20 }, (_, i) => backend.repository.saveJob(jobParams({ data: { i } }), undefined));
      await backend.disconnect();
      expect((await Promise.all(saves)).map((j) => j._id)).toHaveLength(20);
    });
  });

  describe('options', () => {
    it("is named 'SQLite', owns its connection and notifies in process by default", () => {
      const backend = new SqliteBackend({ path: nextFile() });
      expect(backend).toMatchObject({ name: 'SQLite', ownsConnection: true });
      expect(backend.notificationChannel).toBeInstanceOf(LocalNotificationChannel);
      expect(new SqliteBackend({ path: nextFile(), notificationChannel: false }).notificationChannel).toBeUndefined();
      const channel = new InMemoryNotificationChannel();
      expect(new SqliteBackend({ path: nextFile(), notificationChannel: channel }).notificationChannel).toBe(channel);
    });

    it('without a notification channel, a new job waits for the next poll', async () => {
      const backend = await open({ notificationChannel: false });
      const agenda = new Agenda({ backend, processEvery: '10 seconds' });
      let ran = false;
      agenda.define('slow-start', async () => {
        ran = true;
      });
      await agenda.start();
      await new Promise((r) => setTimeout(r, 50));
      await agenda.now('slow-start');
      await new Promise((r) => setTimeout(r, 300));
      expect(ran).toBe(false);
      await agenda.stop();
    });
  });

  describe('agenda.stop()', () => {
    it('closes the file, yet a job still running finishes, records its outcome and frees its lock', async () => {
      const backend = await open();
      const agenda = new Agenda({ backend, processEvery: 50, maxConcurrency: 1 });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      agenda.define('finishing', () => released);
      const started = new Promise((resolve) => agenda.once('start:finishing', resolve));
      const errors: Error[] = [];
      agenda.on('error', (error: Error) => errors.push(error));
      await agenda.start();
      const running = await agenda.now('finishing');
      const waiting = await agenda.now('finishing');
      await started;
      await new Promise((r) => setTimeout(r, 100)); // the second job is locked in the local queue by now
      await agenda.stop();
      expect(backend.repository.getConnection()).toBeUndefined();

      // The store still answers: the running job keeps its lock (agenda 6.2.6), the waiting one is free.
      const lockedAt = async (job: typeof running): Promise<Date | undefined> => (await agenda.queryJobs({ id: String(job.attrs._id) })).jobs[0]?.lockedAt ?? undefined;
      expect(await lockedAt(running)).toBeInstanceOf(Date);
      expect(await lockedAt(waiting)).toBeUndefined();

      const completed = new Promise((resolve) => agenda.once('complete:finishing', resolve));
      release();
      await completed;
      await new Promise((r) => setTimeout(r, 50));
      const finished = (await backend.repository.getJobById(String(running.attrs._id)))!;
      expect(finished.lockedAt ?? undefined).toBeUndefined();
      expect(finished.lastFinishedAt).toBeInstanceOf(Date);
      expect(errors).toEqual([]);
    });
  });

  describe('unique keys', () => {
    it('match nested data members by type and value', async () => {
      const { repository } = await open();
      const save = (data: unknown, unique: Record<string, unknown>) => repository.saveJob(jobParams({ name: 'u', data, unique }), undefined);
      const a = await save({ user: { id: 7 } }, { 'data.user.id': 7 });
      const b = await save({ user: { id: 7 }, v: 2 }, { 'data.user.id': 7 });
      const c = await save({ user: { id: '7' } }, { 'data.user.id': '7' });
      const d = await save({ flag: true }, { 'data.flag': true });
      const e = await save({ flag: true, v: 2 }, { 'data.flag': true });
      const f = await save({ flag: 1 }, { 'data.flag': 1 });
      expect(b._id).toBe(a._id);
      expect(c._id).not.toBe(a._id);
      expect(e._id).toBe(d._id);
      expect(f._id).not.toBe(d._id);
      expect((await repository.queryJobs({ name: 'u' })).total).toBe(4);
    });

    it('may name job properties, and refuse unknown ones', async () => {
      const { repository } = await open();
      const first = await repository.saveJob(jobParams({ name: 'p', priority: 3, unique: { priority: 3 } }), undefined);
      const again = await repository.saveJob(jobParams({ name: 'p', priority: 3, data: { v: 2 }, unique: { priority: 3 } }), undefined);
      expect(again._id).toBe(first._id);
      await expect(repository.saveJob(jobParams({ unique: { 'priority; DROP TABLE agenda_jobs': 1 } }), undefined)).rejects.toThrow(/Invalid unique constraint field/);
    });
  });

  describe(`${SqliteBackend.name} logger`, () => {
    it('stores, filters, pages and clears job events', async () => {
      const { logger } = await open();
      const base = Date.UTC(2025, 5, 1, 12);
      for (const [i, event, level] of [
        [0, 'start', 'info'],
        [1, 'success', 'info'],
        [2, 'fail', 'error'],
        [3, 'retry', 'warn'],
      ] as const) {
        await logger.log({ timestamp: new Date(base + i * 1000), event, level, jobName: i < 2 ? 'a' : 'b', jobId: `id-${i}`, message: `m${i}`, meta: { i } });
      }
      const all = await logger.getLogs();
      expect(all.total).toBe(4);
      expect(all.entries.map((e) => e.message)).toEqual(['m3', 'm2', 'm1', 'm0']);
      expect(all.entries[0]).toMatchObject({ jobId: 'id-3', jobName: 'b', meta: { i: 3 }, timestamp: new Date(base + 3000) });
      expect((await logger.getLogs({ level: ['error', 'warn'] })).total).toBe(2);
      expect((await logger.getLogs({ event: 'start', jobName: 'a' })).total).toBe(1);
      expect((await logger.getLogs({ from: new Date(base + 1000), to: new Date(base + 2000) })).total).toBe(2);
      const page = await logger.getLogs({ sort: 'asc', limit: 2, offset: 1 });
      expect(page).toMatchObject({ total: 4, entries: [{ message: 'm1' }, { message: 'm2' }] });
      expect(await logger.clearLogs({ jobName: 'a' })).toBe(2);
      expect(await logger.clearLogs()).toBe(2);
    });

    it('records the lifecycle of jobs when Agenda runs with logging', async () => {
      const backend = await open();
      const agenda = new Agenda({ backend, processEvery: 50, logging: true });
      agenda.define('logged', async () => undefined);
      await agenda.start();
      const done = new Promise((resolve) => agenda.once('complete:logged', resolve));
      const job = await agenda.now('logged');
      await done;
      await new Promise((r) => setTimeout(r, 100));
      const { entries } = await agenda.getLogs({ jobId: String(job.attrs._id), sort: 'asc' });
      expect(entries.map((e) => e.event)).toEqual(expect.arrayContaining(['locked', 'start', 'success', 'complete']));
      await agenda.stop();
    });
  });

  describe('connection', () => {
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

    it('runs a transaction alone: work issued meanwhile is neither inside it nor rolled back with it', async () => {
      const connection = await SqliteConnection.open({ path: nextFile(), busyTimeoutMs: 1000 });
      await connection.run('CREATE TABLE t (v TEXT)');
      const rolledBack = expect(
        connection.transaction(async (tx) => {
          await tx.run(`INSERT INTO t VALUES ('in transaction')`);
          await sleep(50);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await sleep(10);
      await connection.run(`INSERT INTO t VALUES ('meanwhile')`);
      await rolledBack;
      expect(await connection.all('SELECT v FROM t')).toEqual([{ v: 'meanwhile' }]);
      await connection.close();
    });

    it("waits out another process's write lock, for up to the busy timeout", async () => {
      const path = nextFile();
      const patient = await open({ path, busyTimeoutMs: 2000 });
      const hasty = await open({ path, busyTimeoutMs: 100 });
      const other = await SqliteConnection.open({ path, busyTimeoutMs: 100 });
      const hold = (ms: number): Promise<void> =>
        other.transaction(async (tx) => {
          await tx.run('DELETE FROM agenda_jobs WHERE id < 0');
          await sleep(ms);
        });

      const short = hold(200);
      await sleep(20);
      const begun = Date.now();
      await patient.repository.saveJob(jobParams({ name: 'waited' }), undefined);
      expect(Date.now() - begun).toBeGreaterThanOrEqual(100);
      await short;

      const long = hold(1500);
      await sleep(20);
      await expect(hasty.repository.saveJob(jobParams({ name: 'gave-up' }), undefined)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await long;
      expect((await patient.repository.queryJobs()).jobs.map((j) => j.name)).toEqual(['waited']);
      await other.close();
    });
  });
});
