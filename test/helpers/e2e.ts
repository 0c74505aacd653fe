import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { buildWebIfStale, collectPageErrors, launchChromium, type RunningBrowser } from './browser.js';
import { startTestServer, type TestServer } from './server.js';
import { signInBrowser, type TestUser } from './auth.js';

export interface BrowserSuite {
  /** The server (started before the file's tests). */
  readonly t: TestServer;
  readonly chromium: RunningBrowser;
  /** A new page signed in as `user`, in a context of its own; closed after the test, which fails if the page logged errors. */
  signedIn(user: TestUser, options?: { acceptDownloads?: boolean }): Promise<Page>;
}

/**
 * A real server and Chromium for one e2e file: both started before its tests and closed after,
 * the web UI built first if it is stale.
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  let t: TestServer | undefined;
  let chromium: RunningBrowser | undefined;
  const open: { context: BrowserContext; errors: string[] }[] = [];
  beforeAll(async () => {
    buildWebIfStale();
    t = await startTestServer(env);
    chromium = await launchChromium();
  }, 240_000);
  afterEach(async () => {
    const contexts = open.splice(0);
    for (const { context } of contexts) await context.close();
    expect(contexts.flatMap((c) => c.errors), 'the pages logged errors').toEqual([]);
  });
  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  }, 90_000);
  return {
    get t() {
      return t!;
    },
    get chromium() {
      return chromium!;
    },
    async signedIn(user, options = {}) {
      const context = await chromium!.browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      await signInBrowser(context, t!.url, user.email);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      open.push({ context, errors: collectPageErrors(page) });
      return page;
    },
  };
}
