import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Connection } from './connection.js';
import { Connector } from './connector.js';
import { AutomationKind, AutomationState, ErrorPolicy, ErrorRecordFormat, RunStatus, WriteMode } from '../../enums.js';

/**
 * Root of the automation hierarchy: one table (`automation`), one row per automation,
 * `kind` tells which subclass (ETL step, SFTP import, script, chain task) a row is.
 * Declared inputs/outputs live in `automation_io`, chain steps in `chain_step`.
 */
@Entity({
  tableName: 'automation',
  discriminatorColumn: 'kind',
  // Explicit map: without it the root gets a discriminator value of its own and joined populates filter on it.
  discriminatorMap: { ETL_STEP: 'EtlStep', SFTP_IMPORT: 'SftpImport', SCRIPT: 'Script', CHAIN_TASK: 'ChainTask', DATABASE_TABLE: 'DatabaseIngestion', EXTERNAL_JOB: 'ExternalJob' },
})
export abstract class Automation {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  name!: string;

  @Enum({ items: () => AutomationKind, type: 'string' })
  kind!: AutomationKind;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  /** Cron expression (5 or 6 fields) of the own schedule, or null when unscheduled. */
  @Property({ type: 'string', length: 200, nullable: true })
  scheduleCron?: string | null;

  /** IANA time zone the cron expression is read in. */
  @Property({ type: 'string', length: 100, nullable: true })
  scheduleTimezone?: string | null;

  @Enum({ items: () => AutomationState, type: 'string' })
  state: AutomationState = AutomationState.ACTIVE;

  @Enum({ items: () => WriteMode, type: 'string', default: WriteMode.REPLACE })
  writeMode: WriteMode = WriteMode.REPLACE;

  @Property({ type: 'json', default: '[]' })
  writeKeys: string[] = [];

  @Enum({ items: () => ErrorPolicy, type: 'string', default: ErrorPolicy.FAIL_RUN })
  errorPolicy: ErrorPolicy = ErrorPolicy.FAIL_RUN;

  @Enum({ items: () => ErrorRecordFormat, type: 'string', default: ErrorRecordFormat.ORIGINAL_RECORD })
  errorRecordFormat: ErrorRecordFormat = ErrorRecordFormat.ORIGINAL_RECORD;

  /** SFTP imports and database ingestions: the stored credential they connect with (a used connection cannot be deleted). */
  @ManyToOne({ entity: () => Connection, ref: true, nullable: true, deleteRule: 'restrict' })
  connection?: Ref<Connection> | null;

  /** Ingestions a connector made: the connector whose pause stops them. */
  @ManyToOne({ entity: () => Connector, ref: true, nullable: true, deleteRule: 'restrict' })
  connector?: Ref<Connector> | null;

  /** The version in force (see AutomationVersion); null before the first one is recorded. */
  @Property({ type: 'string', length: 36, nullable: true })
  liveVersionId?: string | null;

  /**
   * Created while approval was required and never live since: the row holds no definition in
   * force (no inputs, outputs, steps or schedule), only its draft does; the graph leaves it out
   * and it cannot run.
   */
  @Property({ type: 'boolean', default: false })
  draftOnly: boolean = false;

  /** The highest version number given out: a discarded draft's number is never given again. */
  @Property({ type: 'integer', default: 0 })
  versionCount: number = 0;

  /** Status of the latest run, kept with the automation so the lineage graph and lists read it without a join. */
  @Enum({ items: () => RunStatus, type: 'string', nullable: true })
  lastRunStatus?: RunStatus | null;

  @Property({ type: DateTimeType })
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  modifiedAt: Date = new Date();
}
