import { Arg, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import type { Context } from '../graphql/context.js';
import { connectionType } from '../graphql/connection.js';
import { listOpenLineageEvents } from '../openlineage/events.js';
import type { OpenLineageEvent } from '../../core/db/entities/index.js';

@ObjectType('OpenLineageEvent', { description: 'An OpenLineage event as POST /api/v1/lineage received it' })
export class OpenLineageEventObject {
  @Field(() => ID) id!: number;
  @Field(() => String, { description: 'RUN, JOB or DATASET' }) kind!: string;
  @Field(() => String, { nullable: true, description: 'RunEvents: START, RUNNING, COMPLETE, ABORT, FAIL or OTHER' }) eventType!: string | null;
  @Field(() => Date) eventTime!: Date;
  @Field(() => Date) receivedAt!: Date;
  @Field(() => String, { nullable: true, description: 'The OpenLineage runId' }) runId!: string | null;
  @Field(() => String, { nullable: true }) jobNamespace!: string | null;
  @Field(() => String, { nullable: true }) jobName!: string | null;
  @Field(() => String) producer!: string;
  @Field(() => GraphQLJSON, { description: 'The event as it was sent' }) payload!: unknown;
}

const OpenLineageEventConnection = connectionType('OpenLineageEvent', OpenLineageEventObject);

const shown = (row: OpenLineageEvent) => ({ ...row, payload: JSON.parse(row.payload) as unknown });

@Resolver(() => OpenLineageEventObject)
export class OpenLineageResolver {
  @Query(() => OpenLineageEventConnection, { description: 'Received OpenLineage events, newest first (kept as long as runs: RUN_RETENTION_DAYS)' })
  async openLineageEvents(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('runId', () => String, { nullable: true }) runId?: string | null,
    @Arg('automationId', () => ID, { nullable: true, description: 'An external job' }) automationId?: string | null,
    @Arg('jobNamespace', () => String, { nullable: true }) jobNamespace?: string | null,
    @Arg('jobName', () => String, { nullable: true }) jobName?: string | null,
  ) {
    const page = await listOpenLineageEvents(ctx.em, { first, after, runId, automationId, jobNamespace, jobName });
    return { ...page, nodes: page.nodes.map(shown), edges: page.edges.map((e) => ({ ...e, node: shown(e.node) })) };
  }
}
