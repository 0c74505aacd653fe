/**
 * The review flow of the flow seed (seeds/000) over GraphQL: versions of every edit, drafts while
 * approval is required, submit → approve/reject → make live, rollback, roles and self-approval,
 * and what each transition refuses. One server; each test sets the policy it needs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { factories, type Factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { APPROVE, DISCARD, MAKE_LIVE, REJECT, REOPEN, SUBMIT, UPDATE_ETL, setApproval, statuses, team, versionsOf } from './helpers.js';

let t: TestServer;
let f: Factories;
let people: Awaited<ReturnType<typeof team>>;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
  people = await team(t);
});
afterAll(() => t.close());
beforeEach(() => setApproval(t, false));

const SQL = (n: number) => ({ sql: `select id, ${n} as n from input` });
const LINEAGE = `{ lineage { nodes { id name } edges { source target kind } } }`;

async function etlWorld() {
  const [a, b, c] = [await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] }), await f.storage(), await f.storage()];
  const etl = await f.etl(a, b, { transform: SQL(1) });
  return { a, b, c, etl };
}

async function transformOf(id: string): Promise<unknown> {
  return (await t.ok(`query($id: ID!) { automation(id: $id) { ... on EtlStep { transform } } }`, { id })).automation.transform;
}

describe('without approval (the default)', () => {
  it('keeps every saved edit as a version and makes it live at once; an edit that changes nothing makes none', async () => {
    const { etl } = await etlWorld();
    expect(await statuses(t, etl.id)).toEqual(['v1 LIVE']);
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(2) } });
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(2) } });
    const { versions, liveVersion, draft } = await versionsOf(t, etl.id);
    expect(versions.map((v) => `v${v.number} ${v.status}`)).toEqual(['v2 LIVE', 'v1 RETIRED']);
    expect(liveVersion!.definition.transform).toEqual(SQL(2));
    expect(draft).toBeNull();
    expect(versions[0]!.author!.email).toBe(t.admin.email);
    expect(versions[1]!.liveUntil).not.toBeNull();
    expect(await transformOf(etl.id)).toEqual(SQL(2));
  });

  it('versions the schedule too, but not the run state', async () => {
    const { etl } = await etlWorld();
    await t.ok(`mutation($id: ID!) { setSchedule(automationId: $id, cron: "0 * * * *") { id } }`, { id: etl.id });
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: etl.id });
    await t.ok(`mutation($id: ID!) { startAutomation(id: $id) { id } }`, { id: etl.id });
    const { versions } = await versionsOf(t, etl.id);
    expect(versions.map((v) => v.number)).toEqual([2, 1]);
    expect(versions[0]!.definition.schedule).toEqual({ cron: '0 * * * *', timezone: 'UTC' });
  });
});

describe('with approval required', () => {
  it('edits only the draft: the live definition, the graph and the schedule stay as they were until it is live', async () => {
    const { a, c, etl } = await etlWorld();
    await setApproval(t, true);
    const edit = people.editor.client;
    await edit.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(3), outputId: c.id, schedule: { cron: '*/5 * * * *' } } });
    await edit.ok(UPDATE_ETL, { id: etl.id, input: { description: 'second edit, same draft' } });

    const { versions, draft, liveVersion } = await versionsOf(t, etl.id);
    expect(versions.map((v) => `v${v.number} ${v.status}`)).toEqual(['v2 DRAFT', 'v1 LIVE']);
    expect(draft!.author!.email).toBe(people.editor.email);
    expect(draft!.definition).toMatchObject({ transform: SQL(3), outputIds: [c.id], description: 'second edit, same draft', schedule: { cron: '*/5 * * * *' } });
    expect(liveVersion!.definition.transform).toEqual(SQL(1));

    expect(await transformOf(etl.id)).toEqual(SQL(1));
    const { automation } = await t.ok(`query($id: ID!) { automation(id: $id) { schedule { cron } effectivelyScheduled outputs { id } description } }`, { id: etl.id });
    expect(automation).toEqual({ schedule: null, effectivelyScheduled: false, outputs: [expect.objectContaining({ id: expect.any(String) })], description: null });
    expect(automation.outputs[0].id).not.toBe(c.id);
    const { lineage } = await t.ok(LINEAGE);
    expect(lineage.edges.filter((e: { source: string; target: string }) => e.source === etl.id && e.target === c.id)).toEqual([]);

    // Submitted, approved by another admin, made live: now everything follows.
    const sent = (await edit.ok(SUBMIT, { id: etl.id })).submitForApproval;
    expect(sent).toMatchObject({ number: 2, status: 'AWAITING_APPROVAL' });
    const { awaitingReview } = await people.reviewer.client.ok(`{ awaitingReview { id automation { id } } }`);
    expect(awaitingReview.map((v: { id: string }) => v.id)).toContain(sent.id);
    const approved = (await people.reviewer.client.ok(APPROVE, { v: sent.id, c: 'looks right' })).approveVersion;
    expect(approved).toMatchObject({ status: 'APPROVED', reviewComment: 'looks right', reviewedBy: { email: people.reviewer.email } });
    expect(await transformOf(etl.id)).toEqual(SQL(1)); // approved is not live
    const live = (await edit.ok(MAKE_LIVE, { v: sent.id })).makeLive;
    expect(live.status).toBe('LIVE');
    expect(live.liveFrom).not.toBeNull();
    expect(await transformOf(etl.id)).toEqual(SQL(3));
    expect(await statuses(t, etl.id)).toEqual(['v1 RETIRED', 'v2 LIVE']);
    const after = (await t.ok(LINEAGE)).lineage;
    expect(after.edges).toContainEqual({ source: etl.id, target: c.id, kind: 'OUTPUT' });
    expect(after.edges).toContainEqual({ source: a.id, target: etl.id, kind: 'INPUT' });
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { schedule { cron } } }`, { id: etl.id })).automation.schedule.cron).toBe('*/5 * * * *');
    // Going live makes no draft: the next edit does.
    expect((await versionsOf(t, etl.id)).draft).toBeNull();
    await edit.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(4) } });
    expect((await versionsOf(t, etl.id)).draft).toMatchObject({ number: 3, definition: { transform: SQL(4) } });
  });

  it('refuses self-approval unless allowSelfApproval is on, and review by a non-admin', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(5) } }); // the test admin is the author
    const sent = (await t.ok(SUBMIT, { id: etl.id })).submitForApproval;

    const own = await t.fail(APPROVE, { v: sent.id });
    expect(own.extensions?.code).toBe('FORBIDDEN');
    expect((await t.fail(REJECT, { v: sent.id, c: 'no' })).extensions?.code).toBe('FORBIDDEN');
    const byEditor = await people.editor.client.fail(APPROVE, { v: sent.id });
    expect(byEditor.extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'ADMIN' });
    expect((await versionsOf(t, etl.id)).versions[0]!.status).toBe('AWAITING_APPROVAL'); // nothing changed

    await setApproval(t, true, true);
    expect((await t.ok(APPROVE, { v: sent.id })).approveVersion.status).toBe('APPROVED');
  });

  it('refuses a review by anyone whose edits the version holds, not only its author', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    await people.editor.client.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(20) } });
    await people.reviewer.client.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(666) } }); // the reviewer edits the editor's draft
    const sent = (await people.reviewer.client.ok(SUBMIT, { id: etl.id })).submitForApproval;
    expect((await people.reviewer.client.fail(APPROVE, { v: sent.id })).extensions?.code).toBe('FORBIDDEN');
    expect((await versionsOf(t, etl.id)).versions[0]).toMatchObject({ status: 'AWAITING_APPROVAL', author: { email: people.editor.email } });
    expect((await t.ok(APPROVE, { v: sent.id })).approveVersion.status).toBe('APPROVED'); // a third person may
  });

  it('lets only an admin roll back to a retired version while approval is required', async () => {
    const { etl } = await etlWorld();
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(21) } }); // v2 live at once, v1 retired
    await setApproval(t, true);
    const v1 = (await versionsOf(t, etl.id)).versions.find((v) => v.number === 1)!;
    expect((await people.editor.client.fail(MAKE_LIVE, { v: v1.id })).extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'ADMIN' });
    expect(await transformOf(etl.id)).toEqual(SQL(21));
    expect((await people.reviewer.client.ok(MAKE_LIVE, { v: v1.id })).makeLive.status).toBe('LIVE');
    expect(await transformOf(etl.id)).toEqual(SQL(1));
  });

  it('keeps only the version in the audit log for an edit of a draft: nothing about the automation changed', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    await people.editor.client.ok(UPDATE_ETL, { id: etl.id, input: { description: 'draft only' } });
    const { auditLog } = await t.ok(`query($id: ID!) { auditLog(objectId: $id, action: "updateEtlStep", first: 5) { nodes { changes { type change } fieldChanges { field before after } } } }`, { id: etl.id });
    const [entry] = auditLog.nodes;
    expect(entry.changes).toEqual([
      { type: 'AutomationVersion', change: 'created' },
      { type: 'EtlStep', change: 'updated' }, // its version counter, nothing else
    ]);
    const fields = entry.fieldChanges.map((c: { field: string }) => c.field);
    expect(fields).toEqual(['automation', 'number', 'status', 'authorId', 'contributorIds', 'versionCount']);
  });

  it('rejects with a comment; the author reopens the same version, fixes it and sends it again', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    const edit = people.editor.client;
    await edit.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(6) } });
    const sent = (await edit.ok(SUBMIT, { id: etl.id })).submitForApproval;
    expect((await people.reviewer.client.fail(REJECT, { v: sent.id, c: '  ' })).extensions?.code).toBe('BAD_USER_INPUT');
    const rejected = (await people.reviewer.client.ok(REJECT, { v: sent.id, c: 'use 7, not 6' })).rejectVersion;
    // The comment stays with the version while its author fixes it; sent again, it awaits a new review.
    expect(rejected).toMatchObject({ status: 'REJECTED', reviewComment: 'use 7, not 6' });
    expect((await edit.fail(SUBMIT, { id: etl.id })).extensions).toMatchObject({ code: 'CONFLICT' }); // no draft

    expect((await edit.ok(REOPEN, { v: sent.id })).reopenDraft).toMatchObject({ id: sent.id, status: 'DRAFT' });
    await edit.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(7) } });
    expect((await versionsOf(t, etl.id)).draft).toMatchObject({ id: sent.id, definition: { transform: SQL(7) } });
    expect((await versionsOf(t, etl.id)).draft).toMatchObject({ reviewComment: 'use 7, not 6' });
    await edit.ok(SUBMIT, { id: etl.id });
    expect((await versionsOf(t, etl.id)).versions[0]).toMatchObject({ status: 'AWAITING_APPROVAL', reviewComment: null, reviewedBy: null });
    await people.reviewer.client.ok(APPROVE, { v: sent.id });
    await edit.ok(MAKE_LIVE, { v: sent.id });
    expect(await transformOf(etl.id)).toEqual(SQL(7));
  });

  it('answers every illegal transition with CONFLICT naming the current status, and changes nothing', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    const v1 = (await versionsOf(t, etl.id)).liveVersion!;
    const conflict = async (query: string, variables: Record<string, unknown>, status: string) => {
      const error = await people.reviewer.client.fail(query, variables);
      expect(error.extensions).toMatchObject({ code: 'CONFLICT', status });
      expect(error.message).toContain(status);
    };
    await conflict(APPROVE, { v: v1.id }, 'LIVE');
    await conflict(REJECT, { v: v1.id, c: 'x' }, 'LIVE');
    await conflict(REOPEN, { v: v1.id }, 'LIVE');
    await conflict(MAKE_LIVE, { v: v1.id }, 'LIVE');
    await conflict(DISCARD, { v: v1.id }, 'LIVE');

    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(8) } });
    const draft = (await versionsOf(t, etl.id)).draft!;
    await conflict(APPROVE, { v: draft.id }, 'DRAFT');
    await conflict(MAKE_LIVE, { v: draft.id }, 'DRAFT');
    await conflict(REOPEN, { v: draft.id }, 'DRAFT');
    await t.ok(SUBMIT, { id: etl.id });
    await conflict(MAKE_LIVE, { v: draft.id }, 'AWAITING_APPROVAL');
    await conflict(DISCARD, { v: draft.id }, 'AWAITING_APPROVAL');
    await people.reviewer.client.ok(APPROVE, { v: draft.id });
    await conflict(APPROVE, { v: draft.id }, 'APPROVED');
    await conflict(REJECT, { v: draft.id, c: 'late' }, 'APPROVED');
    expect(await statuses(t, etl.id)).toEqual(['v1 LIVE', 'v2 APPROVED']);
    expect((await t.fail(APPROVE, { v: 'nope' })).extensions?.code).toBe('NOT_FOUND');
  });

  it('discards a draft; reopening a rejected version while another draft exists is refused', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(9) } });
    const v2 = (await versionsOf(t, etl.id)).draft!;
    await t.ok(SUBMIT, { id: etl.id });
    await people.reviewer.client.ok(REJECT, { v: v2.id, c: 'no' });
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(10) } }); // a new draft from the live version
    const v3 = (await versionsOf(t, etl.id)).draft!;
    expect(v3).toMatchObject({ number: 3, definition: { transform: SQL(10) } });
    expect((await t.fail(REOPEN, { v: v2.id })).extensions?.code).toBe('CONFLICT');
    expect((await t.ok(DISCARD, { v: v3.id })).discardDraft).toBe(v3.id);
    expect((await t.ok(REOPEN, { v: v2.id })).reopenDraft.status).toBe('DRAFT');
    expect(await statuses(t, etl.id)).toEqual(['v1 LIVE', 'v2 DRAFT']);
    // A discarded number is never given again.
    await t.ok(DISCARD, { v: v2.id });
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(12) } });
    expect(await statuses(t, etl.id)).toEqual(['v1 LIVE', 'v4 DRAFT']);
  });

  it('starts a new automation as a draft: not in the graph, cannot run, live once approved', async () => {
    const [a, b] = [await f.storage(), await f.storage()];
    await setApproval(t, true);
    const etl = (
      await people.editor.client.ok(`mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id name liveVersion { id } draft { number status } } }`, {
        input: { name: `new-${Date.now()}`, inputId: a.id, outputId: b.id, transform: SQL(1) },
      })
    ).createEtlStep;
    expect(etl.liveVersion).toBeNull();
    expect(etl.draft).toEqual({ number: 1, status: 'DRAFT' });
    expect((await t.ok(LINEAGE)).lineage.nodes.map((n: { id: string }) => n.id)).not.toContain(etl.id);
    expect((await t.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: etl.id })).extensions?.code).toBe('CONFLICT');
    // A chain cannot trigger it yet.
    expect((await t.fail(`mutation($input: CreateChainTaskInput!) { createChainTask(input: $input) { id } }`, { input: { name: `c-${Date.now()}`, stepIds: [etl.id] } })).extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    // Nor can the draft's datasources be deleted.
    const refused = await t.fail(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: b.id });
    expect(refused.extensions?.code).toBe('DATASOURCE_IN_USE');
    expect(refused.message).toContain(`declared by draft v1 of "${etl.name}"`);

    const v1 = (await people.editor.client.ok(SUBMIT, { id: etl.id })).submitForApproval;
    await people.reviewer.client.ok(APPROVE, { v: v1.id });
    await people.editor.client.ok(MAKE_LIVE, { v: v1.id });
    const { lineage } = await t.ok(LINEAGE);
    expect(lineage.edges).toContainEqual({ source: etl.id, target: b.id, kind: 'OUTPUT' });
  });
});

describe('deletion safety with versions not live yet', () => {
  it('refuses to delete a datasource a draft script names in its code, as for a live script', async () => {
    const named = await f.storage({ name: `named-${Date.now()}` });
    const script = await f.script({ code: 'print(1)\n' });
    await setApproval(t, true);
    await t.ok(`mutation($id: ID!, $input: UpdateScriptInput!) { updateScript(id: $id, input: $input) { id } }`, {
      id: script.id,
      input: { code: `rows = tributary.read("${named.name}")\n` },
    });
    const refused = await t.fail(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: named.id });
    expect(refused.extensions?.code).toBe('DATASOURCE_IN_USE');
    expect(refused.message).toContain('named in the code of draft v2');
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { id } }`, { id: named.id })).datasource).not.toBeNull();
  });

  it('refuses to delete an automation that a chain’s draft triggers, and says which draft', async () => {
    const [x, y] = [await f.script(), await f.script()];
    const chain = await f.chain([x]);
    await setApproval(t, true);
    await t.ok(`mutation($id: ID!, $input: UpdateChainTaskInput!) { updateChainTask(id: $id, input: $input) { id } }`, { id: chain.id, input: { stepIds: [x.id, y.id] } });
    const { automationDeletionImpact } = await t.ok(`query($id: ID!) { automationDeletionImpact(automationId: $id) { name reason } }`, { id: y.id });
    expect(automationDeletionImpact).toEqual([{ name: chain.name, reason: `triggered by draft v2 of "${chain.name}"` }]);
    const refused = await t.fail(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: y.id });
    expect(refused.extensions?.code).toBe('AUTOMATION_IN_USE');
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { id } }`, { id: y.id })).automation).not.toBeNull();
  });
});

describe('rollback and retirement', () => {
  it('makes a retired version live again: a new live period with the same snapshot', async () => {
    const { etl } = await etlWorld();
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(2) } });
    await t.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(3) } });
    const v1 = (await versionsOf(t, etl.id)).versions.find((v) => v.number === 1)!;
    const again = (await people.editor.client.ok(MAKE_LIVE, { v: v1.id })).makeLive;
    expect(again).toMatchObject({ number: 1, status: 'LIVE' });
    expect(await transformOf(etl.id)).toEqual(SQL(1));
    expect(await statuses(t, etl.id)).toEqual(['v1 LIVE', 'v2 RETIRED', 'v3 RETIRED']);
    const { versions } = await versionsOf(t, etl.id);
    expect(new Date(versions.find((v) => v.number === 1)!.liveFrom!).getTime()).toBeGreaterThan(new Date(versions.find((v) => v.number === 3)!.liveFrom!).getTime());
  });

  it('refuses a rollback to a definition whose datasource is gone, changing nothing', async () => {
    const { b, c, etl } = await etlWorld();
    await t.ok(UPDATE_ETL, { id: etl.id, input: { outputId: c.id } });
    await t.ok(`mutation($id: ID!) { deleteDatasource(id: $id) }`, { id: b.id });
    const v1 = (await versionsOf(t, etl.id)).versions.find((v) => v.number === 1)!;
    const refused = await t.fail(MAKE_LIVE, { v: v1.id });
    expect(refused.extensions?.code).toBe('CONFLICT');
    expect(refused.message).toContain('no longer exists');
    expect(await statuses(t, etl.id)).toEqual(['v1 RETIRED', 'v2 LIVE']);
  });
});

describe('deactivating instead of deleting', () => {
  it('deactivates and activates; deleting one that was ever live is for admins; a never-live draft an editor may delete', async () => {
    const { etl } = await etlWorld();
    const edit = people.editor.client;
    expect((await edit.ok(`mutation($id: ID!) { deactivateAutomation(id: $id) { state } }`, { id: etl.id })).deactivateAutomation.state).toBe('DEACTIVATED');
    expect((await edit.fail(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: etl.id })).extensions?.code).toBe('CONFLICT');
    expect((await edit.ok(`mutation($id: ID!) { activateAutomation(id: $id) { state } }`, { id: etl.id })).activateAutomation.state).toBe('ACTIVE');

    const refused = await edit.fail(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: etl.id });
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'ADMIN' });
    expect((await t.ok(`query($id: ID!) { automation(id: $id) { id } }`, { id: etl.id })).automation).not.toBeNull();

    await setApproval(t, true);
    const [a, b] = [await f.storage(), await f.storage()];
    const draftOnly = await f.etl(a, b);
    expect((await edit.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: draftOnly.id })).deleteAutomation).toBe(draftOnly.id);
    expect((await t.ok(`mutation($id: ID!) { deleteAutomation(id: $id) }`, { id: etl.id })).deleteAutomation).toBe(etl.id);
  });
});

describe('audit', () => {
  it('records every transition with its actor and the comment', async () => {
    const { etl } = await etlWorld();
    await setApproval(t, true);
    await people.editor.client.ok(UPDATE_ETL, { id: etl.id, input: { transform: SQL(11) } });
    const sent = (await people.editor.client.ok(SUBMIT, { id: etl.id })).submitForApproval;
    await people.reviewer.client.ok(REJECT, { v: sent.id, c: 'needs a filter' });
    const { auditLog } = await t.ok(`query($id: ID!) { auditLog(objectId: $id, first: 20) { nodes { action actorEmail outcome fieldChanges { field after } } } }`, { id: sent.id });
    const rejected = auditLog.nodes.find((e: { action: string }) => e.action === 'rejectVersion');
    expect(rejected).toMatchObject({ actorEmail: people.reviewer.email, outcome: 'OK' });
    expect(rejected.fieldChanges).toEqual(expect.arrayContaining([{ field: 'status', after: 'REJECTED' }, { field: 'reviewComment', after: 'needs a filter' }]));
    const submitted = await t.ok(`query($id: ID!) { auditLog(objectId: $id, action: "submitForApproval", first: 5) { nodes { actorEmail } } }`, { id: etl.id });
    expect(submitted.auditLog.nodes).toEqual([{ actorEmail: people.editor.email }]);
  });
});
