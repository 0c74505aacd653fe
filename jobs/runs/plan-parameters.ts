import type { EntityManager } from '@mikro-orm/knex';
import { ParameterError, ParameterValues } from '../../core/parameters/values.js';
import { mentionsParameters, referencesIn } from '../../core/parameters/references.js';
import type { AutomationPlan } from '../runners/runner.js';
import { fillPaths } from '../warehouse/data.service.js';

/**
 * The plan with its parameters filled in, as a run or a preview uses it, and the values used (for
 * its log). An automation's settings take the sets attached to it (SFTP host, directories and
 * pattern; every string of an ETL transform, its SQL included; script variables); FILE paths take
 * any set. A reference that no longer resolves fails with a ParameterError naming the field.
 * Filled-in FILE paths are checked against FILE_ROOTS when read, as every path is.
 */
export async function fillParameters<P extends AutomationPlan>(em: EntityManager, plan: P): Promise<{ plan: P; log: string[] }> {
  if (!mentionsParameters([plan.transform, plan.sftp && [plan.sftp.host, plan.sftp.remoteDir, plan.sftp.filePattern, plan.sftp.moveToDir], plan.script?.variables, plan.inputs, plan.outputs, plan.errors?.datasource])) {
    return { plan, log: [] }; // nothing to fill in: no set is read
  }
  const own = await ParameterValues.attached(em, plan.id);
  const anySet = await ParameterValues.all(em);
  const filled: P = {
    ...plan,
    inputs: plan.inputs.map((s) => fillPaths(s, anySet)),
    outputs: plan.outputs.map((s) => fillPaths(s, anySet)),
    errors: plan.errors && { ...plan.errors, datasource: plan.errors.datasource && fillPaths(plan.errors.datasource, anySet) },
  };
  if (plan.transform) filled.transform = own.resolveJson(plan.transform, 'transform');
  if (plan.sftp) {
    const s = plan.sftp;
    if (referencesIn(s.host).length > 0 && !s.hostKeyFingerprint) {
      throw new ParameterError('host', 'the host has parameters but no pinned hostKeyFingerprint: the import does not log in anywhere its secrets were not meant for');
    }
    filled.sftp = {
      ...s,
      host: own.resolve(s.host, 'host'),
      remoteDir: own.resolve(s.remoteDir, 'remoteDir'),
      filePattern: own.resolve(s.filePattern, 'filePattern'),
      moveToDir: s.moveToDir === null ? null : own.resolve(s.moveToDir, 'moveToDir'),
    };
  }
  if (plan.script?.variables) filled.script = { ...plan.script, variables: own.resolveJson(plan.script.variables, 'variables') };
  return { plan: filled, log: [...own.logLines(), ...anySet.logLines().map((line) => line.replace(/^parameters:/, 'parameters in file paths:'))] };
}
