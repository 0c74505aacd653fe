import { posix } from 'node:path';
import { ref } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationState, Connection, ConnectionType, Connector, ConnectorConfigurationStatus, ConnectorStatus, Datasource, DatasourceKind } from '../../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../../../core/errors.js';
import { writeTransaction } from '../../../core/db/transaction.js';
import { LIMITS, checkName, checkText } from '../../../core/validation.js';
import type { SecretBox } from '../../../core/secrets.js';
import type { FileRoots } from '../../../jobs/warehouse/file-roots.js';
import type { SqlChecker } from '../../../jobs/transform/sql-check.js';
import type { LineageStore } from '../../lineage/store.js';
import { AutomationService, applySchedule } from '../automation.service.js';
import { DatasourceService } from '../datasource.service.js';
import type { ScheduleInput } from '../inputs.js';
import { selectConnection, testConnection, type ConnectionTestResult } from '../connections/connection.service.js';
import { PREREQUISITES } from './prerequisites.js';
import { openSource } from '../../../jobs/sources/index.js';
import { databaseEndpoint } from '../../../jobs/runs/run-plan.js';

export interface ConnectorDeps {
  secrets: SecretBox;
  lineage: LineageStore;
  files?: FileRoots;
  warehouse?: SqlChecker;
  actorId: string | null;
  /** Whether the caller may delete an ingestion that has been live (an admin), as deleteAutomation decides. */
  mayDeleteLive: boolean;
  /** Told after each committed change of an ingestion, so the job store follows. */
  automationChanged(automationId: string): Promise<void>;
  /** Tests a connection live (default: connects with its stored settings). */
  test?(connection: Connection): Promise<ConnectionTestResult>;
}

export interface ConnectorConfigInput {
  tablePrefix?: string | null;
  schedule?: ScheduleInput | null;
}

const MAX_TABLES = 500;
const { PREREQUISITES: AT_PREREQUISITES, CONNECTOR_CONFIGURED, CONNECTION_CONFIGURED, FINALIZED } = ConnectorConfigurationStatus;

/**
 * Connectors (seed 002): the ingestions of one source system, set up by a wizard — prerequisites →
 * connector configuration (destination: table prefix and default schedule) → connection (tested
 * live) → finalization (the tables or files to ingest, each becoming an ingestion automation,
 * and the connector STARTED) — then managed: tables added or removed, ingestions enabled or
 * disabled, paused and resumed as a whole, connection and destination updated. A step out of
 * order is CONFLICT; every step is one transaction.
 */
export class ConnectorService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: ConnectorDeps,
  ) {}

  list(): Promise<Connector[]> {
    return this.em.find(Connector, {}, { orderBy: { name: 'asc' } });
  }

  findById(id: string): Promise<Connector | null> {
    return this.em.findOne(Connector, { id });
  }

  prerequisites(connector: Connector): string[] {
    return PREREQUISITES[connector.type];
  }

  ingestions(connectorId: string): Promise<Automation[]> {
    return this.em.find(Automation, { connector: connectorId }, { orderBy: { name: 'asc' } });
  }

  /** The tables the connector's connection can read (to pick from when finalizing); none for SFTP. Within 10 s. */
  async sourceTables(id: string): Promise<string[]> {
    const connector = await this.load(this.em, id);
    if (!connector.connection || connector.type === ConnectionType.SFTP) return [];
    const connection = await this.em.findOneOrFail(Connection, { id: connector.connection.id });
    const session = await openSource(databaseEndpoint(connection, this.deps.secrets), 10_000).catch((error: Error) => {
      throw new BadUserInputError('connectorId', `cannot list the tables: ${error.message}`);
    });
    try {
      return (await session.listTables()).slice(0, 5_000);
    } finally {
      await session.close();
    }
  }

  create(input: { name: string; type: ConnectionType }): Promise<Connector> {
    return this.write(async (em) => {
      if (!Object.values(ConnectionType).includes(input.type)) throw new BadUserInputError('type', `type must be one of ${Object.values(ConnectionType).join(', ')}`);
      const name = checkName(input.name);
      if (await em.findOne(Connector, { name }, { fields: ['id'] })) throw new ConflictError('name', `a connector named ${JSON.stringify(name)} already exists`);
      const connector = new Connector();
      connector.name = name;
      connector.type = input.type;
      em.persist(connector);
      return connector;
    });
  }

  /** The prerequisites are met (the wizard's first step). */
  completePrerequisites(id: string): Promise<Connector> {
    return this.step(id, [AT_PREREQUISITES], async (_em, connector) => {
      connector.prerequisitesDone = true;
    });
  }

  /** Destination and default schedule; again later to change them (the ingestions' schedules follow). */
  configure(id: string, input: ConnectorConfigInput): Promise<Connector> {
    return this.step(id, [AT_PREREQUISITES, CONNECTOR_CONFIGURED, CONNECTION_CONFIGURED, FINALIZED], async (em, connector) => {
      if (connector.configurationStatus === AT_PREREQUISITES && !connector.prerequisitesDone) {
        throw new ConflictError('connectorId', 'complete the prerequisites first (completePrerequisites)');
      }
      applyDestination(connector, input);
      if (connector.configurationStatus === AT_PREREQUISITES) connector.configurationStatus = CONNECTOR_CONFIGURED;
      if (connector.configurationStatus === FINALIZED && input.schedule !== undefined) {
        const automations = this.automations(em);
        for (const a of await em.find(Automation, { connector: connector.id }, { fields: ['id'] })) {
          if (connector.scheduleCron) await automations.setSchedule(a.id, connector.scheduleCron, connector.scheduleTimezone);
          else await automations.clearSchedule(a.id);
          this.changed.add(a.id);
        }
      }
    });
  }

  /** Selects the connection (of the connector's type), tested live first: a failing one leaves the step undone. */
  async setConnection(id: string, connectionId: string): Promise<Connector> {
    const connector = await this.load(this.em, id);
    const connection = await selectConnection(this.em, connectionId, [connector.type]);
    const tested = await (this.deps.test ?? ((c: Connection) => testConnection(c, this.deps.secrets)))(connection);
    if (!tested.ok) {
      const error = new BadUserInputError('connectionId', `the connection test failed: ${tested.message}`);
      (error.details as Record<string, unknown>).failure = tested.failure;
      throw error;
    }
    return this.step(id, [CONNECTOR_CONFIGURED, CONNECTION_CONFIGURED, FINALIZED], async (em, c) => {
      c.connection = ref(Connection, connectionId);
      if (c.configurationStatus === CONNECTOR_CONFIGURED) c.configurationStatus = CONNECTION_CONFIGURED;
      if (c.status === ConnectorStatus.ERROR) c.status = ConnectorStatus.STARTED;
      c.lastError = null;
      if (c.configurationStatus === FINALIZED) {
        const automations = this.automations(em);
        for (const a of await em.find(Automation, { connector: c.id })) {
          if (a.kind === 'SFTP_IMPORT') await automations.updateSftpImport(a.id, { connectionId });
          else await automations.updateDatabaseIngestion(a.id, { connectionId });
          this.changed.add(a.id);
        }
      }
    });
  }

  /** The last wizard step: each table (or file pattern) becomes an ingestion, and the connector starts. */
  finalize(id: string, tables: string[]): Promise<Connector> {
    return this.step(id, [CONNECTION_CONFIGURED], async (em, connector) => {
      if (tables.length === 0) throw new BadUserInputError('tables', 'pick at least one table (or file pattern) to ingest');
      await this.addIngestions(em, connector, tables);
      connector.configurationStatus = FINALIZED;
      connector.status = ConnectorStatus.STARTED;
    });
  }

  /** Ingestion management: more tables (or file patterns). */
  addTables(id: string, tables: string[]): Promise<Connector> {
    return this.step(id, [FINALIZED], (em, connector) => this.addIngestions(em, connector, tables));
  }

  /** Ingestion management: an ingestion of this connector goes (its output datasource and data stay), as deleteAutomation deletes it. */
  async removeIngestion(id: string, automationId: string): Promise<Connector> {
    const connector = await this.load(this.em, id);
    if (connector.configurationStatus !== FINALIZED) throw new ConflictError('connectorId', `connector ${JSON.stringify(connector.name)} is at ${connector.configurationStatus}; ingestions are managed once it is FINALIZED`);
    if (!(await this.em.findOne(Automation, { id: automationId, connector: connector.id }, { fields: ['id'] }))) throw new NotFoundError('Ingestion', automationId, 'automationId');
    await this.automations(this.em).delete(automationId, this.deps.mayDeleteLive); // its own transaction, with the deletion rules
    await this.deps.automationChanged(automationId);
    return connector;
  }

  /** Ingestion management: one ingestion on (ACTIVE) or off (PAUSED), whatever the connector's own state. */
  setIngestionEnabled(id: string, automationId: string, enabled: boolean): Promise<Connector> {
    return this.step(id, [FINALIZED], async (em, connector) => {
      const a = await em.findOne(Automation, { id: automationId, connector: connector.id }, { fields: ['id'] });
      if (!a) throw new NotFoundError('Ingestion', automationId, 'automationId');
      await this.automations(em).setState(automationId, enabled ? AutomationState.ACTIVE : AutomationState.PAUSED);
      this.changed.add(automationId);
    });
  }

  /** Nothing of the connector runs until it is resumed: schedules stop, queued runs are held. */
  pause(id: string): Promise<Connector> {
    return this.lifecycle(id, [ConnectorStatus.STARTED, ConnectorStatus.ERROR], ConnectorStatus.PAUSED);
  }

  resume(id: string): Promise<Connector> {
    return this.lifecycle(id, [ConnectorStatus.PAUSED], ConnectorStatus.STARTED);
  }

  private async lifecycle(id: string, from: ConnectorStatus[], to: ConnectorStatus): Promise<Connector> {
    const connector = await this.write(async (em) => {
      const c = await this.load(em, id);
      if (c.status === to) return c; // idempotent
      if (!from.includes(c.status)) throw new ConflictError('connectorId', `connector ${JSON.stringify(c.name)} is ${c.status}${c.status === ConnectorStatus.CONFIGURING ? ' (finish its wizard first)' : ''}; it cannot become ${to}`);
      c.status = to;
      return c;
    });
    for (const a of await this.em.find(Automation, { connector: id }, { fields: ['id'] })) await this.deps.automationChanged(a.id);
    return connector;
  }

  private readonly changed = new Set<string>();

  /** Runs one wizard or management step on a connector whose configurationStatus is one of `at`, in one transaction. */
  private async step(id: string, at: ConnectorConfigurationStatus[], work: (em: EntityManager, connector: Connector) => Promise<void>): Promise<Connector> {
    this.changed.clear();
    const connector = await this.write(async (em) => {
      const c = await this.load(em, id);
      if (!c.configurationStatus || !at.includes(c.configurationStatus)) {
        throw new ConflictError('connectorId', `connector ${JSON.stringify(c.name)} is at ${c.configurationStatus ?? c.status}; this step needs ${at.join(' or ')}`);
      }
      await work(em, c);
      return c;
    });
    for (const automationId of this.changed) await this.deps.automationChanged(automationId);
    this.changed.clear();
    return connector;
  }

  private async addIngestions(em: EntityManager, connector: Connector, tables: string[]): Promise<void> {
    if (tables.length > MAX_TABLES) throw new BadUserInputError('tables', `at most ${MAX_TABLES} tables at once`);
    if (new Set(tables).size !== tables.length) throw new BadUserInputError('tables', 'a table is listed twice');
    if (!connector.connection) throw new ConflictError('connectorId', 'the connector has no connection yet');
    const connectionId = connector.connection.id;
    const datasources = new DatasourceService(em, this.deps.lineage, this.deps.files);
    const automations = this.automations(em);
    const schedule = connector.scheduleCron ? { cron: connector.scheduleCron, timezone: connector.scheduleTimezone } : null;
    for (const [i, table] of tables.entries()) {
      const field = `tables[${i}]`;
      const label = checkText(table, field, 300)?.trim();
      if (!label) throw new BadUserInputError(field, 'a table name (or file pattern) is required');
      const baseName = `${connector.tablePrefix ?? ''}${connector.type === ConnectionType.SFTP ? filesName(label) : label}`;
      if (await em.findOne(Datasource, { name: baseName }, { fields: ['id'] })) throw new ConflictError(field, `a datasource named ${JSON.stringify(baseName)} already exists: change the table prefix (configureConnector) or remove it`);
      const output = await datasources.create({ name: baseName, kind: DatasourceKind.STORAGE, description: `Ingested by the connector ${connector.name}`, tags: ['connector'] });
      const name = `${connector.name}: ${label}`.slice(0, LIMITS.name);
      const automation =
        connector.type === ConnectionType.SFTP
          ? await automations.createSftpImport({ name, connectionId, remoteDir: posix.dirname(label) || '.', filePattern: posix.basename(label), outputId: output.id, schedule, writeMode: 'APPEND' as never })
          : await automations.createDatabaseIngestion({ name, connectionId, table: label, outputId: output.id, schedule });
      automation.connector = ref(Connector, connector.id);
      await em.flush();
      this.changed.add(automation.id);
    }
  }

  private automations(em: EntityManager): AutomationService {
    return new AutomationService(em, this.deps.secrets, this.deps.lineage, undefined, this.deps.warehouse, this.deps.actorId);
  }

  private async load(em: EntityManager, id: string): Promise<Connector> {
    const connector = await em.findOne(Connector, { id });
    if (!connector) throw new NotFoundError('Connector', id, 'connectorId');
    return connector;
  }

  private write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return writeTransaction(this.em, 'a connector', work);
  }
}

function applyDestination(connector: Connector, input: ConnectorConfigInput): void {
  if (input.tablePrefix !== undefined) {
    const prefix = checkText(input.tablePrefix, 'tablePrefix', 100);
    if (prefix !== null && /[\u0000-\u001f]/.test(prefix)) throw new BadUserInputError('tablePrefix', 'tablePrefix must not contain control characters');
    connector.tablePrefix = prefix;
  }
  if (input.schedule !== undefined) {
    const holder = { scheduleCron: connector.scheduleCron, scheduleTimezone: connector.scheduleTimezone } as Automation;
    applySchedule(holder, input.schedule, 'schedule.');
    connector.scheduleCron = holder.scheduleCron ?? null;
    connector.scheduleTimezone = holder.scheduleTimezone ?? null;
  }
}

/** An SFTP pattern's datasource name: its file name without extension and wildcards ("in/orders-*.csv" → "orders"). */
export function filesName(pattern: string): string {
  const name = posix.basename(pattern).replace(/\.[^.*?[\]{}]+$/, '').replace(/[*?[\]{}]+/g, '').replace(/[-_. ]+$/, '').replace(/^[-_. ]+/, '');
  return name || 'files';
}
