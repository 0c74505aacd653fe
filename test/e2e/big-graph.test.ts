import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkspace } from '../../bench/lineage/generator.js';
import { writeResult } from '../../bench/stats.js';
import { buildWebIfStale, collectPageErrors, launchChromium, screenshot, type RunningBrowser } from '../helpers/browser.js';
import { signInBrowser } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The issue's targets (#19): interactive by these times, key presses answered within 100 ms, frames of 33 ms at p95. */
const TARGETS = { interactiveMs: { 2000: 1_500, 10000: 4_000 } as Record<number, number>, keyPressMs: 100, frameP95Ms: 33 };
const RUNS = Number(process.env.TRIBUTARY_BENCH_WEB_RUNS ?? 5);
const SIZES = (process.env.TRIBUTARY_BENCH_WEB_SIZES ?? '2000,10000').split(',').map(Number);
/** Renderers to load each size with: `auto` is what a user gets (here the canvas: WebGL is software). */
const RENDERERS = (process.env.TRIBUTARY_BENCH_WEB_RENDERERS ?? 'auto').split(',');
/**
 * A web/dist built from an older commit (`git worktree add /tmp/base <commit> && cd /tmp/base &&
 * ln -s $PWD/../main/node_modules && npm run build:web`): the same loads then also run on that UI,
 * served by a second server over the same database, so old and new figures come from one run.
 */
const BASELINE = process.env.TRIBUTARY_BENCH_WEB_BASELINE;

/**
 * Installed before the page's scripts: records long tasks (main thread blocked ≥ 50 ms), how long
 * each key press took until the next paint (Event Timing, reported from 16 ms), the moment the
 * page first publishes its drawn graph (`window.__tributaryGraph`, read through a setter so the
 * hook stays as it is), and the end of the next frame, when the drawn graph is on screen and the
 * main thread free: the page is interactive. `frames(on)` starts and stops recording the time
 * between animation frames.
 */
const PROBE = `
  window.__bench = { longTasks: [], keys: [], drawnAt: 0, interactiveAt: 0, frames: [], recording: false };
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.longTasks.push({ start: e.startTime, ms: e.duration }); })
    .observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'keydown') window.__bench.keys.push(e.duration); })
    .observe({ type: 'event', durationThreshold: 16, buffered: true });
  window.__bench.record = (on) => {
    window.__bench.recording = on;
    if (!on) return;
    let last = performance.now();
    const tick = (now) => { if (!window.__bench.recording) return; window.__bench.frames.push(now - last); last = now; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  };
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

interface Bench {
  longTasks: { start: number; ms: number }[];
  keys: number[];
  drawnAt: number;
  interactiveAt: number;
  frames: number[];
  record(on: boolean): void;
}
const bench = () => (globalThis as unknown as { __bench: Bench }).__bench;

/** What the page recorded, in ms since navigation started. */
interface PageTimings {
  nodes: number;
  renderer: string;
  layoutMs: number;
  drawnAt: number;
  interactiveAt: number;
  lineageAnsweredAt: number;
  layoutMeasure: { algorithm: string; ms: number } | null;
  drawMs: number | null;
  longTasks: { start: number; ms: number }[];
  keys: number[];
}

/** One cold load of the Dataflow page (a fresh browser context: empty cache), then pan and zoom. */
interface Load {
  nodes: number;
  renderer: string;
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
  /** Time between frames while the view is dragged and wheel-zoomed, once interactive. */
  frames: { count: number; p50Ms: number; p95Ms: number; maxMs: number };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const median = (values: number[]): number => percentile(values, 50);
const round = (ms: number): number => Math.round(ms * 10) / 10;

let chromium: RunningBrowser;

beforeAll(async () => {
  if (process.env.TRIBUTARY_E2E_BIG !== '1') return;
  buildWebIfStale();
  chromium = await launchChromium();
}, 240_000);

afterAll(async () => {
  await chromium?.close();
});

/** Drags the view from its corner (the fit leaves it empty) and wheel-zooms, recording frames. */
async function panAndZoom(page: Page): Promise<number[]> {
  const box = (await page.getByTestId('graph-canvas').boundingBox())!;
  await page.evaluate(() => (globalThis as unknown as { __bench: Bench }).__bench.record(true));
  await page.mouse.move(box.x + 12, box.y + 12);
  await page.mouse.down();
  await page.mouse.move(box.x + 312, box.y + 162, { steps: 30 });
  await page.mouse.move(box.x + 12, box.y + 12, { steps: 30 });
  await page.mouse.up();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -120);
  for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 120);
  await page.waitForTimeout(300);
  return page.evaluate(() => {
    const b = (globalThis as unknown as { __bench: Bench }).__bench;
    b.record(false);
    return b.frames;
  });
}

async function loadOnce(context: BrowserContext, url: string, expectedNodes: number, shot: string | null): Promise<{ load: Load; errors: string[] }> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const errors = collectPageErrors(page);
  await page.addInitScript(PROBE);
  await page.goto(url);
  // The answer is in and the graph is being laid out and drawn: the search box must answer meanwhile.
  await page.getByText(`Laying out ${expectedNodes.toLocaleString('en-US')} nodes`).waitFor({ timeout: 60_000 });
  await page.getByTestId('search').focus();
  const drawn = () => page.evaluate(() => (globalThis as unknown as { __bench: Bench }).__bench.drawnAt > 0);
  const keyPressMs: number[] = [];
  do {
    const pressed = Date.now();
    await page.keyboard.press('x');
    keyPressMs.push(Date.now() - pressed);
  } while (!(await drawn()) && keyPressMs.length < 1_000);
  await page.waitForFunction(() => (globalThis as unknown as { __bench: Bench }).__bench.interactiveAt > 0, undefined, { timeout: 60_000 });
  const timings: PageTimings = await page.evaluate(() => {
    interface Entry { name: string; duration: number; responseEnd?: number; decodedBodySize?: number; detail?: { algorithm?: string } }
    const w = globalThis as unknown as {
      __tributaryGraph: { nodes: unknown[]; layoutMs: number; renderer?: string };
      __bench: Bench;
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
      renderer: w.__tributaryGraph.renderer ?? 'canvas',
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
  const frames = await panAndZoom(page);
  if (shot) await screenshot(page, shot);
  await page.close();
  const afterAnswer = timings.longTasks.filter((task) => task.start + task.ms > timings.lineageAnsweredAt).map((task) => Math.round(task.ms));
  const load: Load = {
    nodes: timings.nodes,
    renderer: timings.renderer,
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
    frames: { count: frames.length, p50Ms: round(percentile(frames, 50)), p95Ms: round(percentile(frames, 95)), maxMs: round(Math.max(0, ...frames)) },
  };
  return { load, errors };
}

/** The medians over the loads of one page. */
function summarize(loads: Load[]) {
  return {
    nodes: median(loads.map((load) => load.nodes)),
    renderer: loads[0]?.renderer,
    interactiveMs: median(loads.map((load) => load.interactiveMs)),
    drawnMs: median(loads.map((load) => load.drawnMs)),
    lineageAnsweredMs: median(loads.map((load) => load.lineageAnsweredMs)),
    layoutInWorkerMs: median(loads.map((load) => load.layoutInWorkerMs)),
    layoutRoundTripMs: median(loads.map((load) => load.layoutRoundTripMs)),
    drawMs: median(loads.map((load) => load.drawMs)),
    longestTaskMs: median(loads.map((load) => load.longestTaskMs)),
    worstKeyPressMs: median(loads.map((load) => Math.max(...load.keyPressMs))),
    worstKeyToPaintMs: median(loads.map((load) => Math.max(0, ...load.keyToPaintMs))),
    frameP50Ms: median(loads.map((load) => load.frames.p50Ms)),
    frameP95Ms: median(loads.map((load) => load.frames.p95Ms)),
  };
}

type Summary = ReturnType<typeof summarize>;

/** `RUNS` cold loads of `path`, each in a fresh browser context. */
async function measure(server: TestServer, path: string, expectedNodes: number, label: string): Promise<{ summary: Summary; loads: Load[] }> {
  const loads: Load[] = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await chromium.browser.newContext();
    await signInBrowser(context, server.url, server.admin.email);
    try {
      const { load, errors } = await loadOnce(context, `${server.url}${path}`, expectedNodes, run === RUNS - 1 ? `dataflow-${label}` : null);
      expect(errors).toEqual([]);
      expect(load.nodes).toBe(expectedNodes);
      // Typing while the graph is laid out answers.
      expect(load.keyPressMs[0]).toBeLessThan(1_000);
      loads.push(load);
      console.log(
        `${label} run ${run + 1}: interactive ${load.interactiveMs} ms (drawn ${load.drawnMs}; lineage answered ${load.lineageAnsweredMs}); ` +
          `layout ${load.layoutAlgorithm} ${load.layoutInWorkerMs} ms in the worker, ${load.layoutRoundTripMs} ms round trip; draw ${load.drawMs} ms (${load.renderer}); ` +
          `long tasks after the answer ${load.longTasksAfterAnswerMs.join(', ')} ms; worst key press ${Math.max(...load.keyPressMs)} ms; ` +
          `frames p50 ${load.frames.p50Ms} / p95 ${load.frames.p95Ms} ms over ${load.frames.count}`,
      );
    } finally {
      await context.close();
    }
  }
  return { summary: summarize(loads), loads };
}

/**
 * A measurement more than a check (generating 10,000 nodes takes minutes on 2 cores), so it runs
 * on demand: `npm run bench:web` (TRIBUTARY_E2E_BIG=1). For each size it loads the Dataflow page
 * as a user opens it (`?scheduledOnly=false`: 2,000 nodes start collapsed, the 10,000-node view
 * with "show all"), writes bench/results/web.json and reports the figures against the targets
 * without failing on them: timings depend on the machine.
 */
describe.runIf(process.env.TRIBUTARY_E2E_BIG === '1')('Dataflow page on big graphs', () => {
  it('draws 2,000 and 10,000 nodes with the layout in a worker, the page staying responsive', { timeout: 1_800_000 }, async () => {
    const sizes: Record<string, unknown> = {};
    for (const size of SIZES) {
      const server = await startTestServer();
      let baseline: TestServer | null = null;
      try {
        const generated = await generateWorkspace(server.server.orm, size);
        // Started once the workspace is in, so it loads the graph whole.
        if (BASELINE) baseline = await startTestServer({ DATA_DIR: server.dataDir, ...server.backendEnv }, { webDist: BASELINE });
        const all = size > 2_000;
        const path = `/?scheduledOnly=false${all ? '&all=true' : ''}`;
        const { lineage } = await server.ok(`query ($max: Int) { lineage(filter: { scheduledOnly: false }, maxNodes: $max) { total nodes { id } } }`, { max: all ? 20_000 : 2_000 });
        expect(lineage.total).toBeGreaterThanOrEqual(size * 0.9);
        await signInBrowser(chromium.context, server.url, server.admin.email);
        const byRenderer: Record<string, { summary: Summary; loads: Load[] }> = {};
        for (const renderer of RENDERERS) {
          const suffix = renderer === 'auto' ? '' : `&renderer=${renderer}`;
          byRenderer[renderer] = await measure(server, `${path}${suffix}`, lineage.nodes.length, `${size}-nodes${suffix ? `-${renderer}` : ''}`);
        }
        const current = byRenderer[RENDERERS[0]!]!;
        let old: { summary: Summary; loads: Load[] } | null = null;
        if (baseline) {
          await signInBrowser(chromium.context, baseline.url, baseline.admin.email);
          // The old page asked for at most 5,000 nodes and had no "show all".
          old = await measure(baseline, '/?scheduledOnly=false', Math.min(lineage.total, 5_000), `${size}-nodes-baseline`);
        }
        const target = TARGETS.interactiveMs[size];
        sizes[size] = {
          workspace: { nodes: generated.nodes, total: lineage.total, loadSeconds: generated.loadSeconds },
          url: path,
          target: { interactiveMs: target ?? null, keyPressMs: TARGETS.keyPressMs, frameP95Ms: TARGETS.frameP95Ms },
          interactiveOverTarget: target ? round(current.summary.interactiveMs / target) : null,
          medians: current.summary,
          mediansRenderer: RENDERERS[0],
          baseline: old ? { webDist: BASELINE, medians: old.summary, newOverOld: { interactive: round(current.summary.interactiveMs / old.summary.interactiveMs), frameP95: round(current.summary.frameP95Ms / old.summary.frameP95Ms) } } : null,
          renderers: Object.fromEntries(Object.entries(byRenderer).map(([renderer, { summary, loads }]) => [renderer, { medians: summary, loads }])),
          baselineLoads: old?.loads ?? [],
        };
        console.log(`${size}-node workspace (${lineage.total} nodes), medians of ${RUNS} cold loads: ${JSON.stringify(current.summary)}${old ? `; baseline ${JSON.stringify(old.summary)}` : ''}`);
      } finally {
        await baseline?.close();
        await server.close();
      }
    }
    const file = writeResult('web', {
      note:
        'Dataflow page, each run a cold load in a fresh browser context (Debian Chromium, headless, 1280x800); ms since navigation start unless named otherwise; ' +
        'medians over the runs; frames: time between animation frames while dragging and wheel-zooming once interactive; baseline: the same loads on an older build of the UI, same server and data',
      runs: RUNS,
      sizes,
    });
    console.log(`wrote ${file}`);
  });
});
