import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import type { LayoutEdge, Positions } from './layered.js';
import { DAGRE_OPTIONS, LAYOUT_BOX } from './layout.js';

cytoscape.use(dagre);

/** Lays out node ids and edges with cytoscape-dagre in a headless Cytoscape; answers each node's centre. */
export function dagreLayout(nodes: string[], edges: LayoutEdge[]): Positions {
  const cy = cytoscape({
    headless: true,
    styleEnabled: true,
    style: [{ selector: 'node', style: { width: LAYOUT_BOX.width, height: LAYOUT_BOX.height, shape: 'rectangle' } }],
    elements: [
      ...nodes.map((nodeId) => ({ group: 'nodes' as const, data: { id: nodeId } })),
      ...edges.map((edge, index) => ({ group: 'edges' as const, data: { id: `e${index}`, source: edge.source, target: edge.target } })),
    ],
  });
  try {
    cy.layout({ name: 'dagre', ...DAGRE_OPTIONS } as cytoscape.LayoutOptions).run();
    const positions: Positions = {};
    cy.nodes().forEach((node) => {
      positions[node.id()] = node.position();
    });
    return positions;
  } finally {
    cy.destroy();
  }
}
