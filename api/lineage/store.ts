import type { EntityManager } from '@mikro-orm/knex';
import { Graph } from './graph.js';
import { readAll, readChangeLogState, readChanged, readChangedIds, snapshotRead, type ObservationOptions } from '../../core/db/repositories/lineage.repository.js';
import { readAsOf } from '../../core/db/repositories/lineage-history.repository.js';
import { BadUserInputError } from '../../core/errors.js';
import { DEFAULT_STALE_AFTER_RUNS } from '../../core/config.js';

/** Above this many changed objects (or this share of the graph) a rebuild beats reloading each one. */
const REBUILD_OVER_CHANGES = 5_000;
const REBUILD_OVER_SHARE = 0.25;
/** Graphs of past dates kept for the requests that follow (a page asks again with other filters). */
const PAST_GRAPHS_KEPT = 4;

export interface SyncStats {
  fullBuilds: number;
  incrementalSyncs: number;
  lastBuildMs: number;
  lastSyncMs: number;
}

/**
 * Holds the process's lineage graph and keeps it at the database's latest committed version.
 * Every mutation logs the objects it touched (`lineage_change`); `current()` costs one indexed
 * read when nothing changed and otherwise reloads just the touched objects, so changes made by
 * any process, this one or another sharing the database, reach every graph.
 */
export class LineageStore {
  private graph: Graph = new Graph();
  private version = -1;
  readonly stats: SyncStats = { fullBuilds: 0, incrementalSyncs: 0, lastBuildMs: 0, lastSyncMs: 0 };

  /** The catch-up under way, which every request needing a newer graph waits for rather than starting its own. */
  private catching: Promise<Graph> | null = null;

  /** `staleAfterRuns`: LINEAGE_STALE_AFTER_RUNS, how many of an automation's last observed runs a declaration must go unused in to be stale. */
  constructor(private readonly observation: ObservationOptions = { staleAfterRuns: DEFAULT_STALE_AFTER_RUNS }) {}

  /** The graph as of the latest committed change visible to `em` (inside a transaction: its snapshot), or newer. */
  async current(em: EntityManager): Promise<Graph> {
    const { head } = await readChangeLogState(em);
    // One catch-up at a time: under a stream of writes, concurrent requests each catching up on
    // their own would race one another, retry, and hold connections for nothing.
    while (this.version < head) {
      this.catching ??= this.catchUp(em).finally(() => (this.catching = null));
      await this.catching;
    }
    return this.graph;
  }

  /** Graphs of past dates by `<time>@<change-log head>`, oldest first. */
  private readonly past = new Map<string, Promise<Graph>>();
  /** The build of a past graph under way: builds go one at a time (each reads every history table). */
  private building: Promise<unknown> = Promise.resolve();

  /**
   * The graph as it was at `at` (`lineage(filter: { asOf })`), built from the history tables in one
   * snapshot. A time in the future is refused; a time before history began gives what was
   * recorded then (the rows present when history started count from their creation). Builds run
   * one at a time in the process, and those asking for the same time share one.
   */
  async asOf(em: EntityManager, at: Date): Promise<Graph> {
    if (Number.isNaN(at.getTime())) throw new BadUserInputError('filter.asOf', 'asOf is not a valid date');
    if (at.getTime() > Date.now()) throw new BadUserInputError('filter.asOf', `asOf ${at.toISOString()} is in the future: give a past time, or leave it out for the graph as it is now`);
    const { head } = await readChangeLogState(em);
    const key = `${at.getTime()}@${head}`;
    let graph = this.past.get(key);
    if (!graph) {
      graph = this.building.then(() => em.transactional(async (tx) => Graph.build(await readAsOf(tx as EntityManager, at, this.observation)), snapshotRead(em)));
      this.building = graph.catch(() => undefined);
      this.past.set(key, graph);
      graph.catch(() => this.past.delete(key));
      while (this.past.size > PAST_GRAPHS_KEPT) this.past.delete(this.past.keys().next().value!);
    }
    return graph;
  }

  /** The version the graph reflects (-1 before the first build). */
  get graphVersion(): number {
    return this.version;
  }

  private async catchUp(em: EntityManager): Promise<Graph> {
    for (;;) {
      const base = this.version;
      const started = performance.now();
      // One read transaction: the rows and the version they belong to come from the same snapshot.
      // (PostgreSQL: REPEATABLE READ, so every statement sees the same snapshot, as SQLite's does.)
      const update = await em.transactional(async (tx) => {
        const txEm = tx as EntityManager;
        const state = await readChangeLogState(txEm);
        if (state.head === base) return null;
        if (base < 0 || base < state.prunedBelow) return { head: state.head, all: await readAll(txEm, this.observation) };
        const ids = await readChangedIds(txEm, base, state.head);
        const count = ids.datasourceIds.length + ids.automationIds.length;
        if (count > REBUILD_OVER_CHANGES || count > this.graph.size * REBUILD_OVER_SHARE) return { head: state.head, all: await readAll(txEm, this.observation) };
        return { head: state.head, batch: await readChanged(txEm, this.observation, ids.datasourceIds, ids.automationIds, ids.runStatusIds) };
      }, snapshotRead(em));
      if (!update) return this.graph;
      // Another request of this process may have caught up while we read: apply only onto the base we read from.
      if (this.version !== base) {
        if (this.version >= update.head) return this.graph;
        continue;
      }
      if ('all' in update && update.all) {
        this.graph = Graph.build(update.all);
        this.stats.fullBuilds += 1;
        this.stats.lastBuildMs = performance.now() - started;
      } else if (update.batch) {
        this.graph.apply(update.batch);
        this.stats.incrementalSyncs += 1;
        this.stats.lastSyncMs = performance.now() - started;
      }
      this.version = update.head;
      return this.graph;
    }
  }
}
