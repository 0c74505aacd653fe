import { gql } from './graphql.js';
import { handleError } from './handle-error.js';

const MUTATIONS = {
  automation: `mutation ($id: ID!, $name: String!) { duplicateAutomation(id: $id, name: $name) { id } }`,
  datasource: `mutation ($id: ID!, $name: String!) { duplicateDatasource(id: $id, name: $name) { id } }`,
};

/**
 * Asks for the copy's name (the original's with " (copy)" offered), makes the copy and opens its
 * page; a refusal (the name is taken) is shown and nothing changes.
 */
export async function duplicateAndOpen(what: 'automation' | 'datasource', id: string, name: string): Promise<void> {
  const wanted = window.prompt(`Name of the copy of ${name}`, `${name} (copy)`);
  if (wanted === null || wanted.trim() === '') return;
  try {
    const data = await gql<Record<string, { id: string }>>(MUTATIONS[what], { id, name: wanted.trim() });
    const copy = data[what === 'automation' ? 'duplicateAutomation' : 'duplicateDatasource']!;
    window.location.assign(`/${what}s/${encodeURIComponent(copy.id)}`);
  } catch (error) {
    handleError(error, `Could not duplicate ${name}`);
  }
}
