/**
 * `npm run bench -- abuse`: does any one request stall the server? Starts the real server (its
 * own process, `npm start -- --demo` on a temp DATA_DIR, 127.0.0.1 only), measures `/healthz`
 * and a small `datasources(first: 5)` query with no load, then sends each abusive request
 * back to back for a few seconds while sampling both every ~20 ms, and records their p50, p99
 * and max, the server's peak memory, and each abusive request's answer (HTTP status, error code,
 * time, size). Target: p99 under 100 ms during each, and the abusive request gets a coded error
 * (the 500k-row preview may instead answer its bounded sample).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signIn } from '../test/helpers/auth.js';
import { latencies, percentile, roundTenth as round, writeResult, type Latencies } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE_EVERY_MS = 20;
const BASELINE_SAMPLES = Number(process.env.BENCH_ABUSE_BASELINE ?? 250);
/** Each scenario sends its abusive request(s) again every ROUND_EVERY_MS (an attacker retrying) for at least WINDOW_MS… */
const WINDOW_MS = Number(process.env.BENCH_ABUSE_WINDOW_MS ?? 3_000);
const ROUND_EVERY_MS = 100;
/** …at most MAX_ROUNDS times; an answer is given up after REQUEST_TIMEOUT_MS. */
const MAX_ROUNDS = 60;
const REQUEST_TIMEOUT_MS = 60_000;
/** The session of the demo admin (`--demo` prints the credentials): every request below is signed in, as an abuser with an account is. */
const auth: Record<string, string> = {};
const MAX_SAMPLES = 5_000;
/** The bench kills the server over this resident size rather than let it take the machine's memory. */
const MAX_SERVER_RSS_MB = Number(process.env.BENCH_ABUSE_MAX_RSS_MB ?? 4_096);
const BIG_ROWS = Number(process.env.BENCH_ABUSE_ROWS ?? 500_000);
const TARGET_P99_MS = 100;
const RECURSIVE_SQL = 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM r) SELECT x FROM r, input';
/** The same endless recursion under an aggregate, which no row limit can cut short: only a time limit ends it. */
const RECURSIVE_COUNT_SQL = 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM r) SELECT count(*) AS n FROM r, input';

interface Answer {
  status: number;
  ms: number;
  bytes: number;
  /** The first error's `extensions.code`; `data` for an answer without errors; `TIMEOUT`/`NETWORK_ERROR` when none came. */
  code: string;
  message?: string;
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One POST to /graphql, timed, with its size and first error code. */
async function post(url: string, body: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    const ms = performance.now() - started;
    let parsed: { errors?: { message: string; extensions?: { code?: string } }[] } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: reported by its status
    }
    const error = parsed.errors?.[0];
    return { status: response.status, ms: round(ms), bytes: Buffer.byteLength(text), code: error ? (error.extensions?.code ?? 'UNCODED') : 'data', ...(error ? { message: error.message.slice(0, 300) } : {}) };
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return { status: 0, ms: round(performance.now() - started), bytes: 0, code: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR', message: (error as Error).message };
  }
}

async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`setup query failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Resident memory of a process, from /proc (Linux); undefined elsewhere. */
function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples `/healthz` and the small query every SAMPLE_EVERY_MS until `stop()`, each in its own
 * loop (a stalled one does not hold the other back), at most `maxSamples` each; every sample waits
 * at most REQUEST_TIMEOUT_MS. Watches the server's memory every 50 ms and kills it over
 * MAX_SERVER_RSS_MB.
 */
function sampler(url: string, pid: number | undefined, maxSamples = MAX_SAMPLES) {
  let stopped = false;
  let peakRss = rssMb(pid) ?? 0;
  let killedAtRssMb: number | undefined;
  const watchdog = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid) ?? 0);
    if (peakRss > MAX_SERVER_RSS_MB && killedAtRssMb === undefined && pid !== undefined) {
      killedAtRssMb = peakRss;
      process.kill(pid, 'SIGKILL');
    }
  }, 50);

  const loop = async (probe: () => Promise<{ ms: number; ok: boolean }>) => {
    const samples: number[] = [];
    let failures = 0;
    for (let i = 0; i < maxSamples && !stopped && killedAtRssMb === undefined; i++) {
      const tick = performance.now();
      const { ms, ok } = await probe();
      samples.push(ms);
      if (!ok) failures++;
      await sleep(Math.max(0, SAMPLE_EVERY_MS - (performance.now() - tick)));
    }
    return latencies(samples, failures);
  };
  const health = loop(async () => {
    const started = performance.now();
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await response.arrayBuffer();
      return { ms: performance.now() - started, ok: response.status === 200 };
    } catch {
      return { ms: performance.now() - started, ok: false };
    }
  });
  const small = loop(async () => {
    const answer = await post(url, { query: '{ datasources(first: 5) { totalCount nodes { id name } } }' });
    return { ms: answer.ms, ok: answer.status === 200 && answer.code === 'data' };
  });
  const done = Promise.all([health, small]);
  return {
    /** Resolves when `maxSamples` were taken (or after stop). */
    done,
    async stop() {
      stopped = true;
      const [healthz, smallQuery] = await done;
      clearInterval(watchdog);
      return {
        healthz,
        smallQuery,
        serverPeakRssMb: peakRss || undefined,
        ...(killedAtRssMb === undefined ? {} : { serverKilledByBenchAtRssMb: killedAtRssMb }),
      };
    },
  };
}

interface Scenario {
  name: string;
  description: string;
  /** `refused`: must get a coded error; `bounded`: a coded error or a (bounded) answer both do. */
  expect: 'refused' | 'bounded';
  /** The abusive request(s) of one round, sent together. */
  bodies: unknown[];
}

/**
 * Sends the scenario's requests together, again every ROUND_EVERY_MS once answered, for WINDOW_MS
 * (at least one round, at most MAX_ROUNDS), sampling meanwhile.
 */
async function runScenario(url: string, pid: number | undefined, scenario: Scenario) {
  const sampling = sampler(url, pid);
  const answers: Answer[] = [];
  const started = performance.now();
  let rounds = 0;
  while (rounds < MAX_ROUNDS && (rounds === 0 || performance.now() - started < WINDOW_MS)) {
    const roundStart = performance.now();
    answers.push(...(await Promise.all(scenario.bodies.map((body) => post(url, body)))));
    rounds++;
    await sleep(Math.max(0, ROUND_EVERY_MS - (performance.now() - roundStart)));
  }
  const during = await sampling.stop();
  const codes = [...new Set(answers.map((a) => a.code))];
  const times = answers.map((a) => a.ms).sort((a, b) => a - b);
  const coded = answers.every((a) => a.code !== 'data' && a.code !== 'UNCODED' && a.code !== 'TIMEOUT' && a.code !== 'NETWORK_ERROR' && a.code !== 'INTERNAL_SERVER_ERROR');
  const answered = answers.every((a) => a.status === 200 || coded);
  const p99Met = during.healthz.p99Ms < TARGET_P99_MS && during.smallQuery.p99Ms < TARGET_P99_MS && during.healthz.failures === 0 && during.smallQuery.failures === 0;
  return {
    description: scenario.description,
    abusive: {
      requests: answers.length,
      rounds,
      codes,
      first: answers[0],
      p50Ms: round(percentile(times, 50)),
      maxMs: round(times.at(-1) ?? Number.NaN),
      maxBytes: Math.max(...answers.map((a) => a.bytes)),
    },
    ...during,
    targetMet: p99Met && during.serverKilledByBenchAtRssMb === undefined && (scenario.expect === 'refused' ? coded : coded || answered),
  };
}

/** `datasource(id) { consumedBy { inputs { consumedBy … } } }` with `levels` nested lists. */
function recursiveQuery(id: string, levels: number): string {
  let selection = 'name';
  for (let i = levels - 1; i >= 0; i--) selection = `${i % 2 === 0 ? 'consumedBy' : 'inputs'} { id name ${selection} }`;
  return `query { datasource(id: "${id}") { ${selection} } }`;
}

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,name,country,amount\n');
  const countries = ['FR', 'DE', 'US', 'FI', 'IT'];
  for (let i = 1; i <= rows; i++) {
    if (!out.write(`${i},customer ${i},${countries[i % countries.length]},${(i % 10_000) / 100}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** `node --import tsx api/main.ts --demo`, as `npm start -- --demo` runs it; answers its URL once it listens. */
async function startDemoServer(dataDir: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts', '--demo'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url && Date.now() < deadline && child.exitCode === null) {
    const line = output.split('\n').find((l) => l.includes('Tributary is listening'));
    if (line) url = (JSON.parse(line) as { url: string }).url;
    else await sleep(100);
  }
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`the server did not start:\n${output}`);
  }
  if (!url.startsWith('http://127.0.0.1:')) {
    child.kill('SIGKILL');
    throw new Error(`the server listens on ${url}, not 127.0.0.1`);
  }
  return { child, url, output: () => output };
}

/** The demo loads after the server listens: waits (at most 30 s) for its log line. */
async function demoLoaded(server: { child: ChildProcess; output: () => string }): Promise<void> {
  for (let i = 0; i < 300 && server.child.exitCode === null; i++) {
    if (/demo workspace loaded/.test(server.output())) return;
    await sleep(100);
  }
  throw new Error(`the demo workspace did not load:\n${server.output().slice(-5_000)}`);
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-abuse-'));
  // The server's default file root (FILE_ROOTS): FILE datasources read from here.
  const files = join(dataDir, 'files');
  mkdirSync(files, { recursive: true });
  const bigCsv = join(files, 'big.csv');
  const smallCsv = join(files, 'small.csv');
  await writeCsv(bigCsv, BIG_ROWS);
  writeFileSync(smallCsv, 'id,name\n1,a\n2,b\n3,c\n');

  const server = await startDemoServer(dataDir);
  const { url } = server;
  const pid = server.child.pid;
  try {
    await demoLoaded(server);
    const email = /email: +(\S+)/.exec(server.output())?.[1];
    const password = /password: +(\S+)/.exec(server.output())?.[1];
    if (!email || !password) throw new Error(`--demo printed no admin credentials:\n${server.output().slice(-5_000)}`);
    auth.cookie = await signIn(url, email, password);
    // The workspace: the demo, three more automations reading users-storage (so every consumedBy
    // level fans out), a 500k-row FILE datasource and a small one, each read by an ETL step.
    const users = (await gql(url, '{ datasource(name: "users-storage") { id } }')).datasource.id as string;
    const create = async (input: Record<string, unknown>) => (await gql(url, 'mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }', { input })).createDatasource.id as string;
    const etl = async (name: string, inputId: string, outputId: string) =>
      (await gql(url, 'mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id } }', { input: { name, inputId, outputId, transform: {} } })).createEtlStep.id as string;
    for (let i = 0; i < 3; i++) await etl(`bench copy users ${i}`, users, await create({ name: `bench users copy ${i}`, kind: 'STORAGE' }));
    const columns = [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text' }, { name: 'country', type: 'text' }, { name: 'amount', type: 'real' }];
    const bigEtl = await etl('bench big preview', await create({ name: 'bench big.csv', kind: 'FILE', path: bigCsv, columns }), await create({ name: 'bench big copy', kind: 'STORAGE' }));
    const smallEtl = await etl('bench small', await create({ name: 'bench small.csv', kind: 'FILE', path: smallCsv }), await create({ name: 'bench small copy', kind: 'STORAGE' }));

    console.log(`server ${url} (pid ${pid}), demo loaded; baseline: ${BASELINE_SAMPLES} samples every ${SAMPLE_EVERY_MS} ms`);
    const baselineSampler = sampler(url, pid, BASELINE_SAMPLES);
    await baselineSampler.done;
    const baseline = await baselineSampler.stop();
    console.log(`baseline        healthz p50 ${baseline.healthz.p50Ms} ms p99 ${baseline.healthz.p99Ms} ms | datasources(first: 5) p50 ${baseline.smallQuery.p50Ms} ms p99 ${baseline.smallQuery.p99Ms} ms`);

    const preview = (id: string, extra = '') => `query { previewAutomation(id: "${id}"${extra}) { inputs { columns rows } outputs { columns rows } errors } }`;
    const scenarios: Scenario[] = [
      { name: 'depth10', expect: 'refused', description: 'depth-10 consumedBy { inputs { … } } on users-storage (read by 5 automations)', bodies: [{ query: recursiveQuery(users, 10) }] },
      { name: 'depth17', expect: 'refused', description: 'the 17-level query of the same kind', bodies: [{ query: recursiveQuery(users, 17) }] },
      {
        name: 'aliases10k',
        expect: 'refused',
        description: '10,000 aliases of lineage { nodes { id name } edges { source target } }',
        bodies: [{ query: `{ ${Array.from({ length: 10_000 }, (_, i) => `l${i}: lineage { nodes { id name } edges { source target } }`).join(' ')} }` }],
      },
      {
        name: 'fanOut',
        expect: 'refused',
        description: 'datasources(first: 500) { nodes { consumedBy { inputs { consumedBy { name } } } } } (within the depth limit)',
        bodies: [{ query: '{ datasources(first: 500) { nodes { consumedBy { inputs { consumedBy { name } } } } } }' }],
      },
      {
        name: 'preview500k',
        expect: 'bounded',
        description: `previewAutomation(sampleSize: 1000) of an ETL step reading a ${BIG_ROWS.toLocaleString('en')}-row FILE datasource`,
        bodies: [{ query: preview(bigEtl, ', sampleSize: 1000') }],
      },
      ...[
        ['recursiveSqlPreviews', RECURSIVE_SQL],
        ['recursiveSqlCountPreviews', RECURSIVE_COUNT_SQL],
      ].map(([name, sql]): Scenario => ({
        name: name!,
        // A row limit may end the first one early with a bounded sample; the count needs the time limit.
        expect: name === 'recursiveSqlPreviews' ? 'bounded' : 'refused',
        description: `4 concurrent previewAutomation(draft: { transform: { sql: "${sql}" } }) of an ETL step reading a 3-row file`,
        bodies: Array.from({ length: 4 }, () => ({
          query: 'query($id: ID!, $draft: PreviewDraftInput) { previewAutomation(id: $id, draft: $draft) { outputs { rows } errors } }',
          variables: { id: smallEtl, draft: { transform: { sql } } },
        })),
      })),
    ];

    const results: Record<string, unknown> = {};
    for (const scenario of scenarios) {
      if (server.child.exitCode !== null || server.child.signalCode !== null) {
        results[scenario.name] = { description: scenario.description, skipped: 'the server was not running any more' };
        console.log(`${scenario.name.padEnd(20)} skipped: the server was not running any more`);
        continue;
      }
      const result = await runScenario(url, pid, scenario);
      results[scenario.name] = result;
      const a = result.abusive;
      console.log(
        `${scenario.name.padEnd(20)} healthz p50 ${result.healthz.p50Ms} p99 ${result.healthz.p99Ms} max ${result.healthz.maxMs} ms | small p50 ${result.smallQuery.p50Ms} p99 ${result.smallQuery.p99Ms} max ${result.smallQuery.maxMs} ms` +
          ` | abusive ×${a.requests}: ${a.codes.join(',')} in p50 ${a.p50Ms} ms (max ${a.maxMs}), ${a.maxBytes} B | server rss ≤ ${result.serverPeakRssMb} MB` +
          `${result.serverKilledByBenchAtRssMb ? ` (KILLED by the bench at ${result.serverKilledByBenchAtRssMb} MB)` : ''} | target ${result.targetMet ? 'met' : 'MISSED'}`,
      );
    }
    console.log(`wrote ${writeResult('abuse', { url: '127.0.0.1 (own process)', bigRows: BIG_ROWS, windowMs: WINDOW_MS, sampleEveryMs: SAMPLE_EVERY_MS, targetP99Ms: TARGET_P99_MS, baseline, scenarios: results })}`);
  } finally {
    await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
