/// <reference lib="webworker" />
import { layeredLayout, type LayoutEdge, type Positions } from './layered.js';
import { LAYERED_OPTIONS, layoutAlgorithmFor, type LayoutRequest, type LayoutResponse } from './layout.js';

/** Cytoscape and dagre load only once a small graph needs them; a big graph never waits for them. */
let dagre: Promise<typeof import('./dagre-layout.js')> | null = null;

async function positionsFor(algorithm: LayoutResponse['algorithm'], nodes: string[], edges: LayoutEdge[]): Promise<{ positions: Positions; ms: number }> {
  if (algorithm === 'layered') {
    const started = performance.now();
    return { positions: layeredLayout(nodes, edges, LAYERED_OPTIONS), ms: performance.now() - started };
  }
  const { dagreLayout } = await (dagre ??= import('./dagre-layout.js'));
  const started = performance.now();
  return { positions: dagreLayout(nodes, edges), ms: performance.now() - started };
}

/** Lays out node ids and edges; answers their positions. */
self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = event.data;
  const algorithm = layoutAlgorithmFor(nodes.length);
  try {
    const { positions, ms } = await positionsFor(algorithm, nodes, edges);
    self.postMessage({ id, positions, algorithm, ms } satisfies LayoutResponse);
  } catch (error) {
    self.postMessage({ id, positions: {}, algorithm, ms: 0, error: (error as Error).message } satisfies LayoutResponse);
  }
};
