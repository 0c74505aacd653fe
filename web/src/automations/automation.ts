import { gql } from '../lib/graphql.js';

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
}

const RUN = 'id status trigger queuedAt startedAt finishedAt rowsRead rowsWritten error coalesced';

export async function loadAutomation(id: string): Promise<AutomationDetail | null> {
  const query = `query ($id: ID!) { automation(id: $id) {
    id name kind description state effectivelyScheduled schedule { cron timezone nextRunAt }
    inputs { id name } outputs { id name } runs(first: 25) { totalCount nodes { ${RUN} } } } }`;
  return (await gql<{ automation: AutomationDetail | null }>(query, { id })).automation;
}

export async function loadRun(id: string): Promise<RunDetail | null> {
  const query = `query ($id: ID!) { run(id: $id) { ${RUN} log automation { id name kind }
    parentRun { id automation { name } } steps { ${RUN} automation { id name } } } }`;
  return (await gql<{ run: RunDetail | null }>(query, { id })).run;
}

export type Control = 'run' | 'pause' | 'stop' | 'start';

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
