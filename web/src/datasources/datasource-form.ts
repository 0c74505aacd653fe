import type { DatasourceKind } from './datasource.js';
import { gql } from '../lib/graphql.js';
import { splitList } from '../forms/form.svelte.js';
import type { Ref } from '../forms/options.js';
import type { DatasourceDetail } from './datasource.js';


/** Each kind of datasource, as the create pages offer it. */
export const DATASOURCE_KIND_INFO: { kind: DatasourceKind; label: string; what: string }[] = [
  { kind: 'STORAGE', label: 'Storage', what: 'a table Tributary keeps, written by automations' },
  { kind: 'FILE', label: 'File', what: 'a CSV or JSON-lines file on the server' },
  { kind: 'JOIN', label: 'Join', what: 'two datasources joined on a key column' },
];

/** What the datasource form holds. */
export interface DatasourceDraft {
  kind: DatasourceKind;
  name: string;
  description: string;
  tags: string;
  path: string;
  columns: { name: string; type: string }[];
  join: { left: Ref | null; right: Ref | null; leftKey: string; rightKey: string; type: 'INNER' | 'LEFT' };
}

export function emptyDatasource(kind: DatasourceKind): DatasourceDraft {
  return { kind, name: '', description: '', tags: '', path: '', columns: [], join: { left: null, right: null, leftKey: '', rightKey: '', type: 'INNER' } };
}

export function datasourceDraft(d: DatasourceDetail): DatasourceDraft {
  return {
    kind: d.kind,
    name: d.name,
    description: d.description ?? '',
    tags: d.tags.join(', '),
    path: d.path ?? '',
    columns: d.columns.map((c) => ({ ...c })),
    join: d.join
      ? { left: d.join.left, right: d.join.right, leftKey: d.join.leftKey, rightKey: d.join.rightKey, type: d.join.type === 'LEFT' ? 'LEFT' : 'INNER' }
      : emptyDatasource('JOIN').join,
  };
}

/** The create or update input: only the fields the kind has (the server says what is wrong). */
function toInput(draft: DatasourceDraft): Record<string, unknown> {
  const input: Record<string, unknown> = {
    name: draft.name,
    description: draft.description.trim() || null,
    tags: splitList(draft.tags),
  };
  if (draft.kind === 'FILE') input.path = draft.path;
  if (draft.kind !== 'JOIN') input.columns = draft.columns;
  else {
    const { left, right, leftKey, rightKey, type } = draft.join;
    input.join = { leftId: left?.id ?? '', rightId: right?.id ?? '', leftKey, rightKey, type };
  }
  return input;
}

export async function createDatasource(draft: DatasourceDraft): Promise<string> {
  const mutation = `mutation ($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }`;
  return (await gql<{ createDatasource: { id: string } }>(mutation, { input: { kind: draft.kind, ...toInput(draft) } })).createDatasource.id;
}

export async function updateDatasource(id: string, draft: DatasourceDraft): Promise<string> {
  const mutation = `mutation ($id: ID!, $input: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $input) { id } }`;
  return (await gql<{ updateDatasource: { id: string } }>(mutation, { id, input: toInput(draft) })).updateDatasource.id;
}
