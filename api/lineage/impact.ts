import { ScriptTokenKind } from '../../core/db/entities/index.js';
import type { DependentInfo } from '../../core/errors.js';
import { isDataNode, isDatasource, type CodeMatch, type Graph, type GraphNode } from './graph.js';
import { closure } from './traverse.js';

/** Collects reasons per dependent so each object is listed once with all its reasons. */
class DependentList {
  private readonly byId = new Map<string, DependentInfo>();

  add(node: GraphNode, reason: string): void {
    const existing = this.byId.get(node.id);
    if (!existing) this.byId.set(node.id, { id: node.id, name: node.name, type: node.type, reason });
    else if (!existing.reason.split('; ').includes(reason)) existing.reason += `; ${reason}`;
  }

  toArray(): DependentInfo[] {
    return [...this.byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }
}

const codeReason = (match: CodeMatch) => (match === ScriptTokenKind.UUID ? 'its code holds the datasource id' : 'its code names it in a string literal');

/**
 * Everything that keeps a datasource from being deleted (ARCHITECTURE.md "Deletion safety"):
 * automations declaring it, joins using it, and scripts whose code holds its id or its exact
 * name as a quoted string literal. Read off the graph's links: no scan, whatever the size.
 */
export function datasourceDependents(datasource: GraphNode): DependentInfo[] {
  const list = new DependentList();
  for (const automation of datasource.consumers) list.add(automation, 'declares it as input');
  for (const automation of datasource.producers) list.add(automation, 'declares it as output');
  for (const join of datasource.joinsUsing) list.add(join, 'joins it');
  for (const [script, matches] of datasource.referencedBy) for (const match of matches) list.add(script, codeReason(match));
  return list.toArray();
}

/** Chain tasks that trigger an automation: deleting it would break them. */
export function automationDependents(automation: GraphNode): DependentInfo[] {
  const list = new DependentList();
  for (const chain of automation.triggeredBy) list.add(chain, `triggers it as step ${chain.steps.indexOf(automation) + 1}`);
  return list.toArray();
}

export interface ImpactEntry {
  node: GraphNode;
  /** Hops from the changed node; for suspected scripts, from the datasource their code names. */
  distance: number;
  /** A script that does not declare the datasource but whose code refers to it. */
  suspected: boolean;
}

/**
 * What breaks if `root` changes: every datasource and automation downstream of it, nearest
 * first, then scripts whose code refers to one of those datasources without declaring it.
 */
export function downstreamImpact(graph: Graph, root: GraphNode): ImpactEntry[] {
  const reached = closure(graph, [root], 'down');
  const entries: ImpactEntry[] = [];
  for (const [node, distance] of reached) if (node !== root) entries.push({ node, distance, suspected: false });
  const suspected = new Map<GraphNode, number>();
  for (const [node, distance] of reached) {
    if (!isDatasource(node)) continue;
    for (const script of node.referencedBy.keys()) {
      if (reached.has(script) || script === root) continue;
      suspected.set(script, Math.min(suspected.get(script) ?? Infinity, distance + 1));
    }
  }
  for (const [node, distance] of suspected) entries.push({ node, distance, suspected: true });
  return entries.sort((a, b) => a.distance - b.distance || a.node.name.localeCompare(b.node.name) || a.node.id.localeCompare(b.node.id));
}

/** Scripts that declare no input or output (not lineage nodes), by name, with what their code refers to. */
export function undeclaredScripts(graph: Graph): { script: GraphNode; references: { datasource: GraphNode; matches: CodeMatch[] }[] }[] {
  const scripts = [...graph.nodes.values()].filter((n) => n.type === 'SCRIPT' && !isDataNode(n));
  scripts.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return scripts.map((script) => ({
    script,
    references: [...script.codeRefs]
      .map(([datasource, matches]) => ({ datasource, matches }))
      .sort((a, b) => a.datasource.name.localeCompare(b.datasource.name)),
  }));
}
