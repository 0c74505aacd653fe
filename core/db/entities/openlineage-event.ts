import { DateTimeType, Entity, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Automation } from './automation.js';

/**
 * One OpenLineage event as received on `POST /api/v1/lineage`, kept as sent (bounded by the run
 * retention). `eventKey` (sha256 of the event's canonical JSON) makes a repeated event a no-op.
 */
@Entity({ tableName: 'openlineage_event' })
@Index({ properties: ['runId'] })
@Index({ properties: ['automation', 'eventTime'] })
export class OpenLineageEvent {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 64, unique: true })
  eventKey!: string;

  /** RUN, JOB or DATASET. */
  @Property({ type: 'string', length: 10 })
  kind!: string;

  /** RunEvents: START, RUNNING, COMPLETE, ABORT, FAIL or OTHER (null when the event gave none). */
  @Property({ type: 'string', length: 10, nullable: true })
  eventType?: string | null;

  @Property({ type: DateTimeType })
  eventTime!: Date;

  @Property({ type: DateTimeType, index: true })
  receivedAt: Date & Opt = new Date();

  /** The OpenLineage runId (RunEvents). */
  @Property({ type: 'string', length: 36, nullable: true })
  runId?: string | null;

  @Property({ type: 'text', nullable: true })
  jobNamespace?: string | null;

  @Property({ type: 'text', nullable: true })
  jobName?: string | null;

  /** The external job it is about (RunEvents and JobEvents); null once that job is deleted. */
  @ManyToOne({ entity: () => Automation, ref: true, nullable: true, deleteRule: 'set null' })
  automation?: Ref<Automation> | null;

  @Property({ type: 'text' })
  producer!: string;

  /** The API token that sent it. */
  @Property({ type: 'string', length: 36, nullable: true })
  receivedByToken?: string | null;

  /** The event's JSON as received. */
  @Property({ type: 'text' })
  payload!: string;
}
