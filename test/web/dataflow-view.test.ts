import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, filtersFromSearch, filtersToSearch } from '../../web/src/dataflow/filters.js';
import { pickRenderer } from '../../web/src/dataflow/renderer-choice.js';

describe('the Dataflow view options in the URL', () => {
  it('keeps "show all" and the renderer, and leaves the defaults out', () => {
    const view = { ...DEFAULT_FILTERS, all: true, renderer: 'webgl' as const };
    expect(filtersToSearch(view)).toBe('?all=true&renderer=webgl');
    expect(filtersFromSearch('?all=true&renderer=webgl')).toMatchObject({ all: true, renderer: 'webgl' });
    expect(filtersToSearch(filtersFromSearch(''))).toBe('');
    expect(filtersFromSearch('')).toMatchObject({ all: false, renderer: 'auto' });
  });

  it('reads an unknown renderer as auto', () => {
    expect(filtersFromSearch('?renderer=vulkan').renderer).toBe('auto');
    expect(filtersFromSearch('?renderer=').renderer).toBe('auto');
  });
});

describe('picking the renderer', () => {
  const gpu = (name: string | null) => () => name;
  const unasked = () => {
    throw new Error('WebGL was probed');
  };

  it('takes WebGL on a hardware GPU for a big graph, the canvas on software WebGL or none', () => {
    expect(pickRenderer('auto', true, gpu('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)')).name).toBe('webgl');
    expect(pickRenderer('auto', true, gpu('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)')).name).toBe('canvas');
    expect(pickRenderer('auto', true, gpu('llvmpipe (LLVM 15.0.6, 256 bits)')).name).toBe('canvas');
    expect(pickRenderer('auto', true, gpu(null))).toEqual({ name: 'canvas', reason: 'canvas renderer: this browser has no WebGL2' });
  });

  it('keeps a small graph on the canvas without asking for a WebGL context', () => {
    expect(pickRenderer('auto', false, unasked).name).toBe('canvas');
    expect(pickRenderer('canvas', true, unasked).name).toBe('canvas');
  });

  it('follows what the URL asks, except WebGL where there is none', () => {
    expect(pickRenderer('webgl', false, gpu('SwiftShader')).name).toBe('webgl');
    expect(pickRenderer('webgl', true, gpu(null)).name).toBe('canvas');
    expect(pickRenderer('canvas', true, gpu('Apple M2')).name).toBe('canvas');
  });
});
