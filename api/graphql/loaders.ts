import DataLoader from 'dataloader';
import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationIo, Connection, Connector, AutomationParameterSet, AutomationVersion, ChainStep, Datasource, IoDirection, ParameterSet, Run, UserAccount } from '../../core/db/entities/index.js';
import type { Graph, GraphNode } from '../lineage/graph.js';
import { RunService } from '../../jobs/runs/run.service.js';
import type { RunControl } from '../../jobs/runs/run-control.js';

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

function byId<T extends { id: string }>(em: EntityManager, entity: EntityName<T>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = (await em.find(entity, { id: { $in: [...ids] } } as unknown as FilterQuery<T>)) as T[];
    const found = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/**
 * Per-request batch loaders: every relation field resolves through one of these, so a page
 * of N objects costs a fixed number of SQL statements whatever N is.
 */
export function createLoaders(em: EntityManager, graph: () => Promise<Graph>, scheduler?: RunControl) {
  const loaders = {
    datasource: byId<Datasource>(em, Datasource),
    automation: byId<Automation>(em, Automation),
    version: byId<AutomationVersion>(em, AutomationVersion),
    connection: byId<Connection>(em, Connection),
    connector: byId<Connector>(em, Connector),
    /** Authors, reviewers, who started a run. */
    user: byId<UserAccount>(em, UserAccount),
    /** The parameter sets attached to each automation, in order. */
    parameterSets: new DataLoader<string, ParameterSet[]>(async (ids) => {
      const links = await em.find(AutomationParameterSet, { automation: { $in: [...ids] } }, { populate: ['parameterSet'], orderBy: { position: 'asc' } });
      const grouped = groupBy(links, (l) => l.automation.id);
      return ids.map((id) => (grouped.get(id) ?? []).map((l) => l.parameterSet.getEntity()));
    }),
    /** Declarations naming each datasource (inputs and outputs). */
    ioByDatasource: new DataLoader<string, AutomationIo[]>(async (ids) => {
      const rows = await em.find(AutomationIo, { datasource: { $in: [...ids] } }, { orderBy: { id: 'asc' } });
      const groups = groupBy(rows, (r) => r.datasource.id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** Declarations of each automation, in declared order. */
    ioByAutomation: new DataLoader<string, AutomationIo[]>(async (ids) => {
      const rows = await em.find(AutomationIo, { automation: { $in: [...ids] } }, { orderBy: { position: 'asc' } });
      const groups = groupBy(rows, (r) => r.automation.id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** Step ids of each chain task, in order. */
    chainSteps: new DataLoader<string, string[]>(async (ids) => {
      const rows = await em.find(ChainStep, { chain: { $in: [...ids] } }, { orderBy: { position: 'asc' } });
      const groups = groupBy(rows, (r) => r.chain.id);
      return ids.map((id) => (groups.get(id) ?? []).map((r) => r.step.id));
    }),
    /** Join datasources that use each datasource directly as a source. */
    joinsUsing: new DataLoader<string, string[]>(async (ids) => {
      const nodes = (await graph()).nodes;
      return ids.map((id) => (nodes.get(id)?.joinsUsing ?? []).map((join) => join.id));
    }),
    /** Join datasources built on each datasource, through joins of joins. */
    joinsBuiltOn: new DataLoader<string, string[]>(async (ids) => {
      const current = await graph();
      return ids.map((id) => joinsBuiltOn(current, id));
    }),
    /**
     * The declarations naming each datasource (`own`) and those naming a join built on it
     * (`viaJoins`), in one statement: producedBy and consumedBy of a page wait for the same batch,
     * so the automations they name are loaded in one batch too, whatever the database's timing.
     */
    ioAround: new DataLoader<string, { own: AutomationIo[]; viaJoins: AutomationIo[] }>(async (ids) => {
      const current = await graph();
      const joins = new Map(ids.map((id) => [id, joinsBuiltOn(current, id)]));
      const all = [...new Set([...ids, ...[...joins.values()].flat()])];
      const rows = await em.find(AutomationIo, { datasource: { $in: all } }, { orderBy: { id: 'asc' } });
      const groups = groupBy(rows, (r) => r.datasource.id);
      return ids.map((id) => ({ own: groups.get(id) ?? [], viaJoins: joins.get(id)!.flatMap((join) => groups.get(join) ?? []) }));
    }),
    /** Own active schedule, or triggered by an effectively scheduled chain task (the lineage graph knows). */
    effectivelyScheduled: new DataLoader<string, boolean>(async (ids) => {
      const nodes = (await graph()).nodes;
      return ids.map((id) => nodes.get(id)?.scheduled ?? false);
    }),
    /** Each automation's latest run. */
    lastRun: new DataLoader<string, Run | null>(async (ids) => {
      const latest = await new RunService(em).latest(ids);
      return ids.map((id) => latest.get(id) ?? null);
    }),
    run: byId<Run>(em, Run),
    /** When each automation's schedule fires next, from the job store. */
    nextRunAt: new DataLoader<string, Date | null>(async (ids) => {
      const times = scheduler ? await scheduler.nextRunTimes(ids) : new Map<string, Date | null>();
      return ids.map((id) => times.get(id) ?? null);
    }),
  };

  return {
    ...loaders,
    /** Forget everything loaded: called after a mutation so later fields see the new state. */
    clearAll(): void {
      for (const loader of Object.values(loaders)) loader.clearAll();
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Join datasources built on `id` in the graph, through joins of joins. */
function joinsBuiltOn(current: Graph, id: string): string[] {
  const start = current.nodes.get(id);
  if (!start) return [];
  const joins = new Set<GraphNode>();
  const stack = [...start.joinsUsing];
  while (stack.length > 0) {
    const join = stack.pop()!;
    if (joins.has(join)) continue;
    joins.add(join);
    stack.push(...join.joinsUsing);
  }
  return [...joins].map((join) => join.id);
}

/** Automations declaring a datasource in one of the given directions, through the loaders. */
export async function automationsDeclaring(loaders: Loaders, datasourceIds: string[], directions: IoDirection[]): Promise<Automation[]> {
  const rows = (await loaders.ioByDatasource.loadMany(datasourceIds)).flatMap((r) => (r instanceof Error ? [] : r));
  return automationsIn(loaders, rows, directions);
}

/** The automations of these declarations in one of the given directions (each once, in order), through the loaders. */
export async function automationsIn(loaders: Loaders, rows: AutomationIo[], directions: IoDirection[]): Promise<Automation[]> {
  const ids = [...new Set(rows.filter((r) => directions.includes(r.direction)).map((r) => r.automation.id))];
  return (await loaders.automation.loadMany(ids)).filter((a): a is Automation => !!a && !(a instanceof Error));
}
