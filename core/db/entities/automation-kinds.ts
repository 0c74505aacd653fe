import { Entity, Enum, Property } from '@mikro-orm/core';
import { Automation } from './automation.js';
import { AfterImport, AutomationKind, ScriptLanguage } from '../../enums.js';

/** One input datasource → one output datasource, through a transformation. */
@Entity({ discriminatorValue: AutomationKind.ETL_STEP })
export class EtlStep extends Automation {
  @Property({ type: 'json', nullable: true })
  transform: Record<string, unknown> = {};
}

/** Imports files from an SFTP server (its connection) into one output datasource. */
@Entity({ discriminatorValue: AutomationKind.SFTP_IMPORT })
export class SftpImport extends Automation {
  /** Set by the update that cleared its connection's stored secrets; never stored (loaded entities skip initializers, hence optional). */
  secretsCleared?: boolean;

  get credentialsDropped(): boolean {
    return this.secretsCleared === true;
  }

  @Property({ type: 'text', nullable: true })
  remoteDir: string = '.';

  @Property({ type: 'string', length: 500, nullable: true })
  filePattern: string = '*';

  @Property({ type: 'string', length: 100, nullable: true })
  hostKeyFingerprint?: string | null;

  @Enum({ items: () => AfterImport, type: 'string', nullable: true, default: AfterImport.KEEP })
  afterImport: AfterImport = AfterImport.KEEP;

  @Property({ type: 'text', nullable: true })
  moveToDir?: string | null;
}

/**
 * Reads a table, or the rows of a SELECT, from a POSTGRES or MYSQL connection into one STORAGE
 * output: all of it each run, or (with a cursor column) only the rows past the last value seen.
 */
@Entity({ discriminatorValue: AutomationKind.DATABASE_TABLE })
export class DatabaseIngestion extends Automation {
  /** The source table, "name" or "schema.name"; null when a query is given. */
  @Property({ type: 'string', length: 300, nullable: true })
  sourceTable?: string | null;

  /** A SELECT read instead of a table. */
  @Property({ type: 'text', nullable: true })
  query?: string | null;

  /** Incremental: the column whose values only grow; each run reads the rows past the last one seen. */
  @Property({ type: 'string', length: 200, nullable: true })
  cursorColumn?: string | null;
}

/** User code with declared inputs and outputs (its "Usage"). */
@Entity({ discriminatorValue: AutomationKind.SCRIPT })
export class Script extends Automation {
  @Enum({ items: () => ScriptLanguage, type: 'string', nullable: true })
  language!: ScriptLanguage;

  @Property({ type: 'text', nullable: true })
  code: string = '';

  @Property({ type: 'json', nullable: true })
  variables?: Record<string, unknown> | null;

  @Property({ type: 'integer', nullable: true, default: 600 })
  timeoutSeconds: number = 600;

  @Property({ type: 'integer', nullable: true, default: 512 })
  memoryMb: number = 512;
}

/** Triggers an ordered list of automations (chain tasks included). */
@Entity({ discriminatorValue: AutomationKind.CHAIN_TASK })
export class ChainTask extends Automation {
  @Property({ type: 'boolean', nullable: true })
  continueOnFailure: boolean = false;
}

/**
 * A job known from OpenLineage events (namespace and name): its inputs, outputs and runs come from
 * the events; Tributary draws and follows it but never runs, schedules or versions it.
 */
@Entity({ discriminatorValue: AutomationKind.EXTERNAL_JOB })
export class ExternalJob extends Automation {
  @Property({ type: 'text', nullable: true })
  olNamespace!: string;

  @Property({ type: 'text', nullable: true })
  olName!: string;

  /** sha256 of namespace and name (api/openlineage/naming.ts): the job's identity. */
  @Property({ type: 'string', length: 64, nullable: true, unique: true })
  olKey!: string;

  /** The `producer` URI of the latest event about it (Airflow, Spark, dbt, another Tributary…). */
  @Property({ type: 'text', nullable: true })
  producer?: string | null;
}
