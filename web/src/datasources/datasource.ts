import { gql } from '../lib/graphql.js';
import { DEFAULT_PAGE_SIZE, pageSizeParam, type Connection } from '../lib/paged-list.svelte.js';
import { oneOf, type QueryValue } from '../lib/url-query.js';

export interface Ref {
  id: string;
  name: string;
}
export interface AutomationRef extends Ref {
  kind: string;
}
export interface DatasourceDetail extends Ref {
  kind: DatasourceKind;
  description: string | null;
  /** EXTERNAL: the OpenLineage dataset and who last described it. */
  olNamespace: string | null;
  olName: string | null;
  producer: string | null;
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

const DETAIL = `query ($id: ID!) { datasource(id: $id) {
  id name kind description tags path columns { name type } rowCount updatedAt olNamespace olName producer
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

// --- The datasource list ------------------------------------------------------------------

export const DATASOURCE_KINDS = ['STORAGE', 'FILE', 'JOIN', 'EXTERNAL'] as const;
export type DatasourceKind = (typeof DATASOURCE_KINDS)[number];

/** What the datasource list shows, as kept in its URL: `?search=orders&kind=FILE&first=25`. */
export interface DatasourceListFilters {
  search: string;
  kind: DatasourceKind | null;
  /** Page size. */
  first: number;
}

export interface DatasourceListRow extends Ref {
  kind: DatasourceKind;
  tags: string[];
  rowCount: number | null;
  updatedAt: string | null;
  columns: { name: string }[];
}

export function datasourceFiltersFromSearch(search: string): DatasourceListFilters {
  const params = new URLSearchParams(search);
  return {
    search: params.get('search') ?? '',
    kind: oneOf(params.get('kind'), DATASOURCE_KINDS),
    first: pageSizeParam(params.get('first')),
  };
}

/** The URL's query values: only what differs from the defaults. */
export function datasourceFiltersToQuery(filters: DatasourceListFilters): Record<string, QueryValue> {
  return { search: filters.search.trim(), kind: filters.kind, first: filters.first === DEFAULT_PAGE_SIZE ? null : filters.first };
}

const LIST = `query ($first: Int, $after: String, $search: String, $kind: DatasourceKind) {
  datasources(first: $first, after: $after, search: $search, kind: $kind) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id name kind tags rowCount updatedAt columns { name } } } }`;

/** One page of datasources by name. */
export async function listDatasources(filters: DatasourceListFilters, after: string | null, signal?: AbortSignal): Promise<Connection<DatasourceListRow>> {
  const variables = { first: filters.first, after, search: filters.search.trim() || null, kind: filters.kind };
  return (await gql<{ datasources: Connection<DatasourceListRow> }>(LIST, variables, signal)).datasources;
}
