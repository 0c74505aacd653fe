import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { demoInBrowser } from './demo-browser.js';

let t: TestServer;
let page: Page;

const idOf = async (name: string): Promise<string> => (await t.ok(`query($n: String!) { datasource(name: $n) { id } }`, { n: name })).datasource.id;

const browser = demoInBrowser({
  env: { SCHEDULER_POLL_MS: '200' },
  // Real data to preview: run "load users" and wait for it.
  async ready(server) {
    t = server;
    const { automation } = await t.ok(`{ automation(name: "load users") { id } }`);
    const { runAutomation } = await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: automation.id });
    for (let i = 0; i < 100; i++) {
      const { run } = await t.ok(`query($id: ID!) { run(id: $id) { status } }`, { id: runAutomation.id });
      if (run.status === 'SUCCESS') return;
      if (run.status === 'FAILED' || run.status === 'CANCELLED') throw new Error(`load users ${run.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('load users did not finish');
  },
});

async function openPage(path: string): Promise<Page> {
  page = await browser.open(path);
  return page;
}

describe('Datasource page', () => {
  it('shows kind, columns, row count, a data preview and its usage', async () => {
    const id = await idOf('users-storage');
    await openPage(`/datasources/${id}`);
    await page.getByRole('heading', { name: 'users-storage' }).waitFor();
    expect(await page.getByTestId('row-count').textContent()).toBe('3');
    expect(await page.getByTestId('columns').textContent()).toContain('email');
    const cells = await page.getByTestId('data-preview').locator('tbody tr').allTextContents();
    expect(cells).toHaveLength(3);
    expect(cells.join(' ')).toContain('ada@example.com');
    const usage = await page.getByTestId('usage').textContent();
    expect(usage).toMatch(/Written by\s*load users/);
    expect(usage).toMatch(/Read by[\s\S]*revenue report/);
    await screenshot(page, 'datasource-page');
  });

  it('"Show dataflow leading to this datasource" opens the graph with that filter as a removable chip', async () => {
    const id = await idOf('revenue-by-country');
    await openPage(`/datasources/${id}`);
    await page.getByTestId('show-dataflow-leading-to').click();
    await page.waitForURL((url) => url.pathname === '/' && url.searchParams.get('leadingTo') === id);
    const graph = await waitForGraph(page);
    expect(await page.getByTestId('chip-leading-to').textContent()).toContain('revenue-by-country');
    const { lineage } = await t.ok(`query($id: ID!) { lineage(filter: { scheduledOnly: false, leadingTo: $id }) { nodes { id } } }`, { id });
    expect(graph.nodes.map((n) => n.id).sort()).toEqual(lineage.nodes.map((n: { id: string }) => n.id).sort());
    expect(graph.nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['revenue report', 'daily-revenue', 'aggregate revenue', 'users-storage']));
  });

  it('a refused delete lists the dependents and deletes nothing; an unused datasource is deleted', async () => {
    const id = await idOf('users-storage');
    await openPage(`/datasources/${id}`);
    await page.getByTestId('delete-datasource').click();
    const refused = page.getByTestId('delete-refused');
    await refused.waitFor();
    const text = await refused.textContent();
    expect(text).toContain('Not deleted.');
    expect(text).toMatch(/load users[\s\S]*declares it as output/);
    expect(text).toContain('revenue report');
    expect(await idOf('users-storage')).toBe(id); // still there
    await screenshot(page, 'datasource-delete-refused');
    await page.close();

    const legacy = await idOf('legacy-exports');
    await openPage(`/datasources/${legacy}`);
    await page.getByTestId('delete-datasource').click();
    await page.waitForURL((url) => url.pathname === '/datasources');
    expect((await t.ok(`{ datasource(name: "legacy-exports") { id } }`)).datasource).toBeNull();
  });

  it('says so when the datasource does not exist', async () => {
    await openPage('/datasources/00000000-0000-4000-8000-000000000000');
    await page.getByRole('heading', { name: 'Datasource not found' }).waitFor();
  });
});
