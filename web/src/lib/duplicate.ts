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

/** Asks for a name and keeps the automation, with what it uses, as a template of this workspace. */
export async function saveAsTemplate(id: string, name: string): Promise<void> {
  const wanted = window.prompt(`Name of the template made from ${name}`, name);
  if (wanted === null || wanted.trim() === '') return;
  try {
    await gql('mutation ($ids: [ID!]!, $name: String!) { saveAsTemplate(automationIds: $ids, name: $name) { id } }', { ids: [id], name: wanted.trim() });
    window.location.assign('/templates');
  } catch (error) {
    handleError(error, `Could not save ${name} as a template`);
  }
}
