/** How Cytoscape draws the graph: its WebGL renderer, or its 2D canvas one. */
export type RendererName = 'webgl' | 'canvas';
/** What the URL asks for (`renderer=webgl|canvas`); `auto` picks by the hardware. */
export type RendererChoice = RendererName | 'auto';

export interface RendererDecision {
  name: RendererName;
  /** Why, in words for the page's tooltip and for tests. */
  reason: string;
}

/**
 * GPU names of WebGL done on the CPU (Chromium's SwiftShader, Mesa's llvmpipe, Windows' basic
 * driver): there Cytoscape's WebGL renderer is several times slower than its canvas one (measured
 * with Debian's Chromium, 10,000 nodes: frames p50 1,617 ms against 117 ms).
 */
const SOFTWARE_GPU = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/**
 * The renderer for `choice` and a graph of `big` size on a browser whose WebGL2 reports `gpu()`
 * (null: no WebGL2). `auto` keeps small graphs on the canvas without asking for WebGL at all:
 * they draw fast there, and a WebGL context is a GPU process for the browser to start.
 */
export function pickRenderer(choice: RendererChoice, big: boolean, gpu: () => string | null): RendererDecision {
  if (choice === 'canvas') return { name: 'canvas', reason: 'canvas renderer, as asked' };
  if (choice === 'auto' && !big) return { name: 'canvas', reason: 'canvas renderer: a graph this small draws fast on it' };
  const found = gpu();
  if (found === null) return { name: 'canvas', reason: 'canvas renderer: this browser has no WebGL2' };
  if (choice === 'webgl') return { name: 'webgl', reason: `WebGL renderer, as asked (${found})` };
  if (SOFTWARE_GPU.test(found)) return { name: 'canvas', reason: `canvas renderer: WebGL here is software (${found}), slower than the canvas` };
  return { name: 'webgl', reason: `WebGL renderer (${found})` };
}
