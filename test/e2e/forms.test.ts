import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { replaceCode, screenshot, waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { demoInBrowser } from './demo-browser.js';

let t: TestServer;
let page: Page;

const browser = demoInBrowser({ env: { SCHEDULER_POLL_MS: '200' }, ready: (server) => void (t = server) });

const idOf = async (what: 'datasource' | 'automation', name: string): Promise<string> =>
  (await t.ok(`query($n: String!) { ${what}(name: $n) { id } }`, { n: name }))[what].id;

async function openPage(path: string): Promise<Page> {
  page = await browser.open(path);
  return page;
}

const field = (name: string): Locator => page.getByTestId(`field-${name}`);
const fieldError = (name: string): Locator => field(name).getByTestId('field-error');

/** Picks a datasource or automation in a RefSelect once its options have loaded. */
async function pick(name: string, id: string): Promise<void> {
  const select = field(name).locator('select');
  await select.locator(`option[value="${id}"]`).waitFor({ state: 'attached' });
  await select.selectOption(id);
}

const typeCode = (testid: string, text: string) => replaceCode(page, testid, text);

/** Saves the form and waits for the saved object's page; answers its id. */
async function submitAndLand(path: RegExp): Promise<string> {
  const landed = (pathname: string) => {
    const id = path.exec(pathname)?.[1];
    return id && id !== 'new' ? decodeURIComponent(id) : null;
  };
  await page.getByTestId('submit').click();
  await page.waitForURL((url) => landed(url.pathname) !== null);
  return landed(new URL(page.url()).pathname)!;
}

describe('Create and edit forms', () => {
  it('creates a datasource and an ETL step from the graph page, shows the server errors at their fields, runs it and turns its badge green', async () => {
    await openPage('/');
    await waitForGraph(page);
    await page.getByTestId('nav-new').click();
    await page.getByTestId('new-STORAGE').click();
    await field('name').locator('input').fill('big orders');
    await field('columns').getByRole('button', { name: 'Add column' }).click();
    await field('columns').getByRole('button', { name: 'Add column' }).click();
    await field('columns').getByLabel('Column 1 name').fill('id');
    await field('columns').getByLabel('Column 2 name').fill('id');
    await page.getByTestId('submit').click();
    await fieldError('columns').waitFor();
    expect(await fieldError('columns').textContent()).toMatch(/id/);
    expect((await t.ok(`query { datasources(search: "big orders") { totalCount } }`)).datasources.totalCount).toBe(0);
    await field('columns').getByRole('button', { name: 'Remove column id' }).last().click();
    const outputId = await submitAndLand(/^\/datasources\/([^/]+)$/);
    await page.getByRole('heading', { name: 'big orders' }).waitFor();

    await page.getByTestId('nav-new').click();
    await page.getByTestId('new-ETL_STEP').click();
    await page.getByRole('heading', { name: 'New ETL step' }).waitFor();
    await field('name').locator('input').fill('big orders only');
    await pick('inputId', await idOf('datasource', 'orders.csv'));
    await pick('outputId', outputId);
    await typeCode('transform-editor', '{ "steps": [ { "op": "filter", "where": "amount >=" } ] }');
    await page.getByTestId('submit').click();
    await fieldError('transform').waitFor();
    expect(await fieldError('transform').textContent()).toMatch(/where|expression|end/i);

    await typeCode('transform-editor', '{ "steps": [ { "op": "filter", "where": "amount >= 100" } ');
    expect(await page.getByTestId('json-syntax').textContent()).toMatch(/not valid JSON/);
    await page.getByTestId('submit').click();
    expect(await fieldError('transform').textContent()).toMatch(/not valid JSON/);

    await typeCode('transform-editor', '{ "steps": [ { "op": "filter", "where": "amount >= 100" } ] }');
    await field('name').locator('input').fill('load users'); // taken by the demo
    await page.getByTestId('submit').click();
    await fieldError('name').waitFor();
    expect(await fieldError('name').textContent()).toMatch(/load users/);
    expect(await field('name').locator('input').evaluate((el) => el === (globalThis as any).document.activeElement)).toBe(true);
    await screenshot(page, 'form-field-error');

    await field('name').locator('input').fill('big orders only');
    const etlId = await submitAndLand(/^\/automations\/([^/]+)$/);
    const saved = await t.ok(`query($id: ID!) { automation(id: $id) { name ... on EtlStep { transform input { name } output { name } } } }`, { id: etlId });
    expect(saved.automation).toEqual({ name: 'big orders only', transform: { steps: [{ op: 'filter', where: 'amount >= 100' }] }, input: { name: 'orders.csv' }, output: { name: 'big orders' } });

    await page.getByTestId('run-now').click();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid="run-status"]')?.textContent === 'SUCCESS', undefined, { timeout: 15_000 });
    const rows = await t.ok(`query($id: ID!) { rows(datasourceId: $id) { nodes } }`, { id: outputId });
    expect(rows.rows.nodes.map((r: { id: number }) => r.id)).toEqual([1001, 1004]);

    await page.goto(`${t.url}/?scheduledOnly=false`);
    const graph = await waitForGraph(page);
    expect(graph.nodes.find((n) => n.id === etlId)?.classes).toContain('last-success');
  });

  it('edits an ETL step: previews an unsaved transform, checks a schedule with its next run times, saves both', async () => {
    const id = await idOf('automation', 'load sample orders');
    await openPage(`/automations/${id}`);
    await page.getByTestId('edit').click();
    await page.getByRole('heading', { name: 'Edit load sample orders' }).waitFor();
    await typeCode('transform-editor', '{ "steps": [ { "op": "filter", "where": "amount < 100" }, { "op": "select", "columns": ["id"] } ] }');
    await page.getByTestId('run-preview').click();
    const output = page.getByTestId('preview-output');
    await output.waitFor();
    expect(await output.locator('tbody tr').allTextContents()).toEqual(['1002', '1003']);
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { ... on EtlStep { transform } } }`, { id })).automation.transform).toEqual({});

    await typeCode('transform-editor', '{ "steps": [ { "op": "select", "columns": ["nope"] } ] }');
    await page.getByTestId('run-preview').click();
    await fieldError('transform').waitFor();
    expect(await fieldError('transform').textContent()).toMatch(/nope/);

    await typeCode('transform-editor', '{ "steps": [] }');
    await page.getByTestId('schedule-enabled').check();
    await field('schedule.cron').locator('input').fill('61 * * * *');
    await page.getByTestId('schedule-problem').waitFor();
    expect(await page.getByTestId('schedule-problem').textContent()).toMatch(/minute field "61"/);
    await field('schedule.cron').locator('input').fill('0 6 * * 1-5');
    await field('schedule.timezone').locator('input').fill('Europe/Paris');
    const times = page.getByTestId('schedule-times').locator('time');
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('[data-testid="schedule-times"] time').length === 5);
    const expected = (await t.ok(`query { scheduleTimes(cron: "0 6 * * 1-5", timezone: "Europe/Paris") }`)).scheduleTimes;
    expect(await times.evaluateAll((els) => els.map((el) => el.getAttribute('datetime')))).toEqual(expected);
    await screenshot(page, 'automation-edit');

    await submitAndLand(/^\/automations\/([^/]+)$/);
    expect(await page.getByTestId('schedule').textContent()).toMatch(/0 6 \* \* 1-5.*Europe\/Paris.*next run/);
    const after = await t.ok(`query($id: ID!) { automation(id: $id) { schedule { cron timezone nextRunAt } } }`, { id });
    expect(after.automation.schedule).toMatchObject({ cron: '0 6 * * 1-5', timezone: 'Europe/Paris', nextRunAt: expected[0] });

    // Removing the schedule again is one unticked box.
    await page.getByTestId('edit').click();
    await page.getByTestId('schedule-enabled').uncheck();
    await submitAndLand(/^\/automations\/([^/]+)$/);
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { schedule { cron } } }`, { id })).automation.schedule).toBeNull();
  });

  it('edits an SFTP import by selecting a stored connection: no password is ever typed or shown in the flow', async () => {
    const id = await idOf('automation', 'import orders');
    const other = (
      await t.ok(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id name } }`, {
        input: { name: 'internal sftp', type: 'SFTP', host: 'sftp.internal.example', port: 2222, username: 'loader', password: 'internal-secret' },
      })
    ).createConnection;
    await openPage(`/automations/${id}/edit`);
    const select = page.getByTestId('connection-select');
    await select.locator('option', { hasText: 'internal sftp' }).waitFor({ state: 'attached' });
    expect(await select.locator('option:checked').textContent()).toMatch(/^import orders — tributary@sftp\.example\.com/);
    expect(await page.locator('input[type="password"]').count()).toBe(0);
    expect(await page.content()).not.toMatch(/demo-password|internal-secret/);
    await select.selectOption(other.id);
    await submitAndLand(/^\/automations\/([^/]+)$/);
    const query = `query($id: ID!) { automation(id: $id) { ... on SftpImport { host port hasPassword connection { name } } } }`;
    expect((await t.ok(query, { id })).automation).toEqual({ host: 'sftp.internal.example', port: 2222, hasPassword: true, connection: { name: 'internal sftp' } });

    // Without a connection the form is refused on that field, and nothing changes.
    await page.getByTestId('edit').click();
    await select.waitFor();
    await select.selectOption('');
    await page.getByTestId('submit').click();
    await fieldError('connectionId').waitFor();
    expect((await t.ok(query, { id })).automation.connection).toEqual({ name: 'internal sftp' });
  });

  it('creates a chain task with its steps added, reordered and removed', async () => {
    const [a, b, c] = await Promise.all(['load users', 'load customers', 'aggregate revenue'].map((n) => idOf('automation', n)));
    await openPage('/automations/new?kind=CHAIN_TASK');
    await field('name').locator('input').fill('morning chain');
    for (const step of [a, b, c]) await pick('stepIds', step);
    const steps = page.getByTestId('chain-steps-item');
    expect(await steps.count()).toBe(3);
    await page.getByRole('button', { name: 'Move aggregate revenue up' }).click();
    await page.getByRole('button', { name: 'Remove load users' }).click();
    const chainId = await submitAndLand(/^\/automations\/([^/]+)$/);
    const chain = await t.ok(`query($id: ID!) { automation(id: $id) { ... on ChainTask { steps { name } } } }`, { id: chainId });
    expect(chain.automation.steps).toEqual([{ name: 'aggregate revenue' }, { name: 'load customers' }]);
  });

  it('edits a script in its code editor with its declared usage and variables', async () => {
    const id = await idOf('automation', 'revenue report');
    await openPage(`/automations/${id}/edit`);
    await page.getByTestId('code-editor').locator('.cm-content').waitFor();
    expect(await page.getByTestId('code-editor').locator('.cm-content').textContent()).toContain('tributary.read("daily-revenue")');
    expect(await page.getByTestId('script-inputs-item').allTextContents()).toEqual([expect.stringContaining('daily-revenue'), expect.stringContaining('users-storage')]);
    await typeCode('variables-editor', '{ "kwargs": { "currency": "USD" }');
    await page.getByTestId('submit').click();
    expect(await fieldError('variables').textContent()).toMatch(/not valid JSON/);
    await typeCode('variables-editor', '{ "args": "x" }');
    await page.getByTestId('submit').click();
    await page.waitForFunction(() => /variables\.args must be a list/.test((globalThis as any).document.querySelector('[data-testid="field-variables"] [data-testid="field-error"]')?.textContent ?? ''));
    await typeCode('variables-editor', '{ "kwargs": { "currency": "USD" } }');
    await page.getByTestId('script-inputs').getByRole('button', { name: 'Remove users-storage' }).click();
    await submitAndLand(/^\/automations\/([^/]+)$/);
    const saved = await t.ok(`query($id: ID!) { automation(id: $id) { inputs { name } ... on Script { variables } } }`, { id });
    expect(saved.automation).toEqual({ inputs: [{ name: 'daily-revenue' }], variables: { kwargs: { currency: 'USD' } } });
  });

  it('edits a join datasource, with the refusal of a cycle shown at the join', async () => {
    const id = await idOf('datasource', 'ORDERS <> CUSTOMERS');
    await openPage(`/datasources/${id}`);
    await page.getByTestId('edit').click();
    await field('join.leftKey').locator('input').waitFor();
    expect(await field('join.leftKey').locator('input').inputValue()).toBe('customer_id');
    await pick('join.rightId', await idOf('datasource', 'SEGMENT ORDERS'));
    await page.getByTestId('submit').click();
    await page.getByTestId('form-error').or(fieldError('join.rightId')).first().waitFor();
    expect(await page.locator('[data-testid="form-error"], [data-testid="field-error"]').first().textContent()).toMatch(/depend on itself/);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { join { right { name } } } }`, { id })).datasource.join.right.name).toBe('CUSTOMERS');
    await pick('join.rightId', await idOf('datasource', 'CUSTOMERS'));
    await field('description').locator('textarea').fill('Orders with their customer (edited)');
    await submitAndLand(/^\/datasources\/([^/]+)$/);
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { description } }`, { id })).datasource.description).toBe('Orders with their customer (edited)');
  });
});
