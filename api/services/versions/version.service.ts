import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { sqlOf } from '../../../core/db/dialect.js';
import { Automation, AutomationVersion, ChangedEntity, Connection, Datasource, Role, VersionStatus } from '../../../core/db/entities/index.js';
import { roleAllows } from '../../../core/auth/roles.js';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, type DependentInfo } from '../../../core/errors.js';
import { writeTransaction } from '../../../core/db/transaction.js';
import type { ChangeSet } from '../../../core/db/change-log.js';
import { declaredDatasourceIds, type Definition } from '../../../core/versions/definition.js';
import { checkText, LIMITS } from '../../../core/validation.js';
import { applyDefinition } from './apply.js';
import { extractScriptTokens } from '../script-tokens.js';
import { diffDefinitions, type DefinitionDiff } from './diff.js';
import { switchLive } from './revisions.js';
import { readSettings, writeSettings, type WorkspaceSettings } from './settings.js';

/** Versions that may still go live (so what they declare is in use). */
const OPEN = [VersionStatus.DRAFT, VersionStatus.AWAITING_APPROVAL, VersionStatus.APPROVED];

/** The review flow of the versions of automations (see Revisions for how edits make them). */
export class VersionService {
  constructor(
    private readonly em: EntityManager,
    /** Who acts: reviews are checked against the version's contributors, rollbacks against the role. */
    private readonly actor: { id: string; role: Role } | null,
    /** Told after a version went live, so the job store follows the new schedule. */
    private readonly onLive?: (automationId: string) => Promise<void>,
  ) {}

  byId(id: string): Promise<AutomationVersion | null> {
    return this.em.findOne(AutomationVersion, { id });
  }

  /** An automation's versions, newest first. */
  list(automationId: string): Promise<AutomationVersion[]> {
    return this.em.find(AutomationVersion, { automation: automationId }, { orderBy: { number: 'desc' } });
  }

  draftOf(automationId: string): Promise<AutomationVersion | null> {
    return this.em.findOne(AutomationVersion, { automation: automationId, status: VersionStatus.DRAFT });
  }

  /** Every version waiting for an admin's review, oldest request first. */
  awaitingReview(): Promise<AutomationVersion[]> {
    return this.em.find(AutomationVersion, { status: VersionStatus.AWAITING_APPROVAL }, { orderBy: { submittedAt: 'asc', id: 'asc' }, limit: 200 });
  }

  settings(): Promise<WorkspaceSettings> {
    return readSettings(this.em);
  }

  updateSettings(input: Partial<Record<keyof WorkspaceSettings, boolean | null>>): Promise<WorkspaceSettings> {
    return writeTransaction(this.em, 'the workspace settings', (tx) => writeSettings(tx, input), { graphFree: true });
  }

  /** DRAFT → AWAITING_APPROVAL. */
  submitForApproval(automationId: string): Promise<AutomationVersion> {
    return this.transition(async (em) => {
      const automation = await em.findOne(Automation, { id: automationId });
      if (!automation) throw new NotFoundError('Automation', automationId, 'automationId');
      const draft = await em.findOne(AutomationVersion, { automation: automationId, status: VersionStatus.DRAFT });
      if (!draft) throw new ConflictError('automationId', `${JSON.stringify(automation.name)} has no draft to send for approval: edit it first`);
      draft.status = VersionStatus.AWAITING_APPROVAL;
      draft.submittedAt = new Date();
      // A version reopened after a rejection awaits a new review: the old one stays in the audit log.
      draft.reviewedById = null;
      draft.reviewedAt = null;
      draft.reviewComment = null;
      return draft;
    });
  }

  /** AWAITING_APPROVAL → APPROVED, by an admin other than its author (unless self-approval is allowed). */
  approveVersion(versionId: string, comment?: string | null): Promise<AutomationVersion> {
    return this.review(versionId, VersionStatus.APPROVED, checkText(comment, 'comment', LIMITS.description)?.trim() || null);
  }

  /** AWAITING_APPROVAL → REJECTED, with the reason. */
  rejectVersion(versionId: string, comment: string): Promise<AutomationVersion> {
    const reason = checkText(comment, 'comment', LIMITS.description)?.trim();
    if (!reason) throw new BadUserInputError('comment', 'say why the version is rejected: its author reads the comment to fix it');
    return this.review(versionId, VersionStatus.REJECTED, reason);
  }

  /** REJECTED → DRAFT (the same version), unless the automation has another draft already. */
  reopenDraft(versionId: string): Promise<AutomationVersion> {
    return this.transition(async (em) => {
      const version = await this.load(em, versionId, [VersionStatus.REJECTED], 'reopen it as the draft');
      const other = await em.findOne(AutomationVersion, { automation: version.automation.id, status: VersionStatus.DRAFT });
      if (other) throw new ConflictError('versionId', `v${other.number} is the draft already: discard it first, or edit it`);
      version.status = VersionStatus.DRAFT;
      version.submittedAt = null;
      return version;
    });
  }

  /** APPROVED or RETIRED (a rollback) → LIVE; the live version is RETIRED. Runs in flight finish on theirs. */
  makeLive(versionId: string): Promise<AutomationVersion> {
    const runsOf = async (em: EntityManager) => (await em.findOne(AutomationVersion, { id: versionId }, { fields: ['automation'] }))?.automation.id ?? null;
    return this.transition(async (em, changes) => {
      const version = await this.load(em, versionId, [VersionStatus.APPROVED, VersionStatus.RETIRED], 'make it live');
      if (version.status === VersionStatus.RETIRED && !roleAllows(this.actor?.role ?? Role.VIEWER, Role.ADMIN) && (await readSettings(em)).approvalRequired) {
        throw new ForbiddenError(`v${version.number} was not approved for going live again: while approval is required, only an admin rolls back`, Role.ADMIN);
      }
      const automation = await em.findOneOrFail(Automation, { id: version.automation.id });
      const former = automation.liveVersionId ? await em.findOne(AutomationVersion, { id: automation.liveVersionId }) : null;
      await applyDefinition(em, automation, version.definition as Definition);
      await switchLive(em, automation, version, former);
      changes.add(ChangedEntity.AUTOMATION, automation.id);
      return version;
    }, runsOf).then(async (version) => {
      await this.onLive?.(version.automation.id);
      return version;
    });
  }

  /** Deletes the draft. An automation never live keeps its only version: delete the automation instead. */
  discardDraft(versionId: string): Promise<string> {
    return this.transition(async (em) => {
      const version = await this.load(em, versionId, [VersionStatus.DRAFT], 'discard it');
      const automation = await em.findOneOrFail(Automation, { id: version.automation.id });
      if (automation.draftOnly && (await em.count(AutomationVersion, { automation: automation.id })) === 1) {
        throw new ConflictError('versionId', `${JSON.stringify(automation.name)} has never been live and this is its only version: delete the automation instead`);
      }
      await em.nativeDelete(AutomationVersion, { id: version.id });
      return version.id;
    });
  }

  /** What changed from one version of an automation to another. */
  async diff(fromId: string, toId: string): Promise<{ from: AutomationVersion; to: AutomationVersion } & DefinitionDiff> {
    const [from, to] = await Promise.all([this.byId(fromId), this.byId(toId)]);
    if (!from) throw new NotFoundError('AutomationVersion', fromId, 'fromId');
    if (!to) throw new NotFoundError('AutomationVersion', toId, 'toId');
    if (from.automation.id !== to.automation.id) throw new BadUserInputError('toId', 'compare two versions of the same automation');
    const [a, b] = [from.definition as Definition, to.definition as Definition];
    const ids = [...new Set([...declaredDatasourceIds(a), ...declaredDatasourceIds(b)])];
    const stepIds = [...new Set([...((a.stepIds as string[] | undefined) ?? []), ...((b.stepIds as string[] | undefined) ?? [])])];
    const names = new Map<string, string>([
      ...(await this.em.find(Datasource, { id: { $in: ids } }, { fields: ['id', 'name'] })).map((d) => [d.id, d.name] as [string, string]),
      ...(await this.em.find(Automation, { id: { $in: stepIds } }, { fields: ['id', 'name'] })).map((s) => [s.id, s.name] as [string, string]),
      ...(await this.em.find(Connection, { id: { $in: connectionIdsOf(a, b) } }, { fields: ['id', 'name'] })).map((c) => [c.id, c.name] as [string, string]),
    ]);
    return { from, to, ...diffDefinitions(a, b, names) };
  }

  private review(versionId: string, outcome: VersionStatus.APPROVED | VersionStatus.REJECTED, comment: string | null): Promise<AutomationVersion> {
    return this.transition(async (em) => {
      const version = await this.load(em, versionId, [VersionStatus.AWAITING_APPROVAL], outcome === VersionStatus.APPROVED ? 'approve it' : 'reject it');
      const own = this.actor !== null && (version.authorId === this.actor.id || version.contributorIds.includes(this.actor.id));
      if (own && !(await readSettings(em)).allowSelfApproval) {
        throw new ForbiddenError(`v${version.number} holds your own edits: another admin reviews it (or an admin turns on allowSelfApproval)`);
      }
      version.status = outcome;
      version.reviewedById = this.actor?.id ?? null;
      version.reviewedAt = new Date();
      version.reviewComment = comment;
      return version;
    });
  }

  /** Loads a version whose status is one of `from`; CONFLICT naming its status otherwise. */
  private async load(em: EntityManager, versionId: string, from: VersionStatus[], action: string): Promise<AutomationVersion> {
    const version = await em.findOne(AutomationVersion, { id: versionId });
    if (!version) throw new NotFoundError('AutomationVersion', versionId, 'versionId');
    if (!from.includes(version.status)) {
      throw new ConflictError('versionId', `v${version.number} is ${version.status}: only a version that is ${from.join(' or ')} can ${action}`, { status: version.status });
    }
    return version;
  }

  /** One transition, in one transaction. */
  private transition<T extends AutomationVersion | string>(
    work: (em: EntityManager, changes: ChangeSet) => Promise<T>,
    runsOf?: (em: EntityManager) => Promise<string | null>,
  ): Promise<T> {
    return writeTransaction(this.em, 'a version', work, runsOf ? { serializeOn: runsOf } : {});
  }
}

/**
 * Versions not live yet that use an object: deleting it is refused while one of them may still go
 * live (`declared by draft v3 of "load orders"`). `mentions` are texts one of their definitions
 * must hold to use it (the database picks those, the exact check reads only them); `use` says how
 * a definition uses it (`declared`), or null.
 */
export async function pendingUses(em: EntityManager, mentions: string[], use: (definition: Definition) => string | null): Promise<DependentInfo[]> {
  const contains = sqlOf(em).containsText('cast(definition as text)');
  const mentioned = { $or: mentions.map((text) => ({ [raw(() => contains, [text])]: [] })) };
  const open = await em.find(AutomationVersion, { status: { $in: OPEN }, ...mentioned }, { populate: ['automation'], orderBy: { number: 'asc' } });
  return open.flatMap((v) => {
    const how = use(v.definition as Definition);
    if (!how) return [];
    const automation = v.automation.getEntity();
    const what = v.status === VersionStatus.DRAFT ? 'draft' : v.status === VersionStatus.AWAITING_APPROVAL ? 'awaiting' : 'approved';
    return [{ id: automation.id, name: automation.name, type: automation.kind, reason: `${how} ${what} v${v.number} of ${JSON.stringify(automation.name)}` }];
  });
}

/** The connections definitions select. */
export const connectionIdsOf = (...definitions: Definition[]): string[] => [...new Set(definitions.map((d) => d.connectionId).filter((id): id is string => typeof id === 'string'))];

/** Versions not live yet that declare the datasource, or whose script code names it (as live scripts' code is checked). */
export const pendingDeclarations = (em: EntityManager, datasource: { id: string; name: string }) =>
  pendingUses(em, [datasource.id, datasource.name], (d) => {
    if (declaredDatasourceIds(d).includes(datasource.id)) return 'declared by';
    if (typeof d.code !== 'string') return null;
    const { uuids, literals } = extractScriptTokens(d.code);
    return uuids.has(datasource.id.toLowerCase()) || literals.has(datasource.name) ? 'named in the code of' : null;
  });

/** Chain tasks' versions not live yet that trigger the automation. */
export const pendingTriggers = (em: EntityManager, automationId: string) =>
  pendingUses(em, [automationId], (d) => (Array.isArray(d.stepIds) && d.stepIds.includes(automationId) ? 'triggered by' : null));
