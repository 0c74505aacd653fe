import { gql } from '../lib/graphql.js';

export interface Ref {
  id: string;
  name: string;
}
export interface Option extends Ref {
  kind: string;
}
export type RefKind = 'datasource' | 'automation';

/** Up to `first` datasources or automations by name, with the total matching. */
export async function listOptions(what: RefKind, search: string, first = 200): Promise<{ nodes: Option[]; totalCount: number }> {
  const field = what === 'datasource' ? 'datasources' : 'automations';
  const query = `query ($search: String, $first: Int) { ${field}(search: $search, first: $first) { totalCount nodes { id name kind } } }`;
  const data = await gql<Record<string, { nodes: Option[]; totalCount: number }>>(query, { search: search.trim() || null, first });
  return data[field]!;
}
