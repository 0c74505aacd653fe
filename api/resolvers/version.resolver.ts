import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { Automation, AutomationVersion, ParameterSet, Run } from '../../core/db/entities/index.js';
import { connectionIdsOf } from '../services/versions/version.service.js';
import { runOfAnotherVersion } from '../../core/versions/live.js';
import { declaredDatasourceIds, publicDefinition, type Definition } from '../../core/versions/definition.js';
import type { Context } from '../graphql/context.js';
import { AutomationObject, RunObject } from './types/entities.js';
import { UserObject } from './types/account.js';
import { AutomationVersionObject, UpdateSettingsInput, VersionDiffObject, VersionReferenceObject, WorkspaceSettingsObject } from './types/version.js';
import { written } from './util.js';

/** Versions of automations and their review (see api/services/versions). */
@Resolver(() => AutomationVersionObject)
export class VersionResolver {
  @Query(() => AutomationVersionObject, { nullable: true })
  automationVersion(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return ctx.versions.byId(id);
  }

  @Query(() => [AutomationVersionObject], { description: 'Versions sent for approval, oldest request first: what admins review' })
  awaitingReview(@Ctx() ctx: Context) {
    return ctx.versions.awaitingReview();
  }

  @Query(() => VersionDiffObject, { description: 'What changed from one version of an automation to another' })
  versionDiff(@Ctx() ctx: Context, @Arg('fromId', () => ID) fromId: string, @Arg('toId', () => ID) toId: string) {
    return ctx.versions.diff(fromId, toId);
  }

  @Query(() => WorkspaceSettingsObject)
  settings(@Ctx() ctx: Context) {
    return ctx.versions.settings();
  }

  @Mutation(() => WorkspaceSettingsObject, { description: 'Only the settings given change' })
  async updateSettings(@Ctx() ctx: Context, @Arg('input', () => UpdateSettingsInput) input: UpdateSettingsInput) {
    return written(ctx, await ctx.versions.updateSettings(input));
  }

  @Mutation(() => AutomationVersionObject, { description: 'The draft goes to review (AWAITING_APPROVAL)' })
  async submitForApproval(@Ctx() ctx: Context, @Arg('automationId', () => ID) automationId: string) {
    return written(ctx, await ctx.versions.submitForApproval(automationId));
  }

  @Mutation(() => AutomationVersionObject, { description: "ADMIN; not the version's author unless allowSelfApproval is on" })
  async approveVersion(@Ctx() ctx: Context, @Arg('versionId', () => ID) versionId: string, @Arg('comment', () => String, { nullable: true }) comment?: string | null) {
    return written(ctx, await ctx.versions.approveVersion(versionId, comment));
  }

  @Mutation(() => AutomationVersionObject, { description: "ADMIN, with the reason; not the version's author unless allowSelfApproval is on" })
  async rejectVersion(@Ctx() ctx: Context, @Arg('versionId', () => ID) versionId: string, @Arg('comment', () => String) comment: string) {
    return written(ctx, await ctx.versions.rejectVersion(versionId, comment));
  }

  @Mutation(() => AutomationVersionObject, { description: 'A rejected version becomes the draft again (the same version)' })
  async reopenDraft(@Ctx() ctx: Context, @Arg('versionId', () => ID) versionId: string) {
    return written(ctx, await ctx.versions.reopenDraft(versionId));
  }

  @Mutation(() => AutomationVersionObject, {
    description: 'An APPROVED version, or a RETIRED one (a rollback), goes live; a run in flight finishes on its version, the next run uses this one',
  })
  async makeLive(@Ctx() ctx: Context, @Arg('versionId', () => ID) versionId: string) {
    return written(ctx, await ctx.versions.makeLive(versionId));
  }

  @Mutation(() => ID, { description: 'Deletes the draft; returns its id' })
  async discardDraft(@Ctx() ctx: Context, @Arg('versionId', () => ID) versionId: string) {
    return written(ctx, await ctx.versions.discardDraft(versionId));
  }

  @FieldResolver(() => AutomationObject)
  automation(@Root() version: AutomationVersion, @Ctx() ctx: Context) {
    return ctx.loaders.automation.load(version.automation.id);
  }

  @FieldResolver(() => GraphQLJSON, { description: 'What the version does (secrets only say whether they are set)' })
  definition(@Root() version: AutomationVersion) {
    return publicDefinition(version.definition as Definition);
  }

  @FieldResolver(() => [VersionReferenceObject], { description: 'The datasources, chain steps, parameter sets and connection its definition names by id that exist today, with their names' })
  async references(@Root() version: AutomationVersion, @Ctx() ctx: Context): Promise<VersionReferenceObject[]> {
    const definition = version.definition as Definition;
    const setIds = definition.parameterSetIds ?? [];
    const [datasources, steps, sets, connections] = await Promise.all([
      Promise.all(declaredDatasourceIds(definition).map((id) => ctx.loaders.datasource.load(id))),
      Promise.all(((definition.stepIds as string[] | undefined) ?? []).map((id) => ctx.loaders.automation.load(id))),
      setIds.length > 0 ? ctx.em.find(ParameterSet, { id: { $in: setIds } }, { fields: ['id', 'name'] }) : [],
      Promise.all(connectionIdsOf(definition).map((id) => ctx.loaders.connection.load(id))),
    ]);
    return [...datasources, ...steps, ...sets, ...connections].filter((x) => x !== null).map((x) => ({ id: x.id, name: x.name }));
  }

  @FieldResolver(() => UserObject, { nullable: true, description: 'Who made it; null for a version the server recorded (automations older than versions)' })
  author(@Root() version: AutomationVersion, @Ctx() ctx: Context) {
    return version.authorId ? ctx.loaders.user.load(version.authorId) : null;
  }

  @FieldResolver(() => UserObject, { nullable: true })
  reviewedBy(@Root() version: AutomationVersion, @Ctx() ctx: Context) {
    return version.reviewedById ? ctx.loaders.user.load(version.reviewedById) : null;
  }

  @FieldResolver(() => RunObject, { nullable: true, description: 'LIVE but not in force yet: the run of the former version it waits for' })
  async waitingForRun(@Root() version: AutomationVersion, @Ctx() ctx: Context): Promise<Run | null> {
    if (version.status !== 'LIVE' || version.liveFrom) return null;
    return runOfAnotherVersion(ctx.em, version.automation.id, version.id);
  }
}

/** The version fields of Automation and Run. */
@Resolver(() => AutomationObject)
export class AutomationVersionsResolver {
  @FieldResolver(() => [AutomationVersionObject], { description: 'Every version, newest first' })
  versions(@Root() automation: Automation, @Ctx() ctx: Context) {
    return ctx.versions.list(automation.id);
  }

  @FieldResolver(() => AutomationVersionObject, { nullable: true, description: 'The version in force; null while it has never been live' })
  liveVersion(@Root() automation: Automation, @Ctx() ctx: Context) {
    return automation.liveVersionId ? ctx.loaders.version.load(automation.liveVersionId) : null;
  }

  @FieldResolver(() => AutomationVersionObject, { nullable: true, description: 'The version edits change; null when there is none' })
  draft(@Root() automation: Automation, @Ctx() ctx: Context) {
    return ctx.versions.draftOf(automation.id);
  }
}

@Resolver(() => RunObject)
export class RunVersionResolver {
  @FieldResolver(() => AutomationVersionObject, { nullable: true, description: 'The version it ran; null for runs from before versions or not started' })
  version(@Root() run: Run, @Ctx() ctx: Context) {
    return run.versionId ? ctx.loaders.version.load(run.versionId) : null;
  }
}
