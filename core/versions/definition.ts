import type { EntityManager } from '@mikro-orm/knex';
import { Automation } from '../db/entities/automation.js';
import { ChainTask, DatabaseIngestion, EtlStep, Script, SftpImport } from '../db/entities/automation-kinds.js';
import { AutomationIo, ChainStep } from '../db/entities/links.js';
import { AutomationParameterSet } from '../db/entities/parameter-set.js';
import { AutomationKind, IoDirection } from '../enums.js';

/**
 * What a version of an automation fixes: everything that says what it does, and nothing of its
 * run state (pause, stop, start) or its run history. One flat JSON object, the same keys for every
 * kind plus the kind's own, so a difference has a short path (`code`, `transform.sql`, `inputIds`).
 * Secrets live in connections (selected by `connectionId`), never in a definition.
 */
export interface Definition {
  kind: AutomationKind;
  name: string;
  description: string | null;
  schedule: { cron: string; timezone: string } | null;
  writeMode: string;
  writeKeys: string[];
  errorPolicy: string;
  errorRecordFormat: string;
  errorDatasourceId: string | null;
  inputIds: string[];
  outputIds: string[];
  /** The attached parameter sets, in order; absent when none. */
  parameterSetIds?: string[];
  [kindSetting: string]: unknown;
}

/** The keys that held sealed secrets before connections (none since): never shown. */
export const SECRET_KEYS = ['passwordSealed', 'privateKeySealed'] as const;

/** What an automation refers to by id, besides its row: declarations, chain steps, parameter sets. */
export interface DefinitionRefs {
  inputIds: string[];
  outputIds: string[];
  errorDatasourceId: string | null;
  stepIds: string[];
  parameterSetIds: string[];
}

/** The definition an automation's row, declarations and chain steps hold now (inside `em`'s transaction, with its unflushed changes). */
export async function snapshotDefinition(em: EntityManager, automation: Automation): Promise<Definition> {
  await em.flush();
  const io = await em.find(AutomationIo, { automation: automation.id }, { orderBy: { position: 'asc' } });
  const ids = (direction: IoDirection) => io.filter((r) => r.direction === direction).map((r) => r.datasource.id);
  const steps = automation.kind === AutomationKind.CHAIN_TASK ? await em.find(ChainStep, { chain: automation.id }, { orderBy: { position: 'asc' } }) : [];
  const sets = await em.find(AutomationParameterSet, { automation: automation.id }, { orderBy: { position: 'asc' } });
  return buildDefinition(automation, {
    inputIds: ids(IoDirection.INPUT),
    outputIds: ids(IoDirection.OUTPUT),
    errorDatasourceId: ids(IoDirection.ERRORS)[0] ?? null,
    stepIds: steps.map((s) => s.step.id),
    parameterSetIds: sets.map((l) => l.parameterSet.id),
  });
}

/** The definition of an automation row and what it refers to (what {@link snapshotDefinition} reads, given). */
export function buildDefinition(automation: Automation, refs: DefinitionRefs): Definition {
  const common: Definition = {
    kind: automation.kind,
    name: automation.name,
    description: automation.description ?? null,
    schedule: automation.scheduleCron ? { cron: automation.scheduleCron, timezone: automation.scheduleTimezone ?? 'UTC' } : null,
    writeMode: automation.writeMode,
    writeKeys: [...automation.writeKeys],
    errorPolicy: automation.errorPolicy,
    errorRecordFormat: automation.errorRecordFormat,
    errorDatasourceId: refs.errorDatasourceId,
    inputIds: refs.inputIds,
    outputIds: refs.outputIds,
  };
  // Only when there are some: the versions recorded before parameter sets existed stay equal to a snapshot.
  if (refs.parameterSetIds.length > 0) common.parameterSetIds = refs.parameterSetIds;
  return { ...common, ...kindSettings(automation, refs.stepIds) };
}

function kindSettings(automation: Automation, stepIds: string[]): Record<string, unknown> {
  switch (automation.kind) {
    case AutomationKind.ETL_STEP:
      return { transform: (automation as EtlStep).transform ?? {} };
    case AutomationKind.SFTP_IMPORT: {
      const s = automation as SftpImport;
      return {
        connectionId: s.connection?.id ?? null,
        remoteDir: s.remoteDir,
        filePattern: s.filePattern,
        hostKeyFingerprint: s.hostKeyFingerprint ?? null,
        afterImport: s.afterImport,
        moveToDir: s.moveToDir ?? null,
      };
    }
    case AutomationKind.DATABASE_TABLE: {
      const d = automation as DatabaseIngestion;
      return { connectionId: d.connection?.id ?? null, table: d.sourceTable ?? null, query: d.query ?? null, cursorColumn: d.cursorColumn ?? null };
    }
    case AutomationKind.SCRIPT: {
      const s = automation as Script;
      return { language: s.language, code: s.code, variables: s.variables ?? null, timeoutSeconds: s.timeoutSeconds, memoryMb: s.memoryMb };
    }
    case AutomationKind.CHAIN_TASK:
      return { stepIds, continueOnFailure: (automation as ChainTask).continueOnFailure };
    case AutomationKind.EXTERNAL_JOB:
      return {}; // never versioned: what it reads and writes comes from OpenLineage events
  }
}

/** The datasources a definition declares (inputs, outputs, error datasource). */
export function declaredDatasourceIds(definition: Definition): string[] {
  return [...definition.inputIds, ...definition.outputIds, ...(definition.errorDatasourceId ? [definition.errorDatasourceId] : [])];
}

/** JSON with its object keys sorted: equal definitions give equal text, whatever order a database kept. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function sameDefinition(a: Definition, b: Definition): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** A definition fit to show: each sealed secret replaced by whether there is one. */
export function publicDefinition(definition: Definition): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...definition };
  for (const key of SECRET_KEYS) {
    if (!(key in shown)) continue;
    shown[key.replace(/Sealed$/, 'Set')] = shown[key] != null;
    delete shown[key];
  }
  return shown;
}
