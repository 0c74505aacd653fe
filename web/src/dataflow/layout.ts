import type { DagreLayoutOptions } from 'cytoscape-dagre';
import type { LayeredOptions, LayoutEdge, Positions } from './layered.js';
import { NODE_SIZE } from './style.js';

/** Left-to-right DAG layout; room under each node for a two-line label. */
export const DAGRE_OPTIONS: Omit<DagreLayoutOptions, 'name'> = {
  rankDir: 'LR',
  ranker: 'network-simplex',
  nodeSep: 14,
  rankSep: 110,
  edgeSep: 8,
  animate: false,
  fit: false,
};

/** The box a layout keeps free for a node: the circle plus its label below. */
export const LAYOUT_BOX = { width: NODE_SIZE + 16, height: NODE_SIZE + 40 } as const;

/**
 * Up to this many nodes dagre lays the graph out (network simplex: the tidiest ranks, roomy);
 * above it our own layered layout does, in tens of ms where dagre takes seconds (about 3 s for
 * 2,000 nodes, mostly its ordering phase). Drawn with straight edges, the layered layout crosses
 * fewer edges and is 2–4× less tall, though more long edges pass over a node (bench workspace).
 */
export const DAGRE_MAX_NODES = 300;

/** The same spacing as dagre's, for the layered layout of big graphs. */
export const LAYERED_OPTIONS: LayeredOptions = {
  nodeWidth: LAYOUT_BOX.width,
  nodeHeight: LAYOUT_BOX.height,
  rankSep: DAGRE_OPTIONS.rankSep!,
  nodeSep: DAGRE_OPTIONS.nodeSep!,
  edgeSep: DAGRE_OPTIONS.edgeSep!,
  orderIterations: 24,
  placeIterations: 8,
};

export type LayoutAlgorithm = 'dagre' | 'layered';

export function layoutAlgorithmFor(nodeCount: number): LayoutAlgorithm {
  return nodeCount <= DAGRE_MAX_NODES ? 'dagre' : 'layered';
}

export interface LayoutRequest {
  id: number;
  nodes: string[];
  edges: LayoutEdge[];
}

export interface LayoutResponse {
  id: number;
  positions: Positions;
  algorithm: LayoutAlgorithm;
  /** Time the layout took in the worker (not counting loading dagre the first time). */
  ms: number;
  error?: string;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (r: LayoutResponse) => void; reject: (e: Error) => void }>();

function layoutWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'graph-layout' });
  worker.onmessage = (event: MessageEvent<LayoutResponse>) => {
    const waiting = pending.get(event.data.id);
    pending.delete(event.data.id);
    if (!waiting) return;
    if (event.data.error) waiting.reject(new Error(`layout failed: ${event.data.error}`));
    else waiting.resolve(event.data);
  };
  worker.onerror = (event) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`layout worker failed: ${event.message}`));
    pending.clear();
  };
  return worker;
}

/** Starts the layout worker ahead of the first graph, so loading it overlaps the lineage request. */
export function startLayoutWorker(): void {
  layoutWorker();
}

/** Runs the layout in a Web Worker so a big graph never blocks the page. */
export function layoutInWorker(nodes: string[], edges: LayoutEdge[]): Promise<LayoutResponse> {
  const id = nextId++;
  return new Promise<LayoutResponse>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    layoutWorker().postMessage({ id, nodes, edges } satisfies LayoutRequest);
  });
}
