import { LineageNodeType } from '../../core/db/entities/index.js';
import { BadUserInputError } from '../../core/errors.js';
import { IoDirection } from '../../core/enums.js';
import { isDataNode, isDatasource, useKey, type Graph, type GraphNode } from './graph.js';
import { evaluateSelection } from './select.js';
import { SelectorError } from './selector.js';
import { closure, distancesFrom, triggeringChains } from './traverse.js';

export const DEFAULT_MAX_NODES = 5_000;
export const MAX_MAX_NODES = 100_000;

export interface LineageFilterArgs {
  scheduledOnly?: boolean | null;
  leadingTo?: string | null;
  downstreamOf?: string | null;
  depth?: number | null;
  select?: string | null;
  /** A selection in the same syntax whose nodes are left out of the answer (dbt's `--exclude`). */
  exclude?: string | null;
  includeChainTasks?: boolean | null;
  /** Which graph the filter runs on (the caller picks it, see LineageStore.asOf); the filters apply alike. */
  asOf?: Date | null;
  /** Nodes opened further on demand: their closure up or down to `depth` hops joins the answer, whatever the other filters keep. */
  expand?: LineageExpansion[] | null;
}

export interface LineageExpansion {
  id: string;
  direction: 'UPSTREAM' | 'DOWNSTREAM';
  depth: number;
}

/** Most expansions in one filter, and most hops one reaches: a view opened by hand, not a crawl. */
export const MAX_EXPANSIONS = 50;
export const MAX_EXPANSION_DEPTH = 20;

export enum LineageEdgeKind {
  INPUT = 'INPUT',
  OUTPUT = 'OUTPUT',
  JOIN_SOURCE = 'JOIN_SOURCE',
  TRIGGERS = 'TRIGGERS',
  SUSPECTED = 'SUSPECTED',
}

export interface LineageEdgeOut {
  source: string;
  target: string;
  kind: LineageEdgeKind;
  /** Declared (every kind but SUSPECTED, and INPUT/OUTPUT edges only runs have shown). */
  declared: boolean;
  /** INPUT/OUTPUT: when a run last used it; null when no recorded run did. */
  observedAt: Date | null;
  /** A declaration none of the automation's last observed runs used (LINEAGE_STALE_AFTER_RUNS of them). */
  stale: boolean;
}

export interface LineageAnswer {
  nodes: GraphNode[];
  edges: LineageEdgeOut[];
  /** Nodes matching the filter, before any cut. */
  total: number;
  truncated: boolean;
}

/**
 * The lineage graph narrowed by a filter (ARCHITECTURE.md "Lineage rules"). Filters compose by
 * intersection; then the nodes of `exclude` are taken out (chain tasks included), as dbt's
 * `--select … --exclude …` does. Over `maxNodes` the answer keeps the nodes nearest to the focus (the
 * leadingTo/downstreamOf node, or the names of the selection), then by name: a cut is
 * deterministic and never empty when something matched.
 */
export function queryLineage(graph: Graph, filter: LineageFilterArgs = {}, maxNodes: number = DEFAULT_MAX_NODES): LineageAnswer {
  checkLimits(filter, maxNodes);
  const depth = filter.depth ?? null;
  const focus: GraphNode[] = [];
  let matched = null as Set<GraphNode> | null;
  const narrow = (nodes: Iterable<GraphNode>) => {
    const next = new Set(nodes);
    matched = matched === null ? next : new Set([...matched].filter((n) => next.has(n)));
  };

  if (filter.leadingTo) {
    const node = focusNode(graph, filter.leadingTo, 'filter.leadingTo');
    focus.push(node);
    narrow(closure(graph, [node], 'up', depth).keys());
  }
  if (filter.downstreamOf) {
    const node = focusNode(graph, filter.downstreamOf, 'filter.downstreamOf');
    focus.push(node);
    narrow(closure(graph, [node], 'down', depth).keys());
  }
  if (filter.select != null) {
    const selection = evaluateSelection(graph, filter.select);
    focus.push(...selection.named);
    narrow(selection.nodes);
  }
  if (filter.scheduledOnly) narrow(scheduledFlows(graph));

  const data = [...(matched ?? graph.nodes.values())].filter(isDataNode);
  const chains = filter.includeChainTasks ? chainTasksFor(graph, data, matched, filter.scheduledOnly === true) : [];
  const all = new Set([...data, ...chains]);
  if (filter.exclude != null) for (const node of excluded(graph, filter.exclude)) all.delete(node);
  // What the user opened by hand joins last: an expansion shows what it asked for.
  for (const [index, expansion] of (filter.expand ?? []).entries()) {
    const node = focusNode(graph, expansion.id, `filter.expand[${index}].id`);
    focus.push(node);
    for (const reached of closure(graph, [node], expansion.direction === 'UPSTREAM' ? 'up' : 'down', expansion.depth).keys()) {
      if (isDataNode(reached) || reached.type === LineageNodeType.CHAIN_TASK) all.add(reached);
    }
  }
  const kept = cut(graph, all, focus, maxNodes);
  return { nodes: kept, edges: edgesWithin(graph, kept), total: all.size, truncated: kept.length < all.size };
}

/** The nodes of the exclusion: errors point at `filter.exclude`. */
function excluded(graph: Graph, text: string): Set<GraphNode> {
  try {
    return evaluateSelection(graph, text).nodes;
  } catch (error) {
    throw error instanceof SelectorError ? error.in('filter.exclude') : error;
  }
}

function checkLimits(filter: LineageFilterArgs, maxNodes: number): void {
  if (!Number.isInteger(maxNodes) || maxNodes < 1 || maxNodes > MAX_MAX_NODES) {
    throw new BadUserInputError('maxNodes', `maxNodes must be from 1 to ${MAX_MAX_NODES}, got ${maxNodes}`);
  }
  const expansions = filter.expand ?? [];
  if (expansions.length > MAX_EXPANSIONS) throw new BadUserInputError('filter.expand', `at most ${MAX_EXPANSIONS} expansions, got ${expansions.length}`);
  for (const [index, { depth }] of expansions.entries()) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_EXPANSION_DEPTH) throw new BadUserInputError(`filter.expand[${index}].depth`, `an expansion reaches 1 to ${MAX_EXPANSION_DEPTH} hops, got ${depth}`);
  }
  if (filter.depth != null) {
    if (!Number.isInteger(filter.depth) || filter.depth < 0) throw new BadUserInputError('filter.depth', `depth must be 0 or more hops, got ${filter.depth}`);
    if (!filter.leadingTo && !filter.downstreamOf) throw new BadUserInputError('filter.depth', 'depth limits leadingTo or downstreamOf: give one of them');
  }
}

function focusNode(graph: Graph, id: string, field: string): GraphNode {
  const node = graph.nodes.get(id);
  if (!node) throw new BadUserInputError(field, `no datasource or automation has the id ${JSON.stringify(id)}`);
  return node;
}

/**
 * "Only scheduled flows": effectively scheduled automations with their inputs and outputs, and
 * every join built (through joins of joins) on a datasource they write, with the joins' sources.
 */
export function scheduledFlows(graph: Graph): Set<GraphNode> {
  const result = new Set<GraphNode>();
  const written: GraphNode[] = [];
  for (const node of graph.nodes.values()) {
    if (!node.scheduled || !isDataNode(node)) continue;
    result.add(node);
    for (const input of node.inputs) result.add(input);
    for (const output of node.outputs) {
      result.add(output);
      written.push(output);
    }
  }
  // Joins fed by written datasources, and joins of those joins.
  const mark = graph.newMark();
  while (written.length > 0) {
    for (const join of written.pop()!.joinsUsing) {
      if (join.mark === mark) continue;
      join.mark = mark;
      result.add(join);
      for (const source of join.joinSources) result.add(source);
      written.push(join);
    }
  }
  return result;
}

/** Chain tasks triggering the shown automations (at any depth), plus chains the filter matched itself. */
function chainTasksFor(graph: Graph, data: GraphNode[], matched: Set<GraphNode> | null, scheduledOnly: boolean): GraphNode[] {
  const chains = triggeringChains(graph, data.filter((n) => !isDatasource(n)));
  for (const node of matched ?? graph.nodes.values()) if (node.type === LineageNodeType.CHAIN_TASK) chains.add(node);
  return [...chains].filter((chain) => !scheduledOnly || chain.scheduled);
}

const byName = (a: GraphNode, b: GraphNode) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Keeps at most `maxNodes`: nearest to the focus first, then by name and id. With no focus (a
 * whole-workspace view), the most connected node is the focus, so a cut view is one connected
 * neighbourhood rather than the first names of the alphabet.
 */
function cut(graph: Graph, nodes: Set<GraphNode>, focus: GraphNode[], maxNodes: number): GraphNode[] {
  const list = [...nodes];
  if (list.length <= maxNodes) return list.sort(byName);
  const distance = distancesFrom(graph, focus.length > 0 ? focus : mostConnected(graph, list), nodes);
  const far = Number.MAX_SAFE_INTEGER;
  list.sort((a, b) => (distance.get(a) ?? far) - (distance.get(b) ?? far) || byName(a, b));
  return list.slice(0, maxNodes).sort(byName);
}

/** The node with the most lineage edges (the first by name among equals), as a one-node focus. */
function mostConnected(graph: Graph, nodes: GraphNode[]): GraphNode[] {
  let best: GraphNode | null = null;
  let bestDegree = -1;
  for (const node of nodes) {
    let degree = node.steps.length + node.triggeredBy.length;
    for (const list of [...graph.upstreamOf(node), ...graph.downstreamOf(node)]) degree += list.length;
    if (degree > bestDegree || (degree === bestDegree && best !== null && byName(node, best) < 0)) {
      best = node;
      bestDegree = degree;
    }
  }
  return best ? [best] : [];
}

/**
 * Lineage edges among the kept nodes: declared ones with what runs observed of them, the uses runs
 * observed that nothing declares, and suspected edges for code references a script neither
 * declares nor was seen to use.
 */
function edgesWithin(graph: Graph, nodes: GraphNode[]): LineageEdgeOut[] {
  const kept = new Set(nodes);
  const edges: LineageEdgeOut[] = [];
  const structural = (source: GraphNode, target: GraphNode, kind: LineageEdgeKind) => edges.push({ source: source.id, target: target.id, kind, declared: true, observedAt: null, stale: false });
  for (const node of nodes) {
    if (isDatasource(node)) {
      for (const join of node.joinsUsing) if (kept.has(join)) structural(node, join, LineageEdgeKind.JOIN_SOURCE);
      continue;
    }
    // Most automations have no observation: their edges skip the lookups.
    const observations = node.observed.size > 0 || node.stale.size > 0;
    const use = (datasource: GraphNode, direction: IoDirection, declared: boolean, seen?: Date) => {
      const input = direction === IoDirection.INPUT;
      const key = observations ? useKey(direction, datasource.id) : '';
      edges.push({
        source: input ? datasource.id : node.id,
        target: input ? node.id : datasource.id,
        kind: input ? LineageEdgeKind.INPUT : LineageEdgeKind.OUTPUT,
        declared,
        observedAt: seen ?? (observations ? (node.observed.get(key) ?? null) : null),
        stale: declared && observations && node.stale.has(key),
      });
    };
    for (const input of node.inputs) if (kept.has(input)) use(input, IoDirection.INPUT, true);
    for (const output of node.outputs) if (kept.has(output)) use(output, IoDirection.OUTPUT, true);
    for (const [key, at] of node.observed) {
      const split = key.indexOf(':');
      const direction = key.slice(0, split) as IoDirection;
      const datasource = graph.nodes.get(key.slice(split + 1));
      if (!datasource || !kept.has(datasource)) continue;
      const declared = direction === IoDirection.INPUT ? node.inputs.includes(datasource) : node.outputs.includes(datasource);
      if (!declared) use(datasource, direction, false, at);
    }
    for (const step of node.steps) if (kept.has(step)) structural(node, step, LineageEdgeKind.TRIGGERS);
    for (const datasource of node.codeRefs.keys()) {
      if (!kept.has(datasource) || node.inputs.includes(datasource) || node.outputs.includes(datasource)) continue;
      if (node.observed.has(useKey(IoDirection.INPUT, datasource.id)) || node.observed.has(useKey(IoDirection.OUTPUT, datasource.id))) continue;
      edges.push({ source: datasource.id, target: node.id, kind: LineageEdgeKind.SUSPECTED, declared: false, observedAt: null, stale: false });
    }
  }
  return edges;
}
