import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL, type GraphiQLProps } from 'graphiql';

const DEFAULT_QUERY = `# Tributary's GraphQL API. The full contract is schema.graphql.
{
  lineage(filter: { scheduledOnly: true }) {
    total
    truncated
    nodes { id name type scheduled lastRunStatus }
    edges { source target kind }
  }
}
`;

/** Same-origin POST /graphql; GraphiQL shows errors (with their extensions) as the server sends them. */
const fetcher: GraphiQLProps['fetcher'] = async (params) => {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(params),
  });
  return response.json();
};
const container = document.getElementById('graphiql');
if (!container) throw new Error('graphiql.html has no #graphiql element');
createRoot(container).render(createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY }));
