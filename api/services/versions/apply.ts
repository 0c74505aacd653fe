import { ref } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import {
  Automation,
  AutomationIo,
  AutomationKind,
  AutomationParameterSet,
  ChainStep,
  Connection,
  Datasource,
  DatasourceKind,
  IoDirection,
  ScriptToken,
  type AfterImport,
  type ChainTask,
  type DatabaseIngestion,
  type ErrorPolicy,
  type ErrorRecordFormat,
  type EtlStep,
  type Script,
  type ScriptLanguage,
  type SftpImport,
  type WriteMode,
} from '../../../core/db/entities/index.js';
import { ConflictError } from '../../../core/errors.js';
import { AutomationRepository } from '../../../core/db/repositories/automation.repository.js';
import type { Definition } from '../../../core/versions/definition.js';
import { indexScriptTokens } from '../script-tokens.js';
import { attachSets } from '../parameter-sets/attach.js';

/**
 * Puts a definition in force: writes it to the automation's row, its declared datasources and its
 * chain steps, so the schedule, the lineage graph and new runs follow it. `null` puts nothing in
 * force (an automation never live yet: no declarations, steps, schedule or code index).
 *
 * The definition was checked when it was edited; what may have changed since is checked again
 * (a datasource or step deleted, a name taken, a chain cycle made by another chain), and refused
 * with CONFLICT on `field`.
 */
export async function applyDefinition(em: EntityManager, automation: Automation, definition: Definition | null, field = 'versionId'): Promise<void> {
  await em.nativeDelete(AutomationIo, { automation: automation.id });
  if (automation.kind === AutomationKind.CHAIN_TASK) await em.nativeDelete(ChainStep, { chain: automation.id });
  if (automation.kind === AutomationKind.SCRIPT) await em.nativeDelete(ScriptToken, { script: automation.id });
  if (definition === null) {
    await em.nativeDelete(AutomationParameterSet, { automation: automation.id });
    automation.scheduleCron = null;
    automation.scheduleTimezone = null;
    await em.flush();
    return;
  }
  if (definition.kind !== automation.kind) throw new ConflictError(field, `the version is a ${definition.kind} definition; the automation is a ${automation.kind}`);
  if (definition.name !== automation.name) {
    const clash = await em.findOne(Automation, { name: definition.name, id: { $ne: automation.id } }, { fields: ['id'] });
    if (clash) throw new ConflictError(field, `the version names the automation ${JSON.stringify(definition.name)}, which another automation is called now`);
    automation.name = definition.name;
  }
  automation.description = definition.description;
  automation.scheduleCron = definition.schedule?.cron ?? null;
  automation.scheduleTimezone = definition.schedule?.timezone ?? null;
  automation.writeMode = definition.writeMode as WriteMode;
  automation.writeKeys = [...definition.writeKeys];
  automation.errorPolicy = definition.errorPolicy as ErrorPolicy;
  automation.errorRecordFormat = definition.errorRecordFormat as ErrorRecordFormat;
  if (typeof definition.connectionId === 'string' && !(await em.findOne(Connection, { id: definition.connectionId }, { fields: ['id'] }))) {
    throw new ConflictError(field, `the version connects with connection ${JSON.stringify(definition.connectionId)}, which no longer exists`);
  }
  applyKindSettings(automation, definition);
  await em.flush();
  await declare(em, automation, definition, field);
  await attachSets(em, automation, definition.parameterSetIds ?? [], field, true);
  if (automation.kind === AutomationKind.CHAIN_TASK) await setSteps(em, automation, definition.stepIds as string[], field);
  if (automation.kind === AutomationKind.SCRIPT) await indexScriptTokens(em, automation as Script);
}

function applyKindSettings(automation: Automation, d: Definition): void {
  switch (automation.kind) {
    case AutomationKind.ETL_STEP:
      (automation as EtlStep).transform = (d.transform as Record<string, unknown>) ?? {};
      return;
    case AutomationKind.SFTP_IMPORT: {
      const s = automation as SftpImport;
      s.connection = d.connectionId ? ref(Connection, d.connectionId as string) : null;
      s.remoteDir = d.remoteDir as string;
      s.filePattern = d.filePattern as string;
      s.hostKeyFingerprint = (d.hostKeyFingerprint as string | null) ?? null;
      s.afterImport = d.afterImport as AfterImport;
      s.moveToDir = (d.moveToDir as string | null) ?? null;
      return;
    }
    case AutomationKind.DATABASE_TABLE: {
      const s = automation as DatabaseIngestion;
      s.connection = d.connectionId ? ref(Connection, d.connectionId as string) : null;
      s.sourceTable = (d.table as string | null) ?? null;
      s.query = (d.query as string | null) ?? null;
      s.cursorColumn = (d.cursorColumn as string | null) ?? null;
      return;
    }
    case AutomationKind.SCRIPT: {
      const s = automation as Script;
      s.language = d.language as ScriptLanguage;
      s.code = d.code as string;
      s.variables = (d.variables as Record<string, unknown> | null) ?? null;
      s.timeoutSeconds = d.timeoutSeconds as number;
      s.memoryMb = d.memoryMb as number;
      return;
    }
    case AutomationKind.CHAIN_TASK:
      (automation as ChainTask).continueOnFailure = d.continueOnFailure === true;
  }
}

async function declare(em: EntityManager, automation: Automation, d: Definition, field: string): Promise<void> {
  const wanted = [...d.inputIds, ...d.outputIds, ...(d.errorDatasourceId ? [d.errorDatasourceId] : [])];
  const found = new Map((await em.find(Datasource, { id: { $in: wanted } })).map((ds) => [ds.id, ds]));
  for (const id of wanted) if (!found.has(id)) throw new ConflictError(field, `the version declares datasource ${JSON.stringify(id)}, which no longer exists`);
  for (const id of [...d.outputIds, ...(d.errorDatasourceId ? [d.errorDatasourceId] : [])]) {
    if (found.get(id)!.kind === DatasourceKind.JOIN) throw new ConflictError(field, `the version writes ${JSON.stringify(found.get(id)!.name)}, which is now a JOIN datasource`);
  }
  const rows = [
    ...d.inputIds.map((id, position) => ({ automation: automation.id, datasource: id, direction: IoDirection.INPUT, position })),
    ...d.outputIds.map((id, position) => ({ automation: automation.id, datasource: id, direction: IoDirection.OUTPUT, position })),
    ...(d.errorDatasourceId ? [{ automation: automation.id, datasource: d.errorDatasourceId, direction: IoDirection.ERRORS, position: 0 }] : []),
  ];
  if (rows.length > 0) await em.insertMany(AutomationIo, rows);
}

async function setSteps(em: EntityManager, chain: Automation, stepIds: string[], field: string): Promise<void> {
  const found = new Map((await em.find(Automation, { id: { $in: stepIds } })).map((a) => [a.id, a]));
  for (const id of stepIds) {
    const step = found.get(id);
    if (!step) throw new ConflictError(field, `the version triggers automation ${JSON.stringify(id)}, which no longer exists`);
    if (step.draftOnly) throw new ConflictError(field, `the version triggers ${JSON.stringify(step.name)}, which has never been live: make it live first`);
    if (step.kind === AutomationKind.CHAIN_TASK && (await new AutomationRepository(em).chainReaches(id, chain.id))) {
      throw new ConflictError(field, `chain task ${JSON.stringify(step.name)} now triggers ${JSON.stringify(chain.name)}; a chain cannot contain itself`);
    }
  }
  stepIds.forEach((id, position) => em.persist(em.create(ChainStep, { chain: chain.id, step: id, position })));
  await em.flush();
}
