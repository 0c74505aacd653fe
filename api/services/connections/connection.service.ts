import type { EntityManager } from '@mikro-orm/knex';
import { Automation, Connection, ConnectionType, Connector } from '../../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, NotFoundError, type DependentInfo } from '../../../core/errors.js';
import { writeTransaction } from '../../../core/db/transaction.js';
import { noteDeleted } from '../../../core/audit/scope.js';
import { LIMITS, checkName, checkText } from '../../../core/validation.js';
import type { SecretBox } from '../../../core/secrets.js';
import { pendingUses } from '../versions/version.service.js';
import { applyConnectionSettings, type ConnectionSettingsInput, type Seal } from './settings.js';
import { probeSftp } from '../../../jobs/runners/sftp.runner.js';
import { probeSource } from '../../../jobs/sources/index.js';
import { databaseEndpoint } from '../../../jobs/runs/run-plan.js';

export interface ConnectionInput extends ConnectionSettingsInput {
  name?: string | null;
  type?: ConnectionType | null;
  description?: string | null;
}

export interface ConnectionTestResult {
  ok: boolean;
  message: string;
  /** DNS, REFUSED, TIMEOUT, AUTH, PERMISSION, NOT_FOUND, TLS or OTHER; null when ok. */
  failure: string | null;
}

/** How long a connection test may take, all in. */
export const CONNECTION_TEST_MS = 10_000;

/**
 * The credential store: named, typed connections that automations and connectors select. A
 * connection in use (by an automation, a version not live yet, or a connector) cannot be deleted.
 */
export class ConnectionService {
  constructor(
    private readonly em: EntityManager,
    private readonly secrets: SecretBox,
  ) {}

  list(type?: ConnectionType | null): Promise<Connection[]> {
    return this.em.find(Connection, type ? { type } : {}, { orderBy: { name: 'asc' } });
  }

  findById(id: string): Promise<Connection | null> {
    return this.em.findOne(Connection, { id });
  }

  /** `id`: the one to give it (an import keeps the id a connection had). `credentialsOptional`: an imported connection, whose secrets never travel. */
  create(input: ConnectionInput & { name: string; type: ConnectionType }, options: { id?: string; credentialsOptional?: boolean } = {}): Promise<Connection> {
    return this.write((em) => createConnection(em, input, this.seal, options));
  }

  /** Changes what is given; a secret given null is removed; the endpoint moving clears secrets not given again. */
  update(id: string, input: ConnectionInput): Promise<Connection> {
    return this.write(async (em) => {
      const connection = await loadConnection(em, id);
      if (input.type !== undefined && input.type !== null && input.type !== connection.type) {
        throw new BadUserInputError('type', `a connection keeps its type (${connection.type}): create another one`);
      }
      if (input.name !== undefined && input.name !== connection.name) connection.name = await checkConnectionName(em, input.name, id);
      if (input.description !== undefined) connection.description = checkText(input.description, 'description', LIMITS.description);
      applyConnectionSettings(connection, input, this.seal);
      return connection;
    });
  }

  delete(id: string): Promise<string> {
    return this.write(async (em) => {
      const connection = await loadConnection(em, id);
      const users = await connectionUses(em, connection.id);
      if (users.length > 0) {
        throw new ConflictError('id', `connection ${JSON.stringify(connection.name)} is used by ${users.length} object(s) and cannot be deleted: ${users.map((u) => `${u.name} (${u.reason})`).join(', ')}`, { dependents: users });
      }
      await em.nativeDelete(Connection, { id });
      noteDeleted('Connection', id, connection.name);
      return id;
    });
  }

  usedBy(id: string): Promise<DependentInfo[]> {
    return loadConnection(this.em, id).then((c) => connectionUses(this.em, c.id));
  }

  /** Connects and logs in with the stored settings, within 10 s; the answer says what failed. Writes nothing. */
  async test(id: string): Promise<ConnectionTestResult> {
    const connection = await loadConnection(this.em, id);
    return testConnection(connection, this.secrets);
  }

  private readonly seal: Seal = (value, field) => sealSecret(this.secrets, value, field);

  private write<T extends Connection | string>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    // The version lock: automation saves select connections and check they exist.
    return writeTransaction(this.em, 'a connection', work);
  }
}

export function sealSecret(secrets: SecretBox, value: string | null, field: string): string | null {
  if (value === null || value === '') return null;
  if (Buffer.byteLength(value, 'utf8') > LIMITS.secretBytes) throw new BadUserInputError(field, `${field} is larger than ${LIMITS.secretBytes} bytes`);
  return secrets.seal(value);
}

/** Creates a connection inside the caller's transaction (services that make one as part of their own write). */
export async function createConnection(em: EntityManager, input: ConnectionInput & { name: string; type: ConnectionType }, seal: Seal, options: { id?: string; credentialsOptional?: boolean } = {}): Promise<Connection> {
  const connection = new Connection();
  if (options.id) connection.id = options.id;
  if (!Object.values(ConnectionType).includes(input.type)) throw new BadUserInputError('type', `type must be one of ${Object.values(ConnectionType).join(', ')}`);
  connection.type = input.type;
  connection.name = await checkConnectionName(em, input.name);
  connection.description = checkText(input.description, 'description', LIMITS.description);
  applyConnectionSettings(connection, input, seal, options.credentialsOptional);
  em.persist(connection);
  return connection;
}

export async function loadConnection(em: EntityManager, id: string, field = 'id'): Promise<Connection> {
  const connection = await em.findOne(Connection, { id });
  if (!connection) throw new NotFoundError('Connection', id, field);
  return connection;
}

/** A connection an automation selects: it exists and is of the type it needs. */
export async function selectConnection(em: EntityManager, id: string, types: ConnectionType[], field = 'connectionId'): Promise<Connection> {
  if (!id?.trim()) throw new BadUserInputError(field, `select a connection (${types.join(' or ')})`);
  const connection = await loadConnection(em, id, field);
  if (!types.includes(connection.type)) throw new BadUserInputError(field, `connection ${JSON.stringify(connection.name)} is ${connection.type}; this needs ${types.join(' or ')}`);
  return connection;
}

async function checkConnectionName(em: EntityManager, name: string | null | undefined, exceptId?: string): Promise<string> {
  const checked = checkName(name);
  const clash = await em.findOne(Connection, { name: checked }, { fields: ['id'] });
  if (clash && clash.id !== exceptId) throw new ConflictError('name', `a connection named ${JSON.stringify(checked)} already exists`);
  return checked;
}

/** A connection name not taken yet, from `base`: "base", then "base (2)", "base (3)"… */
export async function freeConnectionName(em: EntityManager, base: string): Promise<string> {
  const stem = base.slice(0, LIMITS.name - 8);
  for (let n = 1; ; n += 1) {
    const candidate = n === 1 ? stem : `${stem} (${n})`;
    if (!(await em.findOne(Connection, { name: candidate }, { fields: ['id'] }))) return candidate;
  }
}

/** What uses a connection: automations (live), versions not live yet, connectors. */
export async function connectionUses(em: EntityManager, id: string): Promise<DependentInfo[]> {
  const automations = await em.find(Automation, { connection: id }, { fields: ['id', 'name', 'kind'], orderBy: { name: 'asc' } });
  const connectors = await em.find(Connector, { connection: id }, { fields: ['id', 'name'], orderBy: { name: 'asc' } });
  const pending = await pendingUses(em, [id], (d) => (d.connectionId === id ? 'selected by' : null));
  return [
    ...automations.map((a) => ({ id: a.id, name: a.name, type: a.kind, reason: 'connects with it' })),
    ...pending.filter((p) => !automations.some((a) => a.id === p.id)),
    ...connectors.map((c) => ({ id: c.id, name: c.name, type: 'CONNECTOR', reason: 'its connector connection' })),
  ];
}

export async function testConnection(connection: Connection, secrets: SecretBox): Promise<ConnectionTestResult> {
  if (connection.type === ConnectionType.SFTP) {
    return probeSftp(
      {
        host: connection.host,
        port: connection.port,
        username: connection.username,
        password: connection.passwordSealed ? secrets.unseal(connection.passwordSealed) : null,
        privateKey: connection.privateKeySealed ? secrets.unseal(connection.privateKeySealed) : null,
      },
      CONNECTION_TEST_MS,
    );
  }
  return probeSource(databaseEndpoint(connection, secrets), CONNECTION_TEST_MS);
}
