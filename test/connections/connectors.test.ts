/**
 * Connectors (seed 002): the wizard's steps in order (and refused out of order), ingestion
 * management, pause and resume of scheduled ingestions, and hourly statistics with anomalies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestionHour } from '../../core/db/entities/index.js';
import { Role } from '../../core/enums.js';
import { uniqueName, type Factories, type Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { eventually, finished, runNow, runsOf, schedulerWithFactories } from '../scheduler/helpers.js';
import { PG_SOURCE, postgresSource, type SourceDb } from './sources.js';

let t: TestServer;
let f: Factories;
let pgDb: SourceDb;
let pgConn: Ref;
beforeAll(async () => {
  ({ t, f } = await schedulerWithFactories());
  pgDb = await postgresSource();
  await pgDb.sql(`create table customers (id int primary key, name text)`);
  await pgDb.sql(`insert into customers values (1, 'Ada'), (2, 'Grace')`);
  await pgDb.sql(`create table invoices (id int primary key, total numeric)`);
  await pgDb.sql(`insert into invoices values (10, 99.5)`);
  pgConn = (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id name } }`, { input: { name: uniqueName('pg'), type: 'POSTGRES', ...PG_SOURCE, database: pgDb.name } })).createConnection;
});
afterAll(async () => {
  await t.close();
  await pgDb.drop();
});

const FIELDS = 'id name type status configurationStatus prerequisitesDone prerequisites tablePrefix scheduleCron connection { id } ingestions { id name kind state ... on DatabaseIngestion { table output { id name } } }';
const op = (name: string, args: string) => `mutation(${args}) { ${name}(${args.replace(/\$(\w+): [^,]+/g, '$1: $$$1')}) { ${FIELDS} } }`;
const CREATE = op('createConnector', '$input: CreateConnectorInput!');
const PREREQ = op('completePrerequisites', '$connectorId: ID!');
const CONFIGURE = op('configureConnector', '$connectorId: ID!, $input: ConfigureConnectorInput!');
const CONNECT = op('setConnectorConnection', '$connectorId: ID!, $connectionId: ID!');
const FINALIZE = op('finalizeConnector', '$connectorId: ID!, $input: FinalizeConnectorInput!');
const PAUSE = op('pauseConnector', '$connectorId: ID!');
const RESUME = op('resumeConnector', '$connectorId: ID!');

async function wizard(schedule: { cron: string; timezone: string } | null, tables = ['public.customers']) {
  const created = (await t.ok(CREATE, { input: { name: uniqueName('crm'), type: 'POSTGRES' } })).createConnector;
  const connectorId = created.id;
  await t.ok(PREREQ, { connectorId });
  await t.ok(CONFIGURE, { connectorId, input: { tablePrefix: `${created.name}_`, schedule } });
  await t.ok(CONNECT, { connectorId, connectionId: pgConn.id });
  return (await t.ok(FINALIZE, { connectorId, input: { tables } })).finalizeConnector;
}

describe('connectors', () => {
  it('go through the wizard in order; each step out of order is CONFLICT and changes nothing', async () => {
    const created = (await t.ok(CREATE, { input: { name: uniqueName('crm'), type: 'POSTGRES' } })).createConnector;
    expect(created).toMatchObject({ status: 'CONFIGURING', configurationStatus: 'PREREQUISITES', prerequisitesDone: false, ingestions: [] });
    expect(created.prerequisites.join(' ')).toMatch(/SELECT/);
    const connectorId = created.id;
    const outOfOrder = async (query: string, variables: Record<string, unknown>) => {
      const error = await t.fail(query, { connectorId, ...variables });
      expect(error.extensions?.code).toBe('CONFLICT');
      expect((await t.ok(`query($id: ID!) { connector(id: $id) { configurationStatus prerequisitesDone } }`, { id: connectorId })).connector.configurationStatus).toBe(
        (await t.ok(`query($id: ID!) { connector(id: $id) { configurationStatus } }`, { id: connectorId })).connector.configurationStatus,
      );
    };
    await outOfOrder(CONFIGURE, { input: { tablePrefix: 'crm_' } });
    await outOfOrder(FINALIZE, { input: { tables: ['public.customers'] } });
    await outOfOrder(PAUSE, {});
    expect((await t.ok(PREREQ, { connectorId })).completePrerequisites).toMatchObject({ configurationStatus: 'PREREQUISITES', prerequisitesDone: true });
    await outOfOrder(CONNECT, { connectionId: pgConn.id });
    const configured = (await t.ok(CONFIGURE, { connectorId, input: { tablePrefix: `${created.name}_` } })).configureConnector;
    expect(configured).toMatchObject({ configurationStatus: 'CONNECTOR_CONFIGURED', tablePrefix: `${created.name}_` });
    await outOfOrder(FINALIZE, { input: { tables: ['public.customers'] } });
    await outOfOrder(PREREQ, {});

    // The connection is tested live: a failing one leaves the step undone.
    const broken = (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }`, { input: { name: uniqueName('bad'), type: 'POSTGRES', ...PG_SOURCE, port: 1, database: pgDb.name } })).createConnection;
    const failed = await t.fail(CONNECT, { connectorId, connectionId: broken.id });
    expect(failed.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'connectionId', failure: 'REFUSED' });
    const sftp = (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }`, { input: { name: uniqueName('sftp'), type: 'SFTP', host: 'h', username: 'u', password: 'p' } })).createConnection;
    expect((await t.fail(CONNECT, { connectorId, connectionId: sftp.id })).extensions?.field).toBe('connectionId');
    expect((await t.ok(`query($id: ID!) { connector(id: $id) { configurationStatus connection { id } } }`, { id: connectorId })).connector).toEqual({ configurationStatus: 'CONNECTOR_CONFIGURED', connection: null });

    expect((await t.ok(CONNECT, { connectorId, connectionId: pgConn.id })).setConnectorConnection).toMatchObject({ configurationStatus: 'CONNECTION_CONFIGURED', connection: { id: pgConn.id } });
    const done = (await t.ok(FINALIZE, { connectorId, input: { tables: ['public.customers', 'public.invoices'] } })).finalizeConnector;
    expect(done).toMatchObject({ status: 'STARTED', configurationStatus: 'FINALIZED' });
    expect(done.ingestions.map((i: { table: string; output: Ref }) => [i.table, i.output.name]).sort()).toEqual([
      ['public.customers', `${created.name}_public.customers`],
      ['public.invoices', `${created.name}_public.invoices`],
    ]);
    const run = await finished(t, (await runNow(t, done.ingestions[0].id)).id, 60_000);
    expect(run.status).toBe('SUCCESS');
    await outOfOrder(FINALIZE, { input: { tables: ['public.customers'] } });
  });

  it('manage their ingestions: add and remove tables, enable and disable each', async () => {
    const c = await wizard(null);
    const more = (await t.ok(op('addConnectorTables', '$connectorId: ID!, $tables: [String!]!'), { connectorId: c.id, tables: ['public.invoices'] })).addConnectorTables;
    expect(more.ingestions).toHaveLength(2);
    const [first] = more.ingestions;
    const off = (await t.ok(op('setIngestionEnabled', '$connectorId: ID!, $automationId: ID!, $enabled: Boolean!'), { connectorId: c.id, automationId: first.id, enabled: false })).setIngestionEnabled;
    expect(off.ingestions.find((i: Ref) => i.id === first.id).state).toBe('PAUSED');
    const removed = (await t.ok(op('removeConnectorIngestion', '$connectorId: ID!, $automationId: ID!'), { connectorId: c.id, automationId: first.id })).removeConnectorIngestion;
    expect(removed.ingestions.map((i: Ref) => i.id)).not.toContain(first.id);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { id } }`, { id: first.output.id })).datasource).toEqual({ id: first.output.id });
    // A viewer reads connectors but changes nothing.
    const viewer = t.as({ token: (await t.addUser(Role.VIEWER)).token });
    expect((await viewer.fail(PAUSE, { connectorId: c.id })).extensions?.code).toBe('FORBIDDEN');
  });

  it('go to ERROR, saying why, when an ingestion cannot reach the source, and back once one succeeds', { timeout: 60_000 }, async () => {
    const own = (await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }`, { input: { name: uniqueName('pg'), type: 'POSTGRES', ...PG_SOURCE, database: pgDb.name } })).createConnection;
    const created = (await t.ok(CREATE, { input: { name: uniqueName('crm'), type: 'POSTGRES' } })).createConnector;
    await t.ok(PREREQ, { connectorId: created.id });
    await t.ok(CONFIGURE, { connectorId: created.id, input: { tablePrefix: `${created.name}_` } });
    await t.ok(CONNECT, { connectorId: created.id, connectionId: own.id });
    const c = (await t.ok(FINALIZE, { connectorId: created.id, input: { tables: ['public.customers'] } })).finalizeConnector;
    const move = (port: number) => t.ok(`mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { id } }`, { id: own.id, input: { port } });
    const state = async () => (await t.ok(`query($id: ID!) { connector(id: $id) { status lastError } }`, { id: c.id })).connector;
    await move(1);
    expect((await finished(t, (await runNow(t, c.ingestions[0].id)).id, 60_000)).status).toBe('FAILED');
    expect(await state()).toMatchObject({ status: 'ERROR', lastError: expect.stringMatching(/refused/) });
    await move(PG_SOURCE.port);
    expect((await finished(t, (await runNow(t, c.ingestions[0].id)).id, 60_000)).status).toBe('SUCCESS');
    expect(await state()).toEqual({ status: 'STARTED', lastError: null });
  });

  it('pause (nothing runs, scheduled or asked for) and resume', { timeout: 60_000 }, async () => {
    const c = await wizard({ cron: '* * * * * *', timezone: 'UTC' });
    const [ingestion] = c.ingestions;
    await eventually(() => runsOf(t, ingestion.id), (runs) => runs.some((r) => r.status === 'SUCCESS'), 20_000);
    const paused = (await t.ok(PAUSE, { connectorId: c.id })).pauseConnector;
    expect(paused.status).toBe('PAUSED');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a run in flight finishes
    const before = (await runsOf(t, ingestion.id)).length;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await runsOf(t, ingestion.id)).length).toBe(before);
    const refused = await t.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: ingestion.id });
    expect(refused.extensions?.code).toBe('CONFLICT');
    expect(refused.message).toMatch(/paused/);
    expect((await t.ok(RESUME, { connectorId: c.id })).resumeConnector.status).toBe('STARTED');
    await eventually(() => runsOf(t, ingestion.id), (runs) => runs.length > before, 20_000);
    await t.ok(PAUSE, { connectorId: c.id }); // quiet for the tests after
  });
});

describe('ingestion statistics', () => {
  const HOUR = 3_600_000;
  const today = new Date(Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 24 * HOUR); // yesterday 00:00 UTC: whole hours in the past

  it('count the rows of real runs per hour, per ingestion and per connector', async () => {
    const c = await wizard(null, ['public.customers', 'public.invoices']);
    for (const i of c.ingestions) expect((await finished(t, (await runNow(t, i.id)).id, 60_000)).status).toBe('SUCCESS');
    const range = { from: new Date(Date.now() - 2 * HOUR).toISOString(), to: new Date(Date.now() + HOUR).toISOString() };
    const q = `query($c: ID, $a: ID, $from: DateTime!, $to: DateTime!) { ingestionStatistics(connectorId: $c, automationId: $a, from: $from, to: $to) { hour rows runs anomaly } }`;
    const byConnector = (await t.ok(q, { c: c.id, ...range })).ingestionStatistics;
    expect(byConnector.length).toBeGreaterThanOrEqual(3);
    expect(byConnector.reduce((n: number, h: { rows: number }) => n + h.rows, 0)).toBe(3);
    expect(byConnector.reduce((n: number, h: { runs: number }) => n + h.runs, 0)).toBe(2);
    const one = (await t.ok(q, { a: c.ingestions.find((i: { table: string }) => i.table === 'public.customers').id, ...range })).ingestionStatistics;
    expect(one.reduce((n: number, h: { rows: number }) => n + h.rows, 0)).toBe(2);
    expect((await t.fail(q, { ...range })).extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.fail(q, { c: c.id, from: '2026-01-01T00:00:00Z', to: '2026-12-01T00:00:00Z' })).extensions?.field).toBe('from');
  });

  it('find each kind of anomaly in generated run history against the same hour of the days before', async () => {
    const out = await f.storage();
    const a = (await t.ok(`mutation($input: CreateDatabaseIngestionInput!) { createDatabaseIngestion(input: $input) { id name } }`, { input: { name: uniqueName('hist'), connectionId: pgConn.id, table: 'customers', outputId: out.id } })).createDatabaseIngestion;
    const em = t.server.orm.em.fork();
    const at = (day: number, hour: number) => new Date(today.getTime() - day * 24 * HOUR + hour * HOUR);
    for (let day = 1; day <= 7; day += 1) {
      em.create(IngestionHour, { automation: a.id, hour: at(day, 10), rows: 1000 + day * 10, runs: 1, failedRuns: 0, durationMs: 2_000, maxDurationMs: 2_000 });
      em.create(IngestionHour, { automation: a.id, hour: at(day, 11), rows: 500, runs: 1, failedRuns: 0, durationMs: 2_000, maxDurationMs: 2_000 });
      em.create(IngestionHour, { automation: a.id, hour: at(day, 12), rows: 300, runs: 1, failedRuns: 0, durationMs: 2_000, maxDurationMs: 2_000 });
    }
    em.create(IngestionHour, { automation: a.id, hour: at(0, 10), rows: 9000, runs: 1, failedRuns: 0, durationMs: 2_000, maxDurationMs: 2_000 }); // far more rows
    em.create(IngestionHour, { automation: a.id, hour: at(0, 11), rows: 0, runs: 1, failedRuns: 0, durationMs: 2_000, maxDurationMs: 2_000 }); // none where there usually are
    em.create(IngestionHour, { automation: a.id, hour: at(0, 12), rows: 310, runs: 1, failedRuns: 0, durationMs: 30_000, maxDurationMs: 30_000 }); // a slow run
    await em.flush();

    const q = `query($a: ID!, $from: DateTime!, $to: DateTime!) { ingestionStatistics(automationId: $a, from: $from, to: $to) { hour rows anomaly anomalyKinds } }`;
    const hours = (await t.ok(q, { a: a.id, from: at(0, 9).toISOString(), to: at(0, 14).toISOString() })).ingestionStatistics;
    const byHour = new Map(hours.map((h: { hour: string }) => [new Date(h.hour).getUTCHours(), h]));
    expect(hours).toHaveLength(5);
    expect(byHour.get(9)).toMatchObject({ rows: 0, anomaly: null }); // never any rows at 09:00: nothing unusual
    expect(byHour.get(10)).toMatchObject({ rows: 9000, anomalyKinds: ['ROWS'] });
    expect((byHour.get(10) as { anomaly: string }).anomaly).toMatch(/9,000 rows: 8\.\d× more than the usual 1,040/);
    expect(byHour.get(11)).toMatchObject({ rows: 0, anomalyKinds: ['ZERO_ROWS'] });
    expect((byHour.get(11) as { anomaly: string }).anomaly).toMatch(/no rows this hour; usually about 500/);
    expect(byHour.get(12)).toMatchObject({ rows: 310, anomalyKinds: ['SLOW_RUN'] });
    expect((byHour.get(12) as { anomaly: string }).anomaly).toMatch(/a run took 30 s, 15× the usual 2 s/);
    expect(byHour.get(13)).toMatchObject({ rows: 0, anomaly: null });

    const all = (await t.ok(`query($from: DateTime!, $to: DateTime!) { ingestionAnomalies(from: $from, to: $to) { automationName kind } }`, { from: at(0, 0).toISOString(), to: at(0, 24).toISOString() })).ingestionAnomalies;
    expect(all.filter((x: { automationName: string }) => x.automationName === a.name).map((x: { kind: string }) => x.kind).sort()).toEqual(['ROWS', 'SLOW_RUN', 'ZERO_ROWS']);
  });
});
