import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique, type Opt, type Ref } from '@mikro-orm/core';
import { Automation } from './automation.js';
import { Datasource } from './datasource.js';
import { IoDirection, RunStatus, RunTrigger } from '../../enums.js';

/**
 * One execution of an automation. A chain task's run has a child run per step (`parentRun`).
 * Status moves QUEUED → RUNNING → SUCCESS | FAILED | CANCELLED (or QUEUED → CANCELLED).
 */
@Entity({ tableName: 'run' })
@Index({ properties: ['automation', 'queuedAt'] })
@Index({ properties: ['status', 'automation'] })
@Index({ properties: ['finishedAt'] })
export class Run {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  automation!: Ref<Automation>;

  @Enum({ items: () => RunStatus, type: 'string' })
  status: RunStatus & Opt = RunStatus.QUEUED;

  @Enum({ items: () => RunTrigger, type: 'string' })
  trigger!: RunTrigger;

  /** The user who started a manual run (by hand or with their API token); null for schedules and chains. */
  @Property({ type: 'string', length: 36, nullable: true })
  startedById?: string | null;

  /** The version of the automation it ran (AutomationVersion id), set when it starts. */
  @Property({ type: 'string', length: 36, nullable: true })
  versionId?: string | null;

  /** An external job's run: the OpenLineage runId its events carry. */
  @Property({ type: 'string', length: 36, nullable: true, index: true })
  externalRunId?: string | null;

  @ManyToOne({ entity: () => Run, ref: true, nullable: true, deleteRule: 'cascade' })
  parentRun?: Ref<Run> | null;

  @Property({ type: DateTimeType })
  queuedAt: Date & Opt = new Date();

  @Property({ type: DateTimeType, nullable: true })
  startedAt?: Date | null;

  @Property({ type: DateTimeType, nullable: true })
  finishedAt?: Date | null;

  @Property({ type: 'integer', nullable: true })
  rowsRead?: number | null;

  @Property({ type: 'integer', nullable: true })
  rowsWritten?: number | null;

  @Property({ type: 'integer', nullable: true })
  errorRecords?: number | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;

  @Property({ type: 'integer', default: 0 })
  coalesced: number & Opt = 0;

  /** Process running it ("host:pid:start"), for telling a dead worker's run from a live one's. */
  @Property({ type: 'string', length: 300, nullable: true })
  worker?: string | null;

  /** Last time the running process said it was alive. */
  @Property({ type: DateTimeType, nullable: true })
  heartbeatAt?: Date | null;

  /** Set by stopAutomation; the process running it aborts the run at its next check. */
  @Property({ type: 'boolean', default: false })
  cancelRequested: boolean & Opt = false;

  /** Lines written to run_log (the log is bounded; lines beyond the cap are counted, not kept). */
  @Property({ type: 'integer', default: 0 })
  logLines: number & Opt = 0;
}

/** One line of a run's log. */
@Entity({ tableName: 'run_log' })
export class RunLog {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Run, ref: true, deleteRule: 'cascade' })
  run!: Ref<Run>;

  @Property({ type: 'text' })
  line!: string;
}

/**
 * A datasource a run really read or wrote (observed lineage), one row per run, datasource and
 * direction: for an external job's run, every dataset its events named.
 */
@Entity({ tableName: 'run_dataset' })
@Unique({ properties: ['run', 'datasource', 'direction'] })
@Index({ properties: ['automation', 'datasource'] })
export class RunDataset {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Run, ref: true, deleteRule: 'cascade' })
  run!: Ref<Run>;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  automation!: Ref<Automation>;

  @ManyToOne({ entity: () => Datasource, ref: true, deleteRule: 'cascade' })
  datasource!: Ref<Datasource>;

  @Enum({ items: () => IoDirection, type: 'string' })
  direction!: IoDirection;

  /** When the run was seen using it. */
  @Property({ type: DateTimeType })
  at!: Date;
}
