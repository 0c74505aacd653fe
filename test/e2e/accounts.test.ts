/**
 * Accounts in Chromium: nobody sees the dashboard without signing in; the login page brings a
 * user back to where they were going; a viewer sees the graph but no Edit or Run control; an
 * editor runs an automation; signing out ends the session.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { loadDemo } from '../../api/demo/workspace.js';
import { SecretBox } from '../../core/secrets.js';
import { Role } from '../../core/enums.js';
import { buildWebIfStale, collectPageErrors, launchChromium, screenshot, waitForGraph, type RunningBrowser } from '../helpers/browser.js';
import { TEST_SECRET_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { TEST_PASSWORD, type TestUser } from '../helpers/auth.js';

let t: TestServer;
let chromium: RunningBrowser;
let viewer: TestUser;
let editor: TestUser;
const open: { context: BrowserContext; errors: string[] }[] = [];

beforeAll(async () => {
  buildWebIfStale();
  t = await startTestServer({ SCHEDULER_POLL_MS: '200' });
  await loadDemo(t.server.orm, t.dataDir, SecretBox.fromKey(TEST_SECRET_KEY));
  await t.server.scheduler.reconcile();
  viewer = await t.addUser(Role.VIEWER);
  editor = await t.addUser(Role.EDITOR);
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

/** A page in a browser context of its own: no cookie from another test. */
async function freshPage(): Promise<Page> {
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('dialog', (dialog) => void dialog.accept());
  open.push({ context, errors: collectPageErrors(page) });
  return page;
}

async function signInThroughPage(page: Page, path: string, email: string): Promise<void> {
  await page.goto(`${t.url}${path}`);
  await page.waitForURL((url) => url.pathname === '/login');
  expect(new URL(page.url()).searchParams.get('next')).toBe(path);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(TEST_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((url) => url.pathname + url.search === path);
}

const automationId = async (name: string): Promise<string> => (await t.ok(`query($n: String!) { automation(name: $n) { id } }`, { n: name })).automation.id;

describe('accounts in the browser', () => {
  it('sends a visitor to sign in, says why a sign-in failed, and brings a viewer back to the graph without Edit controls', async () => {
    const page = await freshPage();
    await page.goto(`${t.url}/login`);
    await page.getByTestId('login-email').fill(viewer.email);
    await page.getByTestId('login-password').fill('not the password at all');
    await page.getByTestId('login-submit').click();
    expect(await page.getByTestId('login-error').innerText()).toBe('wrong email or password');

    await signInThroughPage(page, '/?scheduledOnly=false', viewer.email);
    const graph = await waitForGraph(page);
    expect(graph.nodes.length).toBeGreaterThan(5);
    expect(await page.getByTestId('user-menu').innerText()).toContain('(viewer)');
    expect(await page.getByTestId('nav-new').count()).toBe(0);
    await screenshot(page, 'accounts-viewer-graph');

    await page.goto(`${t.url}/automations/${await automationId('load users')}`);
    await page.getByRole('heading', { name: 'load users' }).waitFor();
    expect(await page.getByTestId('read-only').innerText()).toMatch(/need the editor role/);
    expect(await page.getByTestId('edit').count()).toBe(0);
    expect(await page.getByTestId('run-now').count()).toBe(0);
  });

  it('never sends a signed-in user to another site, whatever `next` says', async () => {
    const page = await freshPage();
    for (const next of ['//evil.example/', '/%09/evil.example', 'https://evil.example/']) {
      await page.goto(`${t.url}/login?next=${encodeURIComponent(decodeURIComponent(next))}`);
      await page.getByTestId('login-email').fill(viewer.email);
      await page.getByTestId('login-password').fill(TEST_PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.waitForURL((url) => url.pathname === '/');
      expect(new URL(page.url()).origin, next).toBe(t.url);
    }
  });

  it('lets an editor run an automation, and signing out ends the session', async () => {
    const page = await freshPage();
    const id = await automationId('load customers');
    await signInThroughPage(page, `/automations/${id}`, editor.email);
    await page.getByTestId('run-now').click();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid="run-status"]')?.textContent === 'SUCCESS', undefined, { timeout: 15_000 });

    // The automation's History shows who ran it.
    await page.reload();
    await page.getByTestId('history-entry').first().waitFor();
    expect(await page.getByTestId('history').innerText()).toMatch(new RegExp(`${editor.email.replace(/[.]/g, '\\.')}\\s+runAutomation`));

    await page.getByTestId('logout').click();
    await page.waitForURL((url) => url.pathname === '/login');
    // The old page's session is gone: coming back asks to sign in again.
    await page.goto(`${t.url}/automations/${id}`);
    await page.waitForURL((url) => url.pathname === '/login');
  });

  it('lets an admin create a user, and a token shown once with a copy button', async () => {
    const page = await freshPage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    await signInThroughPage(page, '/users', t.admin.email);
    await page.getByTestId('new-user-email').fill('analyst@example.com');
    await page.getByTestId('new-user-name').fill('Analyst');
    await page.getByTestId('new-user-password').fill('an analyst password');
    await page.getByTestId('new-user-role').selectOption('EDITOR');
    await page.getByTestId('new-user-submit').click();
    await page.getByTestId('user-row').filter({ hasText: 'analyst@example.com' }).waitFor();
    expect((await t.ok('{ users { email role } }')).users).toContainEqual({ email: 'analyst@example.com', role: 'EDITOR' });

    await page.getByTestId('nav-tokens').click();
    await page.waitForURL((url) => url.pathname === '/tokens');
    await page.getByTestId('new-token-name').fill('nightly ci');
    await page.getByTestId('new-token-role').selectOption('VIEWER');
    await page.getByTestId('new-token-submit').click();
    const token = await page.getByTestId('created-token-value').innerText();
    expect(token).toMatch(/^trt_[\w-]{43}$/);
    await page.getByTestId('copy-token').click();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(token);
    await page.getByTestId('token-row').filter({ hasText: 'nightly ci' }).waitFor();
    expect(await t.as({ token }).ok('{ me { email role } }')).toEqual({ me: { email: t.admin.email, role: 'ADMIN' } });
    await screenshot(page, 'accounts-tokens');
    // Shown once: after a reload, only its name is listed.
    await page.reload();
    await page.getByTestId('token-row').filter({ hasText: 'nightly ci' }).waitFor();
    expect(await page.getByTestId('created-token').count()).toBe(0);
  });
});
