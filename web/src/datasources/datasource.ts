import { gql } from '../lib/graphql.js';

export interface Ref {
  id: string;
  name: string;
}
export interface AutomationRef extends Ref {
  kind: string;
}
export interface DatasourceDetail extends Ref {
  kind: 'STORAGE' | 'FILE' | 'JOIN';
  description: string | null;
  tags: string[];
  path: string | null;
  columns: { name: string; type: string }[];
  rowCount: number | null;
  updatedAt: string | null;
  join: { left: Ref; right: Ref; leftKey: string; rightKey: string; type: string } | null;
  producedBy: AutomationRef[];
  consumedBy: AutomationRef[];
  usedInJoins: Ref[];
}
export interface RowPage {
  columns: string[];
  nodes: Record<string, unknown>[];
  totalCount: number | null;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
export interface Dependent {
  id: string;
  name: string;
  type: string;
  reason: string;
}

const DETAIL = `query ($id: ID!) { datasource(id: $id) {
  id name kind description tags path columns { name type } rowCount updatedAt
  join { left { id name } right { id name } leftKey rightKey type }
  producedBy { id name kind } consumedBy { id name kind } usedInJoins { id name } } }`;

export async function loadDatasource(id: string): Promise<DatasourceDetail | null> {
  return (await gql<{ datasource: DatasourceDetail | null }>(DETAIL, { id })).datasource;
}

export async function loadRows(id: string, after: string | null, first = 20): Promise<RowPage> {
  const query = `query ($id: ID!, $first: Int, $after: String) { rows(datasourceId: $id, first: $first, after: $after) {
    columns nodes totalCount pageInfo { hasNextPage endCursor } } }`;
  return (await gql<{ rows: RowPage }>(query, { id, first, after })).rows;
}

export async function deleteDatasource(id: string): Promise<void> {
  await gql(`mutation ($id: ID!) { deleteDatasource(id: $id) }`, { id });
}

/** The dataflow page's URL for everything upstream of a datasource (scheduled or not). */
export function leadingToHref(id: string): string {
  return `/?${new URLSearchParams({ scheduledOnly: 'false', leadingTo: id }).toString()}`;
}
