import type { EntityManager } from '@mikro-orm/knex';
import { Automation, Datasource, DatasourceKind, ExternalJob, RunStatus } from '../../core/db/entities/index.js';
import { BadUserInputError } from '../../core/errors.js';
import { datasetName, datasetTarget, jobName, olKey, type LineageName, type NamingContext } from '../../jobs/openlineage/naming.js';
import { isDatasource, type Graph, type GraphNode } from '../lineage/graph.js';
import type { LineageStore } from '../lineage/store.js';

// Marquez's lineage read (`GET /api/v1/lineage?nodeId=…&depth=…`), so tools written for Marquez can
// read Tributary: nodes `dataset:<namespace>:<name>` and `job:<namespace>:<name>`, each with its
// data and its in and out edges, everything within `depth` hops of the node in either direction.

export const MARQUEZ_DEFAULT_DEPTH = 20;
export const MARQUEZ_MAX_DEPTH = 100;
/** A node id's length, and the colons tried as the end of its namespace (`postgres://host:5432` has two). */
const MAX_NODE_ID = 4_096;
const MAX_SPLITS = 8;

interface Edge {
  origin: string;
  destination: string;
}
export interface MarquezNode {
  id: string;
  type: 'DATASET' | 'JOB';
  data: Record<string, unknown>;
  inEdges: Edge[];
  outEdges: Edge[];
}

/** Marquez's run states. */
const RUN_STATES: Record<RunStatus, string> = {
  [RunStatus.QUEUED]: 'NEW',
  [RunStatus.RUNNING]: 'RUNNING',
  [RunStatus.SUCCESS]: 'COMPLETED',
  [RunStatus.FAILED]: 'FAILED',
  [RunStatus.CANCELLED]: 'ABORTED',
};

const nodeId = (type: 'dataset' | 'job', n: LineageName) => `${type}:${n.namespace}:${n.name}`;

/** The graph node a Marquez node id names. Namespaces hold colons (`postgres://host:5432`), so every split is tried, leftmost name first. */
async function findNode(em: EntityManager, graph: Graph, naming: NamingContext, id: string): Promise<GraphNode | null> {
  const match = /^(dataset|job):(.+)$/s.exec(id);
  if (!match) throw new BadUserInputError('nodeId', 'nodeId must be dataset:<namespace>:<name> or job:<namespace>:<name>');
  const [, type, rest] = match as unknown as [string, 'dataset' | 'job', string];
  if (id.length > MAX_NODE_ID) throw new BadUserInputError('nodeId', `nodeId is ${id.length} characters long; the limit is ${MAX_NODE_ID}`);
  let tries = 0;
  for (let at = rest.indexOf(':'); at > 0 && tries++ < MAX_SPLITS; at = rest.indexOf(':', at + 1)) {
    const name = { namespace: rest.slice(0, at), name: rest.slice(at + 1) };
    const found = type === 'dataset' ? await datasetNode(em, naming, name) : await jobNode(em, naming, name);
    const node = found ? graph.nodes.get(found) : undefined;
    if (node) return node;
  }
  return null;
}

async function datasetNode(em: EntityManager, naming: NamingContext, name: LineageName): Promise<string | null> {
  const target = datasetTarget(name, naming);
  const where = !target
    ? null
    : 'storageId' in target
      ? { id: target.storageId, kind: DatasourceKind.STORAGE }
      : 'filePath' in target
        ? { path: target.filePath, kind: DatasourceKind.FILE }
        : { name: target.datasourceName, kind: DatasourceKind.JOIN };
  const mapped = where ? await em.findOne(Datasource, where, { fields: ['id'] }) : null;
  return mapped?.id ?? (await em.findOne(Datasource, { olKey: olKey(name.namespace, name.name) }, { fields: ['id'] }))?.id ?? null;
}

async function jobNode(em: EntityManager, naming: NamingContext, name: LineageName): Promise<string | null> {
  const external = await em.findOne(ExternalJob, { olKey: olKey(name.namespace, name.name) }, { fields: ['id'] });
  if (external) return external.id;
  if (name.namespace !== naming.namespace) return null;
  return (await em.findOne(Automation, { name: name.name, kind: { $ne: 'EXTERNAL_JOB' as never } }, { fields: ['id'] }))?.id ?? null;
}

/** Data nodes within `depth` hops of `start`, walking lineage links both ways (chain tasks are control flow, left out). */
function around(graph: Graph, start: GraphNode, depth: number): GraphNode[] {
  const mark = graph.newMark();
  start.mark = mark;
  const reached = [start];
  let frontier = [start];
  for (let hop = 1; hop <= depth && frontier.length > 0; hop++) {
    const next: GraphNode[] = [];
    for (const node of frontier) {
      for (const list of [...graph.upstreamOf(node), ...graph.downstreamOf(node)]) {
        for (const neighbour of list) {
          if (neighbour.mark === mark) continue;
          neighbour.mark = mark;
          reached.push(neighbour);
          next.push(neighbour);
        }
      }
    }
    frontier = next;
  }
  return reached;
}

/** Marquez's `{ graph: [...] }` around a node, or null when no dataset or job has that id. */
export async function marquezLineage(em: EntityManager, store: LineageStore, naming: NamingContext, id: string, depth = MARQUEZ_DEFAULT_DEPTH): Promise<{ graph: MarquezNode[] } | null> {
  if (!Number.isInteger(depth) || depth < 0 || depth > MARQUEZ_MAX_DEPTH) throw new BadUserInputError('depth', `depth must be a whole number from 0 to ${MARQUEZ_MAX_DEPTH}`);
  const graph = await store.current(em);
  const start = await findNode(em, graph, naming, id);
  if (!start) return null;
  const nodes = around(graph, start, depth);
  const inside = new Set(nodes);
  // The datasets in view, and those the jobs in view read or write (a job's inputs and outputs are named in full).
  const datasetIds = new Set(nodes.flatMap((n) => (isDatasource(n) ? [n.id] : [...n.inputs, ...n.outputs].map((d) => d.id))));
  const datasources = new Map((await em.find(Datasource, { id: { $in: [...datasetIds] } })).map((d) => [d.id, d]));
  const externals = new Map((await em.find(ExternalJob, { id: { $in: nodes.filter((n) => !isDatasource(n)).map((n) => n.id) } })).map((j) => [j.id, j]));
  const names = new Map<GraphNode, string>();
  for (const node of nodes) {
    const ds = datasources.get(node.id);
    names.set(node, ds ? nodeId('dataset', datasetName(ds, naming)) : nodeId('job', jobName(externals.get(node.id) ?? node, naming)));
  }
  const edge = (from: GraphNode, to: GraphNode): Edge => ({ origin: names.get(from)!, destination: names.get(to)! });
  const edges = (node: GraphNode, lists: GraphNode[][], incoming: boolean) => lists.flat().filter((n) => inside.has(n)).map((n) => (incoming ? edge(n, node) : edge(node, n)));
  return {
    graph: nodes.map((node) => {
      const ds = datasources.get(node.id);
      const name = ds ? datasetName(ds, naming) : jobName(externals.get(node.id) ?? node, naming);
      const data = ds
        ? {
            id: name,
            type: 'DB_TABLE',
            name: name.name,
            physicalName: name.name,
            namespace: name.namespace,
            sourceName: ds.producer ?? 'tributary',
            displayName: ds.name,
            fields: ds.columns.map((c) => ({ name: c.name, type: c.type || null, tags: [], description: null })),
            tags: ds.tags,
            description: ds.description ?? null,
            createdAt: ds.createdAt.toISOString(),
            updatedAt: (ds.updatedAt ?? ds.modifiedAt).toISOString(),
          }
        : {
            id: name,
            type: 'BATCH',
            name: name.name,
            simpleName: name.name,
            namespace: name.namespace,
            displayName: node.name,
            inputs: node.inputs.map((n) => datasetName(datasources.get(n.id)!, naming)),
            outputs: node.outputs.map((n) => datasetName(datasources.get(n.id)!, naming)),
            latestRun: node.lastRunStatus ? { state: RUN_STATES[node.lastRunStatus] } : null,
            producer: node.producer,
          };
      return {
        id: names.get(node)!,
        type: ds ? ('DATASET' as const) : ('JOB' as const),
        data,
        inEdges: edges(node, graph.upstreamOf(node), true),
        outEdges: edges(node, graph.downstreamOf(node), false),
      };
    }),
  };
}
