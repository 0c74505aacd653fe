import type { LineageEdgeKind, LineageNodeType } from './lineage.js';
import type { RendererName } from './renderer-choice.js';

/** What the page exposes to end-to-end tests after each render, as `window.__tributaryGraph`. */
export interface GraphTestHook {
  /** `color`: the drawn fill (`rgb(…)`); `x`/`y`: the node's centre in page (CSS pixel) coordinates. */
  nodes: { id: string; type: LineageNodeType; classes: string[]; name: string; color: string; x: number; y: number }[];
  /** `lineStyle`/`opacity`: as drawn, for edges classed `observed` (runs used it, undeclared) or `stale`. */
  edges: { source: string; target: string; kind: LineageEdgeKind; classes: string[]; lineStyle?: string; opacity?: number }[];
  /** What Cytoscape really draws with, and its zoom (rendered pixels per model unit). */
  renderer: RendererName;
  zoom: number;
  total: number;
  truncated: boolean;
  /** Time the layout took in its worker, and the whole render (layout + draw), in ms. */
  layoutMs: number;
  renderMs: number;
  /** Counts renders, so a test can wait for the next one. */
  renders: number;
}

declare global {
  interface Window {
    __tributaryGraph?: GraphTestHook;
  }
}
