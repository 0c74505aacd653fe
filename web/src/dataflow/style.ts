import type { StylesheetJson } from 'cytoscape';
import { PATTERNED_EDGES } from './dash-overlay.js';
import { COLORS } from './icons.js';
import type { RendererName } from './renderer-choice.js';

/** Node diameter in model units; labels sit under the circle. */
export const NODE_SIZE = 44;
/** Labels' font size in model units, and the smallest size on screen they are drawn at. */
const FONT_SIZE = 12;
const MIN_READABLE_FONT = 7;

/** The class of a big graph's elements drawn in full (label, picture, arrow): see detail.ts. */
export const DETAIL = 'detail';

/** Whether labels can be read at `zoom`; below, neither renderer draws them. */
export const labelsReadable = (zoom: number): boolean => FONT_SIZE * zoom >= MIN_READABLE_FONT;

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
      'font-size': FONT_SIZE,
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
      // The canvas renderer skips labels smaller on screen; the WebGL one ignores this (see graphStyle).
      'min-zoomed-font-size': MIN_READABLE_FONT,
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
 * The stylesheet for a graph of `big` size drawn by `renderer`.
 * - A big graph draws bare circles and lines, and labels, pictures, borders and arrows only on
 *   DETAIL elements (detail.ts: those in view at a readable zoom). Its far lines are haystack
 *   lines on the canvas (centre to centre, no arrow: Cytoscape's cheapest to place and draw).
 * - On WebGL, edges are straight (the curves its canvas fallback bundles are not drawn there),
 *   the dashed and dotted edges are left transparent for a DashOverlay to draw patterned (that
 *   renderer draws every line solid), and without `labels` no node has one: WebGL ignores
 *   min-zoomed-font-size, so GraphCanvas restyles when the zoom crosses `labelsReadable`.
 */
export function graphStyle(big: boolean, renderer: RendererName, labels = true): StylesheetJson {
  const style = [...GRAPH_STYLE];
  if (renderer === 'webgl') style.push({ selector: 'edge', style: { 'curve-style': 'straight' } });
  if (big) {
    // Right after the base rules, so the class rules (a failed run's border, selection) still win.
    const after = (selector: string) => style.findIndex((rule) => rule.selector === selector) + 1;
    style.splice(after('node'), 0, { selector: 'node', style: { label: '', 'background-image': 'none', 'border-width': 0 } }, { selector: `node.${DETAIL}`, style: { label: 'data(label)', 'background-image': 'data(icon)', 'border-width': 2 } });
    const far = renderer === 'canvas' ? { 'curve-style': 'haystack' as const, 'haystack-radius': 0 } : {};
    style.splice(
      after('edge'),
      0,
      { selector: 'edge', style: { ...far, 'target-arrow-shape': 'none' } },
      { selector: `edge.${DETAIL}`, style: { 'curve-style': 'straight', 'target-arrow-shape': 'triangle' } },
    );
  }
  if (renderer === 'webgl') style.push({ selector: PATTERNED_EDGES, style: { 'line-opacity': 0, 'target-arrow-shape': 'none' } });
  if (!labels) style.push({ selector: 'node', style: { label: '' } });
  return style;
}
