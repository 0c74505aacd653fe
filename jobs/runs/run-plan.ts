import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationIo, Datasource, EtlStep, IoDirection, Script, SftpImport } from '../../core/db/entities/index.js';
import { NotFoundError } from '../../core/errors.js';
import type { AutomationPlan, SftpSettings } from '../runners/runner.js';
import type { DataService } from '../warehouse/data.service.js';
import type { SecretBox } from '../../core/secrets.js';

/**
 * Resolves an automation, its declared datasources and its settings into the plain plan a
 * runner takes (secrets unsealed here, in the server; runners never see the metadata database).
 */
export async function buildPlan(em: EntityManager, data: DataService, secrets: SecretBox, automationId: string, field = 'id'): Promise<AutomationPlan & { datasourceNames: Record<string, string> }> {
  const automation = await em.findOne(Automation, { id: automationId });
  if (!automation) throw new NotFoundError('Automation', automationId, field);
  const io = await em.find(AutomationIo, { automation: automation.id }, { orderBy: { position: 'asc' } });
  const specs = async (direction: IoDirection) => Promise.all(io.filter((r) => r.direction === direction).map((r) => data.spec(r.datasource.id)));
  return {
    id: automation.id,
    name: automation.name,
    kind: automation.kind,
    inputs: await specs(IoDirection.INPUT),
    outputs: await specs(IoDirection.OUTPUT),
    writeMode: automation.writeMode,
    writeKeys: automation.writeKeys,
    transform: automation instanceof EtlStep ? automation.transform : undefined,
    sftp: automation instanceof SftpImport ? sftpSettings(automation, secrets) : undefined,
    script:
      automation instanceof Script
        ? { language: automation.language, code: automation.code, variables: automation.variables ?? null, timeoutSeconds: automation.timeoutSeconds, memoryMb: automation.memoryMb }
        : undefined,
    errors: {
      policy: automation.errorPolicy,
      format: automation.errorRecordFormat,
      datasource: (await specs(IoDirection.ERRORS))[0] ?? null,
    },
    datasourceNames: Object.fromEntries(
      (await em.find(Datasource, { id: { $in: io.map((r) => r.datasource.id) } }, { fields: ['id', 'name'] })).map((d) => [d.id, d.name]),
    ),
  };
}

function sftpSettings(sftp: SftpImport, secrets: SecretBox): SftpSettings {
  return {
    host: sftp.host,
    port: sftp.port,
    username: sftp.username,
    password: sftp.passwordSealed ? secrets.unseal(sftp.passwordSealed) : null,
    privateKey: sftp.privateKeySealed ? secrets.unseal(sftp.privateKeySealed) : null,
    remoteDir: sftp.remoteDir,
    filePattern: sftp.filePattern,
    hostKeyFingerprint: sftp.hostKeyFingerprint ?? null,
    afterImport: sftp.afterImport,
    moveToDir: sftp.moveToDir ?? null,
  };
}
