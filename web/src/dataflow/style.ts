import type { StylesheetJson } from 'cytoscape';
import { COLORS } from './icons.js';

/** Node diameter in model units; labels sit under the circle. */
export const NODE_SIZE = 44;

/** The Cytoscape stylesheet of the visual encoding: colours by type class, picture from `data(icon)`. */
export const GRAPH_STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      shape: 'ellipse',
      width: NODE_SIZE,
      height: NODE_SIZE,
      'background-color': COLORS.datasource,
      'background-image': 'data(icon)',
      'background-fit': 'contain',
      'background-clip': 'none',
      'background-image-containment': 'over',
      'bounds-expansion': 4,
      'border-width': 2,
      'border-color': '#ffffff',
      label: 'data(label)',
      'font-family': 'system-ui, -apple-system, "Segoe UI", sans-serif',
      'font-size': 12,
      color: '#1f2933',
      'text-valign': 'bottom',
      'text-halign': 'center',
      'text-margin-y': 4,
      'text-wrap': 'wrap',
      'text-max-width': '130px',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': '1px',
      'text-background-shape': 'roundrectangle',
      'min-zoomed-font-size': 7,
    },
  },
  { selector: 'node.join-datasource', style: { 'background-color': COLORS.join } },
  { selector: 'node.etl-step', style: { 'background-color': COLORS.etl } },
  { selector: 'node.sftp-import', style: { 'background-color': COLORS.sftp } },
  { selector: 'node.database-table', style: { 'background-color': COLORS.database } },
  { selector: 'node.script', style: { 'background-color': COLORS.script } },
  { selector: 'node.chain-task', style: { 'background-color': COLORS.chain, shape: 'round-rectangle' } },
  { selector: 'node.external-job', style: { 'background-color': COLORS.externalJob } },
  { selector: 'node.external-datasource', style: { 'background-color': COLORS.externalDataset } },
  { selector: 'node.inactive', style: { 'background-opacity': 0.55 } },
  { selector: 'node.last-failed', style: { 'border-color': COLORS.failed, 'border-width': 3 } },
  { selector: 'node:selected', style: { 'border-color': '#111827', 'border-width': 4 } },
  { selector: 'node.highlighted', style: { 'border-color': '#ff3d7f', 'border-width': 5, 'font-weight': 'bold', 'z-index': 10 } },
  { selector: '.faded', style: { opacity: 0.2 } },
  {
    selector: 'edge',
    style: {
      width: 1.6,
      'curve-style': 'bezier',
      'line-color': '#9aa5b1',
      'target-arrow-color': '#9aa5b1',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.9,
    },
  },
  { selector: 'edge.join_source', style: { 'line-color': '#d4a70f', 'target-arrow-color': '#d4a70f' } },
  { selector: 'edge.suspected', style: { 'line-style': 'dashed', 'line-color': COLORS.failed, 'target-arrow-color': COLORS.failed } },
  { selector: 'edge.triggers', style: { 'line-style': 'dotted', 'line-color': COLORS.chain, 'target-arrow-color': COLORS.chain } },
  // Observed lineage against declared: a use only runs have shown is dashed; a declaration unused lately is faded.
  { selector: 'edge.observed', style: { 'line-style': 'dashed', 'line-dash-pattern': [6, 3], 'line-color': COLORS.observed, 'target-arrow-color': COLORS.observed } },
  { selector: 'edge.stale', style: { opacity: 0.3 } },
];

/**
 * The stylesheet for a graph of `big` size: on big graphs edges are straight lines, which
 * Cytoscape styles and measures faster than bundled beziers (parallel edges then overlap).
 */
export function graphStyle(big: boolean): StylesheetJson {
  return big ? [...GRAPH_STYLE, { selector: 'edge', style: { 'curve-style': 'straight' } }] : GRAPH_STYLE;
}
