import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique, type Opt, type Ref } from '@mikro-orm/core';
import { Automation } from './automation.js';
import { VersionStatus } from '../../enums.js';

/**
 * One version of an automation: an immutable snapshot of its definition (see core/versions),
 * numbered from 1, with its place in the review flow. An automation has at most one DRAFT (the
 * only version edits change) and at most one LIVE version (the one its row holds, which the
 * schedule, the graph and new runs use).
 */
@Entity({ tableName: 'automation_version' })
@Unique({ properties: ['automation', 'number'] })
@Index({ properties: ['status', 'automation'] })
export class AutomationVersion {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  automation!: Ref<Automation>;

  @Property({ type: 'integer' })
  number!: number;

  @Enum({ items: () => VersionStatus, type: 'string' })
  status!: VersionStatus;

  /** The definition (core/versions/definition.ts), secrets sealed as the automation row keeps them. */
  @Property({ type: 'json' })
  definition!: Record<string, unknown>;

  /** Who made it (its first edit): a user id, null for one recorded by the server itself. */
  @Property({ type: 'string', length: 36, nullable: true })
  authorId?: string | null;

  /** Everyone whose edits it holds (its author first): none of them may review it unless self-approval is allowed. */
  @Property({ type: 'json', default: '[]' })
  contributorIds: string[] & Opt = [];

  @Property({ type: DateTimeType })
  createdAt: Date & Opt = new Date();

  @Property({ type: DateTimeType, nullable: true })
  submittedAt?: Date | null;

  @Property({ type: 'string', length: 36, nullable: true })
  reviewedById?: string | null;

  @Property({ type: DateTimeType, nullable: true })
  reviewedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  reviewComment?: string | null;

  /** When makeLive was asked (the start of its latest live period). */
  @Property({ type: DateTimeType, nullable: true })
  madeLiveAt?: Date | null;

  /** When it took over: at makeLive, or once the runs of the former version in flight then had finished. */
  @Property({ type: DateTimeType, nullable: true })
  liveFrom?: Date | null;

  /** When its latest live period ended (another version went live). */
  @Property({ type: DateTimeType, nullable: true })
  liveUntil?: Date | null;
}
