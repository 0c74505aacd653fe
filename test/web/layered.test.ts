import { describe, expect, it } from 'vitest';
import { layeredLayout, type LayoutEdge } from '../../web/src/dataflow/layered.js';

const OPTIONS = { nodeWidth: 40, nodeHeight: 30, rankSep: 60, nodeSep: 20, edgeSep: 10, orderIterations: 8, placeIterations: 8 };

/** A seeded random DAG: `n` nodes in `ranks` bands, edges only from lower to higher bands. */
function randomDag(n: number, ranks: number, edgesPerNode: number, seed = 7): { nodes: string[]; edges: LayoutEdge[] } {
  let state = seed;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const band = (i: number) => Math.floor((i * ranks) / n);
  const edges: LayoutEdge[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < edgesPerNode; k++) {
      const j = Math.floor(random() * n);
      if (band(j) > band(i)) edges.push({ source: nodes[i]!, target: nodes[j]! });
    }
  }
  return { nodes, edges };
}

describe('layeredLayout', () => {
  it('puts every edge left to right, a lone chain on one row, and no two nodes on one spot', () => {
    const { nodes, edges } = randomDag(600, 8, 2);
    const chain = ['a', 'b', 'c', 'd'];
    const allNodes = [...nodes, ...chain];
    const allEdges = [...edges, ...chain.slice(1).map((target, i) => ({ source: chain[i]!, target }))];
    const positions = layeredLayout(allNodes, allEdges, OPTIONS);

    expect(Object.keys(positions).sort()).toEqual([...allNodes].sort());
    for (const { source, target } of allEdges) expect(positions[target]!.x).toBeGreaterThan(positions[source]!.x);
    const alone = layeredLayout(chain, allEdges.slice(edges.length), OPTIONS);
    expect(new Set(chain.map((id) => alone[id]!.y)).size).toBe(1);
    const spots = new Set(allNodes.map((id) => `${positions[id]!.x},${positions[id]!.y}`));
    expect(spots.size).toBe(allNodes.length);
    // Nodes sharing a rank (one x) keep at least nodeHeight + nodeSep between their centres.
    const byRank = new Map<number, number[]>();
    for (const id of allNodes) byRank.set(positions[id]!.x, [...(byRank.get(positions[id]!.x) ?? []), positions[id]!.y]);
    for (const ys of byRank.values()) {
      ys.sort((p, q) => p - q);
      for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!).toBeGreaterThanOrEqual(OPTIONS.nodeHeight + OPTIONS.nodeSep - 1e-6);
    }
  });

  it('survives cycles, self loops, duplicate edges and edges to unknown nodes', () => {
    const positions = layeredLayout(
      ['x', 'y', 'z'],
      [
        { source: 'x', target: 'y' },
        { source: 'y', target: 'z' },
        { source: 'z', target: 'x' },
        { source: 'x', target: 'x' },
        { source: 'x', target: 'y' },
        { source: 'x', target: 'ghost' },
      ],
      OPTIONS,
    );
    expect(Object.keys(positions).sort()).toEqual(['x', 'y', 'z']);
    for (const p of Object.values(positions)) expect(Number.isFinite(p.x) && Number.isFinite(p.y)).toBe(true);
  });
});
