import type { Graph, GraphNode } from './graph.js';

export type Direction = 'up' | 'down';

/**
 * Breadth-first closure over the data lineage from `starts`, upstream or downstream, up to
 * `depth` hops (null: unlimited). Returns every reached node with its distance (starts: 0).
 * Hops count datasource and automation nodes alike; chain tasks are not part of data lineage.
 */
export function closure(graph: Graph, starts: Iterable<GraphNode>, direction: Direction, depth: number | null = null): Map<GraphNode, number> {
  const mark = graph.newMark();
  const reached = new Map<GraphNode, number>();
  let frontier: GraphNode[] = [];
  for (const node of starts) {
    if (node.mark === mark) continue;
    node.mark = mark;
    reached.set(node, 0);
    frontier.push(node);
  }
  const neighbours = direction === 'up' ? graph.upstreamOf.bind(graph) : graph.downstreamOf.bind(graph);
  for (let distance = 1; frontier.length > 0 && (depth === null || distance <= depth); distance++) {
    const next: GraphNode[] = [];
    for (const node of frontier) {
      for (const list of neighbours(node)) {
        for (const neighbour of list) {
          if (neighbour.mark === mark) continue;
          neighbour.mark = mark;
          reached.set(neighbour, distance);
          next.push(neighbour);
        }
      }
    }
    frontier = next;
  }
  return reached;
}

/** Chain tasks that trigger any of `automations`, directly or through other chains. */
export function triggeringChains(graph: Graph, automations: Iterable<GraphNode>): Set<GraphNode> {
  const mark = graph.newMark();
  const chains = new Set<GraphNode>();
  const stack = [...automations];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const chain of node.triggeredBy) {
      if (chain.mark === mark) continue;
      chain.mark = mark;
      chains.add(chain);
      stack.push(chain);
    }
  }
  return chains;
}

/**
 * Distance of every node of `within` from the nearest focus node, walking lineage edges in both
 * directions inside `within`; nodes it cannot reach are left out.
 */
export function distancesFrom(graph: Graph, focus: Iterable<GraphNode>, within: Set<GraphNode>): Map<GraphNode, number> {
  const mark = graph.newMark();
  const distances = new Map<GraphNode, number>();
  let frontier: GraphNode[] = [];
  for (const node of focus) {
    if (!within.has(node) || node.mark === mark) continue;
    node.mark = mark;
    distances.set(node, 0);
    frontier.push(node);
  }
  for (let distance = 1; frontier.length > 0; distance++) {
    const next: GraphNode[] = [];
    for (const node of frontier) {
      for (const list of [...graph.upstreamOf(node), ...graph.downstreamOf(node), node.steps, node.triggeredBy]) {
        for (const neighbour of list) {
          if (neighbour.mark === mark || !within.has(neighbour)) continue;
          neighbour.mark = mark;
          distances.set(neighbour, distance);
          next.push(neighbour);
        }
      }
    }
    frontier = next;
  }
  return distances;
}
