/**
 * A worker process of the multi-process test: an Agenda on the given job store file that records
 * every run of a `record` job (one line with the job id) in its own log file.
 *
 *   node --import tsx test/jobs/store/worker-process.ts <jobs.db> <runs.log>
 *
 * Parent messages: 'start' (start processing, then queue 50 jobs of its own), 'stop'.
 */
import { appendFileSync } from 'node:fs';
import { Agenda } from 'agenda';
import { SqliteBackend } from '../../../jobs/store/index.js';

const [path, runLog] = process.argv.slice(2) as [string, string];
const send = (message: Record<string, unknown>): void => void process.send!(message);

const agenda = new Agenda({ backend: new SqliteBackend({ path }), processEvery: 50, lockLimit: 4, maxConcurrency: 4, name: `worker-${process.pid}` });
agenda.on('error', (error: Error) => send({ error: error.message }));
agenda.define(
  'record',
  async (job) => {
    appendFileSync(runLog, `${String(job.attrs._id)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  },
  { concurrency: 4 },
);
await agenda.ready;

process.on('message', async (message: string) => {
  if (message === 'start') {
    await agenda.start();
    for (let i = 0; i < 50; i += 1) await agenda.now('record', { from: process.pid, i });
    send({ queued: 50 });
  } else if (message === 'stop') {
    await agenda.stop();
    process.exit(0);
  }
});
send({ ready: true });
