import type { EntityManager } from '@mikro-orm/knex';
import { Automation } from '../db/entities/automation.js';
import { AutomationVersion } from '../db/entities/automation-version.js';
import { Run } from '../db/entities/run.js';
import { AutomationKind, RunStatus, VersionStatus } from '../enums.js';
import { snapshotDefinition, type Definition } from './definition.js';

/** The number the next version of an automation gets: never one given before, even to a discarded draft. */
export async function nextVersionNumber(em: EntityManager, automation: Automation): Promise<number> {
  const [row] = (await em.execute(`select coalesce(max(number), 0) as n from automation_version where automation_id = ?`, [automation.id])) as { n: number | string }[];
  const number = Math.max(Number(row?.n ?? 0), automation.versionCount ?? 0) + 1;
  automation.versionCount = number;
  return number;
}

/**
 * Records the row's definition as a new LIVE version, in force from `at`: the first version of an
 * automation made before versions existed, or one whose definition changed in place.
 */
export async function recordLiveVersion(em: EntityManager, automation: Automation, authorId: string | null, at = new Date()): Promise<AutomationVersion> {
  const version = em.create(AutomationVersion, {
    automation: automation.id,
    number: await nextVersionNumber(em, automation),
    status: VersionStatus.LIVE,
    definition: (await snapshotDefinition(em, automation)) as Definition,
    authorId,
    contributorIds: authorId ? [authorId] : [],
    createdAt: at,
    madeLiveAt: at,
    liveFrom: at,
  });
  automation.liveVersionId = version.id;
  em.persist(version);
  return version;
}

/**
 * Gives every automation that has no version yet (made before versions existed, or written by
 * hand into the database) its live version 1, from what its row holds. Run once the migrations
 * are applied; idempotent, and a process that loses the race to another finds nothing left.
 */
export async function recordMissingVersions(em: EntityManager): Promise<number> {
  // External jobs have no versions: their definition is what OpenLineage events say.
  const missing = await em.find(Automation, { liveVersionId: null, draftOnly: false, kind: { $ne: AutomationKind.EXTERNAL_JOB } });
  if (missing.length === 0) return 0;
  await em.transactional(async (tx) => {
    for (const automation of await tx.find(Automation, { id: { $in: missing.map((a) => a.id) }, liveVersionId: null })) {
      await recordLiveVersion(tx as EntityManager, automation, null, automation.createdAt);
    }
  });
  return missing.length;
}

/**
 * After a run of `automationId` ended: when a newer version went live while runs of an older one
 * were in flight, and none is left now, the switch is complete and the live version is in force
 * from now (its `liveFrom`).
 */
export async function settleSwitch(em: EntityManager, automationId: string, at = new Date()): Promise<void> {
  const automation = await em.findOne(Automation, { id: automationId }, { fields: ['liveVersionId'] });
  if (!automation?.liveVersionId) return;
  const live = await em.findOne(AutomationVersion, { id: automation.liveVersionId });
  if (!live || live.liveFrom) return;
  if (!(await runOfAnotherVersion(em, automationId, live.id))) live.liveFrom = at;
}

/** A run of the automation in flight on another version than `versionId` (or on none recorded): what a switch to it waits for. */
export function runOfAnotherVersion(em: EntityManager, automationId: string, versionId: string): Promise<Run | null> {
  return em.findOne(Run, { automation: automationId, status: RunStatus.RUNNING, $or: [{ versionId: null }, { versionId: { $ne: versionId } }] });
}
