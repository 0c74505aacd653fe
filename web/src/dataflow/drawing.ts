import type { Collection, Core, CytoscapeOptions, ElementDefinition } from 'cytoscape';
import type { Positions } from './layered.js';

/**
 * From this many nodes the canvas draws the graph the cheap way: one redraw of ~2,000 nodes
 * takes about 100 ms here, so pan and zoom move a snapshot (edges hidden), and the elements go
 * in by slices, yielding every few tens of ms, so the page answers input while Cytoscape styles them.
 */
export const BIG_GRAPH_NODES = 1000;

/**
 * A big graph's elements go in by slices of this many, as many slices per task as fit in
 * TASK_BUDGET_MS, so no task keeps a key press waiting much longer than the budget.
 */
export const ELEMENTS_PER_SLICE = 150;
export const TASK_BUDGET_MS = 40;

export interface Viewport {
  zoom: number;
  pan: { x: number; y: number };
}

export interface FitOptions {
  /** The box around each position that must stay visible (the node and its label). */
  box: { width: number; height: number };
  padding: number;
  minZoom: number;
  maxZoom: number;
}

/** Renderer options by graph size; small graphs keep Cytoscape's full-quality pan and zoom. */
export function rendererOptions(big: boolean): Pick<CytoscapeOptions, 'textureOnViewport' | 'hideEdgesOnViewport'> {
  return { textureOnViewport: big, hideEdgesOnViewport: big };
}

/**
 * The viewport that fits every laid-out box into a `width` × `height` canvas, computed from the
 * positions alone (`cy.fit()` would style and measure every element first).
 */
export function fitViewport(positions: Positions, width: number, height: number, options: FitOptions): Viewport {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const { x, y } of Object.values(positions)) {
    left = Math.min(left, x - options.box.width / 2);
    right = Math.max(right, x + options.box.width / 2);
    top = Math.min(top, y - options.box.height / 2);
    bottom = Math.max(bottom, y + options.box.height / 2);
  }
  if (left > right) return { zoom: 1, pan: { x: width / 2, y: height / 2 } };
  const fitting = Math.min((width - 2 * options.padding) / (right - left), (height - 2 * options.padding) / (bottom - top));
  const zoom = Math.min(options.maxZoom, Math.max(options.minZoom, fitting));
  return { zoom, pan: { x: width / 2 - (zoom * (left + right)) / 2, y: height / 2 - (zoom * (top + bottom)) / 2 } };
}

/** The elements to add: nodes first, each at its laid-out position, then the edges between them. */
export function placed(elements: ElementDefinition[], positions: Positions): ElementDefinition[] {
  const nodes = elements.filter((element) => element.group === 'nodes').map((node) => ({ ...node, position: positions[node.data.id!] }));
  return [...nodes, ...elements.filter((element) => element.group !== 'nodes')];
}

/** Resolves once the browser has drawn a frame and handled the input waiting. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Resolves in a new task: input waiting is handled first, without waiting for a frame. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

/** Cytoscape 3.34's collection methods below its documented API (present since 3.x). */
interface Internals {
  cleanStyle?: () => void;
  recalculateRenderedStyle?: () => void;
}

/**
 * Works out the style of `added` and the geometry of its edges now, within the slice's time
 * budget. Cytoscape otherwise does both in its next animation frame for everything added since
 * the last one: 0.3–0.7 s in one task at 10,000 nodes, with key presses waiting.
 */
function settle(added: Collection): void {
  (added as unknown as Internals).cleanStyle?.();
  (added.edges() as unknown as Internals).recalculateRenderedStyle?.();
}

/** Far enough to the side that nothing drawn there is on screen. */
const OFF_SCREEN = 1e6;

/**
 * Replaces the elements of `cy` by `elements`, ELEMENTS_PER_SLICE at a time, yielding to the
 * page whenever a task has used TASK_BUDGET_MS. Meanwhile the graph sits off screen, so Cytoscape
 * styles each slice without drawing the growing graph each time (that was slower); it shows at
 * `viewport` once all are in. Answers false, leaving the graph half-built, as soon as `current()`
 * turns false (a newer render began).
 */
export async function addInSlices(cy: Core, elements: ElementDefinition[], viewport: Viewport, current: () => boolean): Promise<boolean> {
  cy.elements().remove();
  cy.viewport({ zoom: viewport.zoom, pan: { x: viewport.pan.x + OFF_SCREEN, y: viewport.pan.y } });
  let taskStarted = performance.now();
  for (let start = 0; start < elements.length; start += ELEMENTS_PER_SLICE) {
    let added = cy.collection();
    cy.batch(() => {
      added = cy.add(elements.slice(start, start + ELEMENTS_PER_SLICE));
    });
    settle(added);
    if (performance.now() - taskStarted < TASK_BUDGET_MS) continue;
    await nextTask();
    if (!current()) return false;
    taskStarted = performance.now();
  }
  cy.viewport(viewport);
  await nextFrame();
  return current();
}
