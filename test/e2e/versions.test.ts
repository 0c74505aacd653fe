/**
 * The flow seed's review in Chromium: an editor edits a live ETL step (only its draft changes)
 * and sends it for approval; an admin finds it under "Awaiting your review", compares versions,
 * rejects it with a comment; the editor reopens it, fixes it and sends it again; the admin
 * approves it and makes it live; the dataflow graph then draws the new output.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { Role } from '../../core/enums.js';
import { buildWebIfStale, collectPageErrors, launchChromium, replaceCode, screenshot, waitForGraph, type RunningBrowser } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signInBrowser, type TestUser } from '../helpers/auth.js';
import { factories, type Ref } from '../factories/index.js';

let t: TestServer;
let chromium: RunningBrowser;
let editor: TestUser;
let admin: TestUser;
const open: { context: BrowserContext; errors: string[] }[] = [];

beforeAll(async () => {
  buildWebIfStale();
  t = await startTestServer();
  editor = await t.addUser(Role.EDITOR);
  admin = await t.addUser(Role.ADMIN);
  chromium = await launchChromium();
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await t?.close();
}, 90_000);

afterEach(async () => {
  const contexts = open.splice(0);
  for (const { context } of contexts) await context.close();
  expect(contexts.flatMap((c) => c.errors), 'the pages logged errors').toEqual([]);
});

async function signedIn(user: TestUser): Promise<Page> {
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await signInBrowser(context, t.url, user.email);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  open.push({ context, errors: collectPageErrors(page) });
  return page;
}

const row = (page: Page, number: number): Locator => page.locator(`[data-testid="version-row"][data-number="${number}"]`);

async function editTransform(page: Page, etl: Ref, sql: string, output?: Ref): Promise<void> {
  await page.goto(`${t.url}/automations/${etl.id}/edit`);
  if (output) {
    const select = page.getByTestId('field-outputId').locator('select');
    await select.locator(`option[value="${output.id}"]`).waitFor({ state: 'attached' });
    await select.selectOption(output.id);
  }
  await replaceCode(page, 'transform-editor', JSON.stringify({ sql }));
  await page.getByTestId('submit').click();
  await page.waitForURL((url) => url.pathname === `/automations/${etl.id}`);
}

describe('versions with approval, in the browser', () => {
  it('edit, send, compare, reject with a comment, fix, resend, approve, make live: the graph changes', { timeout: 120_000 }, async () => {
    const f = factories(t);
    const input = await f.storage({ name: 'orders', columns: [{ name: 'id', type: 'INTEGER' }] });
    const [oldOut, newOut] = [await f.storage({ name: 'orders_old' }), await f.storage({ name: 'orders_new' })];
    const etl = await f.etl(input, oldOut, { name: 'load orders', transform: { sql: 'select id from input' }, schedule: { cron: '0 * * * *' } }); // the graph shows scheduled flows by default
    await t.ok(`mutation { updateSettings(input: { approvalRequired: true }) { approvalRequired } }`);

    // The editor edits: only a draft changes.
    const ed = await signedIn(editor);
    await editTransform(ed, etl, 'select id from input where id > 0', newOut);
    const banner = ed.getByTestId('draft-banner');
    await banner.getByText(/v2 draft: \d+ changes?, not live/).waitFor();
    expect(await ed.getByTestId('pending-io').textContent()).toContain('orders_new');
    expect(await row(ed, 1).getAttribute('data-status')).toBe('LIVE');
    await row(ed, 2).getByTestId('submit').click();
    await row(ed, 2).and(ed.locator('[data-status="AWAITING_APPROVAL"]')).waitFor();

    // The admin finds it, compares, and rejects it with a comment.
    const ad = await signedIn(admin);
    await ad.goto(`${t.url}/automations`);
    await ad.getByTestId('nav-reviews').getByText('Awaiting your review (1)').waitFor();
    await ad.getByTestId('nav-reviews').click();
    await ad.getByTestId('awaiting-row').getByRole('link', { name: 'load orders' }).click();
    await row(ad, 2).getByTestId('review').click();
    const dialog = ad.getByTestId('review-dialog');
    await dialog.getByTestId('diff-text').first().waitFor();
    expect(await dialog.getByTestId('diff-text').getAttribute('data-path')).toBe('transform.sql');
    expect(await dialog.locator('[data-kind="ADDED"]').first().textContent()).toContain('where id > 0');
    expect(await dialog.getByTestId('diff-changes').textContent()).toContain('orders_new');
    // Picking v2 against itself: no differences; then back.
    await dialog.getByTestId('diff-from').selectOption({ label: 'v2 (Awaiting approval)' });
    await dialog.getByText('v2 → v2: no differences').waitFor();
    await dialog.getByTestId('diff-from').selectOption({ label: 'v1 (Live)' });
    await dialog.getByTestId('diff-text').first().waitFor();
    expect(await dialog.getByTestId('reject').isDisabled()).toBe(true); // a rejection says why
    await dialog.getByTestId('review-comment').fill('filter on id >= 10, not > 0');
    await dialog.getByTestId('reject').click();
    await row(ad, 2).and(ad.locator('[data-status="REJECTED"]')).waitFor();
    await screenshot(ad, 'versions-rejected');

    // The editor reads why, reopens the same version, fixes it and sends it again.
    await ed.reload();
    expect(await row(ed, 2).textContent()).toContain('filter on id >= 10, not > 0');
    await row(ed, 2).getByTestId('reopen').click();
    await row(ed, 2).and(ed.locator('[data-status="DRAFT"]')).waitFor();
    await editTransform(ed, etl, 'select id from input where id >= 10');
    await row(ed, 2).getByTestId('submit').click();
    await row(ed, 2).and(ed.locator('[data-status="AWAITING_APPROVAL"]')).waitFor();
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { ... on EtlStep { transform output { name } } } }`, { id: etl.id })).automation).toEqual({
      transform: { sql: 'select id from input' },
      output: { name: 'orders_old' },
    });

    // The admin approves and makes it live; the graph draws the new output.
    await ad.reload();
    await row(ad, 2).getByTestId('review').click();
    await ad.getByTestId('review-dialog').getByTestId('approve').click();
    await row(ad, 2).getByTestId('make-live').click();
    await row(ad, 2).and(ad.locator('[data-status="LIVE"]')).waitFor();
    expect(await row(ad, 2).getByTestId('live-period').textContent()).toMatch(/live from/);
    expect(await row(ad, 1).getAttribute('data-status')).toBe('RETIRED');
    expect(await ad.getByTestId('draft-banner').count()).toBe(0);

    await ad.goto(`${t.url}/`);
    const graph = await waitForGraph(ad);
    expect(graph.edges).toContainEqual(expect.objectContaining({ source: etl.id, target: newOut.id, kind: 'OUTPUT' }));
    expect(graph.edges.filter((e) => e.target === oldOut.id)).toEqual([]);
  });

  it('duplicates an automation and a datasource from their pages, under the name the user gives', { timeout: 60_000 }, async () => {
    const f = factories(t);
    await t.ok(`mutation { updateSettings(input: { approvalRequired: false }) { approvalRequired } }`);
    const [a, b] = [await f.storage({ name: 'dup source' }), await f.storage({ name: 'dup target' })];
    const etl = await f.etl(a, b, { name: 'dup me' });
    const page = await signedIn(editor);
    await page.goto(`${t.url}/automations/${etl.id}`);
    page.once('dialog', (dialog) => {
      expect(dialog.defaultValue()).toBe('dup me (copy)');
      void dialog.accept('dup me, second');
    });
    await page.getByTestId('duplicate').click();
    await page.getByRole('heading', { name: 'dup me, second' }).waitFor();
    expect(new URL(page.url()).pathname).not.toBe(`/automations/${etl.id}`);
    expect(await page.getByTestId('version-row').count()).toBe(1);

    await page.goto(`${t.url}/datasources/${b.id}`);
    page.once('dialog', (dialog) => void dialog.accept('dup target, empty'));
    await page.getByTestId('duplicate').click();
    await page.getByRole('heading', { name: 'dup target, empty' }).waitFor();
    // A name in use is refused and nothing is made.
    page.once('dialog', (dialog) => void dialog.accept('dup source'));
    await page.getByTestId('duplicate').click();
    await page.getByText(/already exists/).waitFor();
    expect((await t.ok(`{ datasources(search: "dup source", first: 5) { totalCount } }`)).datasources.totalCount).toBe(1);
  });
});
