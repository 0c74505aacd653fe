import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { Datasource, Script, ScriptTokenKind } from '../../core/db/entities/index.js';
import { NotFoundError } from '../../core/errors.js';
import type { Context } from '../graphql/context.js';
import type { GraphNode } from '../lineage/graph.js';
import { downstreamImpact, undeclaredScripts } from '../lineage/impact.js';
import { DEFAULT_MAX_NODES, queryLineage } from '../lineage/query.js';
import {
  CodeReferenceMatch,
  CodeReferenceObject,
  ImpactItemObject,
  LineageFilterInput,
  LineageGraphObject,
  LineageNodeObject,
  UndeclaredScriptObject,
} from './types/lineage.js';
import { DatasourceObject, ScriptObject } from './types/entities.js';

function toNode(node: GraphNode): LineageNodeObject {
  const { id, type, name, scheduled, lastRunStatus, state, language, tags, producer } = node;
  return { id, type, name, scheduled, lastRunStatus, state, language, tags, producer };
}

@Resolver()
export class LineageResolver {
  @Query(() => LineageGraphObject, { description: 'The lineage graph, filtered; over maxNodes the nodes nearest to the focus are kept' })
  async lineage(
    @Ctx() ctx: Context,
    @Arg('filter', () => LineageFilterInput, { nullable: true }) filter?: LineageFilterInput | null,
    @Arg('maxNodes', () => Int, { nullable: true, defaultValue: DEFAULT_MAX_NODES }) maxNodes?: number | null,
  ): Promise<LineageGraphObject> {
    const graph = filter?.asOf ? await ctx.graphAsOf(filter.asOf) : await ctx.graph();
    const answer = queryLineage(graph, filter ?? {}, maxNodes ?? DEFAULT_MAX_NODES);
    return { ...answer, nodes: answer.nodes.map(toNode) };
  }

  @Query(() => [ImpactItemObject], { description: 'What breaks if this changes: everything downstream, nearest first, then suspected scripts' })
  async downstreamImpact(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<ImpactItemObject[]> {
    const root = (await ctx.graph()).nodes.get(id);
    if (!root) throw new NotFoundError('Datasource or automation', id, 'id');
    return downstreamImpact(await ctx.graph(), root).map((entry) => ({ ...entry, node: toNode(entry.node) }));
  }

  @Query(() => [UndeclaredScriptObject], { description: 'Scripts declaring no input or output, with what their code refers to' })
  async undeclaredScripts(@Ctx() ctx: Context): Promise<UndeclaredScriptObject[]> {
    return undeclaredScripts(await ctx.graph()).map(({ script, references }) => ({
      scriptId: script.id,
      references: references.map(({ datasource, matches }) => ({
        datasourceId: datasource.id,
        matches: matches.map((m) => (m === ScriptTokenKind.UUID ? CodeReferenceMatch.ID : CodeReferenceMatch.NAME)).sort(),
      })),
    }));
  }
}

@Resolver(() => UndeclaredScriptObject)
export class UndeclaredScriptResolver {
  @FieldResolver(() => ScriptObject, { description: 'The script' })
  script(@Root() root: UndeclaredScriptObject, @Ctx() ctx: Context) {
    return ctx.loaders.automation.load(root.scriptId);
  }
}

@Resolver(() => CodeReferenceObject)
export class CodeReferenceResolver {
  @FieldResolver(() => DatasourceObject)
  datasource(@Root() root: CodeReferenceObject, @Ctx() ctx: Context) {
    return ctx.loaders.datasource.load(root.datasourceId);
  }
}
