import type { EntityManager } from '@mikro-orm/knex';
import {
  AutomationIo,
  AutomationKind,
  AutomationParameterSet,
  AutomationVersion,
  ChainStep,
  Datasource,
  DatasourceKind,
  IoDirection,
  Script,
  ScriptToken,
  VersionStatus,
} from '../../../core/db/entities/index.js';
import { buildDefinition } from '../../../core/versions/definition.js';
import { scriptTokenRows } from '../script-tokens.js';
import { KIND_CLASS } from '../automation.service.js';
import type { BuiltAutomation } from './import-build.js';
import { dependencyOrder } from './order.js';

/** Rows per INSERT: well below PostgreSQL's 65,535 bound parameters for the widest table. */
const BATCH = 500;

/**
 * Writes the objects an import creates, table by table in batches: datasources (a join after its
 * sources), automations with their version 1 (LIVE; a DRAFT not in force while approval is
 * required, as Revisions.created makes it), their declarations, chain steps, parameter sets and
 * code index. Everything was checked before (import-build.ts).
 */
export async function insertCreated(em: EntityManager, created: { datasources: Datasource[]; automations: BuiltAutomation[]; approval: boolean; actorId: string | null }): Promise<void> {
  const now = new Date();
  const rows = (entity: object) => {
    const { secretsCleared: _s, ...row } = entity as Record<string, unknown>;
    return { ...row, createdAt: now, modifiedAt: now };
  };
  await insert(em, Datasource, joinsLast(created.datasources).map(rows));

  const versions: Record<string, unknown>[] = [];
  const io: Record<string, unknown>[] = [];
  const steps: Record<string, unknown>[] = [];
  const links: Record<string, unknown>[] = [];
  const tokens: Record<string, unknown>[] = [];
  for (const built of created.automations) {
    const a = built.automation;
    const definition = buildDefinition(a, built);
    const version = new AutomationVersion();
    Object.assign(version, {
      automation: a.id,
      number: 1,
      status: created.approval ? VersionStatus.DRAFT : VersionStatus.LIVE,
      definition,
      authorId: created.actorId,
      contributorIds: created.actorId ? [created.actorId] : [],
      createdAt: now,
      ...(created.approval ? {} : { madeLiveAt: now, liveFrom: now }),
    });
    versions.push({ ...version });
    a.versionCount = 1;
    if (created.approval) {
      // Nothing of it is in force until an admin approves its draft (see Revisions.created).
      a.draftOnly = true;
      a.scheduleCron = null;
      a.scheduleTimezone = null;
      continue;
    }
    a.liveVersionId = version.id;
    const declare = (ids: string[], direction: IoDirection) => ids.forEach((datasource, position) => io.push({ automation: a.id, datasource, direction, position }));
    declare(built.inputIds, IoDirection.INPUT);
    declare(built.outputIds, IoDirection.OUTPUT);
    if (built.errorDatasourceId) declare([built.errorDatasourceId], IoDirection.ERRORS);
    built.stepIds.forEach((step, position) => steps.push({ chain: a.id, step, position }));
    built.parameterSetIds.forEach((parameterSet, position) => links.push({ automation: a.id, parameterSet, position }));
    if (a.kind === AutomationKind.SCRIPT) tokens.push(...scriptTokenRows(a.id, (a as Script).code));
  }
  for (const kind of Object.values(AutomationKind)) {
    await insert(em, KIND_CLASS[kind], created.automations.filter((b) => b.automation.kind === kind).map((b) => rows(b.automation)));
  }
  await insert(em, AutomationVersion, versions);
  await insert(em, AutomationIo, io);
  await insert(em, ChainStep, steps);
  await insert(em, AutomationParameterSet, links);
  await insert(em, ScriptToken, tokens);
}

/** insertMany in batches of rows with the same columns (a batch takes its columns from its first row). */
async function insert(em: EntityManager, entity: object, rows: Record<string, unknown>[]): Promise<void> {
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const row of rows) {
    const key = Object.keys(row).filter((k) => row[k] !== undefined).sort().join(',');
    const group = groups.get(key) ?? [];
    group.push(Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)));
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += BATCH) await em.insertMany(entity as never, group.slice(i, i + BATCH) as never);
  }
}

/** Datasources in an order their join sources come first in (checked free of cycles before). */
function joinsLast(datasources: Datasource[]): Datasource[] {
  const byId = new Map(datasources.map((d) => [d.id, d]));
  const edges = new Map(datasources.map((d) => [d.id, d.kind === DatasourceKind.JOIN ? ([d.joinLeft, d.joinRight] as unknown as string[]) : []]));
  return dependencyOrder(edges).order.map((id) => byId.get(id)!);
}
