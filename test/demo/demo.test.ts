import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../api/demo/workspace.js';
import { SecretBox } from '../../core/secrets.js';
import { TEST_SECRET_KEY, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await loadDemo(t.server.orm, t.dataDir, SecretBox.fromKey(TEST_SECRET_KEY));
});
afterAll(() => t.close());

describe(loadDemo.name, () => {
  it('holds about 30 objects, including the cases of the dataflow seed', async () => {
    const counts = await t.ok(`{ datasources { totalCount } automations { totalCount } }`);
    expect(counts.datasources.totalCount + counts.automations.totalCount).toBeGreaterThanOrEqual(25);

    const { automation: load } = await t.ok(`{ automation(name: "load users") { ... on EtlStep { input { name kind } output { name kind } } } }`);
    expect(load).toEqual({ input: { name: 'users.csv', kind: 'FILE' }, output: { name: 'users-storage', kind: 'STORAGE' } });

    const { datasource: join } = await t.ok(`{ datasource(name: "ORDERS <> CUSTOMERS") { kind join { left { name } right { name } } } }`);
    expect(join).toEqual({ kind: 'JOIN', join: { left: { name: 'ORDERS' }, right: { name: 'CUSTOMERS' } } });

    const { automations } = await t.ok(`{ automations(first: 100) { nodes { __typename name effectivelyScheduled inputs { name } outputs { name } schedule { cron } ... on Script { language } } } }`);
    const byName = Object.fromEntries(automations.nodes.map((a: any) => [a.name, a]));
    expect(automations.nodes.some((a: any) => a.__typename === 'SftpImport')).toBe(true);
    expect(byName['revenue report']).toMatchObject({ language: 'PYTHON', inputs: [{}, {}], outputs: [{}] });
    expect(byName['churn model']).toMatchObject({ language: 'PYTHON', inputs: [], outputs: [] });
    // The scheduled chain triggers an unscheduled chain, which makes its steps effectively scheduled.
    expect(byName['nightly refresh'].schedule).not.toBeNull();
    expect(byName['reporting']).toMatchObject({ schedule: null, effectivelyScheduled: true });
    expect(byName['aggregate revenue'].effectivelyScheduled).toBe(true);
    expect(byName['sessionize events'].effectivelyScheduled).toBe(false);
  });

  it('protects datasources the undeclared script references, and leaves an unused one deletable', async () => {
    const { datasource: customers } = await t.ok(`{ datasource(name: "CUSTOMERS") { id } }`);
    const impact = (await t.ok(`query($id: ID!) { deletionImpact(datasourceId: $id) { name reason } }`, { id: customers.id })).deletionImpact;
    expect(impact).toContainEqual({ name: 'churn model', reason: 'its code holds the datasource id' });
    const { datasource: legacy } = await t.ok(`{ datasource(name: "legacy-exports") { id } }`);
    expect((await t.ok(`query($id: ID!) { deletionImpact(datasourceId: $id) { name } }`, { id: legacy.id })).deletionImpact).toEqual([]);
  });
});
