import { gql } from '../lib/graphql.js';

export type VersionStatus = 'DRAFT' | 'AWAITING_APPROVAL' | 'APPROVED' | 'REJECTED' | 'LIVE' | 'RETIRED';

export interface VersionRow {
  id: string;
  number: number;
  status: VersionStatus;
  createdAt: string;
  submittedAt: string | null;
  reviewedAt: string | null;
  reviewComment: string | null;
  madeLiveAt: string | null;
  liveFrom: string | null;
  liveUntil: string | null;
  author: { name: string; email: string } | null;
  reviewedBy: { name: string; email: string } | null;
  waitingForRun: { id: string } | null;
}

export interface Versions {
  versions: VersionRow[];
  liveVersion: { id: string; number: number } | null;
  draft: { id: string; number: number } | null;
}

export interface DiffLine {
  path: string;
  kind: 'SAME' | 'ADDED' | 'REMOVED';
  text: string;
  beforeLine: number | null;
  afterLine: number | null;
}

export interface VersionDiff {
  from: { id: string; number: number };
  to: { id: string; number: number };
  changes: { path: string; before: unknown; after: unknown }[];
  lines: DiffLine[];
}

export async function loadVersions(automationId: string): Promise<Versions | null> {
  const query = `query ($id: ID!) { automation(id: $id) {
    versions { id number status createdAt submittedAt reviewedAt reviewComment madeLiveAt liveFrom liveUntil author { name email } reviewedBy { name email } waitingForRun { id } }
    liveVersion { id number } draft { id number } } }`;
  return (await gql<{ automation: Versions | null }>(query, { id: automationId })).automation;
}

export async function loadDiff(fromId: string, toId: string): Promise<VersionDiff> {
  const query = `query ($from: ID!, $to: ID!) { versionDiff(fromId: $from, toId: $to) {
    from { id number } to { id number } changes { path before after } lines { path kind text beforeLine afterLine } } }`;
  return (await gql<{ versionDiff: VersionDiff }>(query, { from: fromId, to: toId })).versionDiff;
}

export type Transition = 'submit' | 'approve' | 'reject' | 'reopen' | 'makeLive' | 'discard';

const MUTATIONS: Record<Transition, string> = {
  submit: `mutation ($id: ID!) { submitForApproval(automationId: $id) { id } }`,
  approve: `mutation ($id: ID!, $comment: String) { approveVersion(versionId: $id, comment: $comment) { id } }`,
  reject: `mutation ($id: ID!, $comment: String!) { rejectVersion(versionId: $id, comment: $comment) { id } }`,
  reopen: `mutation ($id: ID!) { reopenDraft(versionId: $id) { id } }`,
  makeLive: `mutation ($id: ID!) { makeLive(versionId: $id) { id } }`,
  discard: `mutation ($id: ID!) { discardDraft(versionId: $id) }`,
};

/** One step of the review flow; `id` is the automation's for `submit`, the version's otherwise. */
export async function transition(action: Transition, id: string, comment?: string): Promise<void> {
  await gql(MUTATIONS[action], comment === undefined ? { id } : { id, comment });
}

export interface AwaitingReview {
  id: string;
  number: number;
  submittedAt: string | null;
  author: { name: string; email: string } | null;
  automation: { id: string; name: string; kind: string };
}

export async function loadAwaitingReview(): Promise<AwaitingReview[]> {
  return (await gql<{ awaitingReview: AwaitingReview[] }>(`{ awaitingReview { id number submittedAt author { name email } automation { id name kind } } }`)).awaitingReview;
}

export interface WorkspaceSettings {
  approvalRequired: boolean;
  allowSelfApproval: boolean;
}

export async function loadSettings(): Promise<WorkspaceSettings> {
  return (await gql<{ settings: WorkspaceSettings }>(`{ settings { approvalRequired allowSelfApproval } }`)).settings;
}

export async function saveSettings(input: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
  const mutation = `mutation ($input: UpdateSettingsInput!) { updateSettings(input: $input) { approvalRequired allowSelfApproval } }`;
  return (await gql<{ updateSettings: WorkspaceSettings }>(mutation, { input })).updateSettings;
}

/** "since 27 Nov 14:02 until 28 Nov 09:00", "waiting for run …", or "" for a version never live. */
export function livePeriod(v: VersionRow): string {
  const at = (iso: string) => new Date(iso).toLocaleString();
  if (v.status === 'LIVE' && !v.liveFrom) return v.waitingForRun ? `waiting for run ${v.waitingForRun.id.slice(0, 8)}` : 'switching';
  if (!v.liveFrom) return '';
  return v.liveUntil ? `${at(v.liveFrom)} – ${at(v.liveUntil)}` : `live from ${at(v.liveFrom)}`;
}

export const STATUS_LABEL: Record<VersionStatus, string> = {
  DRAFT: 'Draft',
  AWAITING_APPROVAL: 'Awaiting approval',
  APPROVED: 'Approved',
  REJECTED: 'Rejected',
  LIVE: 'Live',
  RETIRED: 'Retired',
};
