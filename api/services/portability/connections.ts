import type { EntityManager } from '@mikro-orm/knex';
import { Connection, ConnectionType } from '../../../core/db/entities/index.js';
import { BadUserInputError } from '../../../core/errors.js';
import type { SecretBox } from '../../../core/secrets.js';
import { createConnection, freeConnectionName } from '../connections/connection.service.js';
import type { Seal } from '../connections/settings.js';

/** The settings keys that describe an automation's connection in an export (besides `connection`, its name). */
const ENDPOINT_KEYS = ['connectionType', 'host', 'port', 'username', 'database', 'password', 'privateKey'] as const;

/**
 * An automation's connection as an export writes it: its name, and where it logs in (host, port,
 * user, database) so another workspace can make it; its password and key only when asked to.
 */
export function exportedConnection(connection: Connection | undefined, secrets: SecretBox | null): Record<string, unknown> {
  if (!connection) return { connection: null };
  const out: Record<string, unknown> = { connection: connection.name, host: connection.host, port: connection.port, username: connection.username };
  if (connection.type !== ConnectionType.SFTP) Object.assign(out, { connectionType: connection.type, database: connection.database ?? null });
  if (secrets) {
    out.password = connection.passwordSealed ? secrets.unseal(connection.passwordSealed) : null;
    if (connection.type === ConnectionType.SFTP) out.privateKey = connection.privateKeySealed ? secrets.unseal(connection.privateKeySealed) : null;
  }
  return out;
}

/** The settings without the connection's own keys: what the automation row holds. */
export function withoutConnection(settings: Record<string, unknown>): Record<string, unknown> {
  const own = { ...settings };
  delete own.connection;
  for (const key of ENDPOINT_KEYS) delete own[key];
  return own;
}

/**
 * The connection an imported automation logs in with: the workspace's connection of that name
 * (of the right type; its secrets stay as they are), one this import made already, or a new one
 * made from the file's host, port, user (and secrets, when the export carried them). Files of
 * exports made before connections have no name: the connection is named after the automation.
 */
export async function importedConnection(em: EntityManager, settings: Record<string, unknown>, type: ConnectionType, owner: string, seal: Seal, made: Map<string, string>): Promise<string> {
  const name = typeof settings.connection === 'string' && settings.connection.trim() ? settings.connection.trim() : null;
  if (name) {
    const earlier = made.get(name);
    if (earlier) return earlier;
    const existing = await em.findOne(Connection, { name }, { fields: ['id', 'type'] });
    if (existing) {
      if (existing.type !== type) throw new BadUserInputError('settings.connection', `connection ${JSON.stringify(name)} is ${existing.type} here; this automation needs ${type}`);
      return existing.id;
    }
  }
  if (typeof settings.host !== 'string') {
    throw new BadUserInputError('settings.connection', `${name ? `connection ${JSON.stringify(name)} is not in this workspace, and` : 'no connection is named and'} the file has no host to make one from`);
  }
  const connection = await createConnection(
    em,
    {
      name: name ?? (await freeConnectionName(em, owner)),
      type,
      host: settings.host,
      port: settings.port as number | null,
      username: settings.username as string,
      database: (settings.database as string | null) ?? null,
      password: (settings.password as string | null) ?? null,
      ...(type === ConnectionType.SFTP ? { privateKey: (settings.privateKey as string | null) ?? null } : {}),
    },
    seal,
    { credentialsOptional: true },
  );
  await em.flush(); // the automations are inserted with insertMany: their connection must be there first
  made.set(name ?? connection.name, connection.id);
  return connection.id;
}
