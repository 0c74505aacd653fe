import { IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { sqlOf } from '../dialect.js';
import { DriftRepository, type DriftRow, type ObservationScope, type ObservedRow } from './drift.repository.js';
import { ScriptTokenKind, type AutomationKind, type AutomationState, type DatasourceKind, type IoDirection, type RunStatus, type ScriptLanguage } from '../entities/index.js';

// The rows the lineage graph is built from, and the change log it catches up by. All its SQL.

export interface DatasourceRow {
  id: string;
  name: string;
  kind: DatasourceKind;
  tags: string[];
  join_left_id: string | null;
  join_right_id: string | null;
  /** EXTERNAL datasources: the producer URI of the latest event describing it. */
  producer: string | null;
}

export interface AutomationRow {
  id: string;
  name: string;
  kind: AutomationKind;
  state: AutomationState;
  schedule_cron: string | null;
  language: ScriptLanguage | null;
  last_run_status?: RunStatus | null;
  /** EXTERNAL_JOB automations: the producer URI of the latest event about it. */
  producer?: string | null;
}

export interface IoRow {
  automation_id: string;
  datasource_id: string;
  direction: IoDirection;
}

export interface StepRow {
  chain_id: string;
  step_id: string;
}

export interface RefRow {
  script_id: string;
  datasource_id: string;
  kind: ScriptTokenKind;
}

/** Observed lineage of some automations (all of them in a full read): their last uses, and their stale declarations. */
export interface Observations {
  automationIds: string[];
  observed: ObservedRow[];
  stale: DriftRow[];
}

/** How the graph reads observed lineage: a declaration is stale when none of the automation's last `staleAfterRuns` observed runs used it. */
export interface ObservationOptions {
  staleAfterRuns: number;
}

/** What runs used, for the given automations (all when null). */
export async function readObservations(
  em: EntityManager,
  automationIds: string[] | null,
  options: ObservationOptions,
  scope: Omit<ObservationScope, 'automationIds'> = {},
): Promise<Observations> {
  const repo = new DriftRepository(em);
  const ids = automationIds ?? undefined;
  if (ids?.length === 0) return { automationIds: [], observed: [], stale: [] };
  const observed = await repo.lastObserved({ ...scope, automationIds: ids });
  const stale = await repo.stale(options.staleAfterRuns, { ...scope, automationIds: ids });
  return { automationIds: ids ? [...ids] : [...new Set([...observed, ...stale].map((r) => r.automation_id))], observed, stale };
}

/** Everything read for a set of changed objects; `null` rows mean the object was deleted. */
export interface ChangeBatch {
  datasources: Map<string, DatasourceRow | null>;
  automations: Map<string, AutomationRow | null>;
  /** For the changed automations: their declarations, steps and code references. */
  io: IoRow[];
  steps: StepRow[];
  scriptRefs: RefRow[];
  /** For the changed datasources: the scripts whose code refers to them (by current id or name). */
  datasourceRefs: RefRow[];
  /** Automations whose only change is their last run status. */
  runStatuses?: Map<string, RunStatus | null>;
  /** For the changed automations and those whose runs changed: what their runs used. */
  observations?: Observations;
}

/** SQLite accepts 32,766 bound values; chunks stay far below and keep statements cacheable. */
const CHUNK = 500;

const DATASOURCE_COLUMNS = 'id, name, kind, tags, join_left_id, join_right_id, producer';
const AUTOMATION_COLUMNS = 'id, name, kind, state, schedule_cron, language, last_run_status, producer';

/**
 * Scripts whose code refers to datasources, matched in SQL: a LITERAL token equal to the name
 * or a UUID token equal to the id. `cross join` keeps SQLite walking datasources and probing
 * the (token, kind) index, rather than scanning every token.
 */
const REFS_BY_DATASOURCE = (where: string) => `
  select t.script_id, d.id as datasource_id, t.kind from datasource d cross join script_token t
   where t.token = d.name and t.kind = '${ScriptTokenKind.LITERAL}' ${where}
  union all
  select t.script_id, d.id as datasource_id, t.kind from datasource d cross join script_token t
   where t.token = d.id and t.kind = '${ScriptTokenKind.UUID}' ${where}`;

const REFS_BY_SCRIPT = (where: string) => `
  select t.script_id, d.id as datasource_id, t.kind from script_token t join datasource d on d.name = t.token
   where t.kind = '${ScriptTokenKind.LITERAL}' ${where}
  union all
  select t.script_id, d.id as datasource_id, t.kind from script_token t join datasource d on d.id = t.token
   where t.kind = '${ScriptTokenKind.UUID}' ${where}`;

/** Tags arrive as JSON text from SQLite and parsed from PostgreSQL's jsonb: always an array here. */
export function datasourceRows(rows: unknown): DatasourceRow[] {
  return (rows as (Omit<DatasourceRow, 'tags'> & { tags: string | string[] })[]).map((row) => ({
    ...row,
    tags: typeof row.tags === 'string' ? (JSON.parse(row.tags) as string[]) : row.tags,
  }));
}

/** Every row the graph is built from. */
export async function readAll(em: EntityManager, options: ObservationOptions) {
  return {
    datasources: datasourceRows(await em.execute(`select ${DATASOURCE_COLUMNS} from datasource`)),
    automations: (await em.execute(`select ${AUTOMATION_COLUMNS} from automation where not draft_only`)) as AutomationRow[],
    io: (await em.execute(`select automation_id, datasource_id, direction from automation_io order by automation_id, position`)) as IoRow[],
    steps: (await em.execute(`select chain_id, step_id from chain_step order by chain_id, position`)) as StepRow[],
    refs: (await em.execute(REFS_BY_DATASOURCE(''))) as RefRow[],
    observations: await readObservations(em, null, options),
  };
}

async function inChunks<T>(ids: string[], read: (placeholders: string, chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    rows.push(...(await read(chunk.map(() => '?').join(', '), chunk)));
  }
  return rows;
}

/** The current state of the given objects; ids no longer in the database map to null (deleted). */
export async function readChanged(em: EntityManager, options: ObservationOptions, datasourceIds: string[], automationIds: string[], runStatusIds: string[] = []): Promise<ChangeBatch> {
  const dsRows = await inChunks(datasourceIds, async (p, chunk) => datasourceRows(await em.execute(`select ${DATASOURCE_COLUMNS} from datasource where id in (${p})`, chunk)));
  const autoRows = await inChunks(automationIds, (p, chunk) => em.execute(`select ${AUTOMATION_COLUMNS} from automation where id in (${p}) and not draft_only`, chunk) as Promise<AutomationRow[]>);
  const foundDs = new Map(dsRows.map((r) => [r.id, r]));
  const foundAuto = new Map(autoRows.map((r) => [r.id, r]));
  const liveAutomations = [...foundAuto.keys()];
  const liveDatasources = [...foundDs.keys()];
  return {
    datasources: new Map(datasourceIds.map((id) => [id, foundDs.get(id) ?? null])),
    automations: new Map(automationIds.map((id) => [id, foundAuto.get(id) ?? null])),
    io: await inChunks(liveAutomations, (p, chunk) =>
      em.execute(`select automation_id, datasource_id, direction from automation_io where automation_id in (${p}) order by automation_id, position`, chunk) as Promise<IoRow[]>,
    ),
    steps: await inChunks(liveAutomations, (p, chunk) =>
      em.execute(`select chain_id, step_id from chain_step where chain_id in (${p}) order by chain_id, position`, chunk) as Promise<StepRow[]>,
    ),
    scriptRefs: await inChunks(liveAutomations, (p, chunk) => em.execute(REFS_BY_SCRIPT(`and t.script_id in (${p})`), [...chunk, ...chunk]) as Promise<RefRow[]>),
    runStatuses: new Map(
      (await inChunks(runStatusIds, (p, chunk) => em.execute(`select id, last_run_status from automation where id in (${p})`, chunk) as Promise<{ id: string; last_run_status: RunStatus | null }[]>)).map(
        (r) => [r.id, r.last_run_status],
      ),
    ),
    datasourceRefs: await inChunks(liveDatasources, (p, chunk) => em.execute(REFS_BY_DATASOURCE(`and d.id in (${p})`), [...chunk, ...chunk]) as Promise<RefRow[]>),
    observations: await readObservations(em, [...new Set([...liveAutomations, ...runStatusIds])], options),
  };
}

export interface ChangeLogState {
  /** Highest committed change version (0 when nothing was ever written). */
  head: number;
  prunedBelow: number;
}

/** One statement: the per-request check that the graph is current. */
export async function readChangeLogState(em: EntityManager): Promise<ChangeLogState> {
  const [row] = (await em.execute(
    `select (select coalesce(max(version), 0) from lineage_change) as head, (select pruned_below from lineage_version where id = 1) as pruned_below`,
  )) as { head: number; pruned_below: number | null }[];
  return { head: row?.head ?? 0, prunedBelow: row?.pruned_below ?? 0 };
}

/** Objects touched by the changes after `since`, up to `head`. */
export async function readChangedIds(em: EntityManager, since: number, head: number) {
  const rows = (await em.execute(`select distinct entity, entity_id from lineage_change where version > ? and version <= ?`, [since, head])) as {
    entity: string;
    entity_id: string;
  }[];
  return {
    datasourceIds: rows.filter((r) => r.entity === 'DATASOURCE').map((r) => r.entity_id),
    automationIds: rows.filter((r) => r.entity === 'AUTOMATION').map((r) => r.entity_id),
    runStatusIds: rows.filter((r) => r.entity === 'RUN_STATUS').map((r) => r.entity_id),
  };
}

/**
 * Transaction options under which every statement reads the same snapshot: what a SQLite read
 * transaction is anyway, REPEATABLE READ on PostgreSQL (whose default gives each statement its own).
 */
export function snapshotRead(em: EntityManager): { isolationLevel?: IsolationLevel; readOnly?: boolean } {
  return sqlOf(em).dialect === 'postgresql' ? { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true } : {};
}
