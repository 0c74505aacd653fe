import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signIn } from '../helpers/auth.js';
import { Role } from '../../core/enums.js';
import { OpenLineageEvent } from '../../core/db/entities/index.js';
import { facet, facetSchema, fullDatasetEvent, fullJobEvent, fullRunEvent, jobEvent, datasetEvent, runEvent, PRODUCER } from './fixtures.js';

const LINEAGE = `query($filter: LineageFilter) { lineage(filter: $filter) { nodes { id name type producer scheduled lastRunStatus } edges { source target kind } } }`;

describe('OpenLineage receiving endpoint', () => {
  let t: TestServer;
  let editorToken: string;
  let viewerToken: string;
  let viewerEmail: string;

  const post = (body: unknown, init: { token?: string | null; path?: string; headers?: Record<string, string>; gzip?: boolean; raw?: string | Buffer } = {}) => {
    const json = init.raw ?? JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
    const token = init.token === undefined ? editorToken : init.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.gzip) headers['content-encoding'] = 'gzip';
    return fetch(`${t.url}${init.path ?? '/api/v1/lineage'}`, { method: 'POST', headers, body: init.gzip ? gzipSync(json) : json });
  };
  const stored = async () => (t.server.orm.em.fork() as any).count(OpenLineageEvent, {});
  const counts = async () => {
    const data = await t.ok(`{ datasources(first: 1) { totalCount } automations(first: 1) { totalCount } }`);
    return { events: await stored(), datasources: data.datasources.totalCount, automations: data.automations.totalCount };
  };
  const job = (name: string) => t.ok(`query($n: String) { automation(name: $n) { id name kind state ... on ExternalJob { olNamespace olName producer } inputs { name kind } outputs { name kind columns { name type } } lastRun { status rowsWritten rowsRead error startedAt finishedAt trigger parentRun { id automation { name } } } } }`, { n: name });

  beforeAll(async () => {
    t = await startTestServer();
    editorToken = (await t.addUser(Role.EDITOR)).token;
    const viewer = await t.addUser(Role.VIEWER);
    viewerToken = viewer.token;
    viewerEmail = viewer.email;
  });
  afterAll(() => t?.close());

  it('takes a run from START to COMPLETE: an external job, its datasets and its run, drawn in the graph', async () => {
    const runId = randomUUID();
    const start = runEvent({ eventType: 'START', eventTime: '2026-11-28T10:00:00.000Z', run: { runId }, job: { namespace: 'airflow', name: 'orders.load' }, inputs: [], outputs: [] });
    const complete = runEvent({
      eventType: 'COMPLETE',
      eventTime: '2026-11-28T10:05:00.000Z',
      run: { runId },
      job: { namespace: 'airflow', name: 'orders.load' },
      inputs: [{ namespace: 'postgres://shop:5432', name: 'shop.public.orders', inputFacets: { inputStatistics: facet({ rowCount: 120 }) } }],
      outputs: [
        {
          namespace: 's3://lake',
          name: 'orders_clean',
          facets: { schema: facet({ fields: [{ name: 'id', type: 'BIGINT' }, { name: 'address', type: 'STRUCT', fields: [{ name: 'city', type: 'VARCHAR' }] }] }, facetSchema('1-1-1', 'SchemaDatasetFacet')) },
          outputFacets: { outputStatistics: facet({ rowCount: 118 }) },
        },
      ],
    });
    const first = await post(start);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ duplicate: false });
    let found = (await job('orders.load')).automation;
    expect(found).toMatchObject({ kind: 'EXTERNAL_JOB', olNamespace: 'airflow', olName: 'orders.load', producer: PRODUCER, lastRun: { status: 'RUNNING', trigger: 'EXTERNAL' } });

    expect((await post(complete, { gzip: true })).status).toBe(201);
    found = (await job('orders.load')).automation;
    expect(found.lastRun).toMatchObject({ status: 'SUCCESS', rowsWritten: 118, rowsRead: 120, startedAt: '2026-11-28T10:00:00.000Z', finishedAt: '2026-11-28T10:05:00.000Z' });
    expect(found.inputs).toEqual([{ name: 'shop.public.orders', kind: 'EXTERNAL' }]);
    expect(found.outputs[0]).toMatchObject({ name: 'orders_clean', kind: 'EXTERNAL', columns: [{ name: 'id', type: 'BIGINT' }, { name: 'address', type: 'STRUCT' }, { name: 'address.city', type: 'VARCHAR' }] });

    const graph = (await t.ok(LINEAGE, { filter: { select: '+orders_clean' } })).lineage;
    expect(graph.nodes.map((n: any) => [n.name, n.type]).sort()).toEqual([
      ['orders.load', 'EXTERNAL_JOB'],
      ['orders_clean', 'EXTERNAL_DATASOURCE'],
      ['shop.public.orders', 'EXTERNAL_DATASOURCE'],
    ]);
    expect(graph.nodes.find((n: any) => n.name === 'orders.load')).toMatchObject({ producer: PRODUCER, scheduled: true, lastRunStatus: 'SUCCESS' });
    expect(graph.edges.map((e: any) => e.kind).sort()).toEqual(['INPUT', 'OUTPUT']);
  });

  it('is idempotent: the same event again (keys in another order) answers 201 and writes nothing', async () => {
    const event = runEvent({ eventType: 'START', job: { namespace: 'spark', name: 'idempotent.job' } });
    const first = (await (await post(event)).json()) as any;
    const before = await counts();
    const kept = await t.ok(`query($r: String) { openLineageEvents(runId: $r) { totalCount nodes { kind eventType jobNamespace jobName producer payload } } }`, { r: event.run.runId });
    expect(kept.openLineageEvents).toEqual({ totalCount: 1, nodes: [{ kind: 'RUN', eventType: 'START', jobNamespace: 'spark', jobName: 'idempotent.job', producer: PRODUCER, payload: event }] });
    // Paged newest first, by its own cursors.
    const page1 = await t.ok(`{ openLineageEvents(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }`);
    const page2 = await t.ok(`query($a: String) { openLineageEvents(first: 2, after: $a) { nodes { id } } }`, { a: page1.openLineageEvents.pageInfo.endCursor });
    const ids = [...page1.openLineageEvents.nodes, ...page2.openLineageEvents.nodes].map((n: { id: string }) => Number(n.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await t.fail(`{ openLineageEvents(after: "bm9wZQ") { totalCount } }`)).extensions?.field).toBe('after');
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    const again = await post(reordered);
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({ eventId: first.eventId, duplicate: true });
    expect(await counts()).toEqual(before);
  });

  it('refuses bad events with 400 and the reason, writing nothing', async () => {
    const before = await counts();
    const cases: [unknown, string, string][] = [
      [runEvent({ run: {} }), 'run.runId', 'runId'],
      [runEvent({ eventType: 'FINISHED' }), 'eventType', 'must be one of'],
      [runEvent({ outputs: [{ namespace: 'x', name: 'y', facets: { schema: facet({ fields: 'id,name' }) } }] }), 'outputs.0.facets.schema.fields', 'must be an array'],
      [[runEvent()], 'event', 'JSON object'],
    ];
    for (const [event, field, message] of cases) {
      const res = await post(event);
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(body.errors[0].message).toContain(message);
    }
    expect((await post(null, { raw: '{"eventTime": ' })).status).toBe(400);
    expect((await post(runEvent(), { headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect(await counts()).toEqual(before);
  });

  it('refuses a gzip bomb once decompressed past the limit, and stays up', async () => {
    const bomb = Buffer.alloc(64 * 1024 * 1024, ' ');
    const res = await fetch(`${t.url}/api/v1/lineage`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${editorToken}` }, body: gzipSync(bomb) });
    expect(res.status).toBe(413);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('takes only API tokens of an EDITOR or with the LINEAGE_WRITER scope; a scoped token reaches nothing else', async () => {
    const before = await counts();
    expect((await post(runEvent(), { token: null })).status).toBe(401);
    expect((await post(runEvent(), { token: 'trt_api_not-a-token' })).status).toBe(401);
    const cookie = await fetch(`${t.url}/api/v1/lineage`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: 'tributary_session=whatever' }, body: JSON.stringify(runEvent()) });
    expect(cookie.status).toBe(401);
    const viewer = await post(runEvent(), { token: viewerToken });
    expect(viewer.status).toBe(403);
    expect(await counts()).toEqual(before);

    const asViewer = t.as({ cookie: await signIn(t.url, viewerEmail) });
    const refused = await asViewer.gql(`mutation { createApiToken(input: { name: "ol", role: EDITOR, scope: LINEAGE_WRITER }) { token } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN'); // a VIEWER cannot make a lineage writer
    const asAdmin = t.as({ cookie: await signIn(t.url, t.admin.email) });
    expect((await asAdmin.gql(`mutation { createApiToken(input: { name: "ol", role: VIEWER, scope: LINEAGE_WRITER }) { token } }`)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'role' });
    const made = await asAdmin.gql(`mutation { createApiToken(input: { name: "ol-writer", role: EDITOR, scope: LINEAGE_WRITER }) { token apiToken { scope role } } }`);
    expect(made.data.createApiToken.apiToken).toEqual({ scope: 'LINEAGE_WRITER', role: 'EDITOR' });
    const scoped = made.data.createApiToken.token as string;
    expect((await post(runEvent({ job: { namespace: 'dbt', name: 'scoped.model' } }), { token: scoped })).status).toBe(201);
    const graphql = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${scoped}` }, body: JSON.stringify({ query: '{ datasources(first: 1) { totalCount } }' }) });
    expect(graphql.status).toBe(403);
    const read = await fetch(`${t.url}/api/v1/lineage?nodeId=job:dbt:scoped.model`, { headers: { authorization: `Bearer ${scoped}` } });
    expect(read.status).toBe(403);
    // Express mounts /graphql on a prefix: a path that ends like the lineage endpoint is still GraphQL, and still refused.
    const untouched = await counts();
    for (const path of ['/graphql/api/v1/lineage', '/GRAPHQL/api/v1/lineage/batch/', '/graphql']) {
      const sneaky = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${scoped}` }, body: JSON.stringify({ query: 'mutation { createDatasource(input: { name: "pwned", kind: STORAGE }) { id } }' }) });
      expect(sneaky.status, path).toBe(403);
    }
    expect((await fetch(`${t.url}/api/v1/export`, { headers: { authorization: `Bearer ${scoped}` } })).status).toBe(403);
    expect(await counts()).toEqual(untouched);
    expect((await t.ok(`{ datasource(name: "pwned") { id } }`)).datasource).toBeNull();
  });

  it('maps datasets to Tributary datasources by the documented naming, and deletion safety sees external jobs', async () => {
    writeFileSync(join(t.filesDir, 'customers.csv'), 'id,name\n1,Ada\n');
    const file = (await t.ok(`mutation($p: String) { createDatasource(input: { name: "customers_file", kind: FILE, path: $p }) { id path } }`, { p: join(t.filesDir, 'customers.csv') })).createDatasource;
    const table = (await t.ok(`mutation { createDatasource(input: { name: "customers_table", kind: STORAGE }) { id } }`)).createDatasource;
    const naming = t.server.warehouse.lineageNaming;
    const event = runEvent({
      job: { namespace: 'spark', name: 'customers.copy' },
      inputs: [{ namespace: 'file', name: file.path }],
      outputs: [{ namespace: naming.namespace, name: `${naming.tablePrefix}ds_${table.id.replaceAll('-', '')}` }],
    });
    expect((await post(event)).status).toBe(201);
    const copy = (await job('customers.copy')).automation;
    expect(copy.inputs).toEqual([{ name: 'customers_file', kind: 'FILE' }]);
    expect(copy.outputs.map((o: any) => o.name)).toEqual(['customers_table']);
    const refused = await t.fail(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: table.id });
    expect(refused.extensions).toMatchObject({ code: 'DATASOURCE_IN_USE' });
    expect(refused.extensions?.dependents?.map((d) => [d.name, d.type])).toEqual([['customers.copy', 'EXTERNAL_JOB']]);
    // And the other way round: the lineage filters treat the external job as any automation.
    const upstream = (await t.ok(LINEAGE, { filter: { leadingTo: table.id } })).lineage.nodes.map((n: any) => n.name).sort();
    expect(upstream).toEqual(['customers.copy', 'customers_file', 'customers_table']);
    const excluded = (await t.ok(LINEAGE, { filter: { leadingTo: table.id, exclude: 'customers.copy' } })).lineage.nodes.map((n: any) => n.name).sort();
    expect(excluded).toEqual(['customers_file', 'customers_table']);
  });

  it('links a run to its parent run, made before the parent’s own events come', async () => {
    const parentRunId = randomUUID();
    const child = runEvent({
      eventType: 'START',
      job: { namespace: 'airflow', name: 'dag.task' },
      run: { runId: randomUUID(), facets: { parent: facet({ run: { runId: parentRunId }, job: { namespace: 'airflow', name: 'dag' } }, facetSchema('1-0-1', 'ParentRunFacet')) } },
    });
    expect((await post(child)).status).toBe(201);
    const task = (await job('dag.task')).automation;
    expect(task.lastRun.parentRun.automation.name).toBe('dag');
    const parentId = task.lastRun.parentRun.id;
    expect((await post(runEvent({ eventType: 'COMPLETE', run: { runId: parentRunId }, job: { namespace: 'airflow', name: 'dag' }, inputs: [], outputs: [] }))).status).toBe(201);
    const dag = (await job('dag')).automation;
    expect(dag.lastRun).toMatchObject({ status: 'SUCCESS' });
    const run = await t.ok(`query($id: ID!) { run(id: $id) { status } }`, { id: parentId });
    expect(run.run.status).toBe('SUCCESS');
  });

  it('never reopens a finished run on a late event, and keeps a failure’s message', async () => {
    const runId = randomUUID();
    const named = { namespace: 'spark', name: 'late.job' };
    await post(runEvent({ eventType: 'FAIL', eventTime: '2026-11-28T11:00:00.000Z', run: { runId, facets: { errorMessage: facet({ message: 'table not found', programmingLanguage: 'JAVA' }) } }, job: named }));
    await post(runEvent({ eventType: 'RUNNING', eventTime: '2026-11-28T10:59:00.000Z', run: { runId }, job: named }));
    const late = (await job('late.job')).automation;
    expect(late.lastRun).toMatchObject({ status: 'FAILED', error: 'table not found', startedAt: '2026-11-28T10:59:00.000Z' });
  });

  it('takes JobEvents and DatasetEvents carrying every facet', async () => {
    expect((await post(fullJobEvent())).status).toBe(201);
    expect((await post(fullDatasetEvent())).status).toBe(201);
    expect((await post(fullRunEvent())).status).toBe(201);
    const dataset = datasetEvent({ dataset: { namespace: 'bigquery', name: 'proj.ds.events', facets: { schema: facet({ fields: [{ name: 'ts', type: 'TIMESTAMP' }] }) } } });
    expect((await post(dataset)).status).toBe(201);
    const ds = await t.ok(`{ datasource(name: "proj.ds.events") { kind olNamespace olName producer columns { name type } } }`);
    expect(ds.datasource).toEqual({ kind: 'EXTERNAL', olNamespace: 'bigquery', olName: 'proj.ds.events', producer: PRODUCER, columns: [{ name: 'ts', type: 'TIMESTAMP' }] });
    const defined = jobEvent({ job: { namespace: 'dbt', name: 'model.revenue' }, inputs: [{ namespace: 'bigquery', name: 'proj.ds.events' }], outputs: [{ namespace: 'bigquery', name: 'proj.ds.revenue' }] });
    expect((await post(defined)).status).toBe(201);
    const model = (await job('model.revenue')).automation;
    expect(model.inputs.map((d: any) => d.name)).toEqual(['proj.ds.events']);
    expect(model.lastRun).toBeNull();
  });

  it('answers a batch event by event', async () => {
    const before = await stored();
    const res = await post([runEvent({ job: { namespace: 'batch', name: 'one' } }), runEvent({ run: { runId: 'nope' } }), jobEvent({ job: { namespace: 'batch', name: 'two' } })], { path: '/api/v1/lineage/batch', gzip: true });
    expect(res.status).toBe(200);
    const report = (await res.json()) as any;
    expect(report).toMatchObject({ received: 3, accepted: 2, rejected: 1 });
    expect(report.results[1]).toMatchObject({ index: 1, status: 400, error: { code: 'BAD_USER_INPUT', field: 'events.1.run.runId' } });
    expect(await stored()).toBe(before + 2);
  });

  it('takes a group that fails in the database again one event at a time: only the failing event is refused', async () => {
    // A real database refusal for one event of a group: a trigger aborts the insert of its raw row.
    const conn = t.server.orm.em.getConnection();
    const postgres = t.backendEnv.DATABASE_URL !== undefined;
    if (postgres) {
      await conn.execute(`create function poison_event() returns trigger language plpgsql as $$ begin if new.job_name = 'poisoned' then raise exception 'poisoned event'; end if; return new; end $$`);
      await conn.execute(`create trigger poison_event before insert on openlineage_event for each row execute function poison_event()`);
    } else {
      await conn.execute(`create trigger poison_event before insert on openlineage_event when new.job_name = 'poisoned' begin select raise(abort, 'poisoned event'); end`);
    }
    try {
      const before = await stored();
      const names = ['healthy.one', 'poisoned', 'healthy.two'];
      const res = await post(names.map((name) => runEvent({ job: { namespace: 'group', name } })), { path: '/api/v1/lineage/batch' });
      const report = (await res.json()) as any;
      expect(report).toMatchObject({ received: 3, accepted: 2, rejected: 1 });
      expect(report.results.map((r: { status: number }) => r.status)).toEqual([201, 500, 201]);
      expect(await stored()).toBe(before + 2);
      expect((await job('healthy.two')).automation?.name).toBe('healthy.two');
      expect((await job('poisoned')).automation).toBeNull();
      expect(t.logs.some((l) => l.msg === 'a group of OpenLineage events failed; taking them one by one' && l.events === 3)).toBe(true);
    } finally {
      await conn.execute(postgres ? `drop trigger poison_event on openlineage_event` : `drop trigger poison_event`);
      if (postgres) await conn.execute(`drop function poison_event()`);
    }
  });

  it('keeps external jobs out of runs, schedules and chains, and external datasets out of Tributary flows', async () => {
    const ext = (await job('orders.load')).automation;
    expect((await t.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: ext.id })).message).toContain('external job');
    expect((await t.fail(`mutation($id: ID!) { createChainTask(input: { name: "c", stepIds: [$id] }) { id } }`, { id: ext.id })).extensions?.field).toBe('stepIds[0]');
    const external = await t.ok(`{ datasource(name: "orders_clean") { id } }`);
    const out = (await t.ok(`mutation { createDatasource(input: { name: "etl_out", kind: STORAGE }) { id } }`)).createDatasource;
    const refused = await t.fail(`mutation($i: ID!, $o: ID!) { createEtlStep(input: { name: "reads_external", inputId: $i, outputId: $o }) { id } }`, { i: external.datasource.id, o: out.id });
    expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputId' });
    expect((await t.fail(`mutation { createDatasource(input: { name: "fake", kind: EXTERNAL }) { id } }`)).extensions?.field).toBe('kind');
  });

  it('answers Marquez’s lineage read around a dataset or a job', async () => {
    const res = await fetch(`${t.url}/api/v1/lineage?nodeId=${encodeURIComponent('dataset:s3://lake:orders_clean')}&depth=2`, { headers: t.auth });
    expect(res.status).toBe(200);
    const { graph } = (await res.json()) as any;
    const ids = graph.map((n: any) => n.id).sort();
    expect(ids).toEqual(['dataset:postgres://shop:5432:shop.public.orders', 'dataset:s3://lake:orders_clean', 'job:airflow:orders.load']);
    const jobNode = graph.find((n: any) => n.type === 'JOB');
    expect(jobNode.inEdges).toEqual([{ origin: 'dataset:postgres://shop:5432:shop.public.orders', destination: 'job:airflow:orders.load' }]);
    expect(jobNode.outEdges).toEqual([{ origin: 'job:airflow:orders.load', destination: 'dataset:s3://lake:orders_clean' }]);
    expect(jobNode.data).toMatchObject({ id: { namespace: 'airflow', name: 'orders.load' }, type: 'BATCH', latestRun: { state: 'COMPLETED' } });
    const near: any = await (await fetch(`${t.url}/api/v1/lineage?nodeId=${encodeURIComponent('job:airflow:orders.load')}&depth=0`, { headers: t.auth })).json();
    expect(near.graph.map((n: any) => n.id)).toEqual(['job:airflow:orders.load']);
    expect((await fetch(`${t.url}/api/v1/lineage?nodeId=dataset:nowhere:nothing`, { headers: t.auth })).status).toBe(404);
    expect((await fetch(`${t.url}/api/v1/lineage?nodeId=table:x`, { headers: t.auth })).status).toBe(400);
    expect((await fetch(`${t.url}/api/v1/lineage?nodeId=job:airflow:orders.load&depth=1000`, { headers: t.auth })).status).toBe(400);
    expect((await fetch(`${t.url}/api/v1/lineage?nodeId=job:airflow:orders.load`)).status).toBe(401);
  });

  describe('refuses what an attacker would send', () => {
    it('answers 400 for a leap second, takes a urn:uuid runId as the plain UUID, and keeps huge row counts in range', async () => {
      const leap = await post(runEvent({ eventTime: '2016-12-31T23:59:60Z' }));
      expect(leap.status).toBe(400);
      expect(((await leap.json()) as any).errors[0].extensions.field).toBe('eventTime');
      const runId = randomUUID();
      const event = runEvent({ run: { runId: `urn:uuid:${runId.toUpperCase()}` }, job: { namespace: 'spark', name: 'urn.job' }, outputs: [{ namespace: 's3://x', name: 'huge', outputFacets: { outputStatistics: facet({ rowCount: 2 ** 52 }) } }] });
      expect((await post(event)).status).toBe(201);
      const kept = await t.ok(`query($r: String) { openLineageEvents(runId: $r) { totalCount nodes { runId } } }`, { r: runId });
      expect(kept.openLineageEvents).toEqual({ totalCount: 1, nodes: [{ runId }] });
      expect((await job('urn.job')).automation.lastRun.rowsWritten).toBe(2_147_483_647);
    });

    it('refuses jobs in this installation’s own namespace, which belong to its automations', async () => {
      const before = await counts();
      const own = await post(runEvent({ job: { namespace: 'tributary', name: 'anything' } }));
      expect(own.status).toBe(400);
      expect(((await own.json()) as any).errors[0].extensions.field).toBe('job.namespace');
      const parent = facet({ run: { runId: randomUUID() }, job: { namespace: 'tributary', name: 'nightly' } });
      const viaParent = await post(runEvent({ job: { namespace: 'airflow', name: 'child' }, run: { runId: randomUUID(), facets: { parent } } }));
      expect(((await viaParent.json()) as any).errors[0].extensions.field).toBe('run.facets.parent.job.namespace');
      expect(await counts()).toEqual(before);
    });

    it('bounds a batch by the datasets it names, and each event of it by size', async () => {
      const wide = (i: number) => runEvent({ job: { namespace: 'wide', name: `w${i}` }, inputs: Array.from({ length: 1000 }, (_, k) => ({ namespace: 'wide', name: `in_${i}_${k}` })), outputs: [] });
      const before = await counts();
      const tooMany = await post(Array.from({ length: 11 }, (_, i) => wide(i)), { path: '/api/v1/lineage/batch' });
      expect(tooMany.status).toBe(413);
      const big = runEvent({ job: { namespace: 'big', name: 'big' }, run: { runId: randomUUID(), facets: { custom: facet({ blob: 'x'.repeat(5 * 1024 * 1024) }) } } });
      const oversized = await post([big], { path: '/api/v1/lineage/batch' });
      expect(oversized.status).toBe(200);
      expect(((await oversized.json()) as any).results[0]).toMatchObject({ status: 400, error: { field: 'events.0' } });
      expect(await counts()).toEqual(before);
    });

    it('cannot be kept from naming a dataset by objects that took its names first', async () => {
      const key = (await import('../../jobs/openlineage/naming.js')).olKey('s3://victim', 'sales');
      for (const name of ['sales', 'sales (s3://victim)', `sales ~${key.slice(0, 8)}`]) await t.ok(`mutation($n: String!) { createDatasource(input: { name: $n, kind: STORAGE }) { id } }`, { n: name });
      expect((await post(datasetEvent({ dataset: { namespace: 's3://victim', name: 'sales' } }))).status).toBe(201);
      const events = await t.ok(`{ datasources(first: 10, search: "sales ~", kind: EXTERNAL) { nodes { name olNamespace } } }`);
      expect(events.datasources.nodes).toEqual([{ name: expect.stringMatching(/^sales ~[0-9a-f]{8}$/), olNamespace: 's3://victim' }]);
    });

    it('keeps external jobs from being scheduled or copied', async () => {
      const ext = (await job('orders.load')).automation;
      expect((await t.fail(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "* * * * *") { id } }`, { id: ext.id })).message).toContain('external job');
      expect((await t.fail(`mutation($id: ID!) { duplicateAutomation(id: $id, name: "copy") { id } }`, { id: ext.id })).message).toContain('external job');
    });

    it('answers a Marquez read of a node id with thousands of colons at once', async () => {
      const started = Date.now();
      const res = await fetch(`${t.url}/api/v1/lineage?nodeId=dataset:${'a:'.repeat(1500)}`, { headers: t.auth });
      expect(res.status).toBe(404);
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });
});
