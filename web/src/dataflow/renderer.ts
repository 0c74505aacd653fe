import type { Core } from 'cytoscape';
import { pickRenderer, type RendererChoice, type RendererDecision, type RendererName } from './renderer-choice.js';

export type { RendererChoice, RendererDecision, RendererName };

let detected: string | null | undefined;

/** The GPU's name as WebGL2 reports it (unmasked when the browser allows), null without WebGL2; asked once. */
export function webglGpu(): string | null {
  if (detected !== undefined) return detected;
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return (detected = null);
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  detected = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? 'unknown');
  gl.getExtension('WEBGL_lose_context')?.loseContext(); // browsers cap live contexts: give this one back
  return detected;
}

/** The renderer a new graph of `big` size gets for `choice` on this browser. */
export function rendererFor(choice: RendererChoice, big: boolean): RendererDecision {
  return pickRenderer(choice, big, webglGpu);
}

/** Cytoscape's renderer object (not in its typings). */
const rendererOf = (cy: Core): { webgl?: boolean } => (cy as unknown as { renderer(): { webgl?: boolean } }).renderer();

/** The renderer `cy` really draws with. */
export function drawnWith(cy: Core): RendererName {
  return rendererOf(cy).webgl ? 'webgl' : 'canvas';
}

/**
 * Cytoscape turns WebGL on by setting its canvas renderer's layer count on the shared prototype
 * (3.34: `CRp.CANVAS_LAYERS = r.CANVAS_LAYERS = 4`), so every canvas graph made afterwards would
 * also ask for a WebGL2 context. The WebGL instance keeps its own count; the prototype gets 3 back.
 */
export function keepCanvasDefault(cy: Core): void {
  if (drawnWith(cy) !== 'webgl') return;
  const prototype = Object.getPrototypeOf(rendererOf(cy)) as { CANVAS_LAYERS?: number };
  if (prototype.CANVAS_LAYERS === 4) prototype.CANVAS_LAYERS = 3;
}
