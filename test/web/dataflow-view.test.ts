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
  it('takes WebGL on a hardware GPU and the canvas on software WebGL or none', () => {
    expect(pickRenderer('auto', 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)').name).toBe('webgl');
    expect(pickRenderer('auto', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)').name).toBe('canvas');
    expect(pickRenderer('auto', 'llvmpipe (LLVM 15.0.6, 256 bits)').name).toBe('canvas');
    expect(pickRenderer('auto', null)).toEqual({ name: 'canvas', reason: 'canvas renderer: this browser has no WebGL2' });
  });

  it('follows what the URL asks, except WebGL where there is none', () => {
    expect(pickRenderer('webgl', 'SwiftShader').name).toBe('webgl');
    expect(pickRenderer('webgl', null).name).toBe('canvas');
    expect(pickRenderer('canvas', 'Apple M2').name).toBe('canvas');
  });
});
