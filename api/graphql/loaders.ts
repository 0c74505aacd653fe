import DataLoader from 'dataloader';
import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sqlite';
import { Automation, AutomationIo, ChainStep, Datasource, DatasourceKind, IoDirection } from '../entities/index.js';
import { effectivelyScheduledIds } from '../services/schedule.js';

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
export function createLoaders(em: EntityManager) {
  const once = <T>(load: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return { get: () => (value ??= load()), clear: () => (value = undefined) };
  };

  const joinGraph = once(async () => {
    const joins = await em.find(Datasource, { kind: DatasourceKind.JOIN }, { fields: ['id', 'joinLeft', 'joinRight'] });
    const joinsUsing = new Map<string, string[]>();
    for (const join of joins) {
      for (const source of new Set([join.joinLeft?.id, join.joinRight?.id])) {
        if (source) joinsUsing.set(source, [...(joinsUsing.get(source) ?? []), join.id]);
      }
    }
    return joinsUsing;
  });

  const scheduled = once(async () => {
    const automations = await em.find(Automation, {}, { fields: ['id', 'state', 'scheduleCron'] });
    const steps = await em.find(ChainStep, {}, { fields: ['chain', 'step'] });
    return effectivelyScheduledIds(automations, steps.map((s) => ({ chainId: s.chain.id, stepId: s.step.id })));
  });

  const loaders = {
    datasource: byId<Datasource>(em, Datasource),
    automation: byId<Automation>(em, Automation),
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
      const graph = await joinGraph.get();
      return ids.map((id) => graph.get(id) ?? []);
    }),
    /** Join datasources built on each datasource, through joins of joins. */
    joinsBuiltOn: new DataLoader<string, string[]>(async (ids) => {
      const graph = await joinGraph.get();
      return ids.map((id) => {
        const seen = new Set<string>();
        const stack = [...(graph.get(id) ?? [])];
        while (stack.length > 0) {
          const join = stack.pop()!;
          if (seen.has(join)) continue;
          seen.add(join);
          stack.push(...(graph.get(join) ?? []));
        }
        return [...seen];
      });
    }),
    effectivelyScheduled: new DataLoader<string, boolean>(async (ids) => {
      const set = await scheduled.get();
      return ids.map((id) => set.has(id));
    }),
  };

  return {
    ...loaders,
    /** Forget everything loaded: called after a mutation so later fields see the new state. */
    clearAll(): void {
      for (const loader of Object.values(loaders)) loader.clearAll();
      joinGraph.clear();
      scheduled.clear();
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Automations declaring a datasource on one side, through the loaders. */
export async function automationsDeclaring(loaders: Loaders, datasourceIds: string[], direction: IoDirection): Promise<Automation[]> {
  const rows = (await loaders.ioByDatasource.loadMany(datasourceIds)).flatMap((r) => (r instanceof Error ? [] : r));
  const ids = [...new Set(rows.filter((r) => r.direction === direction).map((r) => r.automation.id))];
  return (await loaders.automation.loadMany(ids)).filter((a): a is Automation => !!a && !(a instanceof Error));
}
