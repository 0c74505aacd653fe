import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AutomationState, LineageNodeType, RunStatus, ScriptLanguage } from '../../../core/db/entities/index.js';
import { LineageEdgeKind } from '../../lineage/query.js';

registerEnumType(LineageEdgeKind, {
  name: 'LineageEdgeKind',
  valuesConfig: {
    INPUT: { description: 'datasource → automation reading it' },
    OUTPUT: { description: 'automation → datasource it writes' },
    JOIN_SOURCE: { description: 'source datasource → join datasource' },
    TRIGGERS: { description: 'chain task → automation it triggers' },
    SUSPECTED: { description: 'datasource → script whose code refers to it without declaring it' },
  },
});

export enum LineageDirection {
  UPSTREAM = 'UPSTREAM',
  DOWNSTREAM = 'DOWNSTREAM',
}
registerEnumType(LineageDirection, {
  name: 'LineageDirection',
  valuesConfig: { UPSTREAM: { description: 'what feeds it' }, DOWNSTREAM: { description: 'what it feeds' } },
});

@InputType('LineageExpansion', { description: 'A node opened further on demand (the Dataflow page\'s "show 1 more level")' })
export class LineageExpansionInput {
  @Field(() => ID) id!: string;
  @Field(() => LineageDirection) direction!: LineageDirection;
  @Field(() => Int, { defaultValue: 1, description: 'Hops from the node, 1 to 20' }) depth!: number;
}

export enum CodeReferenceMatch {
  ID = 'ID',
  NAME = 'NAME',
}
registerEnumType(CodeReferenceMatch, {
  name: 'CodeReferenceMatch',
  valuesConfig: { ID: { description: 'the code holds the datasource id' }, NAME: { description: 'the code holds its exact name in quotes' } },
});

@ObjectType('LineageNode', { description: 'A datasource or automation in the lineage graph' })
export class LineageNodeObject {
  @Field(() => ID) id!: string;
  @Field(() => LineageNodeType) type!: LineageNodeType;
  @Field(() => String) name!: string;
  @Field(() => Boolean, { description: 'Effectively scheduled (automations): own active schedule or triggered by a scheduled chain' }) scheduled!: boolean;
  @Field(() => RunStatus, { nullable: true, description: 'Status of the last run (automations)' }) lastRunStatus!: RunStatus | null;
  @Field(() => AutomationState, { nullable: true, description: 'Automations only' }) state!: AutomationState | null;
  @Field(() => ScriptLanguage, { nullable: true, description: 'Scripts only' }) language!: ScriptLanguage | null;
  @Field(() => [String], { description: 'Datasource tags' }) tags!: string[];
  @Field(() => String, { nullable: true, description: 'External jobs and datasets: the producer URI of the latest OpenLineage event about them' }) producer!: string | null;
}

@ObjectType('LineageEdge', { description: 'A link of the lineage: declared, observed in runs, or both' })
export class LineageEdgeObject {
  @Field(() => ID) source!: string;
  @Field(() => ID) target!: string;
  @Field(() => LineageEdgeKind) kind!: LineageEdgeKind;
  @Field(() => Boolean, { description: 'Declared by the automation (or a join, a chain); false for a use only runs have shown (observed, not declared) and for SUSPECTED' })
  declared!: boolean;
  @Field(() => Date, { nullable: true, description: 'INPUT/OUTPUT: when a run last read or wrote it (observed lineage); null when no recorded run did' })
  observedAt!: Date | null;
  @Field(() => Boolean, { description: 'Declared but unused in each of the automation\'s last observed successful runs (LINEAGE_STALE_AFTER_RUNS of them, default 30; see lineageDrift)' })
  stale!: boolean;
}

@ObjectType('LineageGraph')
export class LineageGraphObject {
  @Field(() => [LineageNodeObject]) nodes!: LineageNodeObject[];
  @Field(() => [LineageEdgeObject], { description: 'Edges between the returned nodes' }) edges!: LineageEdgeObject[];
  @Field(() => Int, { description: 'How many nodes match the filter, before any cut' }) total!: number;
  @Field(() => Boolean, { description: 'True when more nodes matched than maxNodes: the nearest to the focus are returned' })
  truncated!: boolean;
}

@InputType('LineageFilter', { description: 'Filters compose by intersection' })
export class LineageFilterInput {
  @Field(() => Boolean, { nullable: true, description: 'Only effectively scheduled flows (default false in the API)' }) scheduledOnly?: boolean | null;
  @Field(() => ID, { nullable: true, description: 'A datasource (or automation) and everything upstream of it' }) leadingTo?: string | null;
  @Field(() => ID, { nullable: true, description: 'A datasource (or automation) and everything downstream of it' }) downstreamOf?: string | null;
  @Field(() => Int, { nullable: true, description: 'Hop limit for leadingTo/downstreamOf; null = unlimited' }) depth?: number | null;
  @Field(() => String, { nullable: true, description: 'Selection syntax: name, +name, name+, 2+name, name+3, @name, kind:, tag:, status:, scheduled:; space = union, comma = intersection' })
  select?: string | null;
  @Field(() => String, { nullable: true, description: 'A selection in the same syntax whose nodes are left out of the answer, applied after every other filter (like dbt\'s --exclude), e.g. select "+revenue", exclude "tag:raw"' })
  exclude?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Add CHAIN_TASK nodes and TRIGGERS edges' }) includeChainTasks?: boolean | null;
  @Field(() => Date, {
    nullable: true,
    description: 'The graph as it was at this time: the datasources and automations that existed then, with the definitions live then, and edges observed up to then; every other filter applies to it',
  })
  asOf?: Date | null;
  @Field(() => [LineageExpansionInput], {
    nullable: true,
    description: 'Nodes opened further: each one\'s closure up or down to its depth joins the answer whatever the other filters keep (at most 50); the nodes count as focus when the answer is cut',
  })
  expand?: LineageExpansionInput[] | null;
}

@ObjectType('ImpactItem', { description: 'Something downstream that a change may break' })
export class ImpactItemObject {
  @Field(() => LineageNodeObject) node!: LineageNodeObject;
  @Field(() => Int, { description: 'Hops from the changed node' }) distance!: number;
  @Field(() => Boolean, { description: 'A script whose code refers to an affected datasource without declaring it' }) suspected!: boolean;
}

@ObjectType('CodeReference', { description: 'A datasource that a script\'s code refers to' })
export class CodeReferenceObject {
  datasourceId!: string;
  @Field(() => [CodeReferenceMatch], { description: 'How the code refers to it: by id, by name, or both' }) matches!: CodeReferenceMatch[];
}

@ObjectType('UndeclaredScript', { description: 'A script that declares no input or output: not drawn in the lineage' })
export class UndeclaredScriptObject {
  scriptId!: string;
  @Field(() => [CodeReferenceObject], { description: 'Datasources its code refers to, by name' }) references!: CodeReferenceObject[];
}
