import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkspace } from '../../bench/lineage/generator.js';
import { buildWebIfStale, collectPageErrors, launchChromium, screenshot, waitForGraph, type RunningBrowser } from '../helpers/browser.js';
import { signInBrowser } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What the page exposes as `window.__tributaryGraph` (the parts read here). */
interface DrawnGraph {
  nodes: { id: string; type: string; name: string; classes: string[]; x: number; y: number }[];
  edges: { source: string; target: string; kind: string }[];
  total: number;
  truncated: boolean;
  zoom: number;
  renders: number;
}

let t: TestServer;
let chromium: RunningBrowser;
let page: Page;
let errors: string[] = [];

beforeAll(async () => {
  buildWebIfStale();
  t = await startTestServer();
  // Over the 2,000 nodes a view starts collapsed to (seconds to load through the import).
  await generateWorkspace(t.server.orm, 2_300);
  chromium = await launchChromium();
  await signInBrowser(chromium.context, t.url, t.admin.email);
}, 240_000);

afterEach(async () => {
  await page?.close();
  expect(errors, 'the page logged errors').toEqual([]);
});

afterAll(async () => {
  await chromium?.close();
  await t?.close();
});

async function open(search: string): Promise<DrawnGraph> {
  page = await chromium.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  errors = collectPageErrors(page);
  await page.goto(`${t.url}/${search}`);
  return waitForGraph<DrawnGraph>(page, 0);
}

const LINEAGE = `query ($max: Int) { lineage(filter: { scheduledOnly: false }, maxNodes: $max) { total truncated nodes { id } } }`;
const ids = (nodes: { id: string }[]) => nodes.map((node) => node.id).sort();

/** The graph as published once the view has settled after a pan or zoom. */
async function settled(): Promise<DrawnGraph> {
  await page.waitForTimeout(400); // detail follows 120 ms after the view stops; the hook a frame later
  return page.evaluate(() => (globalThis as unknown as { __tributaryGraph: DrawnGraph }).__tributaryGraph);
}

describe('A big view', () => {
  it('starts collapsed to the 2,000 nodes nearest the focus, says so, and shows every node on demand, through a reload', { timeout: 120_000 }, async () => {
    const cut = (await t.ok(LINEAGE, { max: 2_000 })).lineage;
    const whole = (await t.ok(LINEAGE, { max: 20_000 })).lineage;
    expect(whole.total).toBeGreaterThan(2_000);

    const collapsed = await open('?scheduledOnly=false');
    expect(collapsed.nodes).toHaveLength(2_000);
    expect(ids(collapsed.nodes)).toEqual(ids(cut.nodes));
    expect(collapsed).toMatchObject({ truncated: true, total: whole.total });
    const status = await page.getByTestId('graph-status').innerText();
    expect(status).toContain(`showing the 2,000 nodes nearest the most connected node, of ${whole.total.toLocaleString('en-US')}`);
    expect(await page.getByTestId('show-all').innerText()).toBe(`show all ${whole.total.toLocaleString('en-US')}`);

    // "Show all" asks for as many nodes as the view holds, up to 20,000.
    const asked: number[] = [];
    page.on('request', (request) => {
      const body = request.postDataJSON() as { variables?: { maxNodes?: number } } | null;
      if (request.url().endsWith('/graphql') && body?.variables?.maxNodes !== undefined) asked.push(body.variables.maxNodes);
    });
    await page.getByTestId('show-all').click();
    const all = await waitForGraph<DrawnGraph>(page, collapsed.renders);
    expect(asked).toEqual([20_000]);
    expect(ids(all.nodes)).toEqual(ids(whole.nodes));
    expect(all.truncated).toBe(false);
    expect(new URL(page.url()).searchParams.get('all')).toBe('true');
    await expect.poll(() => page.getByTestId('graph-status').innerText()).toContain(`${whole.total.toLocaleString('en-US')} nodes`);

    await page.reload();
    const reloaded = await waitForGraph<DrawnGraph>(page, 0);
    expect(reloaded.nodes).toHaveLength(whole.total);

    await page.getByTestId('collapse-view').click();
    const again = await waitForGraph<DrawnGraph>(page, reloaded.renders);
    expect(again.nodes).toHaveLength(2_000);
    expect(new URL(page.url()).searchParams.get('all')).toBeNull();
  });

  it('draws labels, pictures and arrows only for what is in view once they can be read', { timeout: 120_000 }, async () => {
    const fitted = await open('?scheduledOnly=false');
    // Fitted, 2,000 nodes are too small to read: bare circles and lines, nothing in detail.
    expect(fitted.zoom).toBeLessThan(0.58);
    expect(fitted.nodes.filter((node) => node.classes.includes('detail'))).toEqual([]);

    for (let step = 0; step < 20 && (await settled()).zoom < 0.7; step++) await page.getByTestId('zoom-in').click();
    const zoomed = await settled();
    expect(zoomed.zoom).toBeGreaterThanOrEqual(0.7);
    const box = (await page.getByTestId('graph-canvas').boundingBox())!;
    const inside = zoomed.nodes.filter((n) => n.x > box.x + 30 && n.x < box.x + box.width - 30 && n.y > box.y + 30 && n.y < box.y + box.height - 30);
    const farOut = zoomed.nodes.filter((n) => n.x < box.x - 200 || n.x > box.x + box.width + 200 || n.y < box.y - 200 || n.y > box.y + box.height + 200);
    expect(inside.length).toBeGreaterThan(3);
    expect(farOut.length).toBeGreaterThan(1_000);
    for (const node of inside) expect(node.classes, `${node.name} is in view`).toContain('detail');
    for (const node of farOut) expect(node.classes, `${node.name} is out of view`).not.toContain('detail');
    await screenshot(page, 'dataflow-big-zoomed');

    // Zoomed out again, the detail goes.
    await page.getByTestId('fit').click();
    const refitted = await settled();
    expect(refitted.nodes.filter((node) => node.classes.includes('detail'))).toEqual([]);
  });
});
