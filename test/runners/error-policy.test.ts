import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataService } from '../../jobs/warehouse/data.service.js';
import { buildPlan } from '../../jobs/runs/run-plan.js';
import { SecretBox } from '../../core/secrets.js';
import { EtlRunner } from '../../jobs/runners/etl.runner.js';
import { ErrorRecords } from '../../jobs/runners/error-records.js';
import { serverWithFactories, type Factories, type Ref } from '../factories/index.js';
import { TEST_SECRET_KEY, type TestServer } from '../helpers/server.js';

const ROWS = `query($id: ID!) { rows(datasourceId: $id, first: 100) { nodes } }`;

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

/** Runs the step as the scheduler will and records every output's stats. */
async function run(etl: Ref) {
  const em = t.server.orm.em.fork() as EntityManager;
  const data = new DataService(em, t.server.warehouse);
  const plan = await buildPlan(em, data, SecretBox.fromKey(TEST_SECRET_KEY), etl.id);
  const result = await new EtlRunner(t.server.warehouse).run(plan, { signal: new AbortController().signal, log: () => undefined, progress: () => undefined });
  for (const output of result.outputs) await data.recordWrite(output.datasourceId, output.stats);
  return result;
}

/** A CSV with a line of too many fields (line 3) and an unterminated quote (line 5). */
async function brokenCsv(name: string) {
  const path = join(t.filesDir, name);
  writeFileSync(path, 'id,name\n1,ann\n2,bob,extra\n3,cy\n4,"dan\n');
  return f.file({ path });
}

describe(ErrorRecords.name, () => {
  it('FAIL_RUN (the default) fails at the first unreadable line', async () => {
    const input = await brokenCsv('fail.csv');
    const etl = await f.etl(input, await f.storage());
    await expect(run(etl)).rejects.toThrow(/line 3: Invalid Record Length: expect 2, got 3/);
  });

  it('DISCARD skips unreadable lines, counts them and keeps the first messages', async () => {
    const input = await brokenCsv('discard.csv');
    const output = await f.storage();
    const etl = await f.etl(input, output, { errorPolicy: 'DISCARD' });
    const result = await run(etl);
    expect(result).toMatchObject({ rowsRead: 4, rowsWritten: 2, errorRecords: 2 });
    expect(result.errorSamples[0]).toMatch(/discard\.csv: line 3: has 3 fields/);
    expect(result.errorSamples[1]).toMatch(/line 5/);
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual([{ id: 1, name: 'ann' }, { id: 3, name: 'cy' }]);
  });

  it('TO_DATASOURCE appends the original lines, or the fields parsed so far, to the error datasource', async () => {
    const input = await brokenCsv('errors.csv');
    const [output, rejected] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output, { errorPolicy: 'TO_DATASOURCE', errorDatasourceId: rejected.id });
    expect((await run(etl)).errorRecords).toBe(2);
    const original = (await t.ok(ROWS, { id: rejected.id })).rows.nodes;
    expect(original[0]).toMatchObject({ line: 3, record: '2,bob,extra', error: expect.stringMatching(/3 fields/) });
    expect(original[0].source).toMatch(/errors\.csv$/);
    expect(original[1]).toMatchObject({ line: 5, record: expect.stringContaining('4,"dan') });

    await t.ok(`mutation($id: ID!, $i: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $i) { id } }`, { id: etl.id, i: { errorRecordFormat: 'STAGE_RECORD' } });
    await run(etl);
    const staged = (await t.ok(ROWS, { id: rejected.id })).rows.nodes;
    expect(staged).toHaveLength(4);
    expect(staged[2]).toMatchObject({ line: 3, id: 2, name: 'bob', field_3: 'extra' });
    const meta = (await t.ok(`query($id: ID!) { datasource(id: $id) { rowCount producedBy { name } } }`, { id: rejected.id })).datasource;
    expect(meta).toEqual({ rowCount: 4, producedBy: [{ name: etl.name }] });
  });

  it('keeps the error datasource in lineage and safe from deletion, and validates the policy', async () => {
    const input = await brokenCsv('lineage.csv');
    const [output, rejected] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output, { errorPolicy: 'TO_DATASOURCE', errorDatasourceId: rejected.id });
    const { automation } = await t.ok(`query($id: ID!) { automation(id: $id) { errorPolicy errorRecordFormat errorDatasource { name } outputs { name } } }`, { id: etl.id });
    expect(automation).toEqual({ errorPolicy: 'TO_DATASOURCE', errorRecordFormat: 'ORIGINAL_RECORD', errorDatasource: { name: rejected.name }, outputs: [{ name: output.name }] });
    expect((await t.fail(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: rejected.id })).extensions?.code).toBe('DATASOURCE_IN_USE');
    const { lineage } = await t.ok(`query($id: ID!) { lineage(filter: { leadingTo: $id }) { nodes { name } } }`, { id: rejected.id });
    expect(lineage.nodes.map((n: Ref) => n.name).sort()).toEqual([etl.name, input.name, rejected.name].sort());

    const UPDATE = `mutation($id: ID!, $i: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $i) { id } }`;
    expect((await t.fail(UPDATE, { id: etl.id, i: { errorDatasourceId: output.id } })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'errorDatasourceId' });
    expect((await t.fail(UPDATE, { id: etl.id, i: { errorPolicy: 'DISCARD', errorDatasourceId: rejected.id } })).extensions).toMatchObject({ field: 'errorDatasourceId' });
    const missing = await t.fail(`mutation($i: CreateEtlStepInput!) { createEtlStep(input: $i) { id } }`, { i: { name: 'no target', inputId: input.id, outputId: output.id, errorPolicy: 'TO_DATASOURCE' } });
    expect(missing.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'errorDatasourceId' });

    await t.ok(UPDATE, { id: etl.id, i: { errorPolicy: 'DISCARD' } });
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { errorDatasource { name } } }`, { id: etl.id })).automation.errorDatasource).toBeNull();
    expect((await t.ok(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: rejected.id })).deleteDatasource).toBe(rejected.id);
  });

  it('previews with the policy: DISCARD counts the rejected rows', async () => {
    const input = await brokenCsv('preview.csv');
    const etl = await f.etl(input, await f.storage(), { errorPolicy: 'DISCARD' });
    const { previewAutomation } = await t.ok(`query($id: ID!) { previewAutomation(id: $id) { errorRecords errors outputs { rows } } }`, { id: etl.id });
    expect(previewAutomation.errorRecords).toBe(2);
    expect(previewAutomation.errors[0]).toMatch(/line 3/);
    expect(previewAutomation.outputs[0].rows).toEqual([{ id: 1, name: 'ann' }, { id: 3, name: 'cy' }]);
  });
});
