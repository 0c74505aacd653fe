import { Role } from '../../core/enums.js';
import type { GraphQLClient } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

export const VERSION_FIELDS = `id number status createdAt submittedAt reviewComment madeLiveAt liveFrom liveUntil definition author { id email } reviewedBy { id email }`;

export interface VersionShape {
  id: string;
  number: number;
  status: string;
  reviewComment: string | null;
  liveFrom: string | null;
  liveUntil: string | null;
  madeLiveAt: string | null;
  definition: Record<string, unknown>;
  author: { id: string; email: string } | null;
  reviewedBy: { id: string; email: string } | null;
}

export interface VersionsShape {
  versions: VersionShape[];
  liveVersion: VersionShape | null;
  draft: VersionShape | null;
}

export async function versionsOf(client: Pick<GraphQLClient, 'ok'>, automationId: string): Promise<VersionsShape> {
  const { automation } = await client.ok(
    `query($id: ID!) { automation(id: $id) { versions { ${VERSION_FIELDS} } liveVersion { ${VERSION_FIELDS} } draft { ${VERSION_FIELDS} } } }`,
    { id: automationId },
  );
  return automation;
}

/** `status` of each version, oldest first: `['v1 RETIRED', 'v2 LIVE']`. */
export async function statuses(client: Pick<GraphQLClient, 'ok'>, automationId: string): Promise<string[]> {
  return (await versionsOf(client, automationId)).versions.map((v) => `v${v.number} ${v.status}`).reverse();
}

export async function setApproval(t: TestServer, approvalRequired: boolean, allowSelfApproval = false): Promise<void> {
  await t.ok(`mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { approvalRequired allowSelfApproval } }`, {
    input: { approvalRequired, allowSelfApproval },
  });
}

/** An editor, and a second admin (the test server's own admin is the first), with their clients. */
export async function team(t: TestServer) {
  const editor = await t.addUser(Role.EDITOR);
  const reviewer = await t.addUser(Role.ADMIN);
  const viewer = await t.addUser(Role.VIEWER);
  return {
    editor: { ...editor, client: t.as({ token: editor.token }) },
    reviewer: { ...reviewer, client: t.as({ token: reviewer.token }) },
    viewer: { ...viewer, client: t.as({ token: viewer.token }) },
  };
}

export const SUBMIT = `mutation($id: ID!) { submitForApproval(automationId: $id) { id number status } }`;
export const APPROVE = `mutation($v: ID!, $c: String) { approveVersion(versionId: $v, comment: $c) { id number status reviewComment reviewedBy { email } } }`;
export const REJECT = `mutation($v: ID!, $c: String!) { rejectVersion(versionId: $v, comment: $c) { id number status reviewComment } }`;
export const REOPEN = `mutation($v: ID!) { reopenDraft(versionId: $v) { id number status } }`;
export const MAKE_LIVE = `mutation($v: ID!) { makeLive(versionId: $v) { id number status liveFrom madeLiveAt } }`;
export const DISCARD = `mutation($v: ID!) { discardDraft(versionId: $v) }`;
export const UPDATE_ETL = `mutation($id: ID!, $input: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $input) { id transform } }`;
