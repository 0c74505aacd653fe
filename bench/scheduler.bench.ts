/**
 * `npm run bench -- scheduler`: throughput and pickup latency of short jobs on the job stores.
 *
 * For each store (our SQLite store; @agendajs/postgres-backend on the local PostgreSQL when it
 * answers) and for 1 and 2 worker processes: 5,000 no-op jobs queued first, then drained (the
 * store's find-and-lock throughput); 5,000 more enqueued while the workers run (burst:
 * throughput and latency under load); then 200 jobs one every 10 ms (paced: pickup latency,
 * queued → started, on an idle queue). Jobs are enqueued in the worker processes, as Tributary
 * does (the server and each worker queue the runs they dispatch), so each store's notification
 * channel (in-process for SQLite, LISTEN/NOTIFY for PostgreSQL) is what starts them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { percentile, writeResult } from './stats.js';

const JOBS = Number(process.env.BENCH_SCHEDULER_JOBS ?? 5_000);
const PACED = 200;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STORES = (process.env.BENCH_SCHEDULER_STORES ?? 'sqlite,postgres').split(',');
const WORKER = fileURLToPath(new URL('./scheduler-worker.ts', import.meta.url));

interface Started {
  id: string;
  latencyMs: number;
  at: number;
}

interface Worker {
  child: ChildProcess;
  started: Started[];
  waitFor(predicate: (message: any) => boolean): Promise<void>;
}

function startWorker(store: string): Worker {
  const child = fork(WORKER, [store], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started: Started[] = [];
  const waiters: { predicate: (m: any) => boolean; resolve: () => void }[] = [];
  child.on('message', (message: any) => {
    if (message.started) started.push(...message.started);
    for (const w of waiters.splice(0)) (w.predicate(message) ? w.resolve : () => waiters.push(w))();
  });
  return {
    child,
    started,
    waitFor: (predicate) => new Promise((resolve) => waiters.push({ predicate, resolve })),
  };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ms = (n: number) => Math.round(n * 10) / 10;

async function scenario(store: string, workers: number) {
  const pool = await Promise.all(
    Array.from({ length: workers }, async () => {
      const worker = startWorker(store);
      await worker.waitFor((m) => m.ready);
      return worker;
    }),
  );
  const all = () => pool.flatMap((w) => w.started);
  try {
    // Backlog: JOBS jobs queued before any worker processes, then drained.
    await new Promise<void>((resolve) => {
      void pool[0]!.waitFor((m) => m.enqueued !== undefined).then(resolve);
      pool[0]!.child.send({ cmd: 'enqueue', count: JOBS, parallel: 16, tag: 'backlog' });
    });
    const drainBegin = Date.now();
    pool.forEach((w) => w.child.send({ cmd: 'start' }));
    await until(() => all().length >= JOBS, 600_000);
    const drained = all();
    const drainSeconds = (Math.max(...drained.map((s) => s.at)) - drainBegin) / 1000;
    const drainedOnce = new Set(drained.map((s) => s.id)).size === drained.length;
    pool.forEach((w) => w.started.splice(0));

    // Burst: every worker enqueues its share (16 at a time) while processing.
    const share = Math.ceil(JOBS / workers);
    const begin = Date.now();
    pool.forEach((w) => w.child.send({ cmd: 'enqueue', count: share, parallel: 16, tag: 'burst' }));
    await until(() => all().length >= share * workers, 600_000);
    const burst = all();
    const seconds = (Math.max(...burst.map((s) => s.at)) - begin) / 1000;
    const burstLatency = burst.map((s) => s.latencyMs).sort((a, b) => a - b);
    const burstOnce = new Set(burst.map((s) => s.id)).size === burst.length;
    pool.forEach((w) => w.started.splice(0));

    // Paced: one job every 10 ms from each worker: pickup latency on an idle queue.
    const paced = Math.ceil(PACED / workers);
    pool.forEach((w) => w.child.send({ cmd: 'enqueue', count: paced, parallel: 1, everyMs: 10, tag: 'paced' }));
    await until(() => all().length >= paced * workers, 120_000);
    const pacedLatency = all().map((s) => s.latencyMs).sort((a, b) => a - b);

    return {
      workers,
      jobs: JOBS,
      ranOnce: drainedOnce && burstOnce && drained.length === JOBS,
      drainJobsPerSecond: Math.round(drained.length / drainSeconds),
      burstJobsPerSecond: Math.round(burst.length / seconds),
      burstLatencyMs: { p50: ms(percentile(burstLatency, 50)), p99: ms(percentile(burstLatency, 99)) },
      pacedLatencyMs: { jobs: pacedLatency.length, p50: ms(percentile(pacedLatency, 50)), p99: ms(percentile(pacedLatency, 99)) },
    };
  } finally {
    for (const w of pool) {
      w.child.send({ cmd: 'stop' });
      await new Promise((r) => w.child.once('exit', r));
    }
  }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('drop table if exists bench_jobs');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function run(): Promise<void> {
  const results: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-scheduler-'));
  try {
    for (const workers of STORES.includes('sqlite') ? [1, 2] : []) {
      const file = join(dir, `jobs-${workers}.db`);
      const result = { store: 'sqlite', ...(await scenario(file, workers)) };
      console.log(JSON.stringify(result));
      results.push(result);
    }
    if (!STORES.includes('postgres')) {
      console.log('PostgreSQL baseline not requested (BENCH_SCHEDULER_STORES)');
    } else if (await postgresReachable()) {
      for (const workers of [1, 2]) {
        await postgresReachable(); // fresh table per scenario
        const result = { store: 'postgres', ...(await scenario(PG_URL, workers)) };
        console.log(JSON.stringify(result));
        results.push(result);
      }
    } else {
      console.log(`PostgreSQL at ${PG_URL} did not answer: the baseline is skipped`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  type Row = { drainJobsPerSecond: number; burstJobsPerSecond: number };
  const find = (store: string, workers: number) => results.find((r) => r.store === store && r.workers === workers) as Row | undefined;
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const ratios = [1, 2].map((w) => {
    const [s, p] = [find('sqlite', w), find('postgres', w)];
    return {
      workers: w,
      sqliteOverPostgresDrain: s && p ? ratio(s.drainJobsPerSecond, p.drainJobsPerSecond) : null,
      sqliteOverPostgresBurst: s && p ? ratio(s.burstJobsPerSecond, p.burstJobsPerSecond) : null,
    };
  });
  console.log(JSON.stringify(ratios));
  const path = writeResult('scheduler', { jobs: JOBS, pacedJobs: PACED, results, ratios, targets: { throughput: 'sqlite >= postgres on one machine', pickupP50Ms: 50 } });
  console.log(`  written to ${path}`);
}
