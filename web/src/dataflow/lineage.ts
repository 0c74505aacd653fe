import { gql } from '../lib/graphql.js';
import type { LineageFilterInput } from './filters.js';

export type LineageNodeType = 'DATASOURCE' | 'JOIN_DATASOURCE' | 'EXTERNAL_DATASOURCE' | 'ETL_STEP' | 'SFTP_IMPORT' | 'DATABASE_TABLE' | 'SCRIPT' | 'CHAIN_TASK' | 'EXTERNAL_JOB';
export type LineageEdgeKind = 'INPUT' | 'OUTPUT' | 'JOIN_SOURCE' | 'TRIGGERS' | 'SUSPECTED';
export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'CANCELLED';
export type ScriptLanguage = 'JAVASCRIPT' | 'PYTHON';
export type AutomationState = 'ACTIVE' | 'PAUSED' | 'STOPPED' | 'DEACTIVATED';

export interface LineageNode {
  id: string;
  type: LineageNodeType;
  name: string;
  scheduled: boolean;
  lastRunStatus: RunStatus | null;
  language: ScriptLanguage | null;
  state: AutomationState | null;
  tags: string[];
  /** External jobs and datasets: the OpenLineage producer URI of the latest event about them. */
  producer: string | null;
}

/** Whether a node is a datasource (of any kind) rather than an automation. */
export const isDatasourceNode = (type: LineageNodeType): boolean => type === 'DATASOURCE' || type === 'JOIN_DATASOURCE' || type === 'EXTERNAL_DATASOURCE';

/**
 * A producer URI as people name it: an OpenLineage integration by its name
 * (`github.com/OpenLineage/OpenLineage/tree/1.40.0/integration/spark` → "spark", `…/client/python` → "python"),
 * another GitHub project by its repository (`github.com/apache/airflow/…` → "airflow"), else the host.
 */
export function producerName(uri: string | null): string | null {
  if (!uri) return null;
  try {
    const url = new URL(uri);
    if (url.protocol === 'urn:') return url.pathname.split(':')[0] || uri; // urn:tributary:0.1.0 → tributary
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (url.hostname !== 'github.com' || parts.length < 2) return url.hostname || uri.slice(0, 40);
    if (parts[1]!.toLowerCase() !== 'openlineage') return parts[1]!;
    const at = parts.findIndex((p) => p === 'integration' || p === 'client');
    return at >= 0 && parts[at + 1] ? parts[at + 1]! : 'openlineage';
  } catch {
    return uri.slice(0, 40);
  }
}

export interface LineageEdge {
  source: string;
  target: string;
  kind: LineageEdgeKind;
  /** False for a use only runs have shown (drawn dashed) and for SUSPECTED. */
  declared: boolean;
  /** Declared, and unused in the automation's last observed runs (drawn faded). */
  stale: boolean;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
  total: number;
  truncated: boolean;
}

const LINEAGE_QUERY = `query Lineage($filter: LineageFilter, $maxNodes: Int) {
  lineage(filter: $filter, maxNodes: $maxNodes) {
    total
    truncated
    nodes { id type name scheduled lastRunStatus language state tags producer }
    edges { source target kind declared stale }
  }
}`;

/**
 * A view starts collapsed to this many nodes, those nearest the focus (the server cuts them), and
 * shows every node only when asked: drawing is what a big view waits for.
 */
export const COLLAPSED_NODES = 2000;
/** Most nodes the page asks for when showing all; over it the server cuts, nearest to the focus first. */
export const MAX_NODES = 20_000;

export async function fetchLineage(filter: LineageFilterInput, maxNodes: number, signal?: AbortSignal): Promise<LineageGraph> {
  const data = await gql<{ lineage: LineageGraph }>(LINEAGE_QUERY, { filter, maxNodes }, signal);
  return data.lineage;
}

export interface NamedObject {
  id: string;
  name: string;
}

/** Datasources whose name contains `search`, for the "Leading to" / "Downstream of" pickers. */
export async function searchDatasources(search: string, signal?: AbortSignal): Promise<NamedObject[]> {
  const data = await gql<{ datasources: { nodes: NamedObject[] } }>(
    `query ($search: String) { datasources(first: 20, search: $search) { nodes { id name } } }`,
    { search: search || null },
    signal,
  );
  return data.datasources.nodes;
}

/** The name of a datasource or automation, for a filter chip; null when it no longer exists. */
export async function objectName(id: string): Promise<string | null> {
  const data = await gql<{ datasource: { name: string } | null; automation: { name: string } | null }>(
    `query ($id: ID!) { datasource(id: $id) { name } automation(id: $id) { name } }`,
    { id },
  );
  return data.datasource?.name ?? data.automation?.name ?? null;
}
