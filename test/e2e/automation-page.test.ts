import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { demoInBrowser } from './demo-browser.js';

let t: TestServer;
let page: Page;

const automationId = async (name: string): Promise<string> => (await t.ok(`query($n: String!) { automation(name: $n) { id } }`, { n: name })).automation.id;

const browser = demoInBrowser({ env: { SCHEDULER_POLL_MS: '200' }, ready: (server) => void (t = server) });

async function openPage(path: string): Promise<Page> {
  page = await browser.open(path);
  return page;
}

describe('Automation and run pages', () => {
  it('Run now queues a run that succeeds in the history; its run page shows the log; the graph badge turns green', async () => {
    const id = await automationId('load customers');
    await openPage(`/automations/${id}`);
    await page.getByRole('heading', { name: 'load customers' }).waitFor();
    expect(await page.getByTestId('schedule').textContent()).toContain('run by a scheduled chain task');
    await page.getByTestId('run-now').click();
    const status = page.getByTestId('run-status').first();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid="run-status"]')?.textContent === 'SUCCESS', undefined, { timeout: 15_000 });
    await screenshot(page, 'automation-page');
    await status.click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/'));
    await page.getByTestId('run-page-status').getByText('SUCCESS').waitFor();
    expect(await page.getByTestId('run-log').textContent()).toMatch(/finished: 3 row\(s\) read, 3 written/);
    await page.close();

    await openPage('/?scheduledOnly=false');
    const graph = await waitForGraph(page);
    expect(graph.nodes.find((n) => n.id === id)?.classes).toContain('last-success');
  });

  it('a chain run page follows the run live and lists its steps', async () => {
    const id = await automationId('nightly refresh');
    const { runAutomation } = await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id });
    await openPage(`/runs/${runAutomation.id}`); // opened while it is queued or running: the page polls
    await page.getByTestId('run-page-status').getByText('SUCCESS').waitFor({ timeout: 20_000 });
    const steps = await page.getByTestId('run-table').locator('tbody tr').allTextContents();
    expect(steps.map((s) => s.split('SUCCESS')[0]!.trim())).toEqual(['load users', 'load customers', 'load sample orders', 'reporting']);
    expect(await page.getByTestId('run-log').textContent()).toContain('step 4/4 "reporting": SUCCESS');
    await screenshot(page, 'run-page');
  });

  it('Pause and Start change the state; a paused automation cannot be run', async () => {
    const id = await automationId('load ad spend');
    await openPage(`/automations/${id}`);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('automation-state').getByText('PAUSED').waitFor();
    expect(await page.getByTestId('run-now').isDisabled()).toBe(true);
    expect(await page.getByTestId('schedule').textContent()).toContain('not running while not active');
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { state } }`, { id })).automation.state).toBe('PAUSED');
    await page.getByTestId('start').click();
    await page.getByTestId('automation-state').getByText('ACTIVE').waitFor();
    expect(await page.getByTestId('schedule').textContent()).toMatch(/next run/);
  });

  it('a refused delete lists the chain tasks that trigger it and deletes nothing; a free automation is deleted with its runs', async () => {
    const id = await automationId('load users');
    await openPage(`/automations/${id}`);
    await page.getByTestId('delete-automation').click();
    const refused = page.getByTestId('delete-refused');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/Not deleted\.[\s\S]*nightly refresh/);
    expect(await refused.getByRole('link', { name: 'nightly refresh' }).getAttribute('href')).toBe(`/automations/${await automationId('nightly refresh')}`);
    expect(await automationId('load users')).toBe(id);
    await page.close();

    const churn = await automationId('churn model');
    await openPage(`/automations/${churn}`);
    await page.getByTestId('delete-automation').click();
    await page.waitForURL((url) => url.pathname === '/automations');
    expect((await t.ok(`{ automation(name: "churn model") { id } }`)).automation).toBeNull();
  });

  it('shows what each kind does: the steps of a chain in order, an ETL transform, script code, an SFTP server without its password', async () => {
    await openPage(`/automations/${await automationId('nightly refresh')}`);
    const steps = page.getByTestId('definition-steps').locator('li a');
    await steps.first().waitFor();
    expect(await steps.allTextContents()).toEqual(['load users', 'load customers', 'load sample orders', 'reporting']);
    await page.goto(`${t.url}/automations/${await automationId('load users')}`);
    expect(JSON.parse((await page.getByTestId('definition-transform').textContent())!)).toEqual({
      steps: [{ op: 'select', columns: ['id', 'email', 'country'] }, { op: 'filter', where: 'email is not null' }],
    });
    await page.goto(`${t.url}/automations/${await automationId('revenue report')}`);
    expect(await page.getByTestId('definition-code').textContent()).toContain('tributary.read("daily-revenue")');
    await page.goto(`${t.url}/automations/${await automationId('import orders')}`);
    expect(await page.getByTestId('definition').textContent()).toMatch(/tributary@sftp\.example\.com:22 \(password stored\)/);
    expect(await page.content()).not.toContain('demo-password');
  });
});
