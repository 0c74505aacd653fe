import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { loadDemo } from '../../api/demo/workspace.js';
import { SecretBox } from '../../core/secrets.js';
import { buildWebIfStale, collectPageErrors, launchChromium, type RunningBrowser } from '../helpers/browser.js';
import { signInBrowser } from '../helpers/auth.js';
import { TEST_SECRET_KEY, startTestServer, type TestServer } from '../helpers/server.js';

export interface DemoBrowser {
  /** A new 1280×800 page; after the test it is closed and must have logged no error. */
  newPage(): Promise<Page>;
  /**
   * A new page at `path` of the server that accepts confirmation dialogs and waits at most 10 s
   * for an element, so a missing one fails at its own line rather than at the test's timeout.
   */
  open(path: string): Promise<Page>;
}

/**
 * Registers the hooks every e2e suite needs: the web UI built, the real server on a temp data dir
 * with the demo workspace (its schedules in the job store), Debian's Chromium; after each test
 * the page is closed and its console, page and request errors must be none.
 */
export function demoInBrowser(options: { env?: Record<string, string>; ready: (server: TestServer) => Promise<void> | void }): DemoBrowser {
  let server: TestServer | undefined;
  let chromium: RunningBrowser | undefined;
  const open: { page: Page; errors: string[] }[] = [];

  beforeAll(async () => {
    buildWebIfStale();
    server = await startTestServer(options.env);
    await loadDemo(server.server.orm, server.dataDir, SecretBox.fromKey(TEST_SECRET_KEY));
    await server.server.scheduler.reconcile();
    chromium = await launchChromium();
    await signInBrowser(chromium.context, server.url, server.admin.email);
    await options.ready(server);
  }, 240_000);

  afterAll(async () => {
    const started = Date.now();
    // Slow teardowns have timed out this hook: every 20 s, say what it still waits for (the hook's
    // timeout would otherwise report nothing but its own line).
    let stage = 'closing Chromium';
    const watchdog = setInterval(() => {
      const runs = server?.server.scheduler.executor.running() ?? [];
      const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map((h) => h.constructor.name);
      console.warn(`e2e teardown still ${stage} after ${Date.now() - started} ms; runs in flight ${JSON.stringify(runs)}; handles ${JSON.stringify(handles)}`);
    }, 20_000);
    try {
      await chromium?.close();
      stage = 'closing the server';
      await server?.close();
    } finally {
      clearInterval(watchdog);
    }
  }, 90_000);

  afterEach(async () => {
    const pages = open.splice(0);
    for (const { page } of pages) await page.close();
    expect(pages.flatMap((p) => p.errors), 'the page logged errors').toEqual([]);
  });

  async function newPage(): Promise<Page> {
    const page = await chromium!.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    open.push({ page, errors: collectPageErrors(page) });
    return page;
  }

  return {
    newPage,
    async open(path) {
      const page = await newPage();
      page.setDefaultTimeout(10_000);
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(`${server!.url}${path}`);
      return page;
    },
  };
}
