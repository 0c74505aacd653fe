import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { checkPageSize } from '../../core/paging.js';
import type { Context } from '../graphql/context.js';
import { RowConnectionObject } from './types/rows.js';

@Resolver()
export class RowsResolver {
  @Query(() => RowConnectionObject, { description: "A datasource's data, page by page (FILE: in file order; STORAGE: in insertion order)" })
  async rows(
    @Ctx() ctx: Context,
    @Arg('datasourceId', () => ID) datasourceId: string,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<RowConnectionObject> {
    const page = await ctx.data.rows(datasourceId, checkPageSize(first), after, ctx.signal);
    return {
      columns: page.columns,
      nodes: page.rows,
      totalCount: page.totalCount,
      pageInfo: { hasNextPage: page.endCursor !== null, hasPreviousPage: !!after, startCursor: after ?? null, endCursor: page.endCursor },
    };
  }
}
