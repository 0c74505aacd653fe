import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, InterfaceType } from 'type-graphql';
import { AutomationKind, AutomationState, ErrorPolicy, ErrorRecordFormat, RunStatus, WriteMode } from './enums.js';

/**
 * Root of the automation hierarchy: one table (`automation`), one row per automation,
 * `kind` tells which subclass (ETL step, SFTP import, script, chain task) a row is.
 * Declared inputs/outputs live in `automation_io`, chain steps in `chain_step`.
 */
@Entity({
  tableName: 'automation',
  discriminatorColumn: 'kind',
  // Explicit map: without it the root gets a discriminator value of its own and joined populates filter on it.
  discriminatorMap: { ETL_STEP: 'EtlStep', SFTP_IMPORT: 'SftpImport', SCRIPT: 'Script', CHAIN_TASK: 'ChainTask' },
})
@InterfaceType('Automation', {
  resolveType: (value: Automation) => AUTOMATION_TYPE_NAMES[value.kind],
})
export abstract class Automation {
  @PrimaryKey({ type: 'uuid' })
  @Field(() => ID)
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  @Field(() => String)
  name!: string;

  @Enum({ items: () => AutomationKind, type: 'string' })
  @Field(() => AutomationKind)
  kind!: AutomationKind;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true })
  description?: string | null;

  /** Cron expression (5 or 6 fields) of the own schedule, or null when unscheduled. */
  @Property({ type: 'string', length: 200, nullable: true })
  scheduleCron?: string | null;

  /** IANA time zone the cron expression is read in. */
  @Property({ type: 'string', length: 100, nullable: true })
  scheduleTimezone?: string | null;

  @Enum({ items: () => AutomationState, type: 'string' })
  @Field(() => AutomationState)
  state: AutomationState = AutomationState.ACTIVE;

  @Enum({ items: () => WriteMode, type: 'string', default: WriteMode.REPLACE })
  @Field(() => WriteMode, { description: 'How rows land in the output (data automations; chain tasks have no output)' })
  writeMode: WriteMode = WriteMode.REPLACE;

  @Property({ type: 'json', default: '[]' })
  @Field(() => [String], { description: 'Key columns for UPSERT' })
  writeKeys: string[] = [];

  @Enum({ items: () => ErrorPolicy, type: 'string', default: ErrorPolicy.FAIL_RUN })
  @Field(() => ErrorPolicy, { description: 'What a run does with rows it cannot read' })
  errorPolicy: ErrorPolicy = ErrorPolicy.FAIL_RUN;

  @Enum({ items: () => ErrorRecordFormat, type: 'string', default: ErrorRecordFormat.ORIGINAL_RECORD })
  @Field(() => ErrorRecordFormat, { description: 'TO_DATASOURCE: how a rejected row is written' })
  errorRecordFormat: ErrorRecordFormat = ErrorRecordFormat.ORIGINAL_RECORD;

  /** Status of the latest run, kept with the automation so the lineage graph and lists read it without a join. */
  @Enum({ items: () => RunStatus, type: 'string', nullable: true })
  @Field(() => RunStatus, { nullable: true, description: 'Status of the latest run; null when it never ran' })
  lastRunStatus?: RunStatus | null;

  @Property({ type: DateTimeType })
  @Field(() => Date)
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  @Field(() => Date)
  modifiedAt: Date = new Date();
}

/** GraphQL object type name of each automation kind. */
export const AUTOMATION_TYPE_NAMES: Record<AutomationKind, string> = {
  [AutomationKind.ETL_STEP]: 'EtlStep',
  [AutomationKind.SFTP_IMPORT]: 'SftpImport',
  [AutomationKind.SCRIPT]: 'Script',
  [AutomationKind.CHAIN_TASK]: 'ChainTask',
};
