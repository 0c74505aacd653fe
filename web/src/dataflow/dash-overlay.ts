import type { Core, EdgeCollection } from 'cytoscape';

/** Edges the encoding draws dashed or dotted: suspected, chain triggers, observed-only uses. */
export const PATTERNED_EDGES = 'edge.suspected, edge.triggers, edge.observed';

/**
 * Cytoscape's WebGL renderer draws every edge solid (3.34 has no `line-style` there), so on it the
 * patterned edges are left transparent and drawn here instead, on a 2D canvas over the graph, after
 * each of Cytoscape's frames: same ends, colour, width, dash, opacity and arrow as the canvas
 * renderer draws. They are few (a workspace declares its lineage), so this costs a frame little.
 */
export class DashOverlay {
  private readonly canvas: HTMLCanvasElement;
  /** The patterned edges, found again at the next frame after edges come or go. */
  private edges: EdgeCollection | null = null;
  private frame = 0;
  /** Paints at the next frame, once however many changes come before it. */
  private readonly schedule = () => {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.paint());
  };
  private readonly changed = () => {
    this.edges = null;
    this.schedule();
  };

  constructor(
    private readonly cy: Core,
    container: HTMLElement,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.dataset.testid = 'dash-overlay';
    Object.assign(this.canvas.style, { position: 'absolute', left: '0', top: '0', width: '100%', height: '100%', pointerEvents: 'none', zIndex: '10' });
    container.appendChild(this.canvas);
    // Cytoscape's WebGL frames emit no 'render' event: paint after what moves or restyles edges.
    cy.on('add remove', 'edge', this.changed);
    cy.on('viewport position style resize', this.schedule);
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.cy.off('viewport position style resize', this.schedule);
    this.cy.off('add remove', 'edge', this.changed);
    this.canvas.remove();
  }

  private paint(): void {
    this.frame = 0;
    const { canvas, cy } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    const context = canvas.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const zoom = cy.zoom();
    this.edges ??= cy.edges(PATTERNED_EDGES);
    for (const edge of this.edges) {
      if (!edge.visible()) continue;
      const from = edge.renderedSourceEndpoint();
      const to = edge.renderedTargetEndpoint();
      const color = edge.style('line-color') as string;
      const lineWidth = Number.parseFloat(edge.style('width') as string) * zoom;
      // As Cytoscape's canvas renderer dashes, in model units: dotted 1 on 1 off, dashed its pattern.
      const dotted = edge.style('line-style') === 'dotted';
      const pattern = dotted ? [1, 1] : String(edge.style('line-dash-pattern')).split(/[\s,]+/).map(Number).filter((n) => n > 0);
      context.globalAlpha = edge.effectiveOpacity();
      context.strokeStyle = color;
      context.fillStyle = color;
      context.lineWidth = lineWidth;
      context.setLineDash((pattern.length > 0 ? pattern : [6, 3]).map((length) => length * zoom));
      context.beginPath();
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
      arrowhead(context, from, to, lineWidth);
    }
    context.globalAlpha = 1;
  }
}

/** A filled triangle at `to`, pointing from `from`, sized as Cytoscape sizes a triangle arrow. */
function arrowhead(context: CanvasRenderingContext2D, from: { x: number; y: number }, to: { x: number; y: number }, lineWidth: number): void {
  const angle = Math.atan2(to.y - from.y, to.x - from.x);
  const length = Math.max(lineWidth * 5, 4);
  context.setLineDash([]);
  context.beginPath();
  context.moveTo(to.x, to.y);
  context.lineTo(to.x - length * Math.cos(angle - 0.45), to.y - length * Math.sin(angle - 0.45));
  context.lineTo(to.x - length * Math.cos(angle + 0.45), to.y - length * Math.sin(angle + 0.45));
  context.closePath();
  context.fill();
}
