import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { demoInBrowser } from './demo-browser.js';

let t: TestServer;

const browser = demoInBrowser({ ready: (server) => void (t = server) });

const idOf = async (what: 'datasource' | 'automation', name: string): Promise<string> =>
  (await t.ok(`query($n: String!) { ${what}(name: $n) { id } }`, { n: name }))[what].id;

/** How far the page is wider than the window (0 when nothing sticks out sideways). */
const overflow = (page: Page): Promise<number> =>
  page.evaluate(() => {
    const doc = (globalThis as any).document.documentElement;
    return doc.scrollWidth - doc.clientWidth;
  });

/** The element focused after each Tab, described by its test id, label or text. */
async function tabStops(page: Page, count: number): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    stops.push(
      await page.evaluate(() => {
        const el = (globalThis as any).document.activeElement;
        const label = el?.labels?.[0]?.textContent ?? el?.getAttribute('aria-label') ?? '';
        return `${el?.tagName.toLowerCase()}|${el?.dataset?.testid ?? ''}|${label.trim() || el?.textContent?.trim().slice(0, 40)}`;
      }),
    );
  }
  return stops;
}

describe('Keyboard and narrow windows', () => {
  it('every main page fits a 390 px wide window without sideways scrolling', async () => {
    const pages: [string, string][] = [
      ['dataflow', '/'],
      ['datasource', `/datasources/${await idOf('datasource', 'ORDERS')}`],
      ['automation', `/automations/${await idOf('automation', 'load users')}`],
      ['new', '/automations/new'],
      ['etl-form', '/automations/new?kind=ETL_STEP'],
      ['script-form', `/automations/${await idOf('automation', 'revenue report')}/edit`],
      ['datasource-form', '/datasources/new?kind=JOIN'],
    ];
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 800 });
    for (const [name, path] of pages) {
      await page.goto(`${t.url}${path}`);
      if (path === '/') await waitForGraph(page);
      else await page.getByRole('heading', { level: 1 }).first().waitFor();
      await screenshot(page, `narrow-${name}`);
      expect({ name, overflow: await overflow(page) }).toEqual({ name, overflow: 0 });
    }
  });

  it('the create form is filled and sent with the keyboard alone, in reading order', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${t.url}/automations/new?kind=CHAIN_TASK`);
    await page.getByRole('heading', { name: 'New chain task' }).waitFor();
    await page.getByTestId('field-name').locator('input').focus();
    await page.keyboard.type('keyboard chain');
    const stops = await tabStops(page, 4);
    expect(stops[0]).toMatch(/^textarea\|\|Description/);
    expect(stops[1]).toMatch(/^select\|\|Steps, in the order they run/);
    // Back to the steps and choose the first offered one with the arrow keys.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('ArrowDown');
    await page.getByTestId('chain-steps-item').first().waitFor();
    await page.getByTestId('submit').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => /^\/automations\/(?!new)[^/]+$/.test(url.pathname));
    const chain = await t.ok(`query { automation(name: "keyboard chain") { ... on ChainTask { steps { id } } } }`);
    expect(chain.automation.steps).toHaveLength(1);
  });

  it('the dataflow filters and the automation controls are reachable with Tab', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.url}/`);
    await waitForGraph(page);
    // The top bar's links come first (Dataflow, Datasources, Automations, Parameters, Templates, Check, Import, GraphiQL, + New, the user’s).
    const stops = await tabStops(page, 20);
    expect(stops.some((s) => /input\|.*scheduled/i.test(s))).toBe(true);
    await page.goto(`${t.url}/automations/${await idOf('automation', 'load users')}`);
    await page.getByTestId('run-now').waitFor();
    // The top bar comes first: its links, then who is signed in (Users, Tokens, Sign out).
    const controls = await tabStops(page, 24);
    for (const name of ['run-now', 'edit']) expect(controls.some((s) => s.includes(`|${name}|`))).toBe(true);
  });
});
