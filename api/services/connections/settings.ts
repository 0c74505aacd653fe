import { Connection, ConnectionType } from '../../../core/db/entities/index.js';
import { BadUserInputError } from '../../../core/errors.js';
import { LIMITS, checkRequiredText, checkText } from '../../../core/validation.js';

/** What a connection is made or changed with; secrets are write-only (null removes one). */
export interface ConnectionSettingsInput {
  host?: string | null;
  port?: number | null;
  username?: string | null;
  password?: string | null;
  privateKey?: string | null;
  database?: string | null;
}

export const DEFAULT_PORTS: Record<ConnectionType, number> = {
  [ConnectionType.SFTP]: 22,
  [ConnectionType.POSTGRES]: 5432,
  [ConnectionType.MYSQL]: 3306,
};

export type Seal = (value: string | null, field: string) => string | null;

/**
 * Checks and applies a connection's settings. A secret is bound to the endpoint (user, host, port,
 * database) it was given for: when the endpoint changes, a stored secret not given again is
 * cleared (and `secretsCleared` says so), so it never reaches another server. An SFTP connection
 * needs a password or a private key unless `credentialsOptional` (an imported one, whose secrets
 * never leave a workspace: it cannot log in until they are set).
 */
export function applyConnectionSettings(connection: Connection, input: ConnectionSettingsInput, seal: Seal, credentialsOptional = false): void {
  const endpointBefore = connection.host ? endpoint(connection) : null; // null while creating
  if (input.host !== undefined || !connection.host) {
    connection.host = checkRequiredText(input.host, 'host', LIMITS.host);
    if (/\s/.test(connection.host)) throw new BadUserInputError('host', 'host must be a host name or IP address without spaces');
  }
  if (input.port !== undefined && input.port !== null) {
    if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw new BadUserInputError('port', `port must be between 1 and 65535, got ${input.port}`);
    connection.port = input.port;
  }
  connection.port ??= DEFAULT_PORTS[connection.type];
  if (input.username !== undefined || !connection.username) connection.username = checkRequiredText(input.username, 'username', LIMITS.username);
  if (input.database !== undefined) connection.database = checkText(input.database, 'database', LIMITS.username);
  if (connection.type === ConnectionType.SFTP && connection.database) throw new BadUserInputError('database', 'an SFTP connection has no database');
  if (connection.type !== ConnectionType.SFTP && !connection.database) throw new BadUserInputError('database', `a ${connection.type} connection needs the database to connect to`);
  if (endpointBefore !== null && endpointBefore !== endpoint(connection)) {
    const dropped = (input.password === undefined && connection.passwordSealed != null) || (input.privateKey === undefined && connection.privateKeySealed != null);
    if (input.password === undefined) connection.passwordSealed = null;
    if (input.privateKey === undefined) connection.privateKeySealed = null;
    connection.secretsCleared = dropped;
  }
  if (input.password !== undefined) connection.passwordSealed = seal(input.password, 'password');
  if (input.privateKey !== undefined) {
    if (input.privateKey !== null && connection.type !== ConnectionType.SFTP) throw new BadUserInputError('privateKey', `a ${connection.type} connection logs in with a password, not a private key`);
    if (input.privateKey !== null && input.privateKey !== '' && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(input.privateKey)) {
      throw new BadUserInputError('privateKey', 'privateKey must be a PEM or OpenSSH private key ("-----BEGIN … PRIVATE KEY-----")');
    }
    connection.privateKeySealed = seal(input.privateKey, 'privateKey');
  }
  if (connection.type === ConnectionType.SFTP && !connection.passwordSealed && !connection.privateKeySealed && !connection.secretsCleared && !credentialsOptional) {
    throw new BadUserInputError('password', 'an SFTP connection needs a password or a private key');
  }
}

/** Where a connection's secrets go. */
function endpoint(c: Connection): string {
  return `${c.username}@${c.host}:${c.port}/${c.database ?? ''}`;
}

/** Whether any of the connection settings is given. */
export function givesConnectionSettings(input: ConnectionSettingsInput): boolean {
  return [input.host, input.port, input.username, input.password, input.privateKey, input.database].some((v) => v !== undefined);
}
