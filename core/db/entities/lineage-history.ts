import { DateTimeType, Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

// The lineage graph's tables as they were: one row per state an object had, from `validFrom` until
// `validUntil` (null: still so). Database triggers write them (migration LineageHistory) on every
// insert, update of a field the graph shows, and delete, whatever code or process made the change;
// the graph `asOf` a date is built from them (core/db/repositories/lineage-history.repository.ts). Ids are kept without foreign
// keys: a deleted object's past stays.

/** What every history row has: an id and the period its state held. */
abstract class Period {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: DateTimeType })
  validFrom!: Date;

  @Property({ type: DateTimeType, nullable: true })
  validUntil?: Date | null;
}

/** A datasource's name, kind, tags and join sources over a period. */
@Entity({ tableName: 'datasource_history' })
@Index({ properties: ['datasourceId', 'validUntil'] })
@Index({ properties: ['validFrom'] })
export class DatasourceHistory extends Period {
  @Property({ type: 'string', length: 36 })
  datasourceId!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'string', length: 16 })
  kind!: string;

  @Property({ type: 'json' })
  tags!: string[];

  @Property({ type: 'string', length: 36, nullable: true })
  joinLeftId?: string | null;

  @Property({ type: 'string', length: 36, nullable: true })
  joinRightId?: string | null;

  @Property({ type: 'text', nullable: true })
  producer?: string | null;
}

/** An automation's row (name, kind, state, schedule) over a period. */
@Entity({ tableName: 'automation_history' })
@Index({ properties: ['automationId', 'validUntil'] })
@Index({ properties: ['validFrom'] })
export class AutomationHistory extends Period {
  @Property({ type: 'string', length: 36 })
  automationId!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'string', length: 32 })
  kind!: string;

  @Property({ type: 'string', length: 16 })
  state!: string;

  @Property({ type: 'text', nullable: true })
  scheduleCron?: string | null;

  @Property({ type: 'string', length: 16, nullable: true })
  language?: string | null;

  @Property({ type: 'text', nullable: true })
  producer?: string | null;

  @Property({ type: 'boolean' })
  draftOnly!: boolean;
}

/** A declaration (automation_io row) over a period. */
@Entity({ tableName: 'automation_io_history' })
@Index({ properties: ['automationId', 'datasourceId', 'direction', 'validUntil'] })
@Index({ properties: ['validFrom'] })
export class AutomationIoHistory extends Period {
  @Property({ type: 'string', length: 36 })
  automationId!: string;

  @Property({ type: 'string', length: 36 })
  datasourceId!: string;

  @Property({ type: 'string', length: 16 })
  direction!: string;

  @Property({ type: 'integer' })
  position!: number;
}

/** A chain step over a period. */
@Entity({ tableName: 'chain_step_history' })
@Index({ properties: ['chainId', 'stepId', 'validUntil'] })
@Index({ properties: ['validFrom'] })
export class ChainStepHistory extends Period {
  @Property({ type: 'string', length: 36 })
  chainId!: string;

  @Property({ type: 'string', length: 36 })
  stepId!: string;

  @Property({ type: 'integer' })
  position!: number;
}
