import type { ElementDefinition } from 'cytoscape';
import { nodeIcon } from './icons.js';
import { producerName, type LineageEdge, type LineageGraph, type LineageNode, type LineageNodeType } from './lineage.js';

/** The class each node type gets; the stylesheet colours by it and tests read it. */
export const TYPE_CLASS: Record<LineageNodeType, string> = {
  DATASOURCE: 'datasource',
  JOIN_DATASOURCE: 'join-datasource',
  EXTERNAL_DATASOURCE: 'external-datasource',
  ETL_STEP: 'etl-step',
  SFTP_IMPORT: 'sftp-import',
  DATABASE_TABLE: 'database-table',
  SCRIPT: 'script',
  CHAIN_TASK: 'chain-task',
  EXTERNAL_JOB: 'external-job',
};

/** The classes of a node: its type, then `scheduled`, `last-success`/`last-failed`, `python`/`javascript`. */
export function nodeClasses(node: LineageNode): string[] {
  const classes = [TYPE_CLASS[node.type]];
  if (node.scheduled) classes.push('scheduled');
  if (node.lastRunStatus === 'SUCCESS') classes.push('last-success');
  if (node.lastRunStatus === 'FAILED') classes.push('last-failed');
  if (node.language) classes.push(node.language.toLowerCase());
  if (node.state && node.state !== 'ACTIVE') classes.push('inactive');
  return classes;
}

/** Data carried by each Cytoscape node (read by the stylesheet, the tooltip and the test hook). */
export interface NodeData {
  id: string;
  label: string;
  icon: string;
  node: LineageNode;
}

export interface EdgeData {
  id: string;
  source: string;
  target: string;
  kind: LineageEdge['kind'];
}

export function edgeId(edge: LineageEdge): string {
  return `${edge.kind}:${edge.source}->${edge.target}`;
}

/** A node's label: its name, and for external jobs and datasets the producer that reported them ("via airflow"). */
export function nodeLabel(node: LineageNode): string {
  const producer = producerName(node.producer);
  return producer ? `${node.name}\nvia ${producer}` : node.name;
}

/** An edge's classes: its kind, then `observed` (runs used it, nothing declares it) or `stale` (declared, unused lately). */
export function edgeClasses(edge: LineageEdge): string[] {
  const classes = [edge.kind.toLowerCase()];
  if (!edge.declared && edge.kind !== 'SUSPECTED') classes.push('observed');
  if (edge.stale) classes.push('stale');
  return classes;
}

/** The lineage answer as Cytoscape elements: pure, no Cytoscape instance needed. */
export function toElements(graph: LineageGraph): ElementDefinition[] {
  const nodes: ElementDefinition[] = graph.nodes.map((node) => ({
    group: 'nodes',
    data: { id: node.id, label: nodeLabel(node), icon: nodeIcon(node), node } satisfies NodeData,
    classes: nodeClasses(node),
  }));
  const edges: ElementDefinition[] = graph.edges.map((edge) => ({
    group: 'edges',
    data: { id: edgeId(edge), source: edge.source, target: edge.target, kind: edge.kind } satisfies EdgeData,
    classes: edgeClasses(edge),
  }));
  return [...nodes, ...edges];
}
