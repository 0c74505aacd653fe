import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobParameters } from 'agenda';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteBackend, SqliteJobRepository } from '../../../jobs/store/index.js';
import { at, jobParams } from './job-factory.js';

const WORKER = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tributary-job-store-mp-'));
const repositories: SqliteJobRepository[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const repository of repositories.splice(0)) await repository.disconnect();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function connected(path: string): Promise<SqliteJobRepository> {
  const repository = new SqliteJobRepository({ path });
  repositories.push(repository);
  await repository.connect();
  return repository;
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/** Forks a worker process; resolves once its Agenda is connected. */
function startWorker(path: string, runLog: string): Promise<{ child: ChildProcess; messages: Record<string, unknown>[] }> {
  const child = fork(WORKER, [path, runLog], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const messages: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    child.on('message', (message: Record<string, unknown>) => {
      messages.push(message);
      if (message.ready) resolve({ child, messages });
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(`${SqliteBackend.name} shared by connections and processes`, () => {
  it('never hands the same job to two connections locking at once', async () => {
    const path = join(dir, 'two-connections.db');
    const [a, b] = [await connected(path), await connected(path)];
    for (let i = 0; i < 200; i += 1) await a.saveJob(jobParams({ name: 'race', priority: i % 3, data: { i } }), undefined);
    const lockOnce = (repository: SqliteJobRepository): Promise<JobParameters | undefined> =>
      repository.getNextJobToRun('race', at(1000), at(-600_000), undefined, { lastModifiedBy: repository === a ? 'a' : 'b' });
    const results = await Promise.all(Array.from({ length: 150 }, () => [lockOnce(a), lockOnce(b)]).flat());
    const locked = results.filter((job): job is JobParameters => job !== undefined);
    expect(locked).toHaveLength(200);
    expect(new Set(locked.map((job) => job._id)).size).toBe(200);
    expect(new Set(locked.map((job) => job.lastModifiedBy))).toEqual(new Set(['a', 'b']));
    expect((await a.queryJobs({ state: 'running' })).total).toBe(200);
  });

  it('makes one job of concurrent unique saves from two connections', async () => {
    const path = join(dir, 'unique.db');
    const [a, b] = [await connected(path), await connected(path)];
    const save = (repository: SqliteJobRepository, n: number) =>
      repository.saveJob(jobParams({ name: 'run', data: { runId: 'r-1', n }, unique: { 'data.runId': 'r-1' }, uniqueOpts: { insertOnly: true } }), undefined);
    const saved = await Promise.all(Array.from({ length: 20 }, (_, n) => save(n % 2 === 0 ? a : b, n)));
    expect(new Set(saved.map((job) => job._id)).size).toBe(1);
    expect((await b.queryJobs({ name: 'run' })).total).toBe(1);
  });

  it('runs every job exactly once across two worker processes', { timeout: 60_000 }, async () => {
    const path = join(dir, 'processes.db');
    const logs = [join(dir, 'runs-1.log'), join(dir, 'runs-2.log')];
    const store = await connected(path);
    for (let i = 0; i < 100; i += 1) await store.saveJob(jobParams({ name: 'record', data: { from: 'parent', i } }), undefined);
    const workers = await Promise.all(logs.map((log) => startWorker(path, log)));
    for (const worker of workers) worker.child.send('start');

    await until(() => logs.flatMap(lines).length >= 200, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a job run twice would show up by now
    for (const worker of workers) worker.child.send('stop');
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.child.once('exit', resolve))));

    const runs = logs.flatMap(lines);
    expect(runs).toHaveLength(200);
    expect(new Set(runs).size).toBe(200);
    expect(logs.map((log) => lines(log).length).every((count) => count > 0)).toBe(true);
    expect(workers.flatMap((w) => w.messages).filter((m) => m.error)).toEqual([]);
    const { jobs, total } = await store.queryJobs({ name: 'record' });
    expect(total).toBe(200);
    expect(jobs.every((job) => job.lastFinishedAt instanceof Date && !job.lockedAt)).toBe(true);
  });
});
