import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';

/** Which kind of object a change touched. */
export enum ChangedEntity {
  DATASOURCE = 'DATASOURCE',
  AUTOMATION = 'AUTOMATION',
  /** Only the automation's last run status changed: the graph updates one field, not its links. */
  RUN_STATUS = 'RUN_STATUS',
}

/**
 * Allocates write versions. Every mutation increments it as its first statement, which also
 * takes SQLite's write lock, so checks made inside the transaction see a state nobody else can change.
 */
@Entity({ tableName: 'lineage_version' })
export class LineageVersion {
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  @Property({ type: 'integer' })
  version: number = 0;

  /** Changes below this version were pruned: a graph older than this rebuilds from scratch. */
  @Property({ type: 'integer' })
  prunedBelow: number = 0;
}

/**
 * One object touched by the mutation that committed `version`. Every server process reads the
 * changes after the version its in-memory lineage graph holds and reloads just those objects.
 */
@Entity({ tableName: 'lineage_change' })
export class LineageChange {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Index()
  @Property({ type: 'integer' })
  version!: number;

  @Enum({ items: () => ChangedEntity, type: 'string' })
  entity!: ChangedEntity;

  @Property({ type: 'string', length: 36 })
  entityId!: string;
}
