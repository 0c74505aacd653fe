/// <reference lib="webworker" />
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { DAGRE_OPTIONS, LAYOUT_BOX, rankerFor, type LayoutRequest, type LayoutResponse } from './layout.js';

cytoscape.use(dagre);

/** Lays out node ids and edges with cytoscape-dagre in a headless Cytoscape; answers positions. */
self.onmessage = (event: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = event.data;
  const started = performance.now();
  try {
    const cy = cytoscape({
      headless: true,
      styleEnabled: true,
      style: [{ selector: 'node', style: { width: LAYOUT_BOX.width, height: LAYOUT_BOX.height, shape: 'rectangle' } }],
      elements: [
        ...nodes.map((nodeId) => ({ group: 'nodes' as const, data: { id: nodeId } })),
        ...edges.map((edge, index) => ({ group: 'edges' as const, data: { id: `e${index}`, source: edge.source, target: edge.target } })),
      ],
    });
    cy.layout({ name: 'dagre', ...DAGRE_OPTIONS, ranker: rankerFor(nodes.length) } as cytoscape.LayoutOptions).run();
    const positions: LayoutResponse['positions'] = {};
    cy.nodes().forEach((node) => {
      positions[node.id()] = node.position();
    });
    cy.destroy();
    self.postMessage({ id, positions, ms: performance.now() - started } satisfies LayoutResponse);
  } catch (error) {
    self.postMessage({ id, positions: {}, ms: performance.now() - started, error: (error as Error).message } satisfies LayoutResponse);
  }
};
