import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkspace } from '../../bench/lineage/generator.js';
import { writeResult } from '../../bench/stats.js';
import { buildWebIfStale, collectPageErrors, launchChromium, screenshot, type RunningBrowser } from '../helpers/browser.js';
import { signInBrowser } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The requirement: the Dataflow page interactive within 3 s on 2,000 visible nodes. */
const TARGET_INTERACTIVE_MS = 3_000;
const RUNS = Number(process.env.TRIBUTARY_BENCH_WEB_RUNS ?? 5);

/**
 * Installed before the page's scripts: records long tasks (main thread blocked ≥ 50 ms), how long
 * each key press took until the next paint (Event Timing, reported from 16 ms), the moment the
 * page first publishes its drawn graph (`window.__tributaryGraph`, read through a setter so the
 * hook stays as it is), and the end of the next frame, when the drawn graph is on screen and the
 * main thread free: the page is interactive.
 */
const PROBE = `
  window.__bench = { longTasks: [], keys: [], drawnAt: 0, interactiveAt: 0 };
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.longTasks.push({ start: e.startTime, ms: e.duration }); })
    .observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'keydown') window.__bench.keys.push(e.duration); })
    .observe({ type: 'event', durationThreshold: 16, buffered: true });
  let published;
  Object.defineProperty(window, '__tributaryGraph', {
    configurable: true,
    get() { return published; },
    set(hook) {
      published = hook;
      if (window.__bench.drawnAt || !(hook.renders >= 1)) return;
      window.__bench.drawnAt = performance.now();
      requestAnimationFrame(() => setTimeout(() => { window.__bench.interactiveAt = performance.now(); }, 0));
    },
  });
`;

/** What the page recorded, in ms since navigation started. */
interface PageTimings {
  nodes: number;
  layoutMs: number;
  drawnAt: number;
  interactiveAt: number;
  lineageAnsweredAt: number;
  layoutMeasure: { algorithm: string; ms: number } | null;
  drawMs: number | null;
  longTasks: { start: number; ms: number }[];
  keys: number[];
}

/** One cold load of the Dataflow page (a fresh browser context: empty cache). */
interface Load {
  nodes: number;
  lineageAnsweredMs: number;
  drawnMs: number;
  interactiveMs: number;
  layoutAlgorithm: string;
  layoutInWorkerMs: number;
  layoutRoundTripMs: number;
  drawMs: number;
  longestTaskMs: number;
  longTasksAfterAnswerMs: number[];
  /**
   * Keys pressed in the search box from the start of the layout until the graph is drawn, one
   * after the other: each press until the page took it, and (Event Timing) until the next paint
   * when that took 16 ms or more.
   */
  keyPressMs: number[];
  keyToPaintMs: number[];
}

let t: TestServer;
let chromium: RunningBrowser;

beforeAll(async () => {
  if (process.env.TRIBUTARY_E2E_BIG !== '1') return;
  buildWebIfStale();
  t = await startTestServer();
  await generateWorkspace(t.server.orm, 2000);
  chromium = await launchChromium();
  await signInBrowser(chromium.context, t.url, t.admin.email);
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await t?.close();
});

async function loadOnce(context: BrowserContext, total: number, shot: string | null): Promise<{ load: Load; errors: string[] }> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const errors = collectPageErrors(page);
  await page.addInitScript(PROBE);
  await page.goto(`${t.url}/?scheduledOnly=false`);
  // The answer is in and the graph is being laid out and drawn: the search box must answer meanwhile.
  await page.getByText(`Laying out ${total.toLocaleString('en-US')} nodes`).waitFor({ timeout: 30_000 });
  await page.getByTestId('search').focus();
  const drawn = () => page.evaluate(() => (globalThis as unknown as { __bench: { drawnAt: number } }).__bench.drawnAt > 0);
  const keyPressMs: number[] = [];
  do {
    const pressed = Date.now();
    await page.keyboard.press('x');
    keyPressMs.push(Date.now() - pressed);
  } while (!(await drawn()) && keyPressMs.length < 1_000);
  await page.waitForFunction(() => (globalThis as unknown as { __bench: { interactiveAt: number } }).__bench.interactiveAt > 0, undefined, { timeout: 60_000 });
  const timings: PageTimings = await page.evaluate(() => {
    interface Entry { name: string; duration: number; responseEnd?: number; decodedBodySize?: number; detail?: { algorithm?: string } }
    const w = globalThis as unknown as {
      __tributaryGraph: { nodes: unknown[]; layoutMs: number };
      __bench: { drawnAt: number; interactiveAt: number; longTasks: { start: number; ms: number }[]; keys: number[] };
      performance: { getEntriesByType(type: string): Entry[]; getEntriesByName(name: string): Entry[] };
    };
    // The lineage answer is the biggest GraphQL response of the page.
    const lineage = w.performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.includes('/graphql'))
      .sort((a, b) => (b.decodedBodySize ?? 0) - (a.decodedBodySize ?? 0))[0];
    const layout = w.performance.getEntriesByName('dataflow:layout')[0];
    const draw = w.performance.getEntriesByName('dataflow:draw')[0];
    return {
      nodes: w.__tributaryGraph.nodes.length,
      layoutMs: w.__tributaryGraph.layoutMs,
      drawnAt: w.__bench.drawnAt,
      interactiveAt: w.__bench.interactiveAt,
      lineageAnsweredAt: lineage?.responseEnd ?? 0,
      layoutMeasure: layout ? { algorithm: layout.detail?.algorithm ?? 'unknown', ms: layout.duration } : null,
      drawMs: draw?.duration ?? null,
      longTasks: w.__bench.longTasks,
      keys: w.__bench.keys,
    };
  });
  if (shot) await screenshot(page, shot);
  await page.close();
  const afterAnswer = timings.longTasks.filter((task) => task.start + task.ms > timings.lineageAnsweredAt).map((task) => Math.round(task.ms));
  const load: Load = {
    nodes: timings.nodes,
    lineageAnsweredMs: Math.round(timings.lineageAnsweredAt),
    drawnMs: Math.round(timings.drawnAt),
    interactiveMs: Math.round(timings.interactiveAt),
    layoutAlgorithm: timings.layoutMeasure?.algorithm ?? 'unknown',
    layoutInWorkerMs: timings.layoutMs,
    layoutRoundTripMs: Math.round(timings.layoutMeasure?.ms ?? Number.NaN),
    drawMs: Math.round(timings.drawMs ?? Number.NaN),
    longestTaskMs: Math.max(0, ...afterAnswer),
    longTasksAfterAnswerMs: afterAnswer,
    keyPressMs,
    keyToPaintMs: timings.keys.map(Math.round),
  };
  return { load, errors };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/**
 * A measurement more than a check (generating the workspace takes ~30 s on 2 cores), so it runs
 * on demand: `npm run bench:web` (TRIBUTARY_E2E_BIG=1). It writes bench/results/web.json and
 * reports the figures against the 3 s target without failing on them: timings depend on the machine.
 */
describe.runIf(process.env.TRIBUTARY_E2E_BIG === '1')('Dataflow page on a big graph', () => {
  it('draws 2,000 nodes with the layout in a worker, the page staying responsive', { timeout: 300_000 }, async () => {
    const { lineage } = await t.ok(`{ lineage(filter: { scheduledOnly: false }) { total } }`);
    expect(lineage.total).toBeGreaterThanOrEqual(1800);

    const loads: Load[] = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await chromium.browser.newContext();
      await signInBrowser(context, t.url, t.admin.email);
      try {
        const { load, errors } = await loadOnce(context, lineage.total, run === RUNS - 1 ? 'dataflow-2000-nodes' : null);
        expect(errors).toEqual([]);
        expect(load.nodes).toBe(lineage.total);
        // Typing while the graph is laid out answers.
        expect(load.keyPressMs[0]).toBeLessThan(1_000);
        loads.push(load);
        console.log(
          `run ${run + 1}: interactive ${load.interactiveMs} ms (drawn ${load.drawnMs}; lineage answered ${load.lineageAnsweredMs}); ` +
            `layout ${load.layoutAlgorithm} ${load.layoutInWorkerMs} ms in the worker, ${load.layoutRoundTripMs} ms round trip; draw ${load.drawMs} ms; ` +
            `long tasks after the answer ${load.longTasksAfterAnswerMs.join(', ')} ms; ` +
            `keys pressed until drawn ${load.keyPressMs.join(', ')} ms, to the next paint (≥ 16 ms) ${load.keyToPaintMs.join(', ') || '-'} ms`,
        );
      } finally {
        await context.close();
      }
    }

    const summary = {
      interactiveMs: median(loads.map((load) => load.interactiveMs)),
      drawnMs: median(loads.map((load) => load.drawnMs)),
      lineageAnsweredMs: median(loads.map((load) => load.lineageAnsweredMs)),
      layoutInWorkerMs: median(loads.map((load) => load.layoutInWorkerMs)),
      layoutRoundTripMs: median(loads.map((load) => load.layoutRoundTripMs)),
      drawMs: median(loads.map((load) => load.drawMs)),
      longestTaskMs: median(loads.map((load) => load.longestTaskMs)),
      worstKeyPressMs: median(loads.map((load) => Math.max(...load.keyPressMs))),
      worstKeyToPaintMs: median(loads.map((load) => Math.max(0, ...load.keyToPaintMs))),
    };
    const interactiveOverTarget = Math.round((summary.interactiveMs / TARGET_INTERACTIVE_MS) * 100) / 100;
    const file = writeResult('web', {
      note: 'Dataflow page, all nodes of a generated 2,000-node workspace, each run a cold load in a fresh browser context; ms since navigation start unless named otherwise; medians over the runs',
      nodes: lineage.total,
      runs: loads.length,
      target: { interactiveMs: TARGET_INTERACTIVE_MS },
      interactiveOverTarget,
      medians: summary,
      loads,
    });
    console.log(
      `${lineage.total}-node dataflow, median of ${loads.length} cold loads: interactive ${summary.interactiveMs} ms = ${interactiveOverTarget} × the ${TARGET_INTERACTIVE_MS} ms target ` +
        `(drawn ${summary.drawnMs} ms; layout ${summary.layoutInWorkerMs} ms in the worker, ${summary.layoutRoundTripMs} ms round trip; draw ${summary.drawMs} ms; ` +
        `longest main-thread task ${summary.longestTaskMs} ms; worst key press ${summary.worstKeyPressMs} ms, to the next paint ${summary.worstKeyToPaintMs} ms); wrote ${file}`,
    );
  });
});
