import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataService } from '../../jobs/warehouse/data.service.js';
import { buildPlan } from '../../jobs/runs/run-plan.js';
import { EtlRunner } from '../../jobs/runners/etl.runner.js';
import { RunCancelledError, RunFailedError, type RunContext } from '../../jobs/runners/runner.js';
import { serverWithFactories, type Factories, type Ref } from '../factories/index.js';
import { TEST_BACKEND, temporaryRelations } from '../helpers/postgres.js';
import { TEST_SECRET_KEY, type TestServer } from '../helpers/server.js';
import { SecretBox } from '../../core/secrets.js';

const ROWS = `query($id: ID!) { rows(datasourceId: $id, first: 100) { nodes } }`;

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

function context(signal = new AbortController().signal) {
  const log: string[] = [];
  const ctx: RunContext = { signal, log: (line) => log.push(line), progress: () => undefined };
  return { ctx, log };
}

/** Runs the ETL step as the scheduler will: plan from the metadata, run, record the output's stats. */
async function run(etl: Ref, signal?: AbortSignal) {
  const em = t.server.orm.em.fork() as EntityManager;
  const data = new DataService(em, t.server.warehouse);
  const plan = await buildPlan(em, data, SecretBox.fromKey(TEST_SECRET_KEY), etl.id);
  const { ctx, log } = context(signal);
  const result = await new EtlRunner(t.server.warehouse).run(plan, ctx);
  for (const output of result.outputs) await data.recordWrite(output.datasourceId, output.stats);
  return { result, log };
}

function csv(name: string, content: string) {
  const path = join(t.filesDir, name);
  writeFileSync(path, content);
  return f.file({ path });
}

const SALES = 'id,country,price,qty\n1,FR,10,2\n2,DE,5,1\n3,FR,20,1\n4,US,1,100\n5,DE,7,3\n';

describe(EtlRunner.name, () => {
  it('moves real data from a CSV file through a pipeline into a table, and records its shape', async () => {
    const input = await csv('sales.csv', SALES);
    const output = await f.storage();
    const etl = await f.etl(input, output, {
      transform: {
        steps: [
          { op: 'filter', where: "country != 'US'" },
          { op: 'derive', columns: { total: 'price * qty' } },
          { op: 'groupBy', keys: ['country'], aggregates: { orders: { fn: 'count' }, revenue: { fn: 'sum', of: 'total' } } },
          { op: 'sort', by: [{ column: 'revenue', desc: true }] },
        ],
      },
    });
    const { result, log } = await run(etl);
    expect(result).toMatchObject({ rowsRead: 5, rowsWritten: 2, errorRecords: 0 });
    expect(log.join('\n')).toMatch(/wrote 2 row/);
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual([
      { country: 'FR', orders: 2, revenue: 40 },
      { country: 'DE', orders: 2, revenue: 26 },
    ]);
    const meta = (await t.ok(`query($id: ID!) { datasource(id: $id) { rowCount columns { name } } }`, { id: output.id })).datasource;
    expect(meta).toEqual({ rowCount: 2, columns: [{ name: 'country' }, { name: 'orders' }, { name: 'revenue' }] });
  });

  it('runs SQL mode, appends and upserts on keys', async () => {
    const input = await csv('sales2.csv', SALES);
    const output = await f.storage();
    const etl = await f.etl(input, output, { transform: { sql: 'SELECT id, qty FROM input WHERE qty > 1' }, writeMode: 'APPEND' });
    await run(etl);
    await run(etl);
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toHaveLength(6);

    const upserted = await f.storage();
    const upsert = await f.etl(input, upserted, { transform: { sql: 'SELECT id, qty FROM input' }, writeMode: 'UPSERT', writeKeys: ['id'] });
    await run(upsert);
    writeFileSync(join(t.filesDir, 'sales2.csv'), 'id,country,price,qty\n1,FR,10,9\n6,IT,1,1\n');
    await run(upsert);
    expect((await t.ok(ROWS, { id: upserted.id })).rows.nodes).toEqual([
      { id: 1, qty: 9 },
      { id: 2, qty: 1 },
      { id: 3, qty: 1 },
      { id: 4, qty: 100 },
      { id: 5, qty: 3 },
      { id: 6, qty: 1 },
    ]);
  });

  it('leaves the old data intact when a REPLACE run fails half-way or is cancelled', async () => {
    const input = await csv('good.csv', SALES);
    const output = await f.storage();
    const etl = await f.etl(input, output);
    await run(etl);
    const before = (await t.ok(ROWS, { id: output.id })).rows.nodes;
    expect(before).toHaveLength(5);

    // Row 1,500 of 2,000 is malformed: the load fails after staging a thousand rows.
    const lines = Array.from({ length: 2000 }, (_, i) => (i === 1500 ? `${i},"broken` : `${i},XX,1,1`));
    writeFileSync(join(t.filesDir, 'good.csv'), `id,country,price,qty\n${lines.join('\n')}\n`);
    await expect(run(etl)).rejects.toThrow();
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual(before);

    const controller = new AbortController();
    controller.abort();
    await expect(run(etl, controller.signal)).rejects.toBeInstanceOf(RunCancelledError);
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual(before);
    // Nothing staged is left: SQLite's staging files, PostgreSQL's temporary tables of the write.
    expect(TEST_BACKEND === 'postgres' ? await temporaryRelations(t.backendEnv.WAREHOUSE_URL!) : readdirSync(join(t.dataDir, 'staging'))).toEqual([]);
  });

  it('fails clearly when the input holds no data yet', async () => {
    const [input, output] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output);
    await expect(run(etl)).rejects.toThrow(RunFailedError);
    await expect(run(etl)).rejects.toThrow(/no data yet/);
  });

  it('previews over GraphQL on a sample, writing nothing', async () => {
    const input = await csv('preview.csv', SALES);
    const output = await f.storage();
    const etl = await f.etl(input, output, { transform: { steps: [{ op: 'derive', columns: { total: 'price * qty' } }, { op: 'select', columns: ['id', 'total'] }] } });
    const { previewAutomation } = await t.ok(
      `query($id: ID!) { previewAutomation(id: $id, sampleSize: 2) { inputs { datasource { name } columns rows } outputs { datasource { name } columns rows } errorRecords } }`,
      { id: etl.id },
    );
    expect(previewAutomation.inputs[0]).toMatchObject({ datasource: { name: input.name }, columns: ['id', 'country', 'price', 'qty'], rows: [{ id: 1 }, { id: 2 }] });
    expect(previewAutomation.outputs[0]).toEqual({ datasource: { name: output.name }, columns: ['id', 'total'], rows: [{ id: 1, total: 20 }, { id: 2, total: 5 }] });
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual([]);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { rowCount updatedAt } }`, { id: output.id })).datasource).toEqual({ rowCount: null, updatedAt: null });
    const bad = await t.fail(`query($id: ID!) { previewAutomation(id: $id, sampleSize: 0) { errorRecords } }`, { id: etl.id });
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sampleSize' });
  });
});

describe(buildPlan.name, () => {
  it('resolves settings for each kind, with secrets unsealed only into the plan', async () => {
    const output = await f.storage();
    const sftp = await f.sftp(output, { password: 'pa55', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`, afterImport: 'MOVE', moveToDir: '/done' });
    const script = await f.script({ language: 'JAVASCRIPT', code: 'x', outputIds: [output.id], variables: { args: [1] }, timeoutSeconds: 5, memoryMb: 64 });
    const em = t.server.orm.em.fork() as EntityManager;
    const data = new DataService(em, t.server.warehouse);
    const secrets = SecretBox.fromKey(TEST_SECRET_KEY);
    expect((await buildPlan(em, data, secrets, sftp.id)).sftp).toMatchObject({ password: 'pa55', privateKey: null, afterImport: 'MOVE', moveToDir: '/done', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` });
    const plan = await buildPlan(em, data, secrets, script.id);
    expect(plan.script).toEqual({ language: 'JAVASCRIPT', code: 'x', variables: { args: [1] }, timeoutSeconds: 5, memoryMb: 64 });
    expect(plan.datasourceNames).toEqual({ [output.id]: output.name });
    const fields = await t.ok(`query($id: ID!) { automation(id: $id) { ... on SftpImport { afterImport moveToDir hasPassword } } }`, { id: sftp.id });
    expect(fields.automation).toEqual({ afterImport: 'MOVE', moveToDir: '/done', hasPassword: true });
  });
});
