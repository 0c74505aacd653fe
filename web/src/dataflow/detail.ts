import type { Collection, Core } from 'cytoscape';
import { DETAIL, labelsReadable, NODE_SIZE } from './style.js';

/** Most elements drawn in detail at once (a very large window at a readable zoom). */
const MAX_DETAILED = 4000;
/** Wait after the last pan or zoom before the detail follows: moving stays cheap. */
const SETTLE_MS = 120;

/** The nodes whose circle is in the view, with their edges. */
function inView(cy: Core): Collection {
  const { x1, y1, x2, y2 } = cy.extent();
  const margin = NODE_SIZE;
  const nodes = cy.nodes().filter((node) => {
    const { x, y } = node.position();
    return x >= x1 - margin && x <= x2 + margin && y >= y1 - margin && y <= y2 + margin;
  });
  return nodes.union(nodes.connectedEdges()).slice(0, MAX_DETAILED);
}

/**
 * Level of detail for big graphs: their stylesheet draws bare circles and lines (no label, no
 * picture, no arrow), and the elements in view get the DETAIL class, with all of that, once
 * the zoom makes labels readable. A first draw of 10,000 nodes then draws no text and no image,
 * and a zoomed-in view draws in full the few hundred elements it shows.
 */
export function updateDetail(cy: Core): boolean {
  const want = labelsReadable(cy.zoom()) ? inView(cy) : cy.collection();
  const had = cy.elements(`.${DETAIL}`);
  const drop = had.difference(want);
  const add = want.difference(had);
  if (drop.empty() && add.empty()) return false;
  cy.batch(() => {
    drop.removeClass(DETAIL);
    add.addClass(DETAIL);
  });
  return true;
}

/**
 * Keeps the detail following the view once pan and zoom settle, calling `changed` when it moved;
 * returns the way to stop.
 */
export function trackDetail(cy: Core, changed: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settle = () => {
    clearTimeout(timer);
    timer = setTimeout(() => updateDetail(cy) && changed(), SETTLE_MS);
  };
  cy.on('viewport', settle);
  return () => {
    clearTimeout(timer);
    cy.off('viewport', settle);
  };
}
