import type { Component } from 'svelte';

/** A page and the props it gets from the URL; pages load on demand, so the graph page's bundle stays small. */
export interface Route {
  load: () => Promise<{ default: Component<any> }>;
  props: Record<string, string>;
}

const pages = {
  datasourceList: () => import('./datasources/DatasourceList.svelte'),
  automationList: () => import('./automations/AutomationList.svelte'),
  datasourceCreate: () => import('./datasources/DatasourceCreatePage.svelte'),
  automationCreate: () => import('./automations/AutomationCreatePage.svelte'),
  datasourceEdit: () => import('./datasources/DatasourceEditPage.svelte'),
  automationEdit: () => import('./automations/AutomationEditPage.svelte'),
  datasource: () => import('./datasources/DatasourcePage.svelte'),
  automation: () => import('./automations/AutomationPage.svelte'),
  run: () => import('./automations/RunPage.svelte'),
  login: () => import('./accounts/LoginPage.svelte'),
  setup: () => import('./accounts/SetupPage.svelte'),
  users: () => import('./accounts/UsersPage.svelte'),
  tokens: () => import('./accounts/TokensPage.svelte'),
  reviews: () => import('./reviews/ReviewsPage.svelte'),
  parameterSets: () => import('./parameters/ParameterSetsPage.svelte'),
  import: () => import('./portability/ImportPage.svelte'),
  check: () => import('./validation/WorkspaceCheckPage.svelte'),
  templates: () => import('./templates/TemplatesPage.svelte'),
  overview: () => import('./overview/OverviewPage.svelte'),
  connections: () => import('./connections/ConnectionsPage.svelte'),
  connectors: () => import('./connectors/ConnectorsPage.svelte'),
  connector: () => import('./connectors/ConnectorPage.svelte'),
};

/** Fixed paths first: "new" is not an id. */
const table: [RegExp, keyof typeof pages][] = [
  [/^\/datasources$/, 'datasourceList'],
  [/^\/automations$/, 'automationList'],
  [/^\/datasources\/new$/, 'datasourceCreate'],
  [/^\/automations\/new$/, 'automationCreate'],
  [/^\/datasources\/([^/]+)\/edit$/, 'datasourceEdit'],
  [/^\/automations\/([^/]+)\/edit$/, 'automationEdit'],
  [/^\/datasources\/([^/]+)$/, 'datasource'],
  [/^\/automations\/([^/]+)$/, 'automation'],
  [/^\/runs\/([^/]+)$/, 'run'],
  [/^\/login$/, 'login'],
  [/^\/setup$/, 'setup'],
  [/^\/users$/, 'users'],
  [/^\/tokens$/, 'tokens'],
  [/^\/reviews$/, 'reviews'],
  [/^\/parameter-sets$/, 'parameterSets'],
  [/^\/import$/, 'import'],
  [/^\/check$/, 'check'],
  [/^\/templates$/, 'templates'],
  [/^\/overview$/, 'overview'],
  [/^\/connections$/, 'connections'],
  [/^\/connectors$/, 'connectors'],
  [/^\/connectors\/([^/]+)$/, 'connector'],
];

/** The page for a path other than `/`; null when nothing lives there. */
export function routeFor(path: string): Route | null {
  for (const [pattern, page] of table) {
    const match = pattern.exec(path);
    if (match) return { load: pages[page], props: match[1] ? { id: decodeURIComponent(match[1]) } : {} };
  }
  return null;
}
