import type { EntityManager } from '@mikro-orm/knex';
import { AutomationKind, AutomationParameterSet, ParameterSet, type Automation } from '../../../core/db/entities/index.js';
import { BadUserInputError, ConflictError } from '../../../core/errors.js';
import { ParameterValues } from '../../../core/parameters/values.js';
import { mentionsParameters } from '../../../core/parameters/references.js';
import { checkIdList } from '../../../core/validation.js';

/** The ids of the sets attached to an automation, in order. */
export async function attachedSetIds(em: EntityManager, automationId: string): Promise<string[]> {
  const links = await em.find(AutomationParameterSet, { automation: automationId }, { orderBy: { position: 'asc' } });
  return links.map((l) => l.parameterSet.id);
}

/**
 * Attaches exactly these sets to the automation. An unknown id is a BAD_USER_INPUT on `field`
 * (`parameterSetIds[1]`), or a CONFLICT when a version is put in force (`conflict`).
 */
export async function attachSets(em: EntityManager, automation: Automation, ids: string[], field: string, conflict = false): Promise<void> {
  const wanted = checkIdList(ids, field);
  const found = new Set(wanted.length > 0 ? (await em.find(ParameterSet, { id: { $in: wanted } }, { fields: ['id'] })).map((s) => s.id) : []);
  wanted.forEach((id, i) => {
    if (found.has(id)) return;
    if (conflict) throw new ConflictError(field, `the version uses parameter set ${JSON.stringify(id)}, which no longer exists`);
    throw new BadUserInputError(`${field}[${i}]`, `parameter set ${JSON.stringify(id)} does not exist`);
  });
  await em.flush();
  await em.nativeDelete(AutomationParameterSet, { automation: automation.id });
  if (wanted.length > 0) await em.insertMany(AutomationParameterSet, wanted.map((id, position) => ({ automation: automation.id, parameterSet: id, position })));
}

/** The settings of each kind that may hold `${set__param}` (as the row and an export's settings name them). */
export const PARAMETERIZED_FIELDS: Record<AutomationKind, readonly string[]> = {
  [AutomationKind.ETL_STEP]: ['transform'],
  [AutomationKind.SFTP_IMPORT]: ['remoteDir', 'filePattern', 'moveToDir'],
  [AutomationKind.SCRIPT]: ['variables'],
  [AutomationKind.CHAIN_TASK]: [],
  [AutomationKind.DATABASE_TABLE]: [],
  [AutomationKind.EXTERNAL_JOB]: [],
};

/** The settings of an automation that may hold `${set__param}`, by field: what is filled in at run time. */
export function parameterizedSettings(automation: Automation): { field: string; value: unknown }[] {
  return PARAMETERIZED_FIELDS[automation.kind].map((field) => ({ field, value: (automation as unknown as Record<string, unknown>)[field] ?? null }));
}

/** Refuses (BAD_USER_INPUT on the field) a reference the automation's attached sets do not resolve: what saving checks. */
export async function checkReferences(em: EntityManager, automation: Automation): Promise<void> {
  const settings = parameterizedSettings(automation).filter((s) => mentionsParameters(s.value));
  if (settings.length === 0) return;
  const values = await ParameterValues.attached(em, automation.id);
  for (const { field, value } of settings) values.resolveJson(value, field);
}
