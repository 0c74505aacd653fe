/**
 * One worker process of the scheduler benchmark: an Agenda on the given job store that runs
 * short no-op jobs and enqueues its share of them when asked, reporting to the parent over IPC.
 *
 *   node --import tsx bench/scheduler-worker.ts <sqlite file | postgres:// url>
 */
import { Agenda, type AgendaBackend } from 'agenda';

interface Command {
  cmd: 'start' | 'enqueue' | 'stop';
  count?: number;
  /** enqueues in flight at once */
  parallel?: number;
  /** ms between two enqueues (with parallel 1) */
  everyMs?: number;
  tag?: string;
}

const store = process.argv[2]!;
const backend: AgendaBackend = /^postgres/.test(store)
  ? new (await import('@agendajs/postgres-backend')).PostgresBackend({ connectionString: store, tableName: 'bench_jobs', channelName: 'bench_jobs' })
  : new (await import('../jobs/store/index.js')).SqliteBackend({ path: store });

const agenda = new Agenda({ backend, processEvery: 1_000, maxConcurrency: 64, defaultConcurrency: 64, name: `bench-${process.pid}` });
let started: { id: string; latencyMs: number; at: number }[] = [];
agenda.define<{ queuedAt: number; id: string }>(
  'bench:noop',
  async (job) => {
    const now = Date.now();
    started.push({ id: job.attrs.data.id, latencyMs: now - job.attrs.data.queuedAt, at: now });
  },
  { concurrency: 64, removeOnComplete: true },
);
await agenda.ready;

const flush = setInterval(() => {
  if (started.length === 0) return;
  process.send!({ started });
  started = [];
}, 100);

process.on('message', async (message: Command) => {
  if (message.cmd === 'stop') {
    clearInterval(flush);
    if (started.length > 0) process.send!({ started });
    await agenda.stop();
    process.exit(0);
  }
  if (message.cmd === 'start') {
    await agenda.start();
    process.send!({ started: [], processing: true });
    return;
  }
  const count = message.count ?? 0;
  const pace = message.everyMs ?? 0;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await agenda.now('bench:noop', { queuedAt: Date.now(), id: `${process.pid}-${message.tag}-${i}` });
      if (pace > 0) await new Promise((r) => setTimeout(r, pace));
    }
  };
  await Promise.all(Array.from({ length: message.parallel ?? 1 }, lane));
  process.send!({ enqueued: count });
});
process.send!({ ready: true });
