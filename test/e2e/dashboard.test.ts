import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { pixelsAt, screenshot, waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { demoInBrowser } from './demo-browser.js';

/** What the page exposes as `window.__tributaryGraph` after each render. */
interface DrawnGraph {
  nodes: { id: string; type: string; classes: string[]; name: string; color: string; x: number; y: number }[];
  edges: { source: string; target: string; kind: string }[];
  renderer: 'webgl' | 'canvas';
  zoom: number;
  total: number;
  truncated: boolean;
  layoutMs: number;
  renderMs: number;
  renders: number;
}

interface ApiNode {
  id: string;
  name: string;
  type: string;
  scheduled: boolean;
  language: string | null;
}

/** ARCHITECTURE.md "Visual encoding": the class and colour family each node type must get. */
const EXPECTED: Record<string, { cls: string; color: 'blue' | 'yellow' | 'green' | 'purple' | 'grey' }> = {
  DATASOURCE: { cls: 'datasource', color: 'blue' },
  JOIN_DATASOURCE: { cls: 'join-datasource', color: 'yellow' },
  ETL_STEP: { cls: 'etl-step', color: 'green' },
  SFTP_IMPORT: { cls: 'sftp-import', color: 'purple' },
  SCRIPT: { cls: 'script', color: 'green' },
  CHAIN_TASK: { cls: 'chain-task', color: 'grey' },
};

function colorFamily(rgb: string): string {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number) as [number, number, number];
  if (Math.max(r, g, b) - Math.min(r, g, b) < 30) return 'grey';
  if (b > r && b > g) return r > g ? 'purple' : 'blue';
  if (r > 180 && g > 150 && b < 100) return 'yellow';
  if (g > r && g > b) return 'green';
  if (r > g && b > g) return 'purple';
  return `other ${rgb}`;
}

let t: TestServer;
let page: Page;

const LINEAGE = `query ($filter: LineageFilter) { lineage(filter: $filter) {
  total truncated nodes { id name type scheduled language } edges { source target kind } } }`;
async function apiLineage(filter: Record<string, unknown>): Promise<{ nodes: ApiNode[]; edges: { source: string; target: string; kind: string }[] }> {
  return (await t.ok(LINEAGE, { filter })).lineage;
}
const ids = (nodes: { id: string }[]): string[] => nodes.map((node) => node.id).sort();
const edgeKeys = (edges: { source: string; target: string; kind: string }[]): string[] => edges.map((e) => `${e.kind} ${e.source} ${e.target}`).sort();

async function drawn(): Promise<DrawnGraph> {
  const graph = await page.evaluate(() => (globalThis as unknown as { __tributaryGraph?: DrawnGraph }).__tributaryGraph);
  if (!graph) throw new Error('the page exposes no graph');
  return graph;
}

/** Waits until the page has drawn more than `after` times and says it is ready. */
function rendered(after: number): Promise<DrawnGraph> {
  return waitForGraph<DrawnGraph>(page, after);
}

async function open(search = ''): Promise<DrawnGraph> {
  await page.goto(`${t.url}/${search}`);
  return rendered(0);
}

const byId = (graph: DrawnGraph, id: string) => graph.nodes.find((n) => n.id === id)!;

/** The drawn graph as last published after a pan or zoom (once zoomed past `zoom` when given). */
async function latest(zoom?: number): Promise<DrawnGraph> {
  await page.waitForTimeout(100); // the page publishes a frame after the viewport moves
  const handle = await page.waitForFunction(
    ([z]) => {
      const g = (globalThis as unknown as { __tributaryGraph: DrawnGraph }).__tributaryGraph;
      return (z === null || g.zoom > z) && g;
    },
    [zoom ?? null] as const,
  );
  return (await handle.jsonValue()) as DrawnGraph;
}
const byName = (graph: DrawnGraph, name: string) => {
  const node = graph.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node named ${name} drawn; drawn: ${graph.nodes.map((n) => n.name).join(', ')}`);
  return node;
};

const browser = demoInBrowser({ ready: (server) => void (t = server) });

async function newPage(): Promise<Page> {
  page = await browser.newPage();
  return page;
}

describe('Dataflow page', () => {
  it('draws the scheduled flows by default, with the classes and colours of the visual encoding', async () => {
    await newPage();
    const graph = await open();
    const api = await apiLineage({ scheduledOnly: true });
    expect(ids(graph.nodes)).toEqual(ids(api.nodes));
    expect(edgeKeys(graph.edges)).toEqual(edgeKeys(api.edges));
    expect(graph.nodes.length).toBeGreaterThan(5);

    const apiById = new Map(api.nodes.map((node) => [node.id, node]));
    for (const node of graph.nodes) {
      const expected = apiById.get(node.id)!;
      expect(node.type).toBe(expected.type);
      expect(node.classes).toContain(EXPECTED[expected.type]!.cls);
      expect(colorFamily(node.color), `${node.name} (${node.type}) is ${node.color}`).toBe(EXPECTED[expected.type]!.color);
      expect(node.classes.includes('scheduled'), `${node.name} scheduled`).toBe(expected.scheduled);
      if (expected.language) expect(node.classes).toContain(expected.language.toLowerCase());
    }
    // The seed's own examples.
    expect(byName(graph, 'load users').classes).toEqual(expect.arrayContaining(['etl-step', 'scheduled']));
    expect(byName(graph, 'users.csv').classes).toContain('datasource');
    expect(byName(graph, 'ORDERS <> CUSTOMERS').classes).toContain('join-datasource');
    expect(byName(graph, 'import orders').classes).toEqual(expect.arrayContaining(['sftp-import', 'scheduled']));
    expect(byName(graph, 'revenue report').classes).toEqual(expect.arrayContaining(['script', 'python', 'scheduled']));

    await expect.poll(() => page.getByTestId('graph-status').innerText()).toContain(`${api.nodes.length} nodes, ${api.edges.length} edges`);
    expect(await page.getByTestId('legend').innerText()).toMatch(/Datasource[\s\S]*Join datasource[\s\S]*ETL step[\s\S]*SFTP import[\s\S]*Python script[\s\S]*Scheduled/);

    const report = byName(graph, 'revenue report');
    await page.mouse.move(report.x, report.y);
    await expect.poll(() => page.getByTestId('node-tooltip').innerText()).toMatch(/revenue report[\s\S]*Script · Python[\s\S]*Scheduled/);
    await screenshot(page, 'dataflow-scheduled');
  });

  it('toggling "Only scheduled flows" shows every declared flow, as the lineage rules say', async () => {
    await newPage();
    const scheduled = await open();
    await page.getByTestId('scheduled-only').uncheck();
    const all = await rendered(scheduled.renders);
    expect(new URL(page.url()).searchParams.get('scheduledOnly')).toBe('false');

    const api = await apiLineage({ scheduledOnly: false });
    expect(ids(all.nodes)).toEqual(ids(api.nodes));
    expect(all.nodes.length).toBeGreaterThan(scheduled.nodes.length);
    for (const id of ids(scheduled.nodes)) expect(ids(all.nodes)).toContain(id);
    // Run by hand, and paused: only in the full view. A script with no declared usage: in neither.
    const onlyInAll = all.nodes.filter((node) => !scheduled.nodes.some((s) => s.id === node.id)).map((node) => node.name);
    expect(onlyInAll).toEqual(expect.arrayContaining(['sessionize events', 'build segments']));
    expect(all.nodes.map((node) => node.name)).not.toContain('churn model');
    expect(byName(all, 'sessionize events').classes).not.toContain('scheduled');
    await screenshot(page, 'dataflow-all');

    await page.getByTestId('scheduled-only').check();
    expect(ids((await rendered(all.renders)).nodes)).toEqual(ids(scheduled.nodes));
    expect(new URL(page.url()).search).toBe('');
  });

  it('shows a selection syntax error inline under the box, then draws a valid selection', async () => {
    await newPage();
    const before = await open('?scheduledOnly=false');
    const bad = '+ORDERS,';
    const apiError = await t.fail(`query ($s: String) { lineage(filter: { select: $s }) { total } }`, { s: bad });
    expect(apiError.extensions?.code).toBe('BAD_USER_INPUT');

    await page.getByTestId('select-input').fill(bad);
    await page.getByTestId('select-input').press('Enter');
    await expect.poll(() => page.getByTestId('select-error').innerText()).toBe(apiError.message);
    expect(await page.getByTestId('select-input').getAttribute('aria-invalid')).toBe('true');
    expect(ids((await drawn()).nodes)).toEqual(ids(before.nodes)); // the last good graph stays
    await screenshot(page, 'dataflow-select-error');

    await page.getByTestId('select-input').fill('+daily-revenue');
    await page.getByTestId('select-input').press('Enter');
    const selected = await rendered(before.renders);
    expect(await page.getByTestId('select-error').count()).toBe(0);
    expect(ids(selected.nodes)).toEqual(ids((await apiLineage({ scheduledOnly: false, select: '+daily-revenue' })).nodes));
    expect(new URL(page.url()).searchParams.get('select')).toBe('+daily-revenue');

    // Leaving out what a selection matches (dbt's --exclude), kept in the URL.
    await page.getByTestId('exclude-input').fill('kind:ETL_STEP');
    await page.getByTestId('exclude-input').press('Enter');
    const excluded = await rendered(selected.renders);
    const api = await apiLineage({ scheduledOnly: false, select: '+daily-revenue', exclude: 'kind:ETL_STEP' });
    expect(api.nodes.length).toBeGreaterThan(0);
    expect(api.nodes.length).toBeLessThan(selected.nodes.length);
    expect(ids(excluded.nodes)).toEqual(ids(api.nodes));
    expect(new URL(page.url()).searchParams.get('exclude')).toBe('kind:ETL_STEP');
  });

  it('keeps the filters in the URL across a reload: leading-to chip, depth, chain tasks', async () => {
    await newPage();
    let graph = await open();
    const revenue = byName(graph, 'daily-revenue');
    await page.mouse.click(revenue.x, revenue.y);
    await page.getByTestId('show-leading-to').click();
    graph = await rendered(graph.renders);
    expect(await page.getByTestId('chip-leading-to').innerText()).toContain('daily-revenue');
    expect(ids(graph.nodes)).toEqual(ids((await apiLineage({ scheduledOnly: true, leadingTo: revenue.id })).nodes));

    await page.getByTestId('include-chain-tasks').check();
    graph = await rendered(graph.renders);
    await page.getByTestId('depth').fill('2');
    await page.getByTestId('depth').press('Enter');
    graph = await rendered(graph.renders);
    const filter = { scheduledOnly: true, leadingTo: revenue.id, depth: 2, includeChainTasks: true };
    const api = await apiLineage(filter);
    expect(ids(graph.nodes)).toEqual(ids(api.nodes));
    const params = new URL(page.url()).searchParams;
    expect(Object.fromEntries(params)).toEqual({ leadingTo: revenue.id, depth: '2', includeChainTasks: 'true' });

    await page.reload();
    const reloaded = await rendered(0);
    expect(ids(reloaded.nodes)).toEqual(ids(api.nodes));
    expect(await page.getByTestId('chip-leading-to').innerText()).toContain('daily-revenue');
    expect(await page.getByTestId('include-chain-tasks').isChecked()).toBe(true);
    expect(await page.getByTestId('scheduled-only').isChecked()).toBe(true);
    expect(await page.getByTestId('depth').inputValue()).toBe('2');
    await screenshot(page, 'dataflow-leading-to');

    await page.getByRole('button', { name: /Remove the filter leading to daily-revenue/ }).click();
    const unfiltered = await rendered(reloaded.renders);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ includeChainTasks: 'true' });
    expect(ids(unfiltered.nodes)).toEqual(ids((await apiLineage({ scheduledOnly: true, includeChainTasks: true })).nodes));
    expect(unfiltered.nodes.filter((node) => node.type === 'CHAIN_TASK').map((node) => node.name).sort()).toEqual(['nightly refresh', 'reporting']);
  });

  it('search focuses and highlights a node; an empty result says why', async () => {
    await newPage();
    await open();
    await page.getByTestId('search').fill('Revenue Report');
    await page.getByTestId('search').press('Enter');
    await expect.poll(async () => byName(await drawn(), 'revenue report').classes).toContain('highlighted');
    expect(byName(await drawn(), 'users.csv').classes).toContain('faded');
    expect(await page.getByTestId('node-details').innerText()).toContain('revenue report');
    await page.getByTestId('edit-node').click(); // the panel leads to the node's edit form
    await page.getByRole('heading', { name: 'Edit revenue report' }).waitFor();

    await page.goto(`${t.url}/?select=tag:legacy`);
    const empty = await rendered(0);
    expect(empty.nodes).toEqual([]);
    expect(await page.getByTestId('empty-state').innerText()).toMatch(/No scheduled flow matching the selection “tag:legacy”.*Turn off “Only scheduled flows”/);
  });
});

describe('Expand on demand', () => {
  it('opens a node one more level at a time from its panel, keeps it in the URL through a reload, and collapses it', async () => {
    await newPage();
    const select = (name: string) => async () => {
      await page.getByTestId('search').fill(name);
      await page.getByTestId('search').press('Enter');
      await page.getByTestId('node-details').waitFor();
    };
    const first = await open(`?select=${encodeURIComponent('"revenue report"')}`);
    expect(first.nodes.map((n) => n.name)).toEqual(['revenue report']);
    const report = byName(first, 'revenue report');
    const upstream = (await apiLineage({ leadingTo: report.id, depth: 1 })).nodes.map((n) => n.name).sort();
    expect(upstream.length).toBeGreaterThan(1);

    await select('revenue report')();
    await page.getByTestId('expand-up').click();
    const opened = await rendered(first.renders);
    expect(opened.nodes.map((n) => n.name).sort()).toEqual(upstream);
    expect(new URL(page.url()).searchParams.getAll('expand')).toEqual([`${report.id}:up:1`]);
    // The panel stays on the node, saying how far it is opened.
    expect(await page.getByTestId('expand-up').innerText()).toContain('(1 shown)');

    await page.reload();
    const reloaded = await rendered(0);
    expect(reloaded.nodes.map((n) => n.name).sort()).toEqual(upstream);

    await select('revenue report')();
    await page.getByTestId('collapse').click();
    const closed = await rendered(reloaded.renders);
    expect(closed.nodes.map((n) => n.name)).toEqual(['revenue report']);
    expect(new URL(page.url()).searchParams.getAll('expand')).toEqual([]);
  });
});

/** The node radius in model units (style.ts NODE_SIZE / 2). */
const NODE_RADIUS = 22;
/** The canvas background, #fafbfc: a pixel far from it has ink. */
const inked = ([r, g, b]: [number, number, number]): boolean => Math.abs(r - 250) + Math.abs(g - 251) + Math.abs(b - 252) > 60;

describe('The visual encoding on both renderers', () => {
  for (const renderer of ['canvas', 'webgl'] as const) {
    it(`fills each type with its colour and draws chain triggers dotted, lineage edges solid: ${renderer} renderer`, async () => {
      await newPage();
      const graph = await open(`?scheduledOnly=false&includeChainTasks=true&renderer=${renderer}`);
      // Asked for by the URL, and what Cytoscape really draws with (here WebGL is Chromium's SwiftShader).
      expect(graph.renderer).toBe(renderer);
      expect(await page.getByTestId('graph-canvas').getAttribute('data-renderer')).toBe(renderer);
      expect(await page.getByTestId('dash-overlay').count()).toBe(renderer === 'webgl' ? 1 : 0);

      // Fills, as on screen: three points inside each circle, around its picture.
      const offset = NODE_RADIUS * 0.6 * graph.zoom;
      const around = graph.nodes.flatMap((n) => [{ x: n.x, y: n.y - offset }, { x: n.x - offset, y: n.y }, { x: n.x + offset, y: n.y }]);
      const fills = await pixelsAt(page, around);
      const types = new Set<string>();
      graph.nodes.forEach((node, i) => {
        const families = fills.slice(3 * i, 3 * i + 3).map((rgb) => colorFamily(`rgb(${rgb.join(',')})`));
        const expected = EXPECTED[node.type]!.color;
        expect(families.filter((family) => family === expected).length, `${node.name} (${node.type}) shows ${families.join(', ')}`).toBeGreaterThanOrEqual(2);
        types.add(node.type);
      });
      expect([...types].sort()).toEqual(['CHAIN_TASK', 'DATASOURCE', 'ETL_STEP', 'JOIN_DATASOURCE', 'SCRIPT', 'SFTP_IMPORT']);

      // Edges, as on screen, zoomed in around their middle (dots are 1 model unit on, 1 off): the
      // share of inked pixels along 100 px of line.
      await screenshot(page, `dataflow-encoding-${renderer}`);
      const inkShare = async (kind: string): Promise<number> => {
        const edge = graph.edges.find((e) => e.kind === kind)!;
        const middle = (drawn: DrawnGraph) => {
          const [from, to] = [byId(drawn, edge.source), byId(drawn, edge.target)];
          const length = Math.hypot(to.x - from.x, to.y - from.y);
          return { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2, dx: (to.x - from.x) / length, dy: (to.y - from.y) / length };
        };
        // Drag the view so the edge's middle is at the centre (from beside the line, on the
        // background), then zoom in there with the page's button.
        const start = middle(graph);
        const box = (await page.getByTestId('graph-canvas').boundingBox())!;
        const [side, centre] = [{ x: -start.dy * 12, y: start.dx * 12 }, { x: box.x + box.width / 2, y: box.y + box.height / 2 }];
        await page.mouse.move(start.x + side.x, start.y + side.y);
        await page.mouse.down();
        await page.mouse.move(centre.x + side.x, centre.y + side.y, { steps: 8 });
        await page.mouse.up();
        let zoomed = await latest();
        for (let step = 0; step < 12 && zoomed.zoom < 2.5; step++) {
          await page.getByTestId('zoom-in').click();
          zoomed = await latest(zoomed.zoom);
        }
        expect(zoomed.zoom).toBeGreaterThanOrEqual(2.5);
        const { x, y, dx, dy } = middle(zoomed);
        const pixels = await pixelsAt(page, Array.from({ length: 100 }, (_, k) => ({ x: x + dx * (k - 50), y: y + dy * (k - 50) })));
        await page.getByTestId('fit').click();
        return pixels.filter(inked).length / pixels.length;
      };
      const solid = await inkShare('INPUT');
      const dotted = await inkShare('TRIGGERS');
      expect(solid, 'an INPUT edge is a solid line').toBeGreaterThan(0.95);
      expect(dotted, 'a TRIGGERS edge is dotted').toBeLessThan(0.75);
      expect(dotted, 'a TRIGGERS edge is drawn').toBeGreaterThan(0.1);
    });
  }
});

describe('Dataflow page after runs', () => {
  async function runToEnd(automationId: string): Promise<string> {
    const { runAutomation } = await t.ok(`mutation ($id: ID!) { runAutomation(id: $id) { id } }`, { id: automationId });
    let status = 'QUEUED';
    const deadline = Date.now() + 20_000;
    while (!['SUCCESS', 'FAILED', 'CANCELLED'].includes(status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      status = (await t.ok(`query ($id: ID!) { run(id: $id) { status } }`, { id: runAutomation.id })).run.status;
    }
    return status;
  }

  it('badges the last run: green check after a success, red mark after a failure', async () => {
    const { automation: loadUsers } = await t.ok(`{ automation(name: "load users") { id } }`);
    expect(await runToEnd(loadUsers.id)).toBe('SUCCESS');
    // An ETL step reading a file that does not exist fails its run.
    const { datasources } = await t.ok(`{ datasources(search: "users-storage") { nodes { id name } } }`);
    const { createDatasource: missing } = await t.ok(`mutation { createDatasource(input: { name: "missing.csv", kind: FILE, path: "nonexistent/missing.csv" }) { id } }`);
    const { createEtlStep: broken } = await t.ok(`mutation ($in: ID!, $out: ID!) { createEtlStep(input: { name: "load missing file", inputId: $in, outputId: $out }) { id } }`, {
      in: missing.id,
      out: datasources.nodes.find((d: { name: string }) => d.name === 'users-storage').id,
    });
    expect(await runToEnd(broken.id)).toBe('FAILED');

    await newPage();
    const graph = await open('?scheduledOnly=false');
    expect(byName(graph, 'load users').classes).toContain('last-success');
    expect(byName(graph, 'load users').classes).not.toContain('last-failed');
    expect(byName(graph, 'load missing file').classes).toContain('last-failed');
    expect(byName(graph, 'load customers').classes.filter((c) => c.startsWith('last-'))).toEqual([]);
    const failed = byName(graph, 'load missing file');
    await page.mouse.move(failed.x, failed.y);
    await expect.poll(() => page.getByTestId('node-tooltip').innerText()).toContain('Last run: failed');
    await screenshot(page, 'dataflow-run-badges');
  });
});

describe('GraphiQL page', () => {
  it('loads at /graphiql from the bundle and runs a query', async () => {
    await newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(t.url) && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) external.push(request.url());
    });
    await page.goto(`${t.url}/graphiql`);
    // Run only once the editor holds the default query (Monaco mounts after the page loads).
    await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 15_000 }).toContain('scheduledOnly');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 15_000 }).toMatch(/"lineage"[\s\S]*"total":\s+\d+/);
    await screenshot(page, 'graphiql');
    expect(external).toEqual([]);
  });
});
