import type { EntityManager } from '@mikro-orm/knex';
import { IoDirection } from '../../core/enums.js';
import { BadUserInputError } from '../../core/errors.js';
import { DriftRepository } from '../../core/db/repositories/drift.repository.js';
import { dateOf } from '../../core/db/dialect.js';
import { DEFAULT_STALE_AFTER_RUNS } from '../../core/config.js';
import type { Graph } from './graph.js';

export enum DriftKind {
  /** Runs read or wrote it; the automation does not declare it. */
  UNDECLARED = 'UNDECLARED',
  /** The automation declares it; its last N observed runs never used it. */
  STALE = 'STALE',
}

export interface Drift {
  kind: DriftKind;
  automationId: string;
  datasourceId: string;
  direction: IoDirection;
  /** When a run was last seen using it (null: never). */
  lastObservedAt: Date | null;
  /** UNDECLARED: runs that used it; STALE: the runs checked. */
  runs: number;
  message: string;
}

export const DEFAULT_DRIFT_RUNS = DEFAULT_STALE_AFTER_RUNS;
const MAX_DRIFT_RUNS = 1_000;

/**
 * Declared lineage against observed lineage: what runs used without declaring it, and what is
 * declared but went unused in the last `runs` observed successful runs, of every automation or of
 * one. Named by the graph (an automation or datasource gone since is left out); automations first
 * by name.
 */
export async function lineageDrift(em: EntityManager, graph: Graph, runs = DEFAULT_DRIFT_RUNS, automationId?: string | null): Promise<Drift[]> {
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_DRIFT_RUNS) throw new BadUserInputError('runs', `runs must be a whole number from 1 to ${MAX_DRIFT_RUNS}`);
  const repo = new DriftRepository(em);
  const found: Drift[] = [];
  const describe = (kind: DriftKind, row: { automation_id: string; datasource_id: string; direction: IoDirection; last_at: unknown; runs: number }) => {
    const automation = graph.nodes.get(row.automation_id);
    const datasource = graph.nodes.get(row.datasource_id);
    if (!automation || !datasource) return;
    const verb = row.direction === IoDirection.INPUT ? 'read' : 'written';
    const last = dateOf(row.last_at);
    const count = Number(row.runs);
    const message =
      kind === DriftKind.STALE
        ? `declares ${JSON.stringify(datasource.name)} but has not ${row.direction === IoDirection.INPUT ? 'read' : 'written'} it in ${count} run${count === 1 ? '' : 's'}${last ? ` (last ${verb} ${last.toISOString()})` : ''}`
        : `${verb === 'read' ? 'read' : 'wrote'} ${JSON.stringify(datasource.name)} in ${count} run${count === 1 ? '' : 's'} (last ${last?.toISOString() ?? 'unknown'}) but does not declare it`;
    found.push({ kind, automationId: automation.id, datasourceId: datasource.id, direction: row.direction, lastObservedAt: last, runs: count, message });
  };
  const scope = automationId ? { automationIds: [automationId] } : {};
  for (const row of await repo.undeclared(scope)) describe(DriftKind.UNDECLARED, row);
  for (const row of await repo.stale(runs, scope)) describe(DriftKind.STALE, row);
  const name = (id: string) => graph.nodes.get(id)?.name ?? '';
  return found.sort((a, b) => name(a.automationId).localeCompare(name(b.automationId)) || name(a.datasourceId).localeCompare(name(b.datasourceId)) || a.kind.localeCompare(b.kind));
}
