/**
 * `npm run bench -- scale`: Tributary under load, scaled out on PostgreSQL against the embedded
 * SQLite default, in the same run. PostgreSQL: two API processes (`npm start -- --no-jobs`) and two
 * workers (`npm run worker`), each with its own DATA_DIR, on one database for the metadata, the job
 * store and the warehouse. SQLite: one `npm start` process. For each, CLIENTS clients for SECONDS
 * seconds mix lineage queries, list pages and mutations (spread over the API processes), while
 * RUNS runs are queued at the start; a probe creates a datasource through one API process every
 * PROBE_EVERY_MS and times until the other API process's lineage graph answers with it. Recorded: p50/p99
 * per operation, errors, runs executed more than once, the drain time, the probe's delays.
 * Targets: zero errors, no run twice, every change visible in the other process within 1 s.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { PROCESS_ENV, spawnTsx, type Spawned } from '../test/helpers/process.js';
import { signIn, TEST_ADMIN_EMAIL } from '../test/helpers/auth.js';
import { latencies, percentile, roundTenth as round, writeResult } from './stats.js';

const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLIENTS = Number(process.env.BENCH_SCALE_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 60);
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 1000);
/** Unloaded pickup probes (each on an automation of its own, before the load). */
const PROBES = 20;
const AUTOMATIONS = PROBES + RUNS;
const PROBE_EVERY_MS = 2_000;
const VISIBLE_WITHIN_MS = 1_000;
/** How often the probe asks the other process whether it sees a change yet. */
const POLL_EVERY_MS = 100;

type Op = 'lineage' | 'listDatasources' | 'listAutomations' | 'mutation';
const OPS: Op[] = ['lineage', 'listDatasources', 'listAutomations', 'mutation'];

interface Api {
  url: string;
  gql(query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: { message: string }[] }>;
}

interface Deployment {
  name: string;
  apis: Api[];
  procs: Spawned[];
  /** Counts the runs by status and how many of them were started more than once. */
  runCounts(): Promise<{ finished: number; succeeded: number; startedTwice: number }>;
  close(): Promise<void>;
}

function api(url: string): Api {
  let cookie: Promise<string> | undefined;
  return {
    url,
    async gql(query, variables) {
      cookie ??= signIn(url, TEST_ADMIN_EMAIL); // the first admin PROCESS_ENV creates
      const headers = { 'content-type': 'application/json', cookie: await cookie };
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return (await response.json()) as { data?: any; errors?: { message: string }[] };
    },
  };
}

/** A request that failed to get an answer (network error, timeout), as a GraphQL-shaped error: counted, not thrown. */
async function attempt(target: Api, query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: { message: string }[] }> {
  try {
    return await target.gql(query, variables);
  } catch (error) {
    return { errors: [{ message: `no answer: ${(error as Error).message} (${String((error as { cause?: { code?: string } }).cause?.code ?? '')})` }] };
  }
}

async function ok(target: Api, query: string, variables?: Record<string, unknown>): Promise<any> {
  const result = await target.gql(query, variables);
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

async function listening(proc: Spawned): Promise<Api> {
  return api(JSON.parse(await proc.waitFor(/Tributary is listening/, 120_000)).url as string);
}

const RUN_COUNTS = `select count(*) filter (where status in ('SUCCESS', 'FAILED', 'CANCELLED')) as finished, count(*) filter (where status = 'SUCCESS') as succeeded,
  count(*) filter (where (select count(*) from run_log l where l.run_id = run.id and l.line like '%started (manual)%') > 1) as "startedTwice" from run`;

async function postgresDeployment(files: string): Promise<Deployment> {
  const name = `tributary_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  const dirs: string[] = [];
  const env = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-scale-'));
    dirs.push(dir);
    return { ...PROCESS_ENV, LOG_LEVEL: 'warn', SCHEDULER_POLL_MS: '5000', DATA_DIR: dir, FILE_ROOTS: files, DATABASE_URL: url.toString(), JOB_STORE_URL: url.toString(), WAREHOUSE_URL: url.toString() };
  };
  // One at a time: the first process migrates the new database.
  const procs: Spawned[] = [];
  const apis: Api[] = [];
  for (let i = 0; i < 2; i++) {
    const proc = spawnTsx('api/main.ts', { ...env(), LOG_LEVEL: 'info' }, ['--no-jobs']);
    procs.push(proc);
    apis.push(await listening(proc));
  }
  for (let i = 0; i < 2; i++) {
    const proc = spawnTsx('jobs/worker.ts', { ...env(), LOG_LEVEL: 'info' });
    procs.push(proc);
    await proc.waitFor(/worker is running jobs/, 120_000);
  }
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    name: 'postgres (2 API processes + 2 workers)',
    apis,
    procs,
    async runCounts() {
      const [row] = (await client.query(RUN_COUNTS)).rows;
      return { finished: Number(row.finished), succeeded: Number(row.succeeded), startedTwice: Number(row.startedTwice) };
    },
    async close() {
      await client.end();
      for (const proc of procs) proc.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function sqliteDeployment(files: string): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-scale-'));
  const proc = spawnTsx('api/main.ts', { ...PROCESS_ENV, LOG_LEVEL: 'info', SCHEDULER_POLL_MS: '5000', DATA_DIR: dir, FILE_ROOTS: files });
  const only = await listening(proc);
  return {
    name: 'sqlite (1 process)',
    apis: [only, only],
    procs: [proc],
    async runCounts() {
      const db = await new Promise<sqlite3.Database>((resolve, reject) => {
        const handle: sqlite3.Database = new sqlite3.Database(join(dir, 'tributary.db'), sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(handle)));
      });
      const row = await new Promise<any>((resolve, reject) => db.get(RUN_COUNTS, (error, r) => (error ? reject(error) : resolve(r))));
      await new Promise((resolve) => db.close(resolve));
      return { finished: Number(row.finished ?? 0), succeeded: Number(row.succeeded ?? 0), startedTwice: Number(row.startedTwice ?? 0) };
    },
    async close() {
      proc.child.kill('SIGTERM');
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The workspace: a small CSV and AUTOMATIONS ETL steps copying it, plus datasources to list. */
async function seed(target: Api, files: string): Promise<string[]> {
  const input = (await ok(target, `mutation($path: String!) { createDatasource(input: { name: "bench in", kind: FILE, path: $path }) { id } }`, { path: join(files, 'in.csv') })).createDatasource;
  const sink = (await ok(target, `mutation { createDatasource(input: { name: "bench sink", kind: STORAGE }) { id } }`)).createDatasource;
  const ids: string[] = [];
  for (let i = 0; i < AUTOMATIONS; i++) {
    const etl = await ok(target, `mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id } }`, {
      input: { name: `bench copy ${String(i).padStart(4, '0')}`, inputId: input.id, outputId: sink.id, writeMode: 'APPEND', schedule: i % 10 === 0 ? { cron: '0 3 * * *' } : null },
    });
    ids.push(etl.createEtlStep.id);
  }
  return ids;
}

async function workload(deployment: Deployment, automationIds: string[]) {
  const samples: Record<Op, number[]> = { lineage: [], listDatasources: [], listAutomations: [], mutation: [] };
  const errors: Record<Op, number> = { lineage: 0, listDatasources: 0, listAutomations: 0, mutation: 0 };
  const errorSamples: string[] = [];
  const deadline = Date.now() + SECONDS * 1000;

  // The runs, queued through both API processes as the load starts (20 requests at a time).
  const base = await deployment.runCounts();
  const queuedAt = performance.now();
  let queueErrors = 0;
  let queueMs = 0;
  let next = 0;
  const queueing = Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let i = next++; i < RUNS; i = next++) {
        const result = await attempt(deployment.apis[i % 2]!, `mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: automationIds[i % automationIds.length] });
        if (result.errors?.length) {
          queueErrors += 1;
          if (errorSamples.length < 5) errorSamples.push(result.errors[0]!.message);
        }
      }
    }),
  ).then(() => (queueMs = performance.now() - queuedAt));

  const client = async (c: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const op = OPS[(c + i) % OPS.length]!;
      // Every operation goes to both API processes in turn (not op n always to process n % 2).
      const target = deployment.apis[Math.floor((c + i) / OPS.length) % 2]!;
      const query = {
        lineage: () => target.gql(`{ lineage(filter: { scheduledOnly: true }, maxNodes: 500) { total nodes { id } } }`),
        listDatasources: () => target.gql(`query($after: String) { datasources(first: 50, after: $after) { totalCount nodes { id name rowCount } } }`),
        listAutomations: () => target.gql(`{ automations(first: 50, search: "copy") { totalCount nodes { id name state lastRunStatus } } }`),
        mutation: () =>
          target.gql(`mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }`, { input: { name: `load ${c}-${i}`, kind: 'STORAGE', tags: ['load'] } }),
      }[op];
      const started = performance.now();
      try {
        const result = await query();
        if (result.errors?.length) {
          errors[op] += 1;
          if (errorSamples.length < 5) errorSamples.push(result.errors[0]!.message);
        } else samples[op].push(performance.now() - started);
      } catch (error) {
        errors[op] += 1;
        if (errorSamples.length < 5) errorSamples.push((error as Error).message);
      }
    }
  };

  // The probe: a change made through one API process, as seen by the other's lineage graph.
  const visibility: number[] = [];
  const askedAfter: number[] = [];
  const probe = async () => {
    for (let n = 0; Date.now() < deadline; n++) {
      const made = await attempt(deployment.apis[0]!, `mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }`, { input: { name: `probe ${n}`, kind: 'STORAGE' } });
      const id = made.data?.createDatasource?.id as string | undefined;
      if (id) {
        const seen = await firstSeen(deployment.apis[1]!, id);
        visibility.push(seen.visibleMs);
        askedAfter.push(seen.askedAfterMs);
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  };

  await Promise.all([...Array.from({ length: CLIENTS }, (_, c) => client(c)), probe(), queueing]);

  // The runs drain.
  const drainDeadline = Date.now() + 600_000;
  const counted = async () => {
    const now = await deployment.runCounts();
    return { finished: now.finished - base.finished, succeeded: now.succeeded - base.succeeded, startedTwice: now.startedTwice };
  };
  let counts = await counted();
  while (counts.finished < RUNS - queueErrors && Date.now() < drainDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    counts = await counted();
  }
  const drainMs = performance.now() - queuedAt;

  const sortedVisibility = [...visibility].sort((a, b) => a - b);
  return {
    operations: Object.fromEntries(OPS.map((op) => [op, latencies(samples[op], errors[op])])),
    totalRequests: OPS.reduce((n, op) => n + samples[op].length + errors[op], 0),
    errors: OPS.reduce((n, op) => n + errors[op], 0) + queueErrors,
    errorSamples,
    runs: { queued: RUNS, queueErrors, queueMs: round(queueMs), ...counts, drainMs: round(drainMs) },
    visibility: {
      probes: visibility.length,
      p50Ms: round(percentile(sortedVisibility, 50)),
      p99Ms: round(percentile(sortedVisibility, 99)),
      maxMs: round(sortedVisibility.at(-1) ?? Number.NaN),
      withinTarget: visibility.every((ms) => ms <= VISIBLE_WITHIN_MS),
      // When the first request that saw the change was sent: how long the change took to reach
      // the other process, apart from that request's own wait in the queue of a loaded server.
      askedAfter: latencies(askedAfter, 0),
    },
  };
}

/**
 * When the other API process first answers with the change: it is asked every POLL_EVERY_MS,
 * without waiting for earlier answers (one request at a time would count the wait of a request
 * sent just before the change arrived, then the whole wait of the next one), for up to 10 s.
 */
function firstSeen(api: Api, id: string): Promise<{ visibleMs: number; askedAfterMs: number }> {
  const at = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (visibleMs: number, askedAfterMs: number) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve({ visibleMs, askedAfterMs });
    };
    const ask = async () => {
      const asked = performance.now() - at;
      const seen = await attempt(api, `query($id: ID!) { lineage(filter: { leadingTo: $id, scheduledOnly: false }) { total } }`, { id });
      if ((seen.data?.lineage?.total ?? 0) >= 1) finish(performance.now() - at, asked);
    };
    const timer = setInterval(() => {
      if (performance.now() - at > 10_000) finish(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
      else void ask();
    }, POLL_EVERY_MS);
    void ask();
  });
}

/**
 * With no other load: how long a run queued through an API process waits until a worker starts
 * it (startedAt − queuedAt, target 100 ms), and how long a stop asked of an API process takes to
 * end a running run (target 1 s).
 */
async function latencies0(deployment: Deployment, automationIds: string[]) {
  const pickupOf = async (target: Api, automationId: string): Promise<number> => {
    const { id } = (await ok(target, `mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: automationId })).runAutomation;
    for (;;) {
      const { run } = await ok(target, `query($id: ID!) { run(id: $id) { status queuedAt startedAt } }`, { id });
      if (run.startedAt && run.status !== 'QUEUED' && run.status !== 'RUNNING') return Date.parse(run.startedAt) - Date.parse(run.queuedAt);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  // Warm-up, not counted: the first run through each API process and in each worker loads code
  // on first use (it measured 70 to 85 ms, against about 30 ms after).
  for (let i = 0; i < 4; i++) await pickupOf(deployment.apis[i % 2]!, automationIds[i]!);
  const pickup: number[] = [];
  for (let i = 0; i < PROBES; i++) pickup.push(await pickupOf(deployment.apis[i % 2]!, automationIds[i]!));
  const out = (await ok(deployment.apis[0]!, `mutation { createDatasource(input: { name: "bench slow out", kind: STORAGE }) { id } }`)).createDatasource;
  const slow = (
    await ok(deployment.apis[0]!, `mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
      input: { name: 'bench slow', language: 'JAVASCRIPT', code: 'await new Promise((r) => setTimeout(r, 600000));', outputIds: [out.id] },
    })
  ).createScript;
  const stop: number[] = [];
  for (let i = 0; i < Math.ceil(PROBES / 4); i++) {
    await ok(deployment.apis[1]!, `mutation($id: ID!) { startAutomation(id: $id) { state } }`, { id: slow.id }).catch(() => undefined);
    const { id } = (await ok(deployment.apis[1]!, `mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: slow.id })).runAutomation;
    while ((await ok(deployment.apis[0]!, `query($id: ID!) { run(id: $id) { status } }`, { id })).run.status !== 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 10));
    const asked = performance.now();
    await ok(deployment.apis[0]!, `mutation($id: ID!) { stopAutomation(id: $id) { state } }`, { id: slow.id });
    while ((await ok(deployment.apis[1]!, `query($id: ID!) { run(id: $id) { status } }`, { id })).run.status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 10));
    stop.push(performance.now() - asked);
  }
  return { runPickup: latencies(pickup, 0), stop: latencies(stop, 0) };
}

export async function run(): Promise<void> {
  const files = mkdtempSync(join(tmpdir(), 'tributary-bench-files-'));
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'in.csv'), 'id,v\n1,a\n2,b\n');
  const results: Record<string, unknown> = {};
  try {
    // BENCH_SCALE_DEPLOYMENTS=postgres (or sqlite) runs one of the two.
    const wanted = (process.env.BENCH_SCALE_DEPLOYMENTS ?? 'sqlite,postgres').split(',');
    for (const open of [sqliteDeployment, postgresDeployment].filter((_, i) => wanted.includes(['sqlite', 'postgres'][i]!))) {
      const deployment = await open(files);
      try {
        console.log(`${deployment.name}: seeding ${AUTOMATIONS} automations…`);
        const ids = await seed(deployment.apis[0]!, files);
        console.log(`${deployment.name}: run pickup and stop, unloaded…`);
        const unloaded = await latencies0(deployment, ids);
        console.log(`${deployment.name}: ${CLIENTS} clients for ${SECONDS} s while ${RUNS} runs drain…`);
        const result = { unloaded, ...(await workload(deployment, ids.slice(PROBES))) };
        results[deployment.name.split(' ')[0]!] = { deployment: deployment.name, ...result };
        console.log(JSON.stringify({ deployment: deployment.name, ...result }, null, 2));
      } finally {
        await deployment.close();
      }
    }
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
  const file = writeResult('scale', { clients: CLIENTS, seconds: SECONDS, runs: RUNS, automations: AUTOMATIONS, targets: { errors: 0, startedTwice: 0, visibleWithinMs: VISIBLE_WITHIN_MS, runPickupMs: 100, stopMs: 1000 }, ...results });
  console.log(`written to ${file}`);
}
