import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Exactly the flags the e2e tests run Chromium with (plus a fresh --user-data-dir and the DevTools port). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where tests save screenshots (gitignored). */
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Builds web/dist when it is missing or older than its sources (what `npm start` does too). */
export function buildWebIfStale(): void {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'web/build.ts', '--if-stale'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) throw new Error(`building the web UI failed (status ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

export interface RunningBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts /usr/bin/chromium with CHROMIUM_FLAGS and a temp profile, and connects to it over the
 * DevTools protocol. Fails, saying how to install it, when Chromium is missing.
 */
export async function launchChromium(): Promise<RunningBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the e2e tests need Debian's Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'tributary-chromium-'));
  // Its own process group, so stopping it also stops the helper processes it started.
  const child = spawn(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const removeProfile = () => rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  try {
    const endpoint = await devToolsEndpoint(child);
    const browser = await chromium.connectOverCDP(endpoint);
    const context = browser.contexts()[0] ?? (await browser.newContext());
    return {
      browser,
      context,
      async close() {
        // Browser.close lets Chromium shut down cleanly; a CDP-connected browser.close() only disconnects.
        // Bounded: a busy or wedged DevTools connection must not hold the suite; stop() kills it anyway.
        const politely = (async () => {
          const session = await browser.newBrowserCDPSession().catch(() => null);
          await session?.send('Browser.close').catch(() => {});
        })();
        await Promise.race([politely, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
        await stop(child);
        removeProfile();
      },
    };
  } catch (error) {
    await stop(child);
    removeProfile();
    throw error;
  }
}

function devToolsEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Chromium did not open its DevTools port within 30 s:\n${output}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    child.once('error', (error) => fail(new Error(`cannot start ${CHROMIUM}: ${error.message}`)));
    child.once('exit', (code) => fail(new Error(`Chromium exited with status ${code} before it was ready:\n${output}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      output += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(match[1]!);
      }
    });
  });
}

/** Waits up to 5 s for Chromium to exit, then signals its process group (TERM, then KILL); gives up after 20 s. */
async function stop(child: ChildProcess): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const term = setTimeout(() => signalGroup('SIGTERM'), 5_000);
    const kill = setTimeout(() => signalGroup('SIGKILL'), 10_000);
    // Bounded: a process that outlives SIGKILL (stuck in the kernel) must not hold the suite's teardown.
    let gaveUp: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      gaveUp = setTimeout(() => {
        console.warn(`Chromium (pid ${child.pid}) had not exited 20 s after it was asked to; leaving it`);
        resolve();
      }, 20_000);
    });
    await Promise.race([exited, late]);
    clearTimeout(term);
    clearTimeout(kill);
    clearTimeout(gaveUp);
  }
  signalGroup('SIGKILL'); // helpers that outlived the browser process
}

/** Errors the page logs (console.error, uncaught exceptions, failed requests), collected for assertions. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? '';
    if (!failure.includes('ERR_ABORTED')) errors.push(`request failed: ${request.url()} ${failure}`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** What the Dataflow page exposes as `window.__tributaryGraph` after each render (the parts tests read). */
export interface ExposedGraph {
  nodes: { id: string; type: string; classes: string[]; name: string }[];
  edges: { source: string; target: string; kind: string }[];
  renders: number;
}

/** Waits until the Dataflow page has drawn more than `after` times and says it is ready; returns what it drew. */
export async function waitForGraph<T extends ExposedGraph = ExposedGraph>(page: Page, after = 0): Promise<T> {
  await page.waitForFunction(
    (n) => {
      const w = globalThis as unknown as { __tributaryGraph?: { renders: number }; document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } };
      const state = w.document.querySelector('[data-testid="graph-state"]')?.getAttribute('data-state');
      return (w.__tributaryGraph?.renders ?? 0) > n && state === 'ready';
    },
    after,
    { timeout: 15_000 },
  );
  return page.evaluate(() => (globalThis as unknown as { __tributaryGraph: T }).__tributaryGraph);
}

/** Replaces the text of the CodeMirror editor `testid` the way a user's paste would. */
export async function replaceCode(page: Page, testid: string, text: string): Promise<void> {
  const content = page.getByTestId(testid).locator('.cm-content');
  await content.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await content.fill(text);
}

/**
 * The colours on screen at `points` (page CSS pixels), as `[r, g, b]`: read from a screenshot,
 * which is what the user sees whichever renderer drew it (a WebGL canvas cannot be read back once
 * composited). The PNG is decoded by the page itself, so no image library is needed.
 */
export async function pixelsAt(page: Page, points: { x: number; y: number }[]): Promise<[number, number, number][]> {
  const png = (await page.screenshot()).toString('base64');
  return page.evaluate(
    async ({ png, points }) => {
      interface Context2D { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }
      const w = globalThis as unknown as {
        Image: new () => { src: string; width: number; height: number; decode(): Promise<void> };
        document: { createElement(tag: 'canvas'): { width: number; height: number; getContext(type: '2d', options: object): Context2D } };
        innerWidth: number;
      };
      const image = new w.Image();
      image.src = `data:image/png;base64,${png}`;
      await image.decode();
      const canvas = w.document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(image, 0, 0);
      const scale = image.width / w.innerWidth;
      return points.map(({ x, y }) => {
        const [r, g, b] = context.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data;
        return [r!, g!, b!] as [number, number, number];
      });
    },
    { png, points },
  );
}
