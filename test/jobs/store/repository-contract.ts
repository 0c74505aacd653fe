import type { AgendaBackend, JobParameters, JobRepository } from 'agenda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { at, jobParams } from './job-factory.js';

export interface JobStoreContractConfig {
  /** Suite title, e.g. the backend's name. */
  name: string;
  /** A connected backend on an empty store of its own. */
  createBackend(): Promise<AgendaBackend>;
  /**
   * Whether the backend's notification channel shares the lock limit fairly among job names when
   * a burst of jobs is saved (ours does; @agendajs/postgres-backend's channel serves names in the
   * order their notifications arrive, so under load the last names can get no lock until the next poll).
   */
  fairBurst?: boolean;
}

const LOCK_LIFETIME_MS = 600_000;

/**
 * What every job-store backend promises Agenda's job processor and dashboard: the JobRepository
 * contract with the PostgreSQL backend's semantics. Each backend runs it with its own config.
 */
export function repositoryContractSuite(config: JobStoreContractConfig): void {
  describe(`${config.name} repository contract`, () => {
    let backend: AgendaBackend;
    let repo: JobRepository;
    const save = (overrides: Partial<JobParameters> = {}, by?: string): Promise<JobParameters> =>
      repo.saveJob(jobParams(overrides), by ? { lastModifiedBy: by } : undefined);
    const next = (name: string, scanAheadMs = 5000, now?: Date, by?: string): Promise<JobParameters | undefined> =>
      repo.getNextJobToRun(name, at(scanAheadMs), at(-LOCK_LIFETIME_MS), now, by ? { lastModifiedBy: by } : undefined);
    const ids = (jobs: { _id?: unknown }[]): string[] => jobs.map((j) => String(j._id)).sort();

    beforeAll(async () => {
      backend = await config.createBackend();
      repo = backend.repository;
    });
    afterAll(async () => backend.disconnect());
    beforeEach(async () => {
      await repo.purgeAllJobs();
    });

    describe('saveJob', () => {
      it('inserts a job with an id and keeps every field exactly', async () => {
        const nextRunAt = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123));
        const startDate = new Date(Date.UTC(2030, 0, 1));
        const endDate = new Date(Date.UTC(2032, 11, 31, 23, 59, 59, 999));
        const data = { user: { id: 7, tags: ['a', 'b'] }, note: 'grüße ✓', ratio: 0.25, on: true, none: null };
        const saved = await save(
          { name: 'full', priority: -5, nextRunAt, data, repeatInterval: '0 6 * * *', repeatTimezone: 'Europe/Berlin', startDate, endDate, skipDays: [0, 6], fork: true },
          'api',
        );
        expect(saved._id).toBeTruthy();
        const stored = await repo.getJobById(String(saved._id));
        expect(stored).toMatchObject({ name: 'full', priority: -5, type: 'normal', data, repeatInterval: '0 6 * * *', repeatTimezone: 'Europe/Berlin' });
        expect(stored).toMatchObject({ skipDays: [0, 6], fork: true, disabled: false, lastModifiedBy: 'api' });
        expect(stored!.nextRunAt).toEqual(nextRunAt);
        expect(stored!.startDate).toEqual(startDate);
        expect(stored!.endDate).toEqual(endDate);
        expect(stored!.lockedAt ?? undefined).toBeUndefined();
      });

      it('keeps a numeric repeat interval a number and a disabled flag', async () => {
        const saved = await save({ repeatInterval: 60_000, disabled: true });
        const stored = await repo.getJobById(String(saved._id));
        expect(stored!.disabled).toBe(true);
        expect(Number(stored!.repeatInterval)).toBe(60_000);
      });

      it('updates a job by id and answers a removed job unchanged', async () => {
        const saved = await save({ name: 'upd', priority: 1, data: { v: 1 } });
        const updated = await repo.saveJob({ ...saved, priority: 20, data: { v: 2 }, nextRunAt: null }, undefined);
        expect(updated._id).toBe(saved._id);
        expect(updated).toMatchObject({ priority: 20, data: { v: 2 }, nextRunAt: null });
        await repo.removeJobs({ id: saved._id });
        const again = await repo.saveJob({ ...saved, data: { v: 3 } }, undefined);
        expect(again.data).toEqual({ v: 3 });
        expect((await repo.queryJobs({ name: 'upd' })).total).toBe(0);
      });

      it("upserts 'single' jobs by name", async () => {
        const first = await save({ name: 'single', type: 'single', nextRunAt: at(60_000), data: { run: 1 } });
        const second = await save({ name: 'single', type: 'single', priority: 10, nextRunAt: at(120_000), data: { run: 2 } });
        expect(second._id).toBe(first._id);
        expect(second).toMatchObject({ priority: 10, data: { run: 2 } });
        expect(second.nextRunAt!.getTime()).toBeGreaterThan(Date.now() + 100_000);
        expect((await repo.queryJobs({ name: 'single' })).total).toBe(1);
      });

      it("keeps a 'single' job's stored run time when saved again as due now", async () => {
        const stored = at(30_000);
        await save({ name: 'every', type: 'single', nextRunAt: stored });
        const again = await save({ name: 'every', type: 'single', nextRunAt: at(-10) });
        expect(again.nextRunAt).toEqual(stored);
      });

      it('upserts by unique keys on data, and inserts when they differ', async () => {
        const unique = { 'data.kind': 'sync', 'data.userId': 'u1' };
        const first = await save({ name: 'uniq', data: { kind: 'sync', userId: 'u1', v: 1 }, unique });
        const second = await save({ name: 'uniq', data: { kind: 'sync', userId: 'u1', v: 2 }, unique });
        const other = await save({ name: 'uniq', data: { kind: 'sync', userId: 'u2', v: 1 }, unique: { 'data.kind': 'sync', 'data.userId': 'u2' } });
        expect(second._id).toBe(first._id);
        expect(second.data).toEqual({ kind: 'sync', userId: 'u1', v: 2 });
        expect(other._id).not.toBe(first._id);
        expect((await repo.queryJobs({ name: 'uniq' })).total).toBe(2);
      });

      it('leaves the existing job untouched with insertOnly', async () => {
        const opts = { unique: { 'data.runId': 'r1' }, uniqueOpts: { insertOnly: true } };
        const first = await save({ name: 'once', data: { runId: 'r1', v: 'first' }, ...opts });
        const second = await save({ name: 'once', data: { runId: 'r1', v: 'second' }, ...opts });
        expect(second._id).toBe(first._id);
        expect(second.data).toEqual({ runId: 'r1', v: 'first' });
        expect((await repo.getJobById(String(first._id)))!.data).toEqual({ runId: 'r1', v: 'first' });
      });
    });

    describe('debounce', () => {
      const debounced = (v: number, debounce: { delay: number; maxWait?: number; strategy?: 'trailing' | 'leading' }) =>
        save({ name: 'deb', nextRunAt: new Date(), data: { key: 'k', v }, unique: { 'data.key': 'k' }, uniqueOpts: { debounce } });

      it('trailing: runs after the quiet period, pushed back by each save', async () => {
        const before = Date.now();
        const first = await debounced(1, { delay: 1000 });
        expect(first.nextRunAt!.getTime()).toBeGreaterThanOrEqual(before + 1000);
        expect(first.debounceStartedAt).toBeInstanceOf(Date);
        await new Promise((r) => setTimeout(r, 30));
        const second = await debounced(2, { delay: 1000 });
        expect(second._id).toBe(first._id);
        expect(second.nextRunAt!.getTime()).toBeGreaterThan(first.nextRunAt!.getTime());
        expect(second.debounceStartedAt).toEqual(first.debounceStartedAt);
        expect(second.data).toEqual({ key: 'k', v: 2 });
      });

      it('leading: runs at once and keeps that run time', async () => {
        const first = await debounced(1, { delay: 5000, strategy: 'leading' });
        expect(first.nextRunAt!.getTime()).toBeLessThanOrEqual(Date.now());
        const second = await debounced(2, { delay: 5000, strategy: 'leading' });
        expect(second.nextRunAt).toEqual(first.nextRunAt);
        expect(second.data).toEqual({ key: 'k', v: 2 });
      });

      it('maxWait: runs now once the debounce began maxWait ago, and starts a new cycle', async () => {
        await debounced(1, { delay: 5000, maxWait: 100 });
        const within = await debounced(2, { delay: 5000, maxWait: 100 });
        expect(within.nextRunAt!.getTime()).toBeGreaterThan(Date.now() + 4000);
        await new Promise((r) => setTimeout(r, 120));
        const forced = await debounced(3, { delay: 5000, maxWait: 100 });
        expect(forced.nextRunAt!.getTime()).toBeLessThanOrEqual(Date.now());
        expect(forced.debounceStartedAt ?? undefined).toBeUndefined();
      });

      it('needs a unique constraint: without one every save is a new job', async () => {
        const a = await save({ name: 'deb-free', uniqueOpts: { debounce: { delay: 1000 } } });
        const b = await save({ name: 'deb-free', uniqueOpts: { debounce: { delay: 1000 } } });
        expect(a._id).not.toBe(b._id);
      });
    });

    describe('queries', () => {
      let a1: JobParameters, a2: JobParameters, b1: JobParameters, c1: JobParameters;
      beforeEach(async () => {
        a1 = await save({ name: 'alpha', priority: 10, nextRunAt: at(60_000), data: { team: 'x', n: 1, tags: ['red', 'blue'], deep: { k: 1, z: 2 } } });
        a2 = await save({ name: 'alpha', priority: 15, nextRunAt: at(180_000), data: { team: 'y', n: 3 } });
        b1 = await save({ name: 'beta', priority: 5, nextRunAt: at(120_000), data: { team: 'x', n: 2 } });
        c1 = await save({ name: 'Gamma-Report', priority: 0, nextRunAt: null, data: 'plain', disabled: true });
      });

      it('filters by name, names, id, ids and search', async () => {
        expect(ids((await repo.queryJobs({ name: 'alpha' })).jobs)).toEqual(ids([a1, a2]));
        expect(ids((await repo.queryJobs({ names: ['alpha', 'beta'] })).jobs)).toEqual(ids([a1, a2, b1]));
        expect(ids((await repo.queryJobs({ id: String(b1._id) })).jobs)).toEqual(ids([b1]));
        expect(ids((await repo.queryJobs({ ids: [String(a1._id), String(c1._id)] })).jobs)).toEqual(ids([a1, c1]));
        expect(ids((await repo.queryJobs({ search: 'report' })).jobs)).toEqual(ids([c1]));
        expect(ids((await repo.queryJobs({ search: 'ph' })).jobs)).toEqual(ids([a1, a2]));
      });

      it('filters by data: exact, partial, nested and array containment', async () => {
        expect(ids((await repo.queryJobs({ data: { team: 'x' } })).jobs)).toEqual(ids([a1, b1]));
        expect(ids((await repo.queryJobs({ data: { team: 'x', n: 2 } })).jobs)).toEqual(ids([b1]));
        expect(ids((await repo.queryJobs({ data: { deep: { k: 1 } } })).jobs)).toEqual(ids([a1]));
        expect(ids((await repo.queryJobs({ data: { tags: ['blue'] } })).jobs)).toEqual(ids([a1]));
        expect(ids((await repo.queryJobs({ data: { tags: ['green'] } })).jobs)).toEqual([]);
        expect(ids((await repo.queryJobs({ data: { n: '2' } })).jobs)).toEqual([]);
        expect(ids((await repo.queryJobs({ data: 'plain' })).jobs)).toEqual(ids([c1]));
      });

      it('leaves out disabled jobs only when asked', async () => {
        expect((await repo.queryJobs()).total).toBe(4);
        expect((await repo.queryJobs({ includeDisabled: false })).total).toBe(3);
      });

      it('sorts, and pages with skip and limit keeping the total', async () => {
        const byPriority = await repo.queryJobs({ sort: { priority: 'desc' } });
        expect(byPriority.jobs.map((j) => j.priority)).toEqual([15, 10, 5, 0]);
        const byRun = await repo.queryJobs({ sort: { nextRunAt: 'asc' } });
        expect(ids([byRun.jobs[0]!])).toEqual(ids([a1]));
        expect(ids([byRun.jobs[3]!])).toEqual(ids([c1]));
        const page = await repo.queryJobs({ sort: { priority: 'asc' }, skip: 1, limit: 2 });
        expect(page.total).toBe(4);
        expect(page.jobs.map((j) => j.priority)).toEqual([5, 10]);
        expect((await repo.queryJobs({ sort: { priority: 'asc' }, skip: 3 })).jobs.map((j) => j.priority)).toEqual([15]);
        expect((await repo.queryJobs({ skip: 10 })).total).toBe(4);
      });

      it('computes states, filters by them and counts the total after the filter', async () => {
        await repo.saveJobState({ ...a1, lockedAt: new Date() }, undefined);
        await repo.saveJobState({ ...b1, nextRunAt: null, lastFinishedAt: new Date(), failedAt: new Date(), failReason: 'boom', failCount: 1 }, undefined);
        await save({ name: 'beta', nextRunAt: at(-1000) });
        await save({ name: 'beta', nextRunAt: null, repeatInterval: '5 minutes' });
        const all = await repo.queryJobs();
        const stateOf = (job: JobParameters) => all.jobs.find((j) => j._id === job._id)!.state;
        expect(stateOf(a1)).toBe('running');
        expect(stateOf(a2)).toBe('scheduled');
        expect(stateOf(b1)).toBe('failed');
        expect(stateOf(c1)).toBe('completed');
        expect(all.jobs.map((j) => j.state).sort()).toEqual(['completed', 'failed', 'queued', 'repeating', 'running', 'scheduled']);
        expect((await repo.queryJobs({ state: 'paused' })).jobs.map((j) => j.name)).toEqual(['Gamma-Report']);
        const scheduled = await repo.queryJobs({ state: 'queued', name: 'beta', limit: 1 });
        expect(scheduled.total).toBe(1);
        expect(scheduled.jobs[0]!.nextRunAt!.getTime()).toBeLessThan(Date.now());
      });

      it('gives an overview per name', async () => {
        await repo.saveJobState({ ...a1, lockedAt: new Date() }, undefined);
        const overview = await repo.getJobsOverview();
        expect(overview.find((o) => o.name === 'alpha')).toEqual({
          name: 'alpha', total: 2, running: 1, scheduled: 1, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0,
        });
        expect(overview.find((o) => o.name === 'Gamma-Report')).toMatchObject({ total: 1, completed: 1, paused: 1 });
        expect(await repo.getDistinctJobNames()).toEqual(expect.arrayContaining(['alpha', 'beta', 'Gamma-Report']));
        expect((await repo.getDistinctJobNames()).length).toBe(3);
      });

      it('counts the jobs due now as the queue size', async () => {
        expect(await repo.getQueueSize()).toBe(0);
        await save({ nextRunAt: at(-60_000) });
        await save({ nextRunAt: at(-1) });
        expect(await repo.getQueueSize()).toBe(2);
      });
    });

    describe('remove, disable and enable', () => {
      let a1: JobParameters, a2: JobParameters, b1: JobParameters, c1: JobParameters;
      beforeEach(async () => {
        a1 = await save({ name: 'alpha', data: { team: 'x', tags: [1, 2] } });
        a2 = await save({ name: 'alpha', data: { team: 'y' } });
        b1 = await save({ name: 'beta', data: { team: 'x' } });
        c1 = await save({ name: 'gamma', data: { team: 'z' } });
      });
      const remaining = async () => ids((await repo.queryJobs()).jobs);

      it('removes by id, ids, name, names, notNames and data, and nothing without criteria', async () => {
        expect(await repo.removeJobs({})).toBe(0);
        expect(await repo.removeJobs({ name: 'nope' })).toBe(0);
        expect(await repo.removeJobs({ id: a1._id })).toBe(1);
        expect(await remaining()).toEqual(ids([a2, b1, c1]));
        expect(await repo.removeJobs({ notNames: ['alpha', 'beta'] })).toBe(1);
        expect(await repo.removeJobs({ ids: [a2._id!, b1._id!] })).toBe(2);
        expect(await remaining()).toEqual([]);
      });

      it('combines name and data, and matches data by containment', async () => {
        expect(await repo.removeJobs({ names: ['alpha', 'beta'], data: { team: 'x' } })).toBe(2);
        expect(await remaining()).toEqual(ids([a2, c1]));
        await save({ name: 'alpha', data: { team: 'x', tags: [1, 2] } });
        expect(await repo.removeJobs({ data: { tags: [2] } })).toBe(1);
        expect(await repo.removeJobs({ name: 'alpha' })).toBe(1);
        expect(await remaining()).toEqual(ids([c1]));
      });

      it('disables and enables by the same options', async () => {
        expect(await repo.disableJobs({})).toBe(0);
        expect(await repo.disableJobs({ name: 'alpha', data: { team: 'y' } })).toBe(1);
        expect(await repo.disableJobs({ ids: [b1._id!, c1._id!] })).toBe(2);
        expect((await repo.queryJobs({ includeDisabled: false })).jobs.map((j) => j.name)).toEqual(['alpha']);
        expect(await next('alpha')).toMatchObject({ _id: a1._id });
        expect(await next('beta')).toBeUndefined();
        expect(await repo.enableJobs({ notNames: ['gamma'] })).toBe(3);
        expect(await next('beta')).toMatchObject({ _id: b1._id });
        expect(await repo.enableJobs({ id: c1._id })).toBe(1);
        expect((await repo.queryJobs({ state: 'paused' })).total).toBe(0);
      });

      it('purges every job', async () => {
        expect(await repo.purgeAllJobs()).toBe(4);
        expect((await repo.queryJobs()).total).toBe(0);
      });
    });

    describe('locking', () => {
      it('finds and locks the next due job, once', async () => {
        const due = await save({ name: 'work', nextRunAt: at(-60_000), data: { n: 1 } });
        const now = new Date(Date.now() - 5);
        const locked = await next('work', 5000, now, 'worker-1');
        expect(locked).toMatchObject({ _id: due._id, lastModifiedBy: 'worker-1' });
        expect(locked!.lockedAt).toEqual(now);
        expect(await next('work')).toBeUndefined();
        expect((await repo.getJobById(String(due._id)))!.lockedAt).toEqual(now);
      });

      it('takes jobs due within the scan window, not later ones, and only of its name', async () => {
        await save({ name: 'soon', nextRunAt: at(2000) });
        await save({ name: 'later', nextRunAt: at(60_000) });
        expect(await next('soon', 5000)).toBeDefined();
        expect(await next('later', 5000)).toBeUndefined();
        expect(await next('missing')).toBeUndefined();
      });

      it('orders by run time, then priority', async () => {
        const same = at(-10_000);
        await save({ name: 'prio', priority: 5, nextRunAt: same, data: 'low' });
        await save({ name: 'prio', priority: 10, nextRunAt: same, data: 'high' });
        await save({ name: 'prio', priority: 20, nextRunAt: at(-1000), data: 'later' });
        await save({ name: 'prio', priority: 100, nextRunAt: at(-20_000), data: 'earliest' });
        const order: unknown[] = [];
        for (let job = await next('prio'); job; job = await next('prio')) order.push(job.data);
        expect(order).toEqual(['earliest', 'high', 'low', 'later']);
      });

      it('never hands out disabled jobs', async () => {
        await save({ name: 'off', disabled: true, nextRunAt: at(-60_000) });
        expect(await next('off')).toBeUndefined();
      });

      it('hands out again a job whose lock expired', async () => {
        const job = await save({ name: 'stale', nextRunAt: at(-60_000) });
        await repo.saveJobState({ ...job, lockedAt: at(-LOCK_LIFETIME_MS - 1000) }, undefined);
        expect(await next('stale')).toMatchObject({ _id: job._id });
        expect(await next('stale')).toBeUndefined();
        // A running one-off job (nextRunAt null) whose lock expired is also taken again.
        const running = await save({ name: 'stale-running', nextRunAt: null });
        await repo.saveJobState({ ...running, nextRunAt: null, lockedAt: at(-LOCK_LIFETIME_MS - 1000) }, undefined);
        expect(await next('stale-running')).toMatchObject({ _id: running._id });
      });

      it('locks a given job only while it is unlocked, due as known and enabled', async () => {
        const job = await save({ name: 'lock', nextRunAt: at(-1000) });
        const locked = await repo.lockJob(job, { lastModifiedBy: 'me' });
        expect(locked).toMatchObject({ _id: job._id, lastModifiedBy: 'me' });
        expect(locked!.lockedAt).toBeInstanceOf(Date);
        expect(await repo.lockJob(job, undefined)).toBeUndefined();
        const moved = await save({ name: 'lock', nextRunAt: at(-1000) });
        expect(await repo.lockJob({ ...moved, nextRunAt: at(-5) }, undefined)).toBeUndefined();
        const off = await save({ name: 'lock', nextRunAt: at(-1000), disabled: true });
        expect(await repo.lockJob(off, undefined)).toBeUndefined();
      });

      it('unlocks one job (unless it is being processed) or several', async () => {
        const a = await save({ name: 'u', nextRunAt: at(-1000) });
        const b = await save({ name: 'u', nextRunAt: at(-1000) });
        const processing = await save({ name: 'u', nextRunAt: at(-1000) });
        for (const job of [a, b, processing]) await repo.lockJob(job, undefined);
        await repo.saveJobState({ ...processing, nextRunAt: null, lockedAt: new Date() }, undefined);
        await repo.unlockJob(a);
        await repo.unlockJob(processing);
        expect((await repo.getJobById(String(a._id)))!.lockedAt ?? undefined).toBeUndefined();
        expect((await repo.getJobById(String(processing._id)))!.lockedAt).toBeInstanceOf(Date);
        await repo.unlockJobs([b._id!, processing._id!]);
        expect((await repo.queryJobs({ state: 'running' })).total).toBe(0);
        await repo.unlockJobs([]);
      });
    });

    describe('saveJobState', () => {
      it('writes the processor fields and clears the lock', async () => {
        const job = await save({ name: 'state', nextRunAt: at(-1000) });
        const locked = (await repo.lockJob(job, undefined))!;
        const lastRunAt = new Date(Date.now() - 100);
        const finished = new Date();
        await repo.saveJobState(
          { ...locked, lockedAt: undefined, lastRunAt, lastFinishedAt: finished, failedAt: finished, failCount: 2, failReason: 'boom', progress: 42.5, nextRunAt: at(60_000) },
          { lastModifiedBy: 'runner' },
        );
        const stored = (await repo.getJobById(String(job._id)))!;
        expect(stored.lockedAt ?? undefined).toBeUndefined();
        expect(stored).toMatchObject({ lastRunAt, lastFinishedAt: finished, failedAt: finished, failCount: 2, failReason: 'boom', progress: 42.5, lastModifiedBy: 'runner' });
      });

      it('fails for a job that no longer exists', async () => {
        const job = await save({ name: 'gone' });
        await repo.removeJobs({ id: job._id });
        await expect(repo.saveJobState(job, undefined)).rejects.toThrow(/cannot be updated/);
      });
    });

    it('answers null for an id it does not know', async () => {
      const job = await save({ name: 'temp' });
      await repo.removeJobs({ id: job._id });
      expect(await repo.getJobById(String(job._id))).toBeNull();
    });
  });
}
