import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { DatasourceKind, JoinType } from '../../enums.js';

/** A column of a datasource, as stored in its `columns` JSON. */
export class Column {
  name!: string;
  type!: string;
}

/** A table in the warehouse (STORAGE), a file on disk (FILE) or a virtual join of two datasources (JOIN). */
@Entity({ tableName: 'datasource' })
export class Datasource {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  name!: string;

  @Enum({ items: () => DatasourceKind, type: 'string' })
  kind!: DatasourceKind;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Property({ type: 'json' })
  tags: string[] = [];

  @Property({ type: 'text', nullable: true })
  path?: string | null;

  @Property({ type: 'json' })
  columns: Column[] = [];

  @Property({ type: 'integer', nullable: true })
  rowCount?: number | null;

  @Property({ type: DateTimeType, nullable: true })
  updatedAt?: Date | null;

  @ManyToOne({ entity: () => Datasource, nullable: true, ref: true, deleteRule: 'restrict' })
  joinLeft?: Ref<Datasource> | null;

  @ManyToOne({ entity: () => Datasource, nullable: true, ref: true, deleteRule: 'restrict' })
  joinRight?: Ref<Datasource> | null;

  @Property({ type: 'string', length: 200, nullable: true })
  joinLeftKey?: string | null;

  @Property({ type: 'string', length: 200, nullable: true })
  joinRightKey?: string | null;

  @Enum({ items: () => JoinType, type: 'string', nullable: true })
  joinType?: JoinType | null;

  /** EXTERNAL: the OpenLineage dataset's namespace and name, and who last described it. */
  @Property({ type: 'text', nullable: true })
  olNamespace?: string | null;

  @Property({ type: 'text', nullable: true })
  olName?: string | null;

  /** EXTERNAL: sha256 of namespace and name (api/openlineage/naming.ts), the dataset's identity. */
  @Property({ type: 'string', length: 64, nullable: true, unique: true })
  olKey?: string | null;

  @Property({ type: 'text', nullable: true })
  producer?: string | null;

  @Property({ type: DateTimeType })
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  modifiedAt: Date = new Date();
}
