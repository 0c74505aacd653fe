import { LineageNodeType } from '../../core/db/entities/index.js';
import { isDatasource, type Graph, type GraphNode } from './graph.js';
import { SelectorError, parseSelector, type SelectorAtom, type SelectorTerm } from './selector.js';
import { closure } from './traverse.js';

export interface Selection {
  nodes: Set<GraphNode>;
  /** Nodes named in the selection: the focus when an answer must be cut. */
  named: GraphNode[];
}

/** Evaluates a selection (`+orders`, `@"ORDERS <> CUSTOMERS"`, `kind:SCRIPT,tag:finance`, …) on the graph. */
export function evaluateSelection(graph: Graph, text: string): Selection {
  const named: GraphNode[] = [];
  const nodes = new Set<GraphNode>();
  for (const group of parseSelector(text)) {
    let intersection = null as Set<GraphNode> | null;
    for (const term of group) {
      const matched = expandTerm(graph, term, matchAtom(graph, term.atom, named));
      intersection = intersection === null ? matched : new Set([...intersection].filter((n) => matched.has(n)));
    }
    for (const node of intersection ?? []) nodes.add(node);
  }
  return { nodes, named };
}

function matchAtom(graph: Graph, atom: SelectorAtom, named: GraphNode[]): GraphNode[] {
  if (atom.type === 'name') {
    const found = graph.byName(atom.name);
    if (found.length === 0) throw new SelectorError(atom.position, `no datasource or automation is named ${JSON.stringify(atom.name)}${suggest(graph, atom.name)}`);
    named.push(...found);
    return found;
  }
  const all = [...graph.nodes.values()];
  switch (atom.type) {
    case 'kind':
      return all.filter((n) => n.type === (atom.value as LineageNodeType));
    case 'tag':
      return all.filter((n) => n.tags.includes(atom.value));
    case 'status':
      return all.filter((n) => !isDatasource(n) && (atom.value === 'NEVER' ? n.lastRunStatus === null : n.lastRunStatus === atom.value));
    case 'scheduled':
      return all.filter((n) => !isDatasource(n) && n.scheduled === atom.value);
  }
}

/** Applies the graph operators of a term: `n+x` upstream, `x+n` downstream, `@x`. */
function expandTerm(graph: Graph, term: SelectorTerm, matched: GraphNode[]): Set<GraphNode> {
  const result = new Set(matched);
  if (term.at) {
    const down = closure(graph, matched, 'down');
    for (const node of closure(graph, down.keys(), 'up').keys()) result.add(node);
    return result;
  }
  if (term.upstream !== undefined) for (const node of closure(graph, matched, 'up', term.upstream).keys()) result.add(node);
  if (term.downstream !== undefined) for (const node of closure(graph, matched, 'down', term.downstream).keys()) result.add(node);
  return result;
}

/** " (did you mean …?)" with up to three names containing the text, case-insensitively. */
function suggest(graph: Graph, name: string): string {
  const needle = name.toLowerCase();
  const hits: string[] = [];
  for (const node of graph.nodes.values()) {
    if (node.name.toLowerCase().includes(needle) || (needle.includes(node.name.toLowerCase()) && node.name.length > 2)) hits.push(node.name);
    if (hits.length >= 3) break;
  }
  return hits.length > 0 ? ` (did you mean ${hits.map((h) => JSON.stringify(h)).join(', ')}?)` : '; names are exact and case-sensitive, quote names with spaces';
}
