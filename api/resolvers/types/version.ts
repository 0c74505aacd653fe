import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { VersionStatus } from '../../../core/enums.js';

@ObjectType('AutomationVersion', {
  description: 'A numbered, immutable snapshot of what an automation does, with its place in the review flow (DRAFT → AWAITING_APPROVAL → APPROVED → LIVE → RETIRED, or REJECTED)',
})
export class AutomationVersionObject {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: 'v1, v2, … per automation' }) number!: number;
  @Field(() => VersionStatus) status!: VersionStatus;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When it was sent for approval' }) submittedAt!: Date | null;
  @Field(() => Date, { nullable: true }) reviewedAt!: Date | null;
  @Field(() => String, { nullable: true, description: "The reviewer's comment (always given with a rejection)" }) reviewComment!: string | null;
  @Field(() => Date, { nullable: true, description: 'When makeLive was asked for its latest live period' }) madeLiveAt!: Date | null;
  @Field(() => Date, {
    nullable: true,
    description: 'When it took over: at makeLive, or once the run of the former version in flight then had finished (null while waitingForRun)',
  })
  liveFrom!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When its latest live period ended' }) liveUntil!: Date | null;
}

@ObjectType('VersionReference', { description: 'A datasource or automation a version names by id, with its name today' })
export class VersionReferenceObject {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
}

@ObjectType('VersionChange', { description: 'A field that differs between two versions (lists compared whole; secrets only say that they changed)' })
export class VersionChangeObject {
  @Field(() => String, { description: 'e.g. `code`, `schedule.cron`, `transform.sql`, `inputIds`' }) path!: string;
  @Field(() => GraphQLJSON, { nullable: true }) before!: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) after!: unknown;
}

@ObjectType('DiffLine', { description: 'A line of the diff of a text: code, an SQL transform, a pipeline transform as JSON' })
export class DiffLineObject {
  @Field(() => String, { description: 'The text it belongs to: `code`, `transform.sql` or `transform`' }) path!: string;
  @Field(() => String, { description: 'SAME, ADDED or REMOVED' }) kind!: string;
  @Field(() => String) text!: string;
  @Field(() => Int, { nullable: true, description: 'Its number in the `from` version; null for an added line' }) beforeLine!: number | null;
  @Field(() => Int, { nullable: true, description: 'Its number in the `to` version; null for a removed line' }) afterLine!: number | null;
}

@ObjectType('VersionDiff')
export class VersionDiffObject {
  @Field(() => AutomationVersionObject) from!: AutomationVersionObject;
  @Field(() => AutomationVersionObject) to!: AutomationVersionObject;
  @Field(() => [VersionChangeObject]) changes!: VersionChangeObject[];
  @Field(() => [DiffLineObject], { description: 'The line diffs of the texts that changed, one text after another, in order' }) lines!: DiffLineObject[];
}

@ObjectType('WorkspaceSettings')
export class WorkspaceSettingsObject {
  @Field(() => Boolean, { description: 'Edits make a draft an admin approves before it goes live (default off: an edit is live at once, kept as a version)' })
  approvalRequired!: boolean;
  @Field(() => Boolean, { description: 'An admin may approve or reject a version they made (default off)' })
  allowSelfApproval!: boolean;
}

@InputType()
export class UpdateSettingsInput {
  @Field(() => Boolean, { nullable: true }) approvalRequired?: boolean | null;
  @Field(() => Boolean, { nullable: true }) allowSelfApproval?: boolean | null;
}
