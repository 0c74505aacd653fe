import type { EventEmitter } from 'node:events';
import { Agenda, constant, type AgendaBackend, type AgendaOptions, type JobParameters } from 'agenda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { at, jobParams } from './job-factory.js';
import type { JobStoreContractConfig } from './repository-contract.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the first `count` emissions of `event` (their first arguments). */
function events(agenda: Agenda, event: string, count = 1, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const seen: unknown[] = [];
    const timer = setTimeout(() => reject(new Error(`saw ${seen.length} of ${count} '${event}' events`)), timeoutMs);
    const emitter: EventEmitter = agenda;
    const listener = (first: unknown): void => {
      seen.push(first);
      if (seen.length < count) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(seen);
    };
    emitter.on(event, listener);
  });
}

/**
 * Agenda running on the backend: what a user of the scheduler sees. Every test starts its own
 * Agenda; stop() disconnects the backend (it owns its connection) and the next one reconnects.
 */
export function agendaContractSuite(config: JobStoreContractConfig): void {
  describe(`${config.name} with Agenda`, () => {
    let backend: AgendaBackend;
    let agenda: Agenda | undefined;
    const start = async (options: Omit<AgendaOptions, 'backend'> = {}): Promise<Agenda> => {
      agenda = new Agenda({ backend, processEvery: 50, ...options });
      await agenda.ready;
      return agenda;
    };
    const stored = async (name: string): Promise<JobParameters[]> => (await backend.repository.queryJobs({ name, sort: { priority: 'desc' } })).jobs;

    beforeAll(async () => {
      backend = await config.createBackend();
    });
    afterAll(async () => backend.disconnect());
    beforeEach(async () => {
      await backend.connect();
      await backend.repository.purgeAllJobs();
    });
    afterEach(async () => {
      await agenda?.stop();
      agenda = undefined;
    });

    it('runs a job queued with now() once, with its data, and records the run', async () => {
      const a = await start();
      const seen: unknown[] = [];
      a.define('send', async (job) => {
        seen.push(job.attrs.data);
      });
      await a.start();
      const done = events(a, 'complete:send');
      await a.now('send', { to: 'ops' });
      await done;
      await sleep(200);
      expect(seen).toEqual([{ to: 'ops' }]);
      const [job] = await stored('send');
      expect(job).toMatchObject({ nextRunAt: null, state: 'completed' });
      expect(job!.lockedAt ?? undefined).toBeUndefined();
      expect(job!.lastFinishedAt!.getTime()).toBeGreaterThanOrEqual(job!.lastRunAt!.getTime());
    });

    it('starts a job saved in this process at once, without waiting for the next poll', async () => {
      const a = await start({ processEvery: '10 seconds' });
      a.define('quick', async () => undefined);
      await a.start();
      await sleep(50);
      const started = events(a, 'start:quick');
      const queuedAt = Date.now();
      await a.now('quick');
      await started;
      // Milliseconds, not the 10 s poll (the SQLite test without a channel shows the difference).
      expect(Date.now() - queuedAt).toBeLessThan(250);
    });

    it('runs a scheduled job at its time, not before', async () => {
      const a = await start();
      let ranAt = 0;
      a.define('later', async () => {
        ranAt = Date.now();
      });
      await a.start();
      const when = at(400);
      const done = events(a, 'complete:later');
      await a.schedule(when, 'later');
      await done;
      expect(ranAt).toBeGreaterThanOrEqual(when.getTime());
      expect(ranAt - when.getTime()).toBeLessThan(1000);
    });

    it('repeats a job by cron, keeping one record with its next run', async () => {
      const a = await start();
      a.define('tick', async () => undefined);
      await a.every('* * * * * *', 'tick');
      await a.every('* * * * * *', 'tick');
      await a.start();
      await events(a, 'complete:tick', 2, 4000);
      const jobs = await stored('tick');
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ type: 'single', repeatInterval: '* * * * * *', state: 'repeating' });
      expect(jobs[0]!.nextRunAt!.getTime()).toBeGreaterThan(Date.now() - 100);
    });

    it('keeps to per-definition concurrency and maxConcurrency', async () => {
      const a = await start({ maxConcurrency: 3 });
      const running = { one: 0, many: 0 };
      const most = { one: 0, all: 0 };
      const body = (name: 'one' | 'many') => async (): Promise<void> => {
        running[name] += 1;
        most.one = Math.max(most.one, running.one);
        most.all = Math.max(most.all, running.one + running.many);
        await sleep(40);
        running[name] -= 1;
      };
      a.define('one', body('one'), { concurrency: 1 });
      a.define('many', body('many'), { concurrency: 10 });
      for (let i = 0; i < 4; i += 1) await a.now('one');
      for (let i = 0; i < 6; i += 1) await a.now('many');
      await a.start();
      await events(a, 'complete', 10);
      expect(most).toEqual({ one: 1, all: 3 });
    });

    it.runIf(config.fairBurst ?? true)('shares the lock limit among job names when many jobs of many names are saved at once', async () => {
      // 6 names x 10 jobs; each name may run 3 at once and lock 6, the process locks 24 in all.
      // Fair shares (4 locks a name) run 18 jobs together; names served in the order their jobs
      // were saved would take 6 locks each until the 24 are gone, leaving the last names none.
      const names = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
      const a = await start({ maxConcurrency: 50, lockLimit: 24, defaultLockLimit: 6, defaultConcurrency: 3 });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      for (const name of names) a.define(name, () => released, { lockLifetime: 60_000 });
      await a.start();
      try {
        await Promise.all(names.flatMap((name) => Array.from({ length: 10 }, () => a.now(name))));
        const runningPerName = async (): Promise<Record<string, number>> => {
          const { jobStatus } = await a.getRunningStats();
          return Object.fromEntries(names.map((name) => [name, jobStatus?.[name]?.running ?? 0]));
        };
        const deadline = Date.now() + 5000;
        let running = await runningPerName();
        while (Object.values(running).some((n) => n < 3) && Date.now() < deadline) {
          await sleep(25);
          running = await runningPerName();
        }
        expect(running).toEqual(Object.fromEntries(names.map((name) => [name, 3])));
      } finally {
        release();
      }
    });

    it('runs the higher priority first among jobs due together', async () => {
      const a = await start({ maxConcurrency: 1 });
      const order: number[] = [];
      a.define('prio', async (job) => {
        order.push(job.attrs.priority);
      });
      const due = at(-1000);
      for (const priority of [-10, 10, 0]) {
        const job = a.create('prio');
        job.attrs.nextRunAt = due;
        await job.priority(priority).save();
      }
      await a.start();
      await events(a, 'complete:prio', 3);
      expect(order).toEqual([10, 0, -10]);
    });

    it('retries a failing job with its backoff until it succeeds', async () => {
      const a = await start();
      let attempts = 0;
      const delays: number[] = [];
      a.define(
        'flaky',
        async () => {
          attempts += 1;
          if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
        },
        { backoff: constant({ delay: 50, maxRetries: 5 }) },
      );
      a.on('retry:flaky', (_job, details) => delays.push(details.delay));
      await a.start();
      const succeeded = events(a, 'success:flaky');
      await a.now('flaky');
      await succeeded;
      expect(attempts).toBe(3);
      expect(delays).toEqual([50, 50]);
    });

    it('gives up after the last retry and keeps the failure', async () => {
      const a = await start();
      let attempts = 0;
      a.define(
        'broken',
        async () => {
          attempts += 1;
          throw new Error('always fails');
        },
        { backoff: constant({ delay: 30, maxRetries: 2 }) },
      );
      await a.start();
      const exhausted = events(a, 'retry exhausted:broken');
      await a.now('broken');
      const [error] = await exhausted;
      expect((error as Error).message).toBe('always fails');
      await sleep(100);
      expect(attempts).toBe(3);
      const [job] = await stored('broken');
      expect(job).toMatchObject({ failCount: 3, failReason: 'always fails', nextRunAt: null, state: 'failed' });
    });

    it('removes finished one-off jobs with removeOnComplete, but not failed or repeating ones', async () => {
      const a = await start({ removeOnComplete: true });
      a.define('ok', async () => undefined);
      a.define('bad', async () => {
        throw new Error('no');
      });
      a.define('hourly', async () => undefined);
      await a.start();
      const done = events(a, 'complete', 3);
      await a.now('ok');
      await a.now('bad');
      await a.every('1 hour', 'hourly');
      await done;
      await sleep(150);
      expect(await stored('ok')).toHaveLength(0);
      expect(await stored('bad')).toHaveLength(1);
      expect(await stored('hourly')).toHaveLength(1);
    });

    it('does not run disabled jobs until they are enabled', async () => {
      const a = await start();
      let runs = 0;
      a.define('paused', async () => {
        runs += 1;
      });
      const job = await a.now('paused');
      await job.disable().save();
      await a.start();
      await sleep(300);
      expect(runs).toBe(0);
      const done = events(a, 'complete:paused');
      expect(await a.enable({ name: 'paused' })).toBe(1);
      await done;
      expect(runs).toBe(1);
    });

    it('runs again a job whose runner died holding its lock', async () => {
      const orphan = await backend.repository.saveJob(jobParams({ name: 'orphan', nextRunAt: at(-5000) }), undefined);
      await backend.repository.saveJobState({ ...orphan, lockedAt: at(-2000) }, undefined);
      const a = await start();
      a.define('orphan', async () => undefined, { lockLifetime: 1000 });
      const done = events(a, 'complete:orphan');
      await a.start();
      await done;
      const [job] = await stored('orphan');
      expect(job!.lockedAt ?? undefined).toBeUndefined();
      expect(job!.lastFinishedAt).toBeInstanceOf(Date);
    });

    it('keeps touch() progress, and on stop() unlocks the jobs it had not started', async () => {
      const a = await start({ maxConcurrency: 1 });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      a.define('long', async (job) => {
        await job.touch(50);
        await released;
      });
      await a.now('long');
      await a.now('long');
      const started = events(a, 'start:long');
      await a.start();
      await started;
      await sleep(100);
      const before = await stored('long');
      expect(before.filter((j) => j.lockedAt)).toHaveLength(2);
      expect(before.map((j) => j.progress)).toContain(50);
      await a.stop();
      agenda = undefined;
      await backend.connect();
      const after = await stored('long');
      release();
      // The running job keeps its lock (agenda 6.2.6: it may still finish); the queued one is free.
      expect(after.filter((j) => j.lockedAt).map((j) => j.progress)).toEqual([50]);
    });
  });
}
