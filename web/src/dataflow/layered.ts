/**
 * A lean left-to-right layered (Sugiyama) layout for big graphs, where dagre's ordering phase
 * takes seconds: longest-path ranks pulled toward the heavier side, dummy nodes on long edges,
 * barycenter sweeps that keep the order with the fewest crossings, and rows placed by weighted
 * isotonic regression so each node sits near its neighbours without overlapping. Each sweep is
 * about linear in nodes + dummies (about 50 ms for 2,000 nodes); pure, no DOM.
 */

export interface LayoutEdge {
  source: string;
  target: string;
}

export type Positions = Record<string, { x: number; y: number }>;

export interface LayeredOptions {
  /** The box each node needs: `width` along the ranks (x), `height` across them (y). */
  nodeWidth: number;
  nodeHeight: number;
  /** Free space between ranks, between two nodes of a rank, and beside an edge passing a rank. */
  rankSep: number;
  nodeSep: number;
  edgeSep: number;
  /** Most ordering iterations (a down and an up sweep each); stops earlier when crossings stop falling. */
  orderIterations: number;
  /** Placement iterations (alternate sweeps, then both sides). */
  placeIterations: number;
}

/** CSR adjacency: the neighbours of node v are list[start[v]] … list[start[v + 1] - 1]. */
interface Adjacency {
  start: Int32Array;
  list: Int32Array;
}

/** A layered graph: real nodes first (0…realCount-1), then dummies; each edge joins adjacent ranks. */
interface Layered {
  realCount: number;
  rank: Int32Array;
  /** The proper edges (rank r → r + 1), from their lower and from their upper end. */
  up: Adjacency;
  down: Adjacency;
  layers: Int32Array[];
}

/** Lays out `nodes` left to right; answers each node's centre. */
export function layeredLayout(nodes: string[], edges: LayoutEdge[], options: LayeredOptions): Positions {
  const index = new Map<string, number>();
  nodes.forEach((id, i) => index.set(id, i));
  const pairs: [number, number][] = [];
  for (const edge of edges) {
    const source = index.get(edge.source);
    const target = index.get(edge.target);
    if (source !== undefined && target !== undefined && source !== target) pairs.push([source, target]);
  }
  const dag = uniquePairs(breakCycles(nodes.length, uniquePairs(pairs, nodes.length)), nodes.length);
  const graph = withDummies(nodes.length, dag, rankNodes(nodes.length, dag));
  orderLayers(graph, options.orderIterations);
  const y = placeRows(graph, options);
  const step = options.nodeWidth + options.rankSep;
  const positions: Positions = {};
  nodes.forEach((id, i) => {
    positions[id] = { x: graph.rank[i]! * step, y: y[i]! };
  });
  return positions;
}

function uniquePairs(pairs: [number, number][], n: number): [number, number][] {
  const seen = new Set<number>();
  return pairs.filter(([a, b]) => {
    const key = a * n + b;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Out-edges as CSR arrays, in the given edge order. */
function outAdjacency(n: number, pairs: [number, number][]): Adjacency {
  const start = new Int32Array(n + 1);
  for (const [a] of pairs) start[a + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const list = new Int32Array(pairs.length);
  for (const [a, b] of pairs) list[fill[a]!++] = b;
  return { start, list };
}

/** Reverses the back edges an iterative depth-first search finds, so the graph becomes acyclic. */
function breakCycles(n: number, pairs: [number, number][]): [number, number][] {
  const { start, list } = outAdjacency(n, pairs);
  const state = new Uint8Array(n); // 0 unseen, 1 on the stack, 2 done
  const back = new Set<number>();
  const stack = new Int32Array(n);
  const next = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (state[root]) continue;
    let depth = 0;
    stack[0] = root;
    state[root] = 1;
    next[root] = start[root]!;
    while (depth >= 0) {
      const v = stack[depth]!;
      if (next[v]! < start[v + 1]!) {
        const w = list[next[v]!++]!;
        if (state[w] === 1) back.add(v * n + w);
        else if (state[w] === 0) {
          state[w] = 1;
          next[w] = start[w]!;
          stack[++depth] = w;
        }
      } else {
        state[v] = 2;
        depth--;
      }
    }
  }
  return back.size === 0 ? pairs : pairs.map(([a, b]) => (back.has(a * n + b) ? [b, a] : [a, b]));
}

/**
 * Longest-path ranks, then each node moves toward its heavier side (right when it has more
 * outputs than inputs, left when more inputs): a cheap stand-in for network simplex that keeps
 * edges short without its cost.
 */
function rankNodes(n: number, dag: [number, number][]): Int32Array {
  const out = outAdjacency(n, dag);
  const inn = outAdjacency(n, dag.map(([a, b]) => [b, a]));
  const indegree = new Int32Array(n);
  for (let v = 0; v < n; v++) indegree[v] = inn.start[v + 1]! - inn.start[v]!;
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  const remaining = indegree.slice();
  for (let v = 0; v < n; v++) if (remaining[v] === 0) order[tail++] = v;
  const rank = new Int32Array(n);
  while (head < tail) {
    const v = order[head++]!;
    for (let k = out.start[v]!; k < out.start[v + 1]!; k++) {
      const w = out.list[k]!;
      rank[w] = Math.max(rank[w]!, rank[v]! + 1);
      if (--remaining[w] === 0) order[tail++] = w;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const v = order[i]!;
    const outs = out.start[v + 1]! - out.start[v]!;
    if (outs === 0 || outs <= indegree[v]!) continue;
    let nearest = Infinity;
    for (let k = out.start[v]!; k < out.start[v + 1]!; k++) nearest = Math.min(nearest, rank[out.list[k]!]!);
    rank[v] = nearest - 1;
  }
  for (let i = 0; i < n; i++) {
    const v = order[i]!;
    if (indegree[v]! <= out.start[v + 1]! - out.start[v]!) continue;
    let farthest = -Infinity;
    for (let k = inn.start[v]!; k < inn.start[v + 1]!; k++) farthest = Math.max(farthest, rank[inn.list[k]!]!);
    rank[v] = farthest + 1;
  }
  let min = Infinity;
  for (let v = 0; v < n; v++) min = Math.min(min, rank[v]!);
  for (let v = 0; v < n; v++) rank[v]! -= min;
  return rank;
}

/** Splits every edge spanning several ranks with a chain of dummy nodes, one per rank crossed. */
function withDummies(n: number, dag: [number, number][], realRank: Int32Array): Layered {
  const ranks: number[] = Array.from(realRank);
  const proper: [number, number][] = [];
  for (const [a, b] of dag) {
    let previous = a;
    for (let r = realRank[a]! + 1; r < realRank[b]!; r++) {
      const dummy = ranks.length;
      ranks.push(r);
      proper.push([previous, dummy]);
      previous = dummy;
    }
    proper.push([previous, b]);
  }
  const total = ranks.length;
  const down = outAdjacency(total, proper);
  const up = outAdjacency(total, proper.map(([a, b]) => [b, a]));
  const rank = Int32Array.from(ranks);
  const layers = initialOrder(total, rank, down);
  return { realCount: n, rank, up, down, layers };
}

/** Depth-first from the leftmost ranks, appending each node to its layer: neighbours start close. */
function initialOrder(total: number, rank: Int32Array, down: Adjacency): Int32Array[] {
  let maxRank = 0;
  for (let v = 0; v < total; v++) maxRank = Math.max(maxRank, rank[v]!);
  const layers: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  const byRank = Array.from({ length: total }, (_, v) => v).sort((a, b) => rank[a]! - rank[b]! || a - b);
  const seen = new Uint8Array(total);
  const stack: number[] = [];
  for (const root of byRank) {
    if (seen[root]) continue;
    stack.push(root);
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (seen[v]) continue;
      seen[v] = 1;
      layers[rank[v]!]!.push(v);
      for (let k = down.start[v + 1]! - 1; k >= down.start[v]!; k--) if (!seen[down.list[k]!]) stack.push(down.list[k]!);
    }
  }
  return layers.map((layer) => Int32Array.from(layer));
}

/** Barycenter sweeps down and up; keeps the layer orders with the fewest crossings seen. */
function orderLayers(graph: Layered, iterations: number): void {
  const position = new Float64Array(graph.rank.length);
  const renumber = (layer: Int32Array): void => layer.forEach((v, i) => (position[v] = i));
  graph.layers.forEach(renumber);
  let best = graph.layers.map((layer) => layer.slice());
  let fewest = crossings(graph, position);
  let stale = 0;
  for (let i = 0; i < iterations && fewest > 0 && stale < 4; i++) {
    for (let r = 1; r < graph.layers.length; r++) sortByBarycenter(graph.layers[r]!, graph.up, position, i % 2 === 1);
    for (let r = graph.layers.length - 2; r >= 0; r--) sortByBarycenter(graph.layers[r]!, graph.down, position, i % 2 === 1);
    const count = crossings(graph, position);
    if (count < fewest) {
      fewest = count;
      best = graph.layers.map((layer) => layer.slice());
      stale = 0;
    } else stale++;
  }
  graph.layers = best;
}

/** Reorders one layer by the mean position of each node's neighbours; a node without any keeps its slot. */
function sortByBarycenter(layer: Int32Array, { start, list }: Adjacency, position: Float64Array, preferRight: boolean): void {
  const movable: { v: number; bary: number; was: number }[] = [];
  const fixed = new Uint8Array(layer.length);
  layer.forEach((v, slot) => {
    const degree = start[v + 1]! - start[v]!;
    if (degree === 0) {
      fixed[slot] = 1;
      return;
    }
    let sum = 0;
    for (let k = start[v]!; k < start[v + 1]!; k++) sum += position[list[k]!]!;
    movable.push({ v, bary: sum / degree, was: slot });
  });
  movable.sort((a, b) => a.bary - b.bary || (preferRight ? b.was - a.was : a.was - b.was));
  let next = 0;
  for (let slot = 0; slot < layer.length; slot++) if (!fixed[slot]) layer[slot] = movable[next++]!.v;
  layer.forEach((v, i) => (position[v] = i));
}

/** Edge crossings between every pair of adjacent layers (Barth, Jünger and Mutzel's accumulator tree). */
function crossings(graph: Layered, position: Float64Array): number {
  let total = 0;
  for (let r = 0; r + 1 < graph.layers.length; r++) {
    const lower = graph.layers[r + 1]!;
    let size = 1;
    while (size < lower.length) size *= 2;
    const tree = new Int32Array(2 * size);
    for (const v of graph.layers[r]!) {
      const targets: number[] = [];
      for (let k = graph.down.start[v]!; k < graph.down.start[v + 1]!; k++) targets.push(position[graph.down.list[k]!]!);
      targets.sort((a, b) => a - b);
      for (const target of targets) {
        let node = target + size;
        tree[node]!++;
        while (node > 1) {
          if (node % 2 === 0) total += tree[node + 1]!;
          node >>= 1;
          tree[node]!++;
        }
      }
    }
  }
  return total;
}

/**
 * Across-rank coordinates: each layer, in its order, takes the positions nearest (weighted least
 * squares) to the mean of its neighbours' that keep the minimum gaps, solved exactly by pooling
 * adjacent violators. Dummies weigh more, so long edges run straight.
 */
function placeRows(graph: Layered, options: LayeredOptions): Float64Array {
  const y = new Float64Array(graph.rank.length);
  const isReal = (v: number): boolean => v < graph.realCount;
  const gap = (a: number, b: number): number => {
    const height = ((isReal(a) ? options.nodeHeight : 0) + (isReal(b) ? options.nodeHeight : 0)) / 2;
    return height + (isReal(a) && isReal(b) ? options.nodeSep : isReal(a) || isReal(b) ? (options.nodeSep + options.edgeSep) / 2 : options.edgeSep);
  };
  for (const layer of graph.layers) {
    let at = 0;
    layer.forEach((v, i) => {
      if (i > 0) at += gap(layer[i - 1]!, v);
      y[v] = at;
    });
    layer.forEach((v) => (y[v]! -= at / 2));
  }
  const sides: Adjacency[] = [graph.up, graph.down];
  for (let i = 0; i < options.placeIterations; i++) {
    const both = i >= options.placeIterations - 2;
    const downward = i % 2 === 0;
    const use = both ? sides : [sides[downward ? 0 : 1]!];
    const order = graph.layers.map((_, r) => (downward ? r : graph.layers.length - 1 - r));
    for (const r of order) placeLayer(graph.layers[r]!, use, sides, y, gap, isReal);
  }
  return y;
}

function placeLayer(
  layer: Int32Array,
  sides: Adjacency[],
  bothSides: Adjacency[],
  y: Float64Array,
  gap: (a: number, b: number) => number,
  isReal: (v: number) => boolean,
): void {
  const n = layer.length;
  const offset = new Float64Array(n);
  for (let i = 1; i < n; i++) offset[i] = offset[i - 1]! + gap(layer[i - 1]!, layer[i]!);
  // Pool adjacent violators over z = y - offset, which must not decrease along the layer.
  const blockWeight: number[] = [];
  const blockSum: number[] = [];
  const blockEnd: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = layer[i]!;
    let sum = 0;
    let degree = 0;
    for (const side of isReal(v) ? sides : bothSides) {
      for (let k = side.start[v]!; k < side.start[v + 1]!; k++) sum += y[side.list[k]!]!;
      degree += side.start[v + 1]! - side.start[v]!;
    }
    const weight = degree === 0 ? 0.05 : degree * (isReal(v) ? 1 : 4);
    const wanted = (degree === 0 ? y[v]! : sum / degree) - offset[i]!;
    blockWeight.push(weight);
    blockSum.push(weight * wanted);
    blockEnd.push(i);
    while (blockWeight.length > 1) {
      const last = blockWeight.length - 1;
      if (blockSum[last - 1]! / blockWeight[last - 1]! <= blockSum[last]! / blockWeight[last]!) break;
      blockWeight[last - 1]! += blockWeight.pop()!;
      blockSum[last - 1]! += blockSum.pop()!;
      blockEnd[last - 1] = blockEnd.pop()!;
    }
  }
  let i = 0;
  blockEnd.forEach((end, b) => {
    const z = blockSum[b]! / blockWeight[b]!;
    for (; i <= end; i++) y[layer[i]!] = z + offset[i]!;
  });
}
