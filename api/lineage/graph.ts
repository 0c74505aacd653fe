import { AutomationKind, AutomationState, DatasourceKind, IoDirection, LineageNodeType, RunStatus, ScriptLanguage, type ScriptTokenKind } from '../../core/db/entities/index.js';
import type { AutomationRow, ChangeBatch, DatasourceRow, IoRow, Observations, RefRow, StepRow } from '../../core/db/repositories/lineage.repository.js';
import { dateOf } from '../../core/db/dialect.js';

export type { AutomationRow, ChangeBatch, DatasourceRow, IoRow, Observations, RefRow, StepRow };

/** Shared by every node that has none (most: datasources, and automations never observed). */
const NO_OBSERVATIONS: ReadonlyMap<string, Date> = new Map();
const NO_STALE: ReadonlySet<string> = new Set();

/** The key of an automation's use of a datasource in {@link GraphNode.observed} and {@link GraphNode.stale}. */
export const useKey = (direction: IoDirection, datasourceId: string): string => `${direction}:${datasourceId}`;

/** How a script's code refers to a datasource: by its id (a UUID) or by its name in quotes. */
export type CodeMatch = ScriptTokenKind;

/**
 * One datasource or automation of the in-memory lineage graph. Links are kept in both
 * directions so every traversal is a walk over arrays, never a search.
 */
export interface GraphNode {
  readonly id: string;
  name: string;
  type: LineageNodeType;
  tags: string[];
  /** Automations only. */
  state: AutomationState | null;
  hasSchedule: boolean;
  language: ScriptLanguage | null;
  lastRunStatus: RunStatus | null;
  /** External jobs and datasets: who described them (the OpenLineage producer URI). */
  producer: string | null;
  /** Effectively scheduled: own active schedule, or triggered by an effectively scheduled chain. */
  scheduled: boolean;

  /** Automation → declared inputs / outputs, in declared order. */
  inputs: GraphNode[];
  outputs: GraphNode[];
  /** Join datasource → its distinct sources. */
  joinSources: GraphNode[];
  /** Datasource → automations declaring it as input / output, joins using it. */
  consumers: GraphNode[];
  producers: GraphNode[];
  joinsUsing: GraphNode[];
  /** Chain task → the automations it triggers, in order; automation → the chains triggering it. */
  steps: GraphNode[];
  triggeredBy: GraphNode[];
  /** Script → datasources its code refers to (by id, name or both); datasource → scripts referring to it. */
  codeRefs: Map<GraphNode, CodeMatch[]>;
  referencedBy: Map<GraphNode, CodeMatch[]>;
  /** Automation → when its runs last read (`INPUT:<id>`) or wrote (`OUTPUT:<id>`) each datasource: observed lineage. */
  observed: ReadonlyMap<string, Date>;
  /** Automation → the declarations (same keys) none of its last observed runs used. */
  stale: ReadonlySet<string>;

  /** Traversal stamp (see {@link Graph.newMark}); traversals are synchronous, so one field serves all. */
  mark: number;
}

export const isDatasource = (node: GraphNode): boolean =>
  node.type === LineageNodeType.DATASOURCE || node.type === LineageNodeType.JOIN_DATASOURCE || node.type === LineageNodeType.EXTERNAL_DATASOURCE;

const DATASOURCE_NODE_TYPES: Record<DatasourceKind, LineageNodeType> = {
  [DatasourceKind.STORAGE]: LineageNodeType.DATASOURCE,
  [DatasourceKind.FILE]: LineageNodeType.DATASOURCE,
  [DatasourceKind.JOIN]: LineageNodeType.JOIN_DATASOURCE,
  [DatasourceKind.EXTERNAL]: LineageNodeType.EXTERNAL_DATASOURCE,
};

/** A node of the data lineage: a datasource, or an automation that declares what it reads or writes. */
export const isDataNode = (node: GraphNode): boolean =>
  isDatasource(node) || (node.type !== LineageNodeType.CHAIN_TASK && (node.inputs.length > 0 || node.outputs.length > 0));

function remove<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at !== -1) list.splice(at, 1);
}

/** The lineage graph of the whole workspace: datasources, automations and every link between them. */
export class Graph {
  readonly nodes = new Map<string, GraphNode>();
  private readonly datasourcesByName = new Map<string, GraphNode>();
  private readonly automationsByName = new Map<string, GraphNode>();
  private markCounter = 0;

  get size(): number {
    return this.nodes.size;
  }

  /** A fresh stamp for a traversal's visited marks. */
  newMark(): number {
    return ++this.markCounter;
  }

  /** Datasources and automations with exactly this name (names are unique per type). */
  byName(name: string): GraphNode[] {
    return [this.datasourcesByName.get(name), this.automationsByName.get(name)].filter((n): n is GraphNode => !!n);
  }

  /** Every data node upstream-adjacent to `node`: an automation's inputs; a datasource's producers and join sources. */
  upstreamOf(node: GraphNode): GraphNode[][] {
    return isDatasource(node) ? [node.producers, node.joinSources] : [node.inputs];
  }

  /** Every data node downstream-adjacent to `node`: an automation's outputs; a datasource's consumers and joins. */
  downstreamOf(node: GraphNode): GraphNode[][] {
    return isDatasource(node) ? [node.consumers, node.joinsUsing] : [node.outputs];
  }

  /** Builds the whole graph from full table reads. */
  static build(rows: { datasources: DatasourceRow[]; automations: AutomationRow[]; io: IoRow[]; steps: StepRow[]; refs: RefRow[]; observations?: Observations }): Graph {
    const graph = new Graph();
    for (const row of rows.datasources) graph.upsertDatasource(row);
    for (const row of rows.datasources) graph.setJoinSources(graph.nodes.get(row.id)!, row);
    for (const row of rows.automations) graph.upsertAutomation(row);
    graph.linkIo(rows.io);
    graph.linkSteps(rows.steps);
    graph.linkRefs(rows.refs);
    if (rows.observations) graph.setObservations(rows.observations);
    graph.computeScheduled();
    return graph;
  }

  /** Applies the current state of changed objects, read in one snapshot. */
  apply(batch: ChangeBatch): void {
    const changedDatasources: GraphNode[] = [];
    for (const [id, row] of batch.datasources) if (row) changedDatasources.push(this.upsertDatasource(row));
    for (const [id, row] of batch.datasources) if (row) this.setJoinSources(this.nodes.get(id)!, row);

    const changedAutomations: GraphNode[] = [];
    for (const [, row] of batch.automations) if (row) changedAutomations.push(this.upsertAutomation(row));
    for (const automation of changedAutomations) this.detachAutomationLinks(automation);
    this.linkIo(batch.io);
    this.linkSteps(batch.steps);
    this.linkRefs(batch.scriptRefs);

    for (const datasource of changedDatasources) {
      for (const script of [...datasource.referencedBy.keys()]) this.unlinkRef(script, datasource);
    }
    this.linkRefs(batch.datasourceRefs);

    for (const [id, row] of batch.automations) if (!row) this.removeNode(id);
    for (const [id, row] of batch.datasources) if (!row) this.removeNode(id);
    if (batch.automations.size > 0) this.computeScheduled();
    for (const [id, status] of batch.runStatuses ?? []) {
      const node = this.nodes.get(id);
      if (node && !isDatasource(node)) node.lastRunStatus = status;
    }
    if (batch.observations) this.setObservations(batch.observations);
  }

  /** Replaces the observed uses and stale declarations of the automations read. */
  private setObservations({ automationIds, observed, stale }: Observations): void {
    const uses = new Map<GraphNode, Map<string, Date>>();
    const unused = new Map<GraphNode, Set<string>>();
    for (const row of observed) {
      const node = this.nodes.get(row.automation_id);
      const at = dateOf(row.last_at);
      if (!node || !at) continue;
      if (!uses.has(node)) uses.set(node, new Map());
      uses.get(node)!.set(useKey(row.direction, row.datasource_id), at);
    }
    for (const row of stale) {
      const node = this.nodes.get(row.automation_id);
      if (!node) continue;
      if (!unused.has(node)) unused.set(node, new Set());
      unused.get(node)!.add(useKey(row.direction, row.datasource_id));
    }
    for (const id of automationIds) {
      const node = this.nodes.get(id);
      if (!node) continue;
      node.observed = uses.get(node) ?? NO_OBSERVATIONS;
      node.stale = unused.get(node) ?? NO_STALE;
    }
  }

  private newNode(id: string): GraphNode {
    const node: GraphNode = {
      id,
      name: '',
      type: LineageNodeType.DATASOURCE,
      tags: [],
      state: null,
      hasSchedule: false,
      language: null,
      lastRunStatus: null,
      producer: null,
      scheduled: false,
      inputs: [],
      outputs: [],
      joinSources: [],
      consumers: [],
      producers: [],
      joinsUsing: [],
      steps: [],
      triggeredBy: [],
      codeRefs: new Map(),
      referencedBy: new Map(),
      observed: NO_OBSERVATIONS,
      stale: NO_STALE,
      mark: 0,
    };
    this.nodes.set(id, node);
    return node;
  }

  private rename(node: GraphNode, name: string, index: Map<string, GraphNode>): void {
    if (index.get(node.name) === node) index.delete(node.name);
    node.name = name;
    index.set(name, node);
  }

  private upsertDatasource(row: DatasourceRow): GraphNode {
    const node = this.nodes.get(row.id) ?? this.newNode(row.id);
    this.rename(node, row.name, this.datasourcesByName);
    node.type = DATASOURCE_NODE_TYPES[row.kind];
    node.tags = row.tags;
    node.producer = row.producer ?? null;
    return node;
  }

  private setJoinSources(join: GraphNode, row: DatasourceRow): void {
    for (const source of join.joinSources) remove(source.joinsUsing, join);
    const ids = row.kind === DatasourceKind.JOIN ? [...new Set([row.join_left_id, row.join_right_id])] : [];
    join.joinSources = ids.map((id) => this.nodes.get(id ?? '')).filter((n): n is GraphNode => !!n);
    for (const source of join.joinSources) source.joinsUsing.push(join);
  }

  private upsertAutomation(row: AutomationRow): GraphNode {
    const node = this.nodes.get(row.id) ?? this.newNode(row.id);
    this.rename(node, row.name, this.automationsByName);
    node.type = row.kind as unknown as LineageNodeType; // the kinds share their names
    node.state = row.state;
    node.hasSchedule = !!row.schedule_cron;
    node.language = row.language ?? null;
    node.lastRunStatus = row.last_run_status ?? null;
    node.producer = row.producer ?? null;
    return node;
  }

  /** Drops an automation's declarations, steps and code references before they are read again. */
  private detachAutomationLinks(automation: GraphNode): void {
    for (const input of automation.inputs) remove(input.consumers, automation);
    for (const output of automation.outputs) remove(output.producers, automation);
    for (const step of automation.steps) remove(step.triggeredBy, automation);
    for (const datasource of [...automation.codeRefs.keys()]) this.unlinkRef(automation, datasource);
    automation.inputs = [];
    automation.outputs = [];
    automation.steps = [];
  }

  private linkIo(rows: IoRow[]): void {
    for (const row of rows) {
      const automation = this.nodes.get(row.automation_id);
      const datasource = this.nodes.get(row.datasource_id);
      if (!automation || !datasource) continue;
      if (row.direction === IoDirection.INPUT) {
        automation.inputs.push(datasource);
        datasource.consumers.push(automation);
      } else {
        automation.outputs.push(datasource);
        datasource.producers.push(automation);
      }
    }
  }

  private linkSteps(rows: StepRow[]): void {
    for (const row of rows) {
      const chain = this.nodes.get(row.chain_id);
      const step = this.nodes.get(row.step_id);
      if (!chain || !step) continue;
      chain.steps.push(step);
      step.triggeredBy.push(chain);
    }
  }

  /** One list of matches per (script, datasource) link, shared by both directions. */
  private linkRefs(rows: RefRow[]): void {
    for (const row of rows) {
      const script = this.nodes.get(row.script_id);
      const datasource = this.nodes.get(row.datasource_id);
      if (!script || !datasource) continue;
      let matches = script.codeRefs.get(datasource);
      if (!matches) {
        matches = [];
        script.codeRefs.set(datasource, matches);
        datasource.referencedBy.set(script, matches);
      }
      if (!matches.includes(row.kind)) matches.push(row.kind);
    }
  }

  private unlinkRef(script: GraphNode, datasource: GraphNode): void {
    script.codeRefs.delete(datasource);
    datasource.referencedBy.delete(script);
  }

  private removeNode(id: string): void {
    const node = this.nodes.get(id);
    if (!node) return;
    this.detachAutomationLinks(node);
    for (const source of node.joinSources) remove(source.joinsUsing, node);
    for (const join of node.joinsUsing) remove(join.joinSources, node);
    for (const automation of node.consumers) remove(automation.inputs, node);
    for (const automation of node.producers) remove(automation.outputs, node);
    for (const chain of node.triggeredBy) remove(chain.steps, node);
    for (const script of [...node.referencedBy.keys()]) this.unlinkRef(script, node);
    for (const index of [this.datasourcesByName, this.automationsByName]) if (index.get(node.name) === node) index.delete(node.name);
    this.nodes.delete(id);
  }

  /**
   * Effective scheduling spreads from ACTIVE scheduled automations down through ACTIVE chain tasks.
   * An ACTIVE external job counts as scheduled: it runs on its own platform's schedule.
   */
  private computeScheduled(): void {
    const stack: GraphNode[] = [];
    for (const node of this.nodes.values()) {
      node.scheduled = false;
      if (node.state === AutomationState.ACTIVE && (node.hasSchedule || node.type === LineageNodeType.EXTERNAL_JOB)) stack.push(node);
    }
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.scheduled) continue;
      node.scheduled = true;
      for (const step of node.steps) if (step.state === AutomationState.ACTIVE && !step.scheduled) stack.push(step);
    }
  }
}
