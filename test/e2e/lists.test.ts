import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { demoInBrowser } from './demo-browser.js';

let t: TestServer;
let page: Page;

const browser = demoInBrowser({ env: { SCHEDULER_POLL_MS: '200' }, ready: (server) => void (t = server) });

async function openPage(path: string): Promise<Page> {
  page = await browser.open(path);
  return page;
}

interface Named {
  id: string;
  name: string;
}

/** The API's own answer for a list query: the reference every assertion compares the page with. */
interface DatasourceAnswer {
  totalCount: number;
  nodes: (Named & { kind: string; columns: unknown[]; rowCount: number | null; updatedAt: string | null; tags: string[] })[];
  pageInfo: { endCursor: string };
}
async function apiDatasources(args: Record<string, unknown> = {}): Promise<DatasourceAnswer> {
  const query = `query($first: Int, $after: String, $search: String, $kind: DatasourceKind) {
    datasources(first: $first, after: $after, search: $search, kind: $kind) {
      totalCount nodes { id name kind columns { name } rowCount updatedAt tags } pageInfo { endCursor } } }`;
  return (await t.ok(query, { first: 25, ...args })).datasources;
}

async function apiAutomations(args: Record<string, unknown> = {}): Promise<{ totalCount: number; nodes: (Named & { effectivelyScheduled: boolean; state: string })[] }> {
  const query = `query($first: Int, $search: String, $kind: AutomationKind, $state: AutomationState, $scheduled: Boolean, $lastRunStatus: RunStatus) {
    automations(first: $first, search: $search, kind: $kind, state: $state, scheduled: $scheduled, lastRunStatus: $lastRunStatus) {
      totalCount nodes { id name effectivelyScheduled state } } }`;
  return (await t.ok(query, { first: 25, ...args })).automations;
}

/** Waits until the list shows exactly these rows (by id, in order) and is not loading; fails with what it shows. */
async function waitForRows(row: 'datasource-row' | 'automation-row', expected: Named[]): Promise<void> {
  const ids = expected.map((n) => n.id);
  const shown = () =>
    page.evaluate((testid) => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(a: string): string | null }> } }).document;
      const busy = doc.querySelectorAll('[aria-busy="true"], [data-testid="list-loading"]').length > 0;
      return { busy, ids: Array.from(doc.querySelectorAll(`[data-testid="${testid}"]`), (r) => r.getAttribute('data-id')) };
    }, row);
  const deadline = Date.now() + 10_000;
  let last = await shown();
  while (last.busy || JSON.stringify(last.ids) !== JSON.stringify(ids)) {
    if (Date.now() > deadline) throw new Error(`the list shows ${JSON.stringify(last)}, expected ${JSON.stringify(expected.map((n) => n.name))}`);
    await page.waitForTimeout(50);
    last = await shown();
  }
}

const names = async (row: string) => page.getByTestId(row).locator('th').allTextContents();
const total = async () => Number(await page.getByTestId('list-total').getAttribute('data-count'));
const query = () => Object.fromEntries(new URL(page.url()).searchParams);

describe('Datasource list', () => {
  it('lists the datasources the API lists, with their columns, and links each to its page', async () => {
    const expected = await apiDatasources();
    await openPage('/datasources');
    await waitForRows('datasource-row', expected.nodes);
    expect(await names('datasource-row')).toEqual(expected.nodes.map((n) => n.name));
    expect(await total()).toBe(expected.totalCount);
    expect(await page.getByTestId('list-total').textContent()).toContain(`${expected.totalCount} datasources`);
    expect(await page.locator('th[scope="col"]').allTextContents()).toEqual(['Name', 'Kind', 'Rows', 'Columns', 'Updated', 'Tags']);

    const users = expected.nodes.find((n) => n.name === 'users-storage')!;
    const row = page.locator(`[data-testid="datasource-row"][data-id="${users.id}"]`);
    const [kind, rows, columns, updated, tags] = (await row.locator('td').allTextContents()).map((s) => s.trim());
    expect({ kind, rows, columns, tags }).toEqual({ kind: 'storage', rows: users.rowCount === null ? '—' : String(users.rowCount), columns: String(users.columns.length), tags: users.tags.join('') });
    expect(updated === '—').toBe(users.updatedAt === null);
    expect(await page.getByRole('link', { name: 'New datasource' }).getAttribute('href')).toBe('/datasources/new');
    expect(await page.getByRole('link', { name: 'Datasources', exact: true }).getAttribute('aria-current')).toBe('page');
    await screenshot(page, 'datasource-list');

    await row.getByRole('link', { name: 'users-storage' }).click();
    await page.waitForURL((url) => url.pathname === `/datasources/${users.id}`);
    await page.getByRole('heading', { name: 'users-storage' }).waitFor();
  });

  it('narrows the rows by search and kind, keeps both in the URL across a reload, and clears them', async () => {
    await openPage('/datasources');
    await waitForRows('datasource-row', (await apiDatasources()).nodes);

    await page.getByLabel('Name contains', { exact: true }).fill('orders');
    const bySearch = await apiDatasources({ search: 'orders' });
    expect(bySearch.totalCount).toBeGreaterThan(1);
    await waitForRows('datasource-row', bySearch.nodes);
    expect(await total()).toBe(bySearch.totalCount);

    await page.getByLabel('Kind', { exact: true }).selectOption('JOIN');
    const byBoth = await apiDatasources({ search: 'orders', kind: 'JOIN' });
    expect(byBoth.totalCount).toBeGreaterThan(0);
    expect(byBoth.totalCount).toBeLessThan(bySearch.totalCount);
    await waitForRows('datasource-row', byBoth.nodes);
    expect(query()).toEqual({ search: 'orders', kind: 'JOIN' });

    await page.reload();
    await waitForRows('datasource-row', byBoth.nodes);
    expect(await page.getByLabel('Name contains', { exact: true }).inputValue()).toBe('orders');
    expect(await page.getByLabel('Kind', { exact: true }).inputValue()).toBe('JOIN');

    // Enter applies the search at once; nothing matches: say so, with a way out.
    await page.getByLabel('Name contains', { exact: true }).fill('no such datasource');
    await page.getByLabel('Name contains', { exact: true }).press('Enter');
    const empty = page.getByTestId('list-empty');
    await empty.waitFor();
    expect(await empty.textContent()).toContain('No datasources match “no such datasource” and kind join.');
    await screenshot(page, 'datasource-list-empty');
    await empty.getByRole('button', { name: 'Clear filters' }).click();
    await waitForRows('datasource-row', (await apiDatasources()).nodes);
    expect(query()).toEqual({});
    expect(await page.getByLabel('Name contains', { exact: true }).inputValue()).toBe('');
  });

  it('pages through every datasource with the cursors, forward and back', async () => {
    // Enough datasources for several pages of 4, created through the API.
    for (let i = 0; i < 3; i++) {
      await t.ok(`mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }`, { input: { name: `paging-${i}`, kind: 'STORAGE' } });
    }
    const all = await apiDatasources({ first: 500 });
    await openPage('/datasources?first=4');
    const pages: Named[][] = [];
    let after: string | null = null;
    for (;;) {
      const expected: DatasourceAnswer = await apiDatasources({ first: 4, after });
      await waitForRows('datasource-row', expected.nodes);
      const from = pages.length * 4 + 1;
      expect(await page.getByTestId('list-range').textContent()).toBe(`${from}–${from + expected.nodes.length - 1} of ${all.totalCount}`);
      pages.push(expected.nodes);
      after = expected.pageInfo.endCursor;
      const next = page.getByRole('button', { name: 'Next →' });
      if (await next.isDisabled()) break;
      if (pages.length === 2) await screenshot(page, 'datasource-list-page-2');
      await next.click();
    }
    expect(pages.flat().map((n) => n.id)).toEqual(all.nodes.map((n) => n.id));
    expect(pages.length).toBe(Math.ceil(all.totalCount / 4));
    expect(query()).toEqual({ first: '4' });

    await page.getByRole('button', { name: '← Previous' }).click();
    await waitForRows('datasource-row', pages.at(-2)!);
  });

  it('reports a failed load through the notifications, and loads again on "Try again"', async () => {
    page = await browser.newPage();
    // The list's load fails; the app's own "who is signed in" question still gets its answer.
    await page.route('**/graphql', (route) =>
      /\bme \{/.test(route.request().postData() ?? '')
        ? route.continue()
        : route.fulfill({ json: { errors: [{ message: 'the database is on fire', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] } }),
    );
    await page.goto(`${t.url}/datasources`);
    await page.getByTestId('list-error').waitFor();
    expect(await page.getByTestId('notification').textContent()).toMatch(/Could not load the datasources[\s\S]*the database is on fire \(INTERNAL_SERVER_ERROR\)/);
    await page.unroute('**/graphql');
    await page.getByRole('button', { name: 'Try again' }).click();
    await waitForRows('datasource-row', (await apiDatasources()).nodes);
    expect(await page.getByTestId('list-error').count()).toBe(0);
  });

  it('stays usable in a narrow window: the table scrolls inside its own region', async () => {
    page = await browser.newPage();
    await page.setViewportSize({ width: 380, height: 800 });
    await page.goto(`${t.url}/datasources`);
    await waitForRows('datasource-row', (await apiDatasources()).nodes);
    const sizes = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number }; querySelector(s: string): { scrollWidth: number; clientWidth: number } } }).document;
      const wrap = doc.querySelector('[role="region"]');
      return { page: doc.documentElement.scrollWidth, wrapScroll: wrap.scrollWidth, wrapClient: wrap.clientWidth };
    });
    await screenshot(page, 'datasource-list-narrow');
    expect(sizes.page).toBeLessThanOrEqual(380);
    expect(sizes.wrapScroll).toBeGreaterThan(sizes.wrapClient);

    // Keyboard: the search, the kind and the scrolling table are reached with Tab.
    await page.getByLabel('Name contains', { exact: true }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(a: string): string | null } } }).document.activeElement.getAttribute('data-testid'))).toBe('filter-kind');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(a: string): string | null } } }).document.activeElement.getAttribute('role'))).toBe('region');
  });
});

describe('Automation list', () => {
  it('lists the automations the API lists, with schedules, and links each to its page', async () => {
    const expected = await apiAutomations();
    await openPage('/automations');
    await waitForRows('automation-row', expected.nodes);
    expect(await names('automation-row')).toEqual(expected.nodes.map((n) => n.name));
    expect(await total()).toBe(expected.totalCount);
    expect(await page.getByRole('link', { name: 'New automation' }).getAttribute('href')).toBe('/automations/new');

    const schedule = async (name: string) => (await page.locator('[data-testid="automation-row"]', { hasText: name }).getByTestId('schedule').textContent())?.replace(/\s+/g, ' ').trim();
    expect(await schedule('import web events')).toMatch(/^0 \* \* \* \* UTC next /);
    expect(await schedule('load users')).toBe('by a scheduled chain task');
    expect(await schedule('build segments')).toBe('0 6 * * 1 Europe/Paris not running while not active');
    expect(await schedule('sessionize events')).toBe('—');
    await screenshot(page, 'automation-list');

    await page.getByRole('link', { name: 'load customers' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/automations/') && url.pathname !== '/automations');
    await page.getByRole('heading', { name: 'load customers' }).waitFor();
  });

  it('filters by scheduled, state and last run status, and restores the filters from the URL', async () => {
    const { automation } = await t.ok(`{ automation(name: "load users") { id } }`);
    const { runAutomation } = await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: automation.id });
    for (let i = 0; ; i++) {
      const { run } = await t.ok(`query($id: ID!) { run(id: $id) { status } }`, { id: runAutomation.id });
      if (run.status === 'SUCCESS') break;
      if (run.status === 'FAILED' || run.status === 'CANCELLED' || i > 200) throw new Error(`load users: ${run.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    await openPage('/automations');
    await waitForRows('automation-row', (await apiAutomations()).nodes);

    await page.getByLabel('Scheduled', { exact: true }).selectOption('true');
    const scheduled = await apiAutomations({ scheduled: true });
    expect(scheduled.nodes.every((n) => n.effectivelyScheduled)).toBe(true);
    expect(scheduled.nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['load users', 'nightly refresh', 'import web events']));
    await waitForRows('automation-row', scheduled.nodes);

    await page.getByLabel('Scheduled', { exact: true }).selectOption('false');
    const unscheduled = await apiAutomations({ scheduled: false });
    expect(unscheduled.nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['build segments', 'sessionize events']));
    await waitForRows('automation-row', unscheduled.nodes);

    await page.getByLabel('State', { exact: true }).selectOption('PAUSED');
    const paused = await apiAutomations({ scheduled: false, state: 'PAUSED' });
    expect(paused.nodes.map((n) => n.name)).toEqual(['build segments']);
    await waitForRows('automation-row', paused.nodes);
    expect(query()).toEqual({ state: 'PAUSED', scheduled: 'false' });

    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await waitForRows('automation-row', (await apiAutomations()).nodes);

    await page.getByLabel('Last run', { exact: true }).selectOption('SUCCESS');
    const succeeded = await apiAutomations({ lastRunStatus: 'SUCCESS' });
    expect(succeeded.nodes.map((n) => n.name)).toContain('load users');
    await waitForRows('automation-row', succeeded.nodes);
    const status = page.locator(`[data-testid="automation-row"][data-id="${automation.id}"]`).getByTestId('last-run-status');
    expect((await status.textContent())?.trim()).toBe('SUCCESS');
    expect(await status.getByRole('link').getAttribute('href')).toBe(`/runs/${runAutomation.id}`);

    await page.getByLabel('Scheduled', { exact: true }).selectOption('true');
    await page.getByLabel('Kind', { exact: true }).selectOption('ETL_STEP');
    const combined = await apiAutomations({ lastRunStatus: 'SUCCESS', scheduled: true, kind: 'ETL_STEP' });
    expect(combined.nodes.map((n) => n.name)).toEqual(['load users']);
    await waitForRows('automation-row', combined.nodes);
    expect(query()).toEqual({ kind: 'ETL_STEP', scheduled: 'true', lastRunStatus: 'SUCCESS' });

    await page.reload();
    await waitForRows('automation-row', combined.nodes);
    expect(await page.getByLabel('Last run', { exact: true }).inputValue()).toBe('SUCCESS');
    expect(await page.getByLabel('Scheduled', { exact: true }).inputValue()).toBe('true');
    expect(await page.getByLabel('Kind', { exact: true }).inputValue()).toBe('ETL_STEP');
    await screenshot(page, 'automation-list-filtered');

    await page.getByLabel('Last run', { exact: true }).selectOption('CANCELLED');
    await page.getByTestId('list-empty').waitFor();
    expect(await page.getByTestId('list-empty').textContent()).toContain('No automations match kind ETL step and scheduled and last run cancelled.');
  });

  it('reaches both lists from the top navigation', async () => {
    await openPage('/automations');
    await waitForRows('automation-row', (await apiAutomations()).nodes);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Datasources' }).click();
    await page.waitForURL((url) => url.pathname === '/datasources');
    await waitForRows('datasource-row', (await apiDatasources()).nodes);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Automations' }).click();
    await page.waitForURL((url) => url.pathname === '/automations');
    await waitForRows('automation-row', (await apiAutomations()).nodes);
  });
});
