import { Arg, Ctx, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { IoDirection } from '../../core/enums.js';
import { DEFAULT_DRIFT_RUNS, DriftKind, lineageDrift, type Drift } from '../lineage/drift.js';
import type { Context } from '../graphql/context.js';
import { AutomationObject, DatasourceObject } from './types/entities.js';

registerEnumType(DriftKind, {
  name: 'DriftKind',
  valuesConfig: {
    UNDECLARED: { description: 'Runs read or wrote it; the automation does not declare it' },
    STALE: { description: 'The automation declares it; none of its last observed runs used it' },
  },
});
registerEnumType(IoDirection, { name: 'IoDirection' });

@ObjectType('LineageDrift', { description: 'Where declared lineage and what runs really did part ways' })
export class LineageDriftObject {
  @Field(() => DriftKind) kind!: DriftKind;
  @Field(() => IoDirection, { description: 'INPUT (read) or OUTPUT (written)' }) direction!: IoDirection;
  @Field(() => Date, { nullable: true, description: 'When a run was last seen using it; null: never' }) lastObservedAt!: Date | null;
  @Field(() => Int, { description: 'UNDECLARED: the runs that used it; STALE: the runs checked' }) runs!: number;
  @Field(() => String, { description: 'In words, e.g. declares "orders" but has not read it in 30 runs' }) message!: string;
}

@Resolver(() => LineageDriftObject)
export class DriftResolver {
  @Query(() => [LineageDriftObject], {
    description: 'Declared against observed lineage: what runs used without declaring it, and what is declared but unused in the last `runs` observed successful runs',
  })
  async lineageDrift(
    @Ctx() ctx: Context,
    @Arg('runs', () => Int, { nullable: true, defaultValue: DEFAULT_DRIFT_RUNS }) runs?: number | null,
    @Arg('automationId', () => ID, { nullable: true, description: 'Only this automation’s drift' }) automationId?: string | null,
  ): Promise<Drift[]> {
    return lineageDrift(ctx.em, await ctx.graph(), runs ?? DEFAULT_DRIFT_RUNS, automationId);
  }

  @FieldResolver(() => AutomationObject)
  automation(@Root() drift: Drift, @Ctx() ctx: Context) {
    return ctx.loaders.automation.load(drift.automationId);
  }

  @FieldResolver(() => DatasourceObject)
  datasource(@Root() drift: Drift, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(drift.datasourceId);
  }
}
