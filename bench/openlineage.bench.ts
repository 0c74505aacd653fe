/**
 * `npm run bench -- openlineage`: OpenLineage events received per second on the SQLite default and
 * on PostgreSQL, one event per request (8 clients at once, as several producers send) and in
 * batches of 500; then the lineage queries' figures on the graph those events drew, after the
 * first 10% of the events and again after all of them (the same graph, ten times the history), in
 * the same run. BENCH_OL_EVENTS (default 100,000) sets the number of events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../core/config.js';
import { startServer, type RunningServer } from '../api/server.js';
import { addTestUser } from '../test/helpers/auth.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { Role } from '../core/enums.js';
import { measure, writeResult } from './stats.js';

const EVENTS = Number(process.env.BENCH_OL_EVENTS ?? 100_000);
const JOBS = 1_000;
const DATASETS = 3_000;
const CLIENTS = 8;
const BATCH = 500;
const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.40.0/integration/spark';

const facet = (name: string, fields: Record<string, unknown>) => ({ _producer: PRODUCER, _schemaURL: `https://openlineage.io/spec/facets/1-1-1/${name}.json#/$defs/${name}`, ...fields });
const dataset = (i: number) => ({ namespace: 'postgres://warehouse:5432', name: `analytics.public.table_${i}`, facets: { schema: facet('SchemaDatasetFacet', { fields: [{ name: 'id', type: 'bigint' }, { name: 'value', type: 'text' }] }) } });

/**
 * The n-th event of a stream of runs: each run a START and a COMPLETE of one of JOBS jobs, each
 * job reading two datasets and writing one, in layers, so the graph is a deep DAG.
 */
function event(n: number): Record<string, unknown> {
  const run = Math.floor(n / 2);
  const job = run % JOBS;
  const out = job % DATASETS;
  const inputs = [dataset((out + DATASETS - 1 - (job % 7)) % DATASETS), dataset((out + DATASETS - 11) % DATASETS)];
  return {
    eventType: n % 2 === 0 ? 'START' : 'COMPLETE',
    eventTime: new Date(Date.UTC(2026, 10, 1) + run * 60_000 + (n % 2) * 30_000).toISOString(),
    producer: PRODUCER,
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: runIds[run] ??= randomUUID() },
    job: { namespace: 'spark', name: `pipeline.job_${job}` },
    inputs,
    outputs: [{ ...dataset(out), outputFacets: n % 2 ? { outputStatistics: facet('OutputStatisticsOutputDatasetFacet', { rowCount: 1000 + job }) } : {} }],
  };
}
const runIds: string[] = [];

async function post(url: string, token: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  if (response.status !== 201 && response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** Sends events [from, to) one per request from CLIENTS clients; events/s. */
async function sendSingly(server: RunningServer, token: string, from: number, to: number): Promise<number> {
  let next = from;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      // A client sends its events in order, so a run's START goes before its COMPLETE.
      for (let n = next; n < to; n = next) {
        next += 2;
        await post(server.url, token, '/api/v1/lineage', event(n));
        if (n + 1 < to) await post(server.url, token, '/api/v1/lineage', event(n + 1));
      }
    }),
  );
  return Math.round(((to - from) / (performance.now() - started)) * 1000);
}

async function sendBatches(server: RunningServer, token: string, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let n = from; n < to; n += BATCH) await post(server.url, token, '/api/v1/lineage/batch', Array.from({ length: Math.min(BATCH, to - n) }, (_, i) => event(n + i)));
  return Math.round(((to - from) / (performance.now() - started)) * 1000);
}

/** The lineage queries of the lineage bench, over this graph: upstream of a deep dataset, the whole graph, a selector. */
async function lineageFigures(server: RunningServer, token: string) {
  const query = (filter: Record<string, unknown>) => () =>
    fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query($f: LineageFilter) { lineage(filter: $f, maxNodes: 5000) { total nodes { id name type } edges { source target kind } } }', variables: { f: filter } }),
    }).then((r) => r.json());
  return {
    upstreamOfDeepDataset: await measure(30, query({ select: `+analytics.public.table_${JOBS - 1}` })),
    wholeGraph: await measure(10, query({})),
    selector: await measure(30, query({ select: 'kind:EXTERNAL_JOB,pipeline.job_5+' })),
  };
}

async function benchBackend(backend: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-ol-'));
  const db = backend === 'postgres' ? await createTestDatabase('tributary_bench_ol') : null;
  const env = db ? { DATABASE_URL: db.url, JOB_STORE_URL: db.url, WAREHOUSE_URL: db.url } : {};
  const server = await startServer({ config: loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', ...env }), logger: pino({ level: 'silent' }), secretKey: Buffer.alloc(32, 7) });
  try {
    const { token } = await addTestUser(server.orm, Role.EDITOR);
    runIds.length = 0;
    const tenth = Math.floor(EVENTS / 10 / 2) * 2;
    const singly = await sendSingly(server, token, 0, tenth);
    const early = await lineageFigures(server, token);
    const batched = await sendBatches(server, token, tenth, EVENTS);
    const late = await lineageFigures(server, token);
    const ratio = (a: { p50Ms: number }, b: { p50Ms: number }) => Math.round((b.p50Ms / a.p50Ms) * 100) / 100;
    return {
      backend,
      events: EVENTS,
      eventsPerSecondSingly: singly,
      eventsPerSecondBatched: batched,
      lineageAfterTenth: early,
      lineageAfterAll: late,
      afterAllVsTenth: { upstream: ratio(early.upstreamOfDeepDataset, late.upstreamOfDeepDataset), wholeGraph: ratio(early.wholeGraph, late.wholeGraph), selector: ratio(early.selector, late.selector) },
    };
  } finally {
    await server.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const results = [];
  for (const backend of ['sqlite', 'postgres'] as const) {
    const result = await benchBackend(backend);
    results.push(result);
    console.log(
      `  ${backend}: ${result.eventsPerSecondSingly} events/s one per request (${CLIENTS} clients), ${result.eventsPerSecondBatched} events/s in batches of ${BATCH}; ` +
        `lineage p50 after all/after a tenth: upstream ${result.afterAllVsTenth.upstream}x, whole graph ${result.afterAllVsTenth.wholeGraph}x, selector ${result.afterAllVsTenth.selector}x`,
    );
  }
  console.log(`wrote ${writeResult('openlineage', { target: 'at least 1,000 events/s on SQLite and PostgreSQL; lineage figures unchanged after 100,000 events', results })}`);
}
