/**
 * End to end in Chromium: an admin stores a PostgreSQL connection and tests it, an editor's wizard
 * sets up a connector for a real database, the ingestion runs, its rows show on the chart, the
 * connector pauses and resumes, and the overview shows the runs and what comes next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite } from '../helpers/e2e.js';
import { screenshot } from '../helpers/browser.js';
import { finished } from '../scheduler/helpers.js';
import { PG_SOURCE, postgresSource, type SourceDb } from '../connections/sources.js';

const suite = browserSuite({ SCHEDULER_POLL_MS: '200' });
let source: SourceDb;
beforeAll(async () => {
  source = await postgresSource();
  await source.sql(`create table customers (id int primary key, name text)`);
  await source.sql(`insert into customers values (1, 'Ada'), (2, 'Grace'), (3, 'Edsger')`);
});
afterAll(() => source.drop());

describe('connectors in the browser', () => {
  it('store a connection, run the wizard for a PostgreSQL connector, watch its rows, pause and resume it, and see the overview', { timeout: 120_000 }, async () => {
    const { t } = suite;
    const page = await suite.signedIn(t.admin);
    page.on('dialog', (dialog) => void dialog.accept());

    // The credential store: typed once, by an admin, tested live.
    await page.goto(`${t.url}/connections`);
    await page.getByTestId('new-connection').click();
    await page.getByTestId('connection-name').fill('crm database');
    await page.getByTestId('connection-type').selectOption('POSTGRES');
    await page.getByTestId('connection-host').fill(PG_SOURCE.host);
    await page.getByTestId('connection-username').fill(PG_SOURCE.username);
    await page.getByTestId('connection-database').fill(source.name);
    await page.getByTestId('save-connection').click();
    const card = page.getByTestId('connection').filter({ hasText: 'crm database' });
    await card.getByTestId('test-connection').click();
    await expect.poll(() => card.getByTestId('connection-test-result').textContent(), { timeout: 15_000 }).toMatch(/✓ connected to trib_src_/);

    // The wizard, step by step.
    await page.goto(`${t.url}/connectors`);
    await page.getByTestId('new-connector-name').fill('CRM');
    await page.getByTestId('new-connector-type').selectOption('POSTGRES');
    await page.getByTestId('create-connector').click();
    await page.waitForURL(/\/connectors\/[^/]+$/);
    const connectorId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const wizard = page.getByTestId('connector-wizard');
    await wizard.getByTestId('prerequisite').first().waitFor();
    const boxes = await wizard.getByTestId('prerequisite').all();
    expect(boxes.length).toBe(3);
    for (const box of boxes.slice(0, -1)) await box.check();
    expect(await wizard.getByTestId('wizard-next').isDisabled()).toBe(true); // every item must be confirmed
    await boxes.at(-1)!.check();
    await wizard.getByTestId('wizard-next').click();
    await wizard.getByTestId('wizard-prefix').fill('crm_');
    await wizard.getByTestId('wizard-cron').fill('0 3 * * *');
    await wizard.getByTestId('wizard-next').click();
    const select = wizard.getByTestId('connection-select');
    await select.locator('option', { hasText: 'crm database' }).waitFor({ state: 'attached' });
    await select.selectOption({ label: (await select.locator('option', { hasText: 'crm database' }).textContent())! });
    await wizard.getByTestId('wizard-next').click();
    await wizard.getByTestId('source-table').first().waitFor();
    await wizard.locator('[data-testid="source-table"][value="public.customers"]').check();
    await wizard.getByTestId('wizard-finish').click();
    await expect.poll(() => page.getByTestId('connector-status').textContent()).toBe('started');
    const row = page.getByTestId('connector-ingestion');
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain('crm_public.customers');

    // A run, then its rows on the chart.
    const { connector } = await t.ok(`query($id: ID!) { connector(id: $id) { ingestions { id } } }`, { id: connectorId });
    const run = (await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: connector.ingestions[0].id })).runAutomation;
    expect((await finished(t, run.id, 60_000)).status).toBe('SUCCESS');
    await page.reload();
    await expect.poll(() => page.getByTestId('ingestion-chart').locator('[data-rows]').getAttribute('data-rows')).toBe('3');
    expect(await page.getByTestId('ingestion-chart').locator('canvas').count()).toBeGreaterThan(0);
    await screenshot(page, 'connector-page');

    // Pause and resume from the page.
    await page.getByTestId('pause-connector').click();
    await expect.poll(() => page.getByTestId('connector-status').textContent()).toBe('paused');
    expect((await t.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: connector.ingestions[0].id })).extensions?.code).toBe('CONFLICT');
    await page.goto(`${t.url}/overview`);
    await expect.poll(() => page.getByTestId('overview-connectors').textContent()).toMatch(/CRM\s*paused/);
    await page.goto(`${t.url}/connectors/${encodeURIComponent(connectorId)}`);
    await page.getByTestId('resume-connector').click();
    await expect.poll(() => page.getByTestId('connector-status').textContent()).toBe('started');

    // The overview: the run of the last 24 hours, nothing failing, the next scheduled run.
    await page.goto(`${t.url}/overview`);
    await expect.poll(() => page.getByTestId('overview-run-totals').textContent()).toMatch(/^1 succeeded, 0 failed/);
    expect(await page.getByTestId('overview-failing').textContent()).toMatch(/Nothing is failing/);
    await expect.poll(() => page.getByTestId('overview-upcoming').textContent()).toMatch(/CRM: public\.customers/);
    expect(await page.getByTestId('overview-connectors').textContent()).toMatch(/Every connector is running/);
    await screenshot(page, 'overview-page');
    await page.getByTestId('overview-upcoming').locator('a').first().click();
    await page.waitForURL(/\/automations\/[^/]+$/);
    await page.getByTestId('ingestion-chart').waitFor();
  });
});
