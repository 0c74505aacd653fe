import type { EntityManager } from '@mikro-orm/knex';
import { AutomationKind, Datasource } from '../../core/db/entities/index.js';
import { BadUserInputError } from '../../core/errors.js';
import { checkTransform, type SqlChecker } from '../../jobs/transform/sql-check.js';
import type { AutomationPlan } from '../../jobs/runners/runner.js';
import { checkCode, checkVariables } from './automation.service.js';
import { checkJsonObject } from '../../core/validation.js';
import { ParameterValues } from '../../core/parameters/values.js';
import { mentionsParameters } from '../../core/parameters/references.js';

/** Unsaved edits to preview: what an edit form holds before it is saved. */
export interface PreviewDraft {
  transform?: Record<string, unknown> | null;
  code?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * The plan with the draft's edits in place, checked as saving would check them; a problem is a
 * BAD_USER_INPUT whose field is under `draft.` (e.g. `draft.transform.steps[0].filter`).
 */
export async function applyDraft(em: EntityManager, plan: AutomationPlan, draft: PreviewDraft | null | undefined, warehouse: SqlChecker = { dialect: 'sqlite' }): Promise<AutomationPlan> {
  if (!draft) return plan;
  try {
    return await checkedDraft(em, plan, draft, warehouse);
  } catch (error) {
    if (error instanceof BadUserInputError) throw new BadUserInputError(`draft.${error.field}`, error.message);
    throw error;
  }
}

async function checkedDraft(em: EntityManager, plan: AutomationPlan, draft: PreviewDraft, warehouse: SqlChecker): Promise<AutomationPlan> {
  const next = { ...plan };
  if (draft.transform != null) {
    if (plan.kind !== AutomationKind.ETL_STEP) throw new BadUserInputError('transform', `a ${plan.kind} has no transform`);
    const transform = checkJsonObject(draft.transform, 'transform');
    const input = plan.inputs[0] ? await em.findOne(Datasource, { id: plan.inputs[0].id }, { fields: ['columns'] }) : null;
    const columns = input?.columns.map((c) => ({ name: c.name, type: c.type })) ?? [];
    await checkTransform(mentionsParameters(transform) ? (await ParameterValues.attached(em, plan.id)).resolveJson(transform, 'transform') : transform, columns, warehouse);
    next.transform = transform;
  }
  if (draft.code != null || draft.variables !== undefined) {
    if (plan.kind !== AutomationKind.SCRIPT || !plan.script) throw new BadUserInputError(draft.code != null ? 'code' : 'variables', `a ${plan.kind} has no code`);
    next.script = {
      ...plan.script,
      code: draft.code != null ? checkCode(draft.code) : plan.script.code,
      variables: draft.variables !== undefined ? checkVariables(draft.variables) : plan.script.variables,
    };
  }
  return next;
}
