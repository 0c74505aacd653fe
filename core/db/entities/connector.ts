import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { ConnectionType, ConnectorConfigurationStatus, ConnectorStatus } from '../../enums.js';
import { Connection } from './connection.js';

/**
 * The ingestions of one source system, with the lifecycle of seed 002: a wizard (prerequisites →
 * connector configuration → connection configuration → finalization) while `CONFIGURING`, then
 * `STARTED` or `PAUSED`. Its ingestions are automations (`Automation.connector`).
 */
@Entity({ tableName: 'connector' })
export class Connector {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  name!: string;

  /** The source system's kind; its connection must be of the same type. */
  @Enum({ items: () => ConnectionType, type: 'string' })
  type!: ConnectionType;

  @Enum({ items: () => ConnectorStatus, type: 'string' })
  status: ConnectorStatus = ConnectorStatus.CONFIGURING;

  /** The wizard step reached; null once the wizard is done. */
  @Enum({ items: () => ConnectorConfigurationStatus, type: 'string', nullable: true })
  configurationStatus?: ConnectorConfigurationStatus | null = ConnectorConfigurationStatus.PREREQUISITES;

  /** The prerequisites checklist was confirmed (the wizard's first step). */
  @Property({ type: 'boolean', default: false })
  prerequisitesDone: boolean = false;

  /** Destination: what the output datasources' names start with. */
  @Property({ type: 'string', length: 100, nullable: true })
  tablePrefix?: string | null;

  /** Default schedule of the ingestions it makes. */
  @Property({ type: 'string', length: 200, nullable: true })
  scheduleCron?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  scheduleTimezone?: string | null;

  @ManyToOne({ entity: () => Connection, ref: true, nullable: true, deleteRule: 'restrict' })
  connection?: Ref<Connection> | null;

  /** Why the connector is in ERROR (its connection stopped working). */
  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: DateTimeType })
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  modifiedAt: Date = new Date();
}
