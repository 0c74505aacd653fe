/**
 * `npm run bench -- lineage`: the lineage engine on synthetic workspaces of 1k, 10k and 100k
 * nodes. For each: graph build time and memory, upstream closure of a deep leaf, scheduledOnly
 * over the whole graph, a selector, the HTTP round trip of a ~1,000-node lineage query, and,
 * in the same run over the same database, the same upstream closure as a recursive SQL CTE.
 */
import type { EntityManager } from '@mikro-orm/knex';
import { pino } from 'pino';
import { loadConfig } from '../core/config.js';
import type { Graph, GraphNode } from '../api/lineage/graph.js';
import { queryLineage } from '../api/lineage/query.js';
import { LineageStore } from '../api/lineage/store.js';
import { DatasourceService } from '../api/services/datasource.service.js';
import { closure } from '../api/lineage/traverse.js';
import { startServer } from '../api/server.js';
import { addTestUser, signIn } from '../test/helpers/auth.js';
import { Role } from '../core/enums.js';
import { CACHE_DIR, openWorkspace } from './lineage/cache.js';
import { measure, summarize, writeResult, type Summary } from './stats.js';

const SIZES = (process.env.BENCH_LINEAGE_SIZES ?? '1000,10000,100000').split(',').map(Number);

/** Upstream closure in SQL, as servers that keep lineage only in tables do it. */
const UPSTREAM_CTE = `
  with recursive up(kind, id) as (
    select 'D', ?
    union
    select 'A', io.automation_id from up join automation_io io on up.kind = 'D' and io.datasource_id = up.id and io.direction = 'OUTPUT'
    union
    select 'D', io.datasource_id from up join automation_io io on up.kind = 'A' and io.automation_id = up.id and io.direction = 'INPUT'
    union
    select 'D', d.join_left_id from up join datasource d on up.kind = 'D' and d.id = up.id and d.join_left_id is not null
    union
    select 'D', d.join_right_id from up join datasource d on up.kind = 'D' and d.id = up.id and d.join_right_id is not null
  )
  select count(*) as n from up`;

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Up to `count` evenly spaced items of a list. */
function sample<T>(list: T[], count: number): T[] {
  const step = Math.max(1, Math.floor(list.length / count));
  return list.filter((_, i) => i % step === 0).slice(0, count);
}

/** The candidate whose upstream closure size is nearest to `size`. */
/**
 * What checking a credential costs a request: the same request (`{ __typename }`, which needs no
 * sign-in) sent without a credential, with a session cookie and with an API token, interleaved
 * in one run; the differences of the medians are the checks' cost.
 */
async function measureCredentialCheck(url: string, token: string, cookie: string) {
  const send = (headers: Record<string, string>) => () =>
    fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"query":"{ __typename }"}' }).then((r) => r.json());
  const variants = { none: send({}), session: send({ cookie }), token: send({ authorization: `Bearer ${token}` }) };
  const samples: Record<keyof typeof variants, number[]> = { none: [], session: [], token: [] };
  for (let round = 0; round < 400; round++) {
    for (const [name, request] of Object.entries(variants) as [keyof typeof variants, () => Promise<unknown>][]) {
      const start = performance.now();
      await request();
      if (round >= 20) samples[name].push(performance.now() - start); // the first rounds warm up
    }
  }
  const [none, session, bearer] = [summarize(samples.none), summarize(samples.session), summarize(samples.token)];
  const adds = (s: Summary) => Math.round((s.p50Ms - none.p50Ms) * 1000) / 1000;
  return { requests: samples.none.length, withoutCredential: none, withSession: session, withToken: bearer, sessionAddsMs: adds(session), tokenAddsMs: adds(bearer), targetMs: 1 };
}

function nodeWithClosureNear(graph: Graph, candidates: GraphNode[], size: number): { node: GraphNode; closure: number } {
  let best = { node: candidates[0]!, closure: -1 };
  for (const node of candidates) {
    const n = closure(graph, [node], 'up').size;
    if (best.closure < 0 || Math.abs(n - size) < Math.abs(best.closure - size)) best = { node, closure: n };
  }
  return best;
}

async function benchSize(size: number): Promise<Record<string, unknown>> {
  const { dir, orm, generated } = await openWorkspace(size);
  const em = () => orm.em.fork() as EntityManager;

  // Build: a fresh store reading every table.
  const before = heapMb();
  const builds: number[] = [];
  let store = new LineageStore();
  let graph!: Graph;
  for (let i = 0; i < 3; i++) {
    store = new LineageStore();
    const t0 = performance.now();
    graph = await store.current(em());
    builds.push(performance.now() - t0);
  }
  const heap = heapMb() - before;
  const nodes = [...graph.nodes.values()];
  const datasources = nodes.filter((n) => n.type === 'DATASOURCE');
  const layered = datasources.filter((n) => /^table_/.test(n.name));
  // The deep leaf: of the datasources created last (the deepest layer), the one with the widest upstream.
  const deepLeaf = nodeWithClosureNear(graph, layered.slice(-300), Number.MAX_SAFE_INTEGER).node;
  const leafClosure = closure(graph, [deepLeaf], 'up').size;

  const upstream = await measure(200, async () => closure(graph, [deepLeaf], 'up'));
  const cte = await measure(size >= 100_000 ? 20 : 50, async () => em().execute(UPSTREAM_CTE, [deepLeaf.id]), 3);
  const [{ n: cteCount }] = (await em().execute(UPSTREAM_CTE, [deepLeaf.id])) as { n: number }[];
  if (cteCount !== leafClosure) throw new Error(`the CTE found ${cteCount} upstream nodes, the graph ${leafClosure}`);
  const scheduled = await measure(50, async () => queryLineage(graph, { scheduledOnly: true }, 100_000));
  const scheduledCount = queryLineage(graph, { scheduledOnly: true }, 100_000).total;
  const selector = `+${JSON.stringify(deepLeaf.name)},kind:SCRIPT tag:finance`;
  const select = await measure(50, async () => queryLineage(graph, { select: selector }, 100_000));
  const noChange = await measure(200, async () => store.current(em()));

  // Catching up after one mutation (a rename, made through the service), as every process does.
  const renamed = layered[Math.floor(layered.length / 2)]!;
  const original = renamed.name;
  const service = new DatasourceService(em(), new LineageStore());
  const syncAfterWrite = await measure(30, async (i) => {
    await service.update(renamed.id, { name: `${original}_v${i}` });
    const t0 = performance.now();
    await store.current(em());
    return performance.now() - t0;
  }, 3);
  await service.update(renamed.id, { name: original });
  await store.current(em());

  const target = nodeWithClosureNear(graph, [...sample(layered, 2000), ...layered.slice(-300)], 1000);

  // HTTP: the real server on this database, a lineage query returning ~1,000 nodes.
  const server = await startServer({ config: loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent' }), logger: pino({ level: 'silent' }), secretKey: Buffer.alloc(32, 3) });
  const body = JSON.stringify({ query: `query($id: ID!) { lineage(filter: { leadingTo: $id }) { total truncated nodes { id name type scheduled lastRunStatus } edges { source target kind } } }`, variables: { id: target.node.id } });
  const { token } = await addTestUser(server.orm, Role.VIEWER);
  const roundTrip = async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    return (await response.json()) as { data: { lineage: { total: number } } };
  };
  const http = await measure(50, roundTrip, 5);
  const httpNodes = (await roundTrip()).data.lineage.total;
  const credentialCheck = await measureCredentialCheck(server.url, token, await signIn(server.url, (await addTestUser(server.orm, Role.VIEWER)).email));
  await server.close();
  await orm.close();

  const ratio = (a: Summary, b: Summary) => Math.round((a.p50Ms / b.p50Ms) * 10) / 10;
  const result = {
    nodes: graph.size,
    edges: nodes.reduce((n, node) => n + node.inputs.length + node.outputs.length + node.joinSources.length, 0),
    generatedByOneImportSeconds: Math.round(generated.loadSeconds * 10) / 10,
    build: { ...summarizeBuilds(builds), heapMb: Math.round(heap * 10) / 10 },
    upstreamClosure: { nodes: leafClosure, ...upstream },
    upstreamClosureCte: { nodes: cteCount, ...cte },
    cteOverGraphRatio: ratio(cte, upstream),
    scheduledOnly: { nodes: scheduledCount, ...scheduled },
    selector: { text: selector, ...select },
    syncWithoutChanges: noChange,
    renameThenSync: { note: 'one update through the service, then the graph catching up', ...syncAfterWrite },
    httpLineage: { nodes: httpNodes, ...http },
    credentialCheck,
  };
  console.log(
    `  ${graph.size} nodes: build p50 ${result.build.p50Ms} ms (${result.build.heapMb} MB heap); upstream closure (${leafClosure} nodes) p50 ${upstream.p50Ms} ms vs CTE ${cte.p50Ms} ms (${result.cteOverGraphRatio}x); ` +
      `scheduledOnly (${scheduledCount}) p50 ${scheduled.p50Ms} ms; selector p50 ${select.p50Ms} ms; HTTP ${httpNodes} nodes p50 ${http.p50Ms} ms; ` +
      `checking a session adds ${credentialCheck.sessionAddsMs} ms, a token ${credentialCheck.tokenAddsMs} ms`,
  );
  return result;
}

function summarizeBuilds(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { runs: sorted.length, p50Ms: Math.round(sorted[Math.floor(sorted.length / 2)]! * 10) / 10, minMs: Math.round(sorted[0]! * 10) / 10 };
}

export async function run(): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) console.log('  (run with node --expose-gc for heap figures; npm run bench does)');
  const results: Record<string, unknown> = {};
  for (const size of SIZES) {
    console.log(`workspace of ~${size} nodes`);
    results[String(size)] = await benchSize(size);
  }
  const targets = {
    upstreamClosure100kP50Ms: 5,
    httpLineage1000NodesP50Ms: 50,
    cteOverGraphRatioAt100k: 20,
  };
  console.log(`wrote ${writeResult('lineage', { cacheDir: CACHE_DIR, targets, sizes: results })}`);
}
