import type { DagreLayoutOptions } from 'cytoscape-dagre';
import { NODE_SIZE } from './style.js';

/** Left-to-right DAG layout; room under each node for a two-line label. */
export const DAGRE_OPTIONS: Omit<DagreLayoutOptions, 'name'> = {
  rankDir: 'LR',
  nodeSep: 14,
  rankSep: 110,
  edgeSep: 8,
  animate: false,
  fit: false,
};

/**
 * dagre's network-simplex ranker draws the tidiest graphs but grows steeply (about a minute for
 * 2,000 nodes here); tight-tree takes a few seconds at that size.
 */
export const NETWORK_SIMPLEX_MAX_NODES = 300;

export function rankerFor(nodeCount: number): DagreLayoutOptions['ranker'] {
  return nodeCount <= NETWORK_SIMPLEX_MAX_NODES ? 'network-simplex' : 'tight-tree';
}

/** The box dagre keeps free for a node: the circle plus its label below. */
export const LAYOUT_BOX = { width: NODE_SIZE + 16, height: NODE_SIZE + 40 } as const;

export interface LayoutRequest {
  id: number;
  nodes: string[];
  edges: { source: string; target: string }[];
}

export interface LayoutResponse {
  id: number;
  positions: Record<string, { x: number; y: number }>;
  /** Time dagre took in the worker. */
  ms: number;
  error?: string;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (r: LayoutResponse) => void; reject: (e: Error) => void }>();

function layoutWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'dagre-layout' });
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

/** Runs the dagre layout in a Web Worker so a big graph never blocks the page. */
export function layoutInWorker(nodes: string[], edges: { source: string; target: string }[]): Promise<LayoutResponse> {
  const id = nextId++;
  return new Promise<LayoutResponse>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    layoutWorker().postMessage({ id, nodes, edges } satisfies LayoutRequest);
  });
}
