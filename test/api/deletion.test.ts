import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceService } from '../../api/services/datasource.service.js';
import { AutomationService } from '../../api/services/automation.service.js';
import { serverWithFactories, type Factories, uniqueName, type Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

const DELETE_DS = `mutation($id: ID!) { deleteDatasource(id: $id) }`;
const IMPACT = `query($id: ID!) { deletionImpact(datasourceId: $id) { id name type reason } }`;
const EXISTS = `query($id: ID!) { datasource(id: $id) { id } }`;

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

/** Asserts deletion is refused with the one expected dependent, and that nothing was deleted. */
async function expectRefused(target: Ref, dependent: Ref, type: string, reason: RegExp) {
  const impact = (await t.ok(IMPACT, { id: target.id })).deletionImpact;
  expect(impact).toEqual([expect.objectContaining({ id: dependent.id, name: dependent.name, type })]);
  expect(impact[0].reason).toMatch(reason);

  const error = await t.fail(DELETE_DS, { id: target.id });
  expect(error.extensions?.code).toBe('DATASOURCE_IN_USE');
  expect(error.extensions?.dependents).toEqual(impact);
  expect(error.message).toContain(dependent.name);
  expect((await t.ok(EXISTS, { id: target.id })).datasource).toEqual({ id: target.id });
}

describe(`${DatasourceService.name} deletion safety`, () => {
  it('refuses a datasource declared as the input of an ETL step', async () => {
    const [input, output] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output);
    await expectRefused(input, etl, 'ETL_STEP', /declares it as input/);
  });

  it('refuses a datasource declared as an output (ETL step, SFTP import)', async () => {
    const [input, output] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output);
    await expectRefused(output, etl, 'ETL_STEP', /declares it as output/);

    const sftpOut = await f.storage();
    const sftp = await f.sftp(sftpOut);
    await expectRefused(sftpOut, sftp, 'SFTP_IMPORT', /declares it as output/);
  });

  it('refuses a datasource declared by a script, as input or output', async () => {
    const [input, output] = [await f.storage(), await f.storage()];
    const script = await f.script({ inputIds: [input.id], outputIds: [output.id] });
    await expectRefused(input, script, 'SCRIPT', /declares it as input/);
    await expectRefused(output, script, 'SCRIPT', /declares it as output/);
  });

  it('refuses a datasource that is a source of a join', async () => {
    const [left, right] = [await f.storage(), await f.storage()];
    const join = await f.join(left, right);
    await expectRefused(left, join, 'JOIN_DATASOURCE', /joins it/);
    await expectRefused(right, join, 'JOIN_DATASOURCE', /joins it/);
  });

  it('refuses a datasource whose UUID appears anywhere in a script, in any case', async () => {
    const target = await f.storage();
    const script = await f.script({ code: `# source: ${target.id.toUpperCase()}\nload(${JSON.stringify(target.id)})\n` });
    await expectRefused(target, script, 'SCRIPT', /holds the datasource id/);
  });

  it.each([
    ['single quotes', (n: string) => `df = read('${n}')`],
    ['double quotes', (n: string) => `df = read("${n}")`],
    ['backticks', (n: string) => 'const df = read(`' + n + '`)'],
    ['a string next to other quoted strings', (n: string) => `x = {'a': 'b', 'src': '${n}', "c": "d"}`],
  ])('refuses a datasource whose exact name is a quoted string literal in a script (%s)', async (_label, code) => {
    const target = await f.storage({ name: uniqueName('sales data') });
    const script = await f.script({ code: `# reads it by name\n${code(target.name)}\n` });
    await expectRefused(target, script, 'SCRIPT', /names it in a string literal/);
  });

  it('does not count the name unquoted, as part of a longer literal, or split over lines', async () => {
    const target = await f.storage({ name: uniqueName('orders') });
    await f.script({ code: `# ${target.name} is mentioned in a comment\nx = '${target.name}_v2'\ny = '${target.name}\n'\n` });
    expect((await t.ok(IMPACT, { id: target.id })).deletionImpact).toEqual([]);
    expect((await t.ok(DELETE_DS, { id: target.id })).deleteDatasource).toBe(target.id);
  });

  it('follows names and code as they change: renames, later-created datasources, edited scripts', async () => {
    const name = uniqueName('later');
    const script = await f.script({ code: `read('${name}')` });
    const target = await f.storage({ name }); // created after the script that names it
    await expectRefused(target, script, 'SCRIPT', /string literal/);

    await t.ok(`mutation($id: ID!, $input: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $input) { id } }`, {
      id: target.id,
      input: { name: `${name}-renamed` },
    });
    expect((await t.ok(IMPACT, { id: target.id })).deletionImpact).toEqual([]);

    await t.ok(`mutation($id: ID!, $input: UpdateScriptInput!) { updateScript(id: $id, input: $input) { id } }`, {
      id: script.id,
      input: { code: `read("${name}-renamed")` },
    });
    await expectRefused(target, script, 'SCRIPT', /string literal/);
  });

  it('lists each dependent once with all its reasons, and every dependent', async () => {
    const target = await f.storage();
    const other = await f.storage();
    const script = await f.script({ inputIds: [target.id], code: `read('${target.name}') # ${target.id}` });
    const etl = await f.etl(target, other);
    const join = await f.join(target, other);
    const impact = (await t.ok(IMPACT, { id: target.id })).deletionImpact;
    expect(impact.map((d: Ref) => d.id).sort()).toEqual([script.id, etl.id, join.id].sort());
    const scriptEntry = impact.find((d: Ref) => d.id === script.id);
    expect(scriptEntry.reason.split('; ').sort()).toEqual(
      ['declares it as input', 'its code holds the datasource id', 'its code names it in a string literal'].sort(),
    );
  });

  it('deletes an unused datasource, and one whose dependents were removed first', async () => {
    const unused = await f.storage();
    expect((await t.ok(IMPACT, { id: unused.id })).deletionImpact).toEqual([]);
    expect((await t.ok(DELETE_DS, { id: unused.id })).deleteDatasource).toBe(unused.id);
    expect((await t.ok(EXISTS, { id: unused.id })).datasource).toBeNull();

    const [input, output] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output);
    await t.fail(DELETE_DS, { id: input.id });
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: etl.id });
    expect((await t.ok(DELETE_DS, { id: input.id })).deleteDatasource).toBe(input.id);
  });

  it('answers NOT_FOUND for unknown ids, never a crash', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expect((await t.fail(DELETE_DS, { id })).extensions?.code).toBe('NOT_FOUND');
      expect((await t.fail(IMPACT, { id })).extensions?.code).toBe('NOT_FOUND');
    }
  });
});

describe(`${AutomationService.name} deletion safety`, () => {
  const DELETE = `mutation($id: ID!) { deleteAutomation(id: $id) }`;

  it('refuses deleting an automation a chain task triggers, then allows it once the chain is gone', async () => {
    const [input, output] = [await f.storage(), await f.storage()];
    const etl = await f.etl(input, output);
    const chain = await f.chain([etl]);
    const outer = await f.chain([chain]);

    const error = await t.fail(DELETE, { id: etl.id });
    expect(error.extensions?.code).toBe('AUTOMATION_IN_USE');
    expect(error.extensions?.dependents).toEqual([{ id: chain.id, name: chain.name, type: 'CHAIN_TASK', reason: 'triggers it as step 1' }]);
    const impact = (await t.ok(`query($id: ID!) { automationDeletionImpact(automationId: $id) { id name type reason } }`, { id: etl.id }))
      .automationDeletionImpact;
    expect(impact).toEqual(error.extensions?.dependents);
    expect((await t.fail(DELETE, { id: chain.id })).extensions?.code).toBe('AUTOMATION_IN_USE');

    expect((await t.ok(DELETE, { id: outer.id })).deleteAutomation).toBe(outer.id);
    expect((await t.ok(DELETE, { id: chain.id })).deleteAutomation).toBe(chain.id);
    expect((await t.ok(DELETE, { id: etl.id })).deleteAutomation).toBe(etl.id);
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { id } }`, { id: etl.id })).automation).toBeNull();
  });

  it('removes a deleted script from the deletion index', async () => {
    const target = await f.storage();
    const script = await f.script({ code: `read('${target.name}')` });
    await expectRefused(target, script, 'SCRIPT', /string literal/);
    await t.ok(DELETE, { id: script.id });
    expect((await t.ok(IMPACT, { id: target.id })).deletionImpact).toEqual([]);
  });

  it('answers NOT_FOUND when deleting an unknown automation', async () => {
    expect((await t.fail(DELETE, { id: 'missing' })).extensions?.code).toBe('NOT_FOUND');
  });
});
