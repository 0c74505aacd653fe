/**
 * The lineage rules of ARCHITECTURE.md over HTTP, on small hand-built graphs: each test starts
 * its own server so "the whole graph" is exactly what the test built.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LINEAGE = `query($filter: LineageFilter, $maxNodes: Int) {
  lineage(filter: $filter, maxNodes: $maxNodes) {
    nodes { id name type scheduled lastRunStatus state language tags }
    edges { source target kind }
    total truncated
  } }`;

const servers: TestServer[] = [];
afterEach(async () => {
  // Last started first: a server sharing another's database closes before that one drops it.
  for (const s of servers.splice(0).reverse()) await s.close();
});

async function world(env: Record<string, string> = {}) {
  const t = await startTestServer(env);
  servers.push(t);
  const f = factories(t);
  const ds = (name: string, extra: Record<string, unknown> = {}) => f.storage({ name, ...extra });
  const lineage = async (filter: Record<string, unknown> = {}, maxNodes?: number) => {
    const { lineage } = await t.ok(LINEAGE, { filter, maxNodes });
    return lineage as { nodes: { id: string; name: string; type: string; scheduled: boolean }[]; edges: { source: string; target: string; kind: string }[]; total: number; truncated: boolean };
  };
  /** Names of the nodes the filter shows, sorted. */
  const shown = async (filter: Record<string, unknown> = {}, maxNodes?: number) => (await lineage(filter, maxNodes)).nodes.map((n) => n.name).sort();
  const edges = async (filter: Record<string, unknown> = {}) => {
    const graph = await lineage(filter);
    const name = new Map(graph.nodes.map((n) => [n.id, n.name]));
    return graph.edges.map((e) => `${name.get(e.source)} -${e.kind}-> ${name.get(e.target)}`).sort();
  };
  const hourly = { cron: '0 * * * *', timezone: 'UTC' };
  return { t, f, ds, lineage, shown, edges, hourly };
}

describe('lineage: only scheduled flows (the seed)', () => {
  it('shows an automation triggered by an unscheduled chain that a scheduled chain triggers, with its datasources', async () => {
    const { f, ds, shown, hourly } = await world();
    const [raw, clean, other] = [await ds('raw'), await ds('clean'), await ds('other')];
    const load = await f.etl(raw, clean, { name: 'load' });
    await f.etl(clean, other, { name: 'unscheduled etl' });
    const inner = await f.chain([load], { name: 'inner chain' });
    await f.chain([inner], { name: 'outer chain', schedule: hourly });

    expect(await shown({ scheduledOnly: true })).toEqual(['clean', 'load', 'raw']);
    expect(await shown({ scheduledOnly: true, includeChainTasks: true })).toEqual(['clean', 'inner chain', 'load', 'outer chain', 'raw']);
    expect(await shown({})).toEqual(['clean', 'load', 'other', 'raw', 'unscheduled etl']);
  });

  it('shows a join whose source a scheduled ETL step writes, with both sources, through joins of joins', async () => {
    const { f, ds, shown, edges, hourly } = await world();
    const [orders, ordersRaw, customers, regions] = [await ds('ORDERS'), await ds('orders.raw'), await ds('CUSTOMERS'), await ds('REGIONS')];
    await f.etl(ordersRaw, orders, { name: 'load orders', schedule: hourly });
    const join = await f.join(orders, customers, { name: 'ORDERS <> CUSTOMERS' });
    await f.join(join, regions, { name: 'ORDERS <> CUSTOMERS <> REGIONS' });
    await f.join(customers, regions, { name: 'CUSTOMERS <> REGIONS' }); // no source written on schedule

    expect(await shown({ scheduledOnly: true })).toEqual([
      'CUSTOMERS',
      'ORDERS',
      'ORDERS <> CUSTOMERS',
      'ORDERS <> CUSTOMERS <> REGIONS',
      'REGIONS',
      'load orders',
      'orders.raw',
    ]);
    expect(await edges({ scheduledOnly: true })).toEqual([
      'CUSTOMERS -JOIN_SOURCE-> ORDERS <> CUSTOMERS',
      'ORDERS -JOIN_SOURCE-> ORDERS <> CUSTOMERS',
      'ORDERS <> CUSTOMERS -JOIN_SOURCE-> ORDERS <> CUSTOMERS <> REGIONS',
      'REGIONS -JOIN_SOURCE-> ORDERS <> CUSTOMERS <> REGIONS',
      'load orders -OUTPUT-> ORDERS',
      'orders.raw -INPUT-> load orders',
    ]);
  });

  it('does not count paused, stopped or deactivated schedules and chains', async () => {
    const { t, f, ds, shown, hourly } = await world();
    const [a, b, c, d] = [await ds('a'), await ds('b'), await ds('c'), await ds('d')];
    const own = await f.etl(a, b, { name: 'own schedule', schedule: hourly });
    const step = await f.etl(c, d, { name: 'chain step' });
    const chain = await f.chain([step], { name: 'chain', schedule: hourly });
    expect(await shown({ scheduledOnly: true })).toEqual(['a', 'b', 'c', 'chain step', 'd', 'own schedule']);

    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: own.id });
    await t.ok(`mutation($id: ID!) { stopAutomation(id: $id) { id } }`, { id: chain.id });
    expect(await shown({ scheduledOnly: true })).toEqual([]);

    await t.ok(`mutation($id: ID!) { startAutomation(id: $id) { id } }`, { id: chain.id });
    await t.ok(`mutation($id: ID!) { deactivateAutomation(id: $id) { id } }`, { id: step.id });
    expect(await shown({ scheduledOnly: true })).toEqual([]);
    await t.ok(`mutation($id: ID!) { startAutomation(id: $id) { id } }`, { id: step.id });
    expect(await shown({ scheduledOnly: true })).toEqual(['c', 'chain step', 'd']);
  });
});

describe('lineage: scripts', () => {
  it('leaves out a script without declared usage, lists it as undeclared, and marks suspected references', async () => {
    const { t, f, ds, shown, edges } = await world();
    const [users, report] = [await ds('users'), await ds('report')];
    await ds('audit log');
    await f.script({ name: 'declared', inputIds: [users.id], outputIds: [report.id], code: `log = read("audit log")\n` });
    await f.script({ name: 'loose', code: `rows = read('users')\nkey = "${report.id}"\n` });

    expect(await shown()).toEqual(['audit log', 'declared', 'report', 'users']);
    expect(await edges()).toEqual(['audit log -SUSPECTED-> declared', 'declared -OUTPUT-> report', 'users -INPUT-> declared']);

    const { undeclaredScripts } = await t.ok(`{ undeclaredScripts { script { name language } references { matches datasource { name } } } }`);
    expect(undeclaredScripts).toEqual([
      {
        script: { name: 'loose', language: 'PYTHON' },
        references: [
          { matches: ['ID'], datasource: { name: 'report' } },
          { matches: ['NAME'], datasource: { name: 'users' } },
        ],
      },
    ]);
  });
});

describe('lineage: leading to, downstream of, depth', () => {
  async function chainOfFive() {
    const w = await world();
    // a → e1 → b → e2 → c, and x → e3 → c, and c → e4 → d
    const [a, b, c, d, x] = [await w.ds('a'), await w.ds('b'), await w.ds('c'), await w.ds('d'), await w.ds('x')];
    await w.f.etl(a, b, { name: 'e1' });
    await w.f.etl(b, c, { name: 'e2' });
    await w.f.etl(x, c, { name: 'e3' });
    await w.f.etl(c, d, { name: 'e4' });
    await w.ds('unrelated');
    return { ...w, a, b, c, d, x };
  }

  it('"leading to" a datasource shows exactly its upstream; "downstream of" the mirror; both compose', async () => {
    const { shown, a, b, c } = await chainOfFive();
    expect(await shown({ leadingTo: c.id })).toEqual(['a', 'b', 'c', 'e1', 'e2', 'e3', 'x']);
    expect(await shown({ downstreamOf: b.id })).toEqual(['b', 'c', 'd', 'e2', 'e4']);
    expect(await shown({ leadingTo: c.id, downstreamOf: a.id })).toEqual(['a', 'b', 'c', 'e1', 'e2']);
  });

  it('limits by depth in hops over datasource and automation nodes', async () => {
    const { shown, c } = await chainOfFive();
    expect(await shown({ leadingTo: c.id, depth: 0 })).toEqual(['c']);
    expect(await shown({ leadingTo: c.id, depth: 1 })).toEqual(['c', 'e2', 'e3']);
    expect(await shown({ leadingTo: c.id, depth: 2 })).toEqual(['b', 'c', 'e2', 'e3', 'x']);
    expect(await shown({ downstreamOf: c.id, depth: 1 })).toEqual(['c', 'e4']);
  });

  it('refuses unknown ids and a depth without a focus', async () => {
    const { t } = await chainOfFive();
    const unknown = await t.fail(LINEAGE, { filter: { leadingTo: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.leadingTo' });
    const depth = await t.fail(LINEAGE, { filter: { depth: 2 } });
    expect(depth.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.depth' });
    const negative = await t.fail(LINEAGE, { filter: { downstreamOf: '00000000-0000-4000-8000-000000000000', depth: -1 } });
    expect(negative.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.depth' });
    expect((await t.fail(LINEAGE, { maxNodes: 0 })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'maxNodes' });
  });

  it('cuts big answers deterministically, nearest to the focus first, and says so', async () => {
    const { lineage, c } = await chainOfFive();
    const cut = await lineage({ leadingTo: c.id }, 3);
    expect(cut.total).toBe(7);
    expect(cut.truncated).toBe(true);
    expect(cut.nodes.map((n) => n.name).sort()).toEqual(['c', 'e2', 'e3']);
    expect(cut.edges.map((e) => e.kind).sort()).toEqual(['OUTPUT', 'OUTPUT']);
    const whole = await lineage({ leadingTo: c.id });
    expect(whole).toMatchObject({ total: 7, truncated: false });
    expect((await lineage({}, 1)).nodes).toHaveLength(1);
  });

  it('cuts a view with no focus around its most connected node, not by the alphabet', async () => {
    const { lineage } = await chainOfFive();
    // c has three lineage edges (e2, e3 in; e4 out), every other node two at most.
    const cut = await lineage({}, 4);
    expect(cut).toMatchObject({ total: 10, truncated: true });
    expect(cut.nodes.map((n) => n.name)).toEqual(['c', 'e2', 'e3', 'e4']);
    expect(cut.edges).toHaveLength(3);
  });
});

describe('lineage: selection syntax', () => {
  it('evaluates every selector form', async () => {
    const { f, ds, shown, hourly } = await world();
    const [a, b, c, d] = [await ds('a', { tags: ['finance'] }), await ds('b'), await ds('c', { tags: ['finance'] }), await ds('d')];
    await f.etl(a, b, { name: 'ab' });
    await f.etl(b, c, { name: 'bc', schedule: hourly });
    await f.etl(c, d, { name: 'cd' });
    const y = await ds('y');
    await ds('with space');
    await f.join(b, y, { name: 'b <> y' });

    const cases: [string, string[]][] = [
      ['c', ['c']],
      ['+c', ['a', 'ab', 'b', 'bc', 'c']],
      ['c+', ['c', 'cd', 'd']],
      ['1+c', ['bc', 'c']],
      ['2+c', ['b', 'bc', 'c']],
      ['b+1', ['b', 'b <> y', 'bc']],
      ['@b', ['a', 'ab', 'b', 'b <> y', 'bc', 'c', 'cd', 'd', 'y']],
      ['a d', ['a', 'd']],
      ['+c,c+', ['c']],
      ['+d,tag:finance', ['a', 'c']],
      ['kind:ETL_STEP', ['ab', 'bc', 'cd']],
      ['kind:JOIN_DATASOURCE', ['b <> y']],
      ['scheduled:true', ['bc']],
      ['status:NEVER,kind:etl_step', ['ab', 'bc', 'cd']],
      ['status:FAILED', []],
      ['"with space"', ['with space']],
      ["'b <> y'+", ['b <> y']],
    ];
    for (const [select, expected] of cases) expect([select, await shown({ select })]).toEqual([select, expected]);
  });

  it('names the position of an unknown name or bad syntax', async () => {
    const { t, ds } = await world();
    await ds('orders');
    const unknown = await t.fail(LINEAGE, { filter: { select: '+orders ordrs' } });
    expect(unknown.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.select' });
    expect(unknown.message).toMatch(/"ordrs".*position 9/);
    const unterminated = await t.fail(LINEAGE, { filter: { select: 'orders "x' } });
    expect(unterminated.message).toMatch(/position 8/);
    const badKind = await t.fail(LINEAGE, { filter: { select: 'kind:TABLE' } });
    expect(badKind.message).toMatch(/ETL_STEP/);
  });

  it('composes a selection with the other filters by intersection', async () => {
    const { f, ds, shown, hourly } = await world();
    const [a, b, c] = [await ds('a'), await ds('b'), await ds('c')];
    await f.etl(a, b, { name: 'ab', schedule: hourly });
    await f.etl(b, c, { name: 'bc' });
    expect(await shown({ select: '+c', scheduledOnly: true })).toEqual(['a', 'ab', 'b']);
    expect(await shown({ select: 'kind:DATASOURCE', downstreamOf: b.id })).toEqual(['b', 'c']);
  });
});

describe('lineage: exclusion', () => {
  it('takes the nodes of an exclusion out of the answer, after every other filter, like dbt --exclude', async () => {
    const { t, f, ds, shown, edges, hourly } = await world();
    const [raw, clean, revenue, other] = [await ds('raw', { tags: ['raw'] }), await ds('clean'), await ds('revenue'), await ds('other', { tags: ['raw'] })];
    await f.etl(raw, clean, { name: 'load', schedule: hourly });
    await f.etl(clean, revenue, { name: 'sum' });
    await f.etl(other, clean, { name: 'other load' });
    await f.chain([await f.etl(raw, other, { name: 'copy' })], { name: 'nightly' });

    expect(await shown({ select: '+revenue' })).toEqual(['clean', 'copy', 'load', 'other', 'other load', 'raw', 'revenue', 'sum']);
    expect(await shown({ select: '+revenue', exclude: 'tag:raw' })).toEqual(['clean', 'copy', 'load', 'other load', 'revenue', 'sum']);
    // No edge reaches a node that is left out.
    expect(await edges({ select: '+revenue', exclude: 'tag:raw' })).toEqual(['clean -INPUT-> sum', 'load -OUTPUT-> clean', 'other load -OUTPUT-> clean', 'sum -OUTPUT-> revenue']);
    // Graph operators and unions work in an exclusion too; without a selection it applies to the whole graph.
    expect(await shown({ exclude: '+clean kind:ETL_STEP' })).toEqual(['revenue']);
    expect(await shown({ select: '+revenue', exclude: 'revenue' })).toEqual(['clean', 'copy', 'load', 'other', 'other load', 'raw', 'sum']);
    // Composes with the other filters, chain tasks included.
    expect(await shown({ select: '+revenue', scheduledOnly: true, exclude: 'kind:ETL_STEP' })).toEqual(['clean', 'raw']);
    expect(await shown({ includeChainTasks: true, exclude: 'kind:CHAIN_TASK' })).not.toContain('nightly');
    expect(await shown({ includeChainTasks: true })).toContain('nightly');

    const unknown = await t.fail(LINEAGE, { filter: { select: '+revenue', exclude: 'tag:raw revenu' } });
    expect(unknown.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.exclude' });
    expect(unknown.message).toMatch(/"revenu".*position 9/);
  });
});

describe('lineage: chain tasks', () => {
  it('adds CHAIN_TASK nodes and TRIGGERS edges only when asked', async () => {
    const { f, ds, edges, lineage } = await world();
    const [a, b] = [await ds('a'), await ds('b')];
    const etl = await f.etl(a, b, { name: 'etl' });
    const inner = await f.chain([etl], { name: 'inner' });
    await f.chain([inner], { name: 'outer' });
    expect((await lineage()).nodes.map((n) => n.type).sort()).toEqual(['DATASOURCE', 'DATASOURCE', 'ETL_STEP']);
    expect(await edges({ includeChainTasks: true })).toEqual(['a -INPUT-> etl', 'etl -OUTPUT-> b', 'inner -TRIGGERS-> etl', 'outer -TRIGGERS-> inner']);
    expect((await lineage({ leadingTo: b.id, includeChainTasks: true })).nodes.map((n) => n.name).sort()).toEqual(['a', 'b', 'etl', 'inner', 'outer']);
  });
});

describe('lineage: impact', () => {
  it('lists everything downstream with scheduling, then scripts that refer to it in code', async () => {
    const { t, f, ds, hourly } = await world();
    const [a, b, c] = [await ds('a'), await ds('b'), await ds('c')];
    await f.etl(a, b, { name: 'ab', schedule: hourly });
    await f.etl(b, c, { name: 'bc' });
    await f.script({ name: 'reads c', code: `read('c')\n` });
    const { downstreamImpact } = await t.ok(`query($id: ID!) { downstreamImpact(id: $id) { distance suspected node { name type scheduled lastRunStatus } } }`, { id: a.id });
    expect(downstreamImpact).toEqual([
      { distance: 1, suspected: false, node: { name: 'ab', type: 'ETL_STEP', scheduled: true, lastRunStatus: null } },
      { distance: 2, suspected: false, node: { name: 'b', type: 'DATASOURCE', scheduled: false, lastRunStatus: null } },
      { distance: 3, suspected: false, node: { name: 'bc', type: 'ETL_STEP', scheduled: false, lastRunStatus: null } },
      { distance: 4, suspected: false, node: { name: 'c', type: 'DATASOURCE', scheduled: false, lastRunStatus: null } },
      { distance: 5, suspected: true, node: { name: 'reads c', type: 'SCRIPT', scheduled: false, lastRunStatus: null } },
    ]);
    const missing = await t.fail(`query { downstreamImpact(id: "00000000-0000-4000-8000-000000000000") { distance } }`);
    expect(missing.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('lineage: stays current', () => {
  it('follows every kind of mutation without a restart', async () => {
    const { t, f, ds, shown, edges } = await world();
    const [a, b, c] = [await ds('a'), await ds('b'), await ds('c')];
    const etl = await f.etl(a, b, { name: 'etl' });
    expect(await shown({ leadingTo: b.id })).toEqual(['a', 'b', 'etl']);

    await t.ok(`mutation($id: ID!, $input: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $input) { id } }`, { id: etl.id, input: { outputId: c.id, name: 'etl2' } });
    expect(await shown({ leadingTo: b.id })).toEqual(['b']);
    expect(await shown({ leadingTo: c.id })).toEqual(['a', 'c', 'etl2']);

    await t.ok(`mutation($id: ID!, $input: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $input) { id } }`, { id: a.id, input: { name: 'a-renamed' } });
    expect(await shown({ select: '+c' })).toEqual(['a-renamed', 'c', 'etl2']);

    expect(await shown({ scheduledOnly: true })).toEqual([]);
    await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "0 * * * *") { id } }`, { id: etl.id });
    expect(await shown({ scheduledOnly: true })).toEqual(['a-renamed', 'c', 'etl2']);
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: etl.id });
    expect(await shown({ scheduledOnly: true })).toEqual([]);
    await t.ok(`mutation($id: ID!) { startAutomation(id: $id) { id } }`, { id: etl.id });
    await t.ok(`mutation($id: ID!) { clearSchedule(automationId: $id) { id } }`, { id: etl.id });
    expect(await shown({ scheduledOnly: true })).toEqual([]);

    const join = await f.join(b, c, { name: 'b <> c' });
    expect(await edges({ leadingTo: join.id })).toEqual(['a-renamed -INPUT-> etl2', 'b -JOIN_SOURCE-> b <> c', 'c -JOIN_SOURCE-> b <> c', 'etl2 -OUTPUT-> c']);

    const script = await f.script({ name: 'script', inputIds: [b.id], code: `x = 'c'` });
    expect(await edges({ select: 'script b c' })).toEqual(['b -INPUT-> script', 'c -SUSPECTED-> script']);
    await t.ok(`mutation($id: ID!, $input: UpdateScriptInput!) { updateScript(id: $id, input: $input) { id } }`, { id: script.id, input: { code: 'x = 1' } });
    expect(await edges({ select: 'script b c' })).toEqual(['b -INPUT-> script']);

    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: script.id });
    await t.ok(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: join.id });
    await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: etl.id });
    expect(await shown()).toEqual(['a-renamed', 'b', 'c']);
  });

  it('catches up once for many requests that need the same change at the same time', async () => {
    const { t, ds, lineage } = await world();
    await ds('first');
    await lineage(); // current
    const second = await ds('second');
    t.queries.length = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => lineage({ leadingTo: second.id })));
    expect(answers.map((a) => a.total)).toEqual(Array.from({ length: 20 }, () => 1));
    // One catch-up reads the changed ids once; the twenty requests wait for it rather than race.
    expect(t.queries.filter((sql) => /from lineage_change where version >/.test(sql))).toHaveLength(1);
  });

  it('reaches another server process sharing the database', async () => {
    const first = await world();
    const second = await world({ DATA_DIR: first.t.dataDir, ...first.t.backendEnv });
    const [a, b] = [await first.ds('a'), await first.ds('b')];
    await first.f.etl(a, b, { name: 'etl', schedule: first.hourly });
    expect(await second.shown({ scheduledOnly: true })).toEqual(['a', 'b', 'etl']);
    const refused = await second.t.fail(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: a.id });
    expect(refused.extensions?.code).toBe('DATASOURCE_IN_USE');
    await second.t.ok(`mutation($id: ID!, $input: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $input) { id } }`, { id: b.id, input: { name: 'b2' } });
    expect(await first.shown()).toEqual(['a', 'b2', 'etl']);
  });
});
