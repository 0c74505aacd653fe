import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationVersion, VersionStatus } from '../../../core/db/entities/index.js';
import { nextVersionNumber, recordLiveVersion, runOfAnotherVersion } from '../../../core/versions/live.js';
import { sameDefinition, snapshotDefinition, type Definition } from '../../../core/versions/definition.js';
import { applyDefinition } from './apply.js';
import { unaudited } from '../../../core/audit/scope.js';
import { readSettings } from './settings.js';

/**
 * How an edit of an automation becomes a version. Every `create…`/`update…` mutation and the
 * schedule mutations go through here, inside their transaction:
 *
 * - approval not required: the edit (on top of the draft, if one was left) is live at once, as a
 *   new LIVE version; the former one is RETIRED. An edit that changes nothing makes no version.
 * - approval required: the edit changes the draft (made from the live version when there is
 *   none) and nothing in force: the row is written back to the live definition before commit.
 */
export class Revisions {
  constructor(
    private readonly em: EntityManager,
    /** Who edits: the author of a version they start. */
    private readonly actorId: string | null,
  ) {}

  /** Records a new automation (already written by `create…`): its version 1, live or a draft. */
  async created(automation: Automation): Promise<void> {
    const definition = await snapshotDefinition(this.em, automation);
    if (!(await readSettings(this.em)).approvalRequired) {
      await recordLiveVersion(this.em, automation, this.actorId);
      return;
    }
    this.newVersion(automation, await nextVersionNumber(this.em, automation), VersionStatus.DRAFT, definition);
    await applyDefinition(this.em, automation, null);
    automation.draftOnly = true;
  }

  /** Runs `edit`, which changes the row as the mutation asks, and records the result as a version. */
  async edit(automation: Automation, edit: () => Promise<void>): Promise<void> {
    const { em } = this;
    const live = await this.liveOf(automation);
    const draft = await em.findOne(AutomationVersion, { automation: automation.id, status: VersionStatus.DRAFT });
    // The row holds the live definition (or none): an edit of a draft starts from the draft; one of an
    // automation never live and without a draft (its version awaits review) from its newest version.
    let base = ((draft ?? live)?.definition as Definition | undefined) ?? null;
    if (!draft && !live) base = ((await this.newest(automation))?.definition as Definition | undefined) ?? null;
    const fromDraft = async () => {
      if (draft || !live) await applyDefinition(em, automation, base, 'id');
      await edit();
      return snapshotDefinition(em, automation);
    };

    if ((await readSettings(em)).approvalRequired) {
      // Nothing of this is in force: the row ends as it began, and the log shows the draft's version.
      const next = await unaudited(async () => {
        const edited = await fromDraft();
        await applyDefinition(em, automation, automation.draftOnly ? null : (live!.definition as Definition), 'id');
        await em.flush();
        return edited;
      });
      if (draft) this.contribute(draft, next);
      else if (!base || !sameDefinition(next, base)) this.newVersion(automation, await nextVersionNumber(em, automation), VersionStatus.DRAFT, next);
      return;
    }
    const next = await fromDraft();
    if (!draft && live && sameDefinition(next, live.definition as Definition)) return; // nothing changed
    const version = draft ?? this.newVersion(automation, await nextVersionNumber(em, automation), VersionStatus.DRAFT, next);
    this.contribute(version, next);
    await switchLive(em, automation, version, live);
  }

  /** The live version; an automation older than versions gets its version 1 now. */
  private async liveOf(automation: Automation): Promise<AutomationVersion | null> {
    if (automation.liveVersionId) return this.em.findOneOrFail(AutomationVersion, { id: automation.liveVersionId });
    if (automation.draftOnly) return null;
    return recordLiveVersion(this.em, automation, null, automation.createdAt);
  }

  /** The draft now holds `definition`, with this editor's changes: they are one of its contributors. */
  private contribute(draft: AutomationVersion, definition: Definition): void {
    draft.definition = definition;
    if (this.actorId && !draft.contributorIds.includes(this.actorId)) draft.contributorIds = [...draft.contributorIds, this.actorId];
  }

  private newest(automation: Automation): Promise<AutomationVersion | null> {
    return this.em.findOne(AutomationVersion, { automation: automation.id }, { orderBy: { number: 'desc' } });
  }

  private newVersion(automation: Automation, number: number, status: VersionStatus, definition: Definition): AutomationVersion {
    const version = this.em.create(AutomationVersion, { automation: automation.id, number, status, definition, authorId: this.actorId, contributorIds: this.actorId ? [this.actorId] : [] });
    this.em.persist(version);
    return version;
  }
}

/**
 * Makes `version` the live one (its definition already written to the row): the former live
 * version is RETIRED. Runs in flight keep the version they started with; `liveFrom` is now, or,
 * while runs of an older version are still going, set when the last of them ends (settleSwitch).
 */
export async function switchLive(em: EntityManager, automation: Automation, version: AutomationVersion, former: AutomationVersion | null, at = new Date()): Promise<void> {
  if (former && former.id !== version.id) {
    former.status = VersionStatus.RETIRED;
    former.liveUntil = at;
  }
  version.status = VersionStatus.LIVE;
  version.madeLiveAt = at;
  version.liveUntil = null;
  automation.liveVersionId = version.id;
  automation.draftOnly = false;
  version.liveFrom = (await runOfAnotherVersion(em, automation.id, version.id)) ? null : at;
}
