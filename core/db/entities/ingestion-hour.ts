import { DateTimeType, Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Automation } from './automation.js';

/**
 * What an ingestion (an SFTP import or a database ingestion) did in one UTC hour: the rows it
 * wrote and its runs, kept 90 days whatever RUN_RETENTION_DAYS keeps of the runs themselves. Added
 * to as each run ends, in the run's own transaction; statistics and anomalies are read from here.
 */
@Entity({ tableName: 'ingestion_hour' })
@Unique({ properties: ['automation', 'hour'] })
export class IngestionHour {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  automation!: Ref<Automation>;

  /** The hour's start (UTC) in which the runs ended. */
  @Property({ type: DateTimeType, index: true })
  hour!: Date;

  @Property({ type: 'integer' })
  rows: number = 0;

  @Property({ type: 'integer' })
  runs: number = 0;

  @Property({ type: 'integer' })
  failedRuns: number = 0;

  /** Sum of the runs' durations (ms). */
  @Property({ type: 'bigint' })
  durationMs: number = 0;

  /** The slowest run's duration (ms). */
  @Property({ type: 'integer' })
  maxDurationMs: number = 0;
}
