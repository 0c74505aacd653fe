import { gql } from '../lib/graphql.js';
import { DEFAULT_PAGE_SIZE, pageSizeParam, type Connection } from '../lib/paged-list.svelte.js';
import { booleanParam, oneOf, type QueryValue } from '../lib/url-query.js';

export interface RunSummary {
  id: string;
  status: 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'CANCELLED';
  trigger: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  rowsRead: number | null;
  rowsWritten: number | null;
  error: string | null;
  coalesced: number;
}
export interface RunDetail extends RunSummary {
  log: string[];
  automation: { id: string; name: string; kind: string };
  parentRun: { id: string; automation: { name: string } } | null;
  startedBy: { name: string; email: string } | null;
  steps: (RunSummary & { automation: { id: string; name: string } })[];
}
export interface AutomationDetail {
  id: string;
  name: string;
  kind: string;
  description: string | null;
  state: 'ACTIVE' | 'PAUSED' | 'STOPPED' | 'DEACTIVATED';
  effectivelyScheduled: boolean;
  schedule: { cron: string; timezone: string; nextRunAt: string | null } | null;
  inputs: { id: string; name: string }[];
  outputs: { id: string; name: string }[];
  runs: { totalCount: number; nodes: RunSummary[] };
  liveVersion: { id: string; number: number } | null;
  draft: { id: string; number: number; status: string } | null;
  writeMode: string;
  errorPolicy: string;
  // Per kind (absent on the others):
  transform?: unknown;
  language?: string;
  code?: string;
  variables?: unknown;
  connection?: { id: string; name: string; host: string; port: number; username: string; database: string | null; hasPassword: boolean; hasPrivateKey: boolean } | null;
  connector?: { id: string; name: string; status: string } | null;
  table?: string | null;
  query?: string | null;
  cursorColumn?: string | null;
  remoteDir?: string;
  filePattern?: string;
  afterImport?: string;
  moveToDir?: string | null;
  steps?: { id: string; name: string; kind: string }[];
  parameterSets?: { id: string; name: string }[];
  continueOnFailure?: boolean;
  olNamespace?: string;
  olName?: string;
  producer?: string | null;
}

/** Every kind's own settings (never a secret: only whether one is stored); the page and the edit form read the same. */
export const SETTINGS = `writeMode writeKeys errorPolicy errorRecordFormat errorDatasource { id name } parameterSets { id name } connector { id name status }
  ... on EtlStep { input { id name } output { id name } transform }
  ... on SftpImport { connection { id name host port username database hasPassword hasPrivateKey } remoteDir filePattern hostKeyFingerprint afterImport moveToDir output { id name } }
  ... on DatabaseIngestion { connection { id name host port username database hasPassword hasPrivateKey } table query cursorColumn output { id name } }
  ... on Script { language code variables timeoutSeconds memoryMb }
  ... on ChainTask { steps { id name kind } continueOnFailure }
  ... on ExternalJob { olNamespace olName producer }`;

const RUN = 'id status trigger queuedAt startedAt finishedAt rowsRead rowsWritten error coalesced';

export async function loadAutomation(id: string): Promise<AutomationDetail | null> {
  const query = `query ($id: ID!) { automation(id: $id) {
    id name kind description state effectivelyScheduled schedule { cron timezone nextRunAt }
    inputs { id name } outputs { id name } runs(first: 25) { totalCount nodes { ${RUN} } }
    liveVersion { id number } draft { id number status } ${SETTINGS} } }`;
  return (await gql<{ automation: AutomationDetail | null }>(query, { id })).automation;
}

export async function loadRun(id: string): Promise<RunDetail | null> {
  const query = `query ($id: ID!) { run(id: $id) { ${RUN} log automation { id name kind } startedBy { name email }
    parentRun { id automation { name } } steps { ${RUN} automation { id name } } } }`;
  return (await gql<{ run: RunDetail | null }>(query, { id })).run;
}

export type Control = 'run' | 'pause' | 'stop' | 'start' | 'deactivate' | 'activate';

/** Run now, pause, stop or start; answers the queued run for 'run'. */
export async function control(id: string, action: Control): Promise<void> {
  const field = action === 'run' ? 'runAutomation' : `${action}Automation`;
  await gql(`mutation ($id: ID!) { ${field}(id: $id) { id } }`, { id });
}

export const isFinished = (status: RunSummary['status']) => status === 'SUCCESS' || status === 'FAILED' || status === 'CANCELLED';

/** "1.2 s", "3 min 4 s", or "—" while not started. */
export function duration(run: RunSummary, now = Date.now()): string {
  if (!run.startedAt) return '—';
  const ms = (run.finishedAt ? new Date(run.finishedAt).getTime() : now) - new Date(run.startedAt).getTime();
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

// --- The automation list ------------------------------------------------------------------

/** The kinds made here (forms); lists also show external jobs, known from OpenLineage events. */
export const FORM_KINDS = ['ETL_STEP', 'SFTP_IMPORT', 'DATABASE_TABLE', 'SCRIPT', 'CHAIN_TASK'] as const;
export const AUTOMATION_KINDS = [...FORM_KINDS, 'EXTERNAL_JOB'] as const;
export const AUTOMATION_STATES = ['ACTIVE', 'PAUSED', 'STOPPED', 'DEACTIVATED'] as const;
export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED'] as const;
export type AutomationKind = (typeof FORM_KINDS)[number];
export type ListedAutomationKind = (typeof AUTOMATION_KINDS)[number];
export type AutomationState = (typeof AUTOMATION_STATES)[number];
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the automation list shows, as kept in its URL: `?kind=SCRIPT&scheduled=true&lastRunStatus=FAILED`. */
export interface AutomationListFilters {
  search: string;
  kind: ListedAutomationKind | null;
  state: AutomationState | null;
  /** Effectively scheduled (own schedule or through a scheduled chain task), or not; null = either. */
  scheduled: boolean | null;
  lastRunStatus: RunStatus | null;
  /** Page size. */
  first: number;
}

export interface AutomationListRow {
  id: string;
  name: string;
  kind: ListedAutomationKind;
  state: AutomationState;
  effectivelyScheduled: boolean;
  schedule: { cron: string; timezone: string; nextRunAt: string | null } | null;
  lastRunStatus: RunStatus | null;
  lastRun: { id: string } | null;
}

export function automationFiltersFromSearch(search: string): AutomationListFilters {
  const params = new URLSearchParams(search);
  return {
    search: params.get('search') ?? '',
    kind: oneOf(params.get('kind'), AUTOMATION_KINDS),
    state: oneOf(params.get('state'), AUTOMATION_STATES),
    scheduled: booleanParam(params.get('scheduled')),
    lastRunStatus: oneOf(params.get('lastRunStatus'), RUN_STATUSES),
    first: pageSizeParam(params.get('first')),
  };
}

/** The URL's query values: only what differs from the defaults. */
export function automationFiltersToQuery(filters: AutomationListFilters): Record<string, QueryValue> {
  return {
    search: filters.search.trim(),
    kind: filters.kind,
    state: filters.state,
    scheduled: filters.scheduled,
    lastRunStatus: filters.lastRunStatus,
    first: filters.first === DEFAULT_PAGE_SIZE ? null : filters.first,
  };
}

const LIST = `query ($first: Int, $after: String, $search: String, $kind: AutomationKind, $state: AutomationState, $scheduled: Boolean, $lastRunStatus: RunStatus) {
  automations(first: $first, after: $after, search: $search, kind: $kind, state: $state, scheduled: $scheduled, lastRunStatus: $lastRunStatus) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name kind state effectivelyScheduled schedule { cron timezone nextRunAt } lastRunStatus lastRun { id } } } }`;

/** One page of automations by name. */
export async function listAutomations(filters: AutomationListFilters, after: string | null, signal?: AbortSignal): Promise<Connection<AutomationListRow>> {
  const { first, kind, state, scheduled, lastRunStatus } = filters;
  const variables = { first, after, search: filters.search.trim() || null, kind, state, scheduled, lastRunStatus };
  return (await gql<{ automations: Connection<AutomationListRow> }>(LIST, variables, signal)).automations;
}

export async function deleteAutomation(id: string): Promise<void> {
  await gql(`mutation ($id: ID!) { deleteAutomation(id: $id) }`, { id });
}
