import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationIo, Connection, ConnectionType, DatabaseIngestion, Datasource, EtlStep, IoDirection, Script, SftpImport } from '../../core/db/entities/index.js';
import { NotFoundError } from '../../core/errors.js';
import type { AutomationPlan, DatabaseSettings, SftpSettings } from '../runners/runner.js';
import type { DataService } from '../warehouse/data.service.js';
import type { SecretBox } from '../../core/secrets.js';
import type { DatabaseEndpoint } from '../sources/source.js';

/**
 * Resolves an automation, its declared datasources and its settings into the plain plan a
 * runner takes (secrets unsealed here, in the server; runners never see the metadata database).
 */
export async function buildPlan(em: EntityManager, data: DataService, secrets: SecretBox, automationId: string, field = 'id'): Promise<AutomationPlan & { datasourceNames: Record<string, string> }> {
  const automation = await em.findOne(Automation, { id: automationId });
  if (!automation) throw new NotFoundError('Automation', automationId, field);
  const io = await em.find(AutomationIo, { automation: automation.id }, { orderBy: { position: 'asc' } });
  const connection = automation.connection ? await em.findOne(Connection, { id: automation.connection.id }) : null;
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
    sftp: automation instanceof SftpImport ? sftpSettings(automation, connection, secrets) : undefined,
    database: automation instanceof DatabaseIngestion ? databaseSettings(automation, connection, secrets) : undefined,
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

function sftpSettings(sftp: SftpImport, connection: Connection | null, secrets: SecretBox): SftpSettings {
  return {
    host: connection?.host ?? '',
    port: connection?.port ?? 22,
    username: connection?.username ?? '',
    password: connection?.passwordSealed ? secrets.unseal(connection.passwordSealed) : null,
    privateKey: connection?.privateKeySealed ? secrets.unseal(connection.privateKeySealed) : null,
    remoteDir: sftp.remoteDir,
    filePattern: sftp.filePattern,
    hostKeyFingerprint: sftp.hostKeyFingerprint ?? null,
    afterImport: sftp.afterImport,
    moveToDir: sftp.moveToDir ?? null,
  };
}

/** A database connection's endpoint, its password unsealed (what a run, a preview or a connection test logs in with). */
export function databaseEndpoint(connection: Connection | null, secrets: SecretBox): DatabaseEndpoint {
  return {
    type: connection?.type === ConnectionType.MYSQL ? 'MYSQL' : 'POSTGRES',
    host: connection?.host ?? '',
    port: connection?.port ?? 5432,
    username: connection?.username ?? '',
    password: connection?.passwordSealed ? secrets.unseal(connection.passwordSealed) : null,
    database: connection?.database ?? '',
  };
}

function databaseSettings(ingestion: DatabaseIngestion, connection: Connection | null, secrets: SecretBox): DatabaseSettings {
  return {
    endpoint: databaseEndpoint(connection, secrets),
    table: ingestion.sourceTable ?? null,
    query: ingestion.query ?? null,
    cursorColumn: ingestion.cursorColumn ?? null,
  };
}
