import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DatasourceKind, JoinType } from './enums.js';

@ObjectType('Column', { description: 'A column of a datasource' })
export class Column {
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
}

/** A table in the warehouse (STORAGE), a file on disk (FILE) or a virtual join of two datasources (JOIN). */
@Entity({ tableName: 'datasource' })
@ObjectType('Datasource')
export class Datasource {
  @PrimaryKey({ type: 'uuid' })
  @Field(() => ID)
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  @Field(() => String)
  name!: string;

  @Enum({ items: () => DatasourceKind, type: 'string' })
  @Field(() => DatasourceKind)
  kind!: DatasourceKind;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true })
  description?: string | null;

  @Property({ type: 'json' })
  @Field(() => [String])
  tags: string[] = [];

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'FILE only: path of the CSV or JSON-lines file' })
  path?: string | null;

  @Property({ type: 'json' })
  @Field(() => [Column])
  columns: Column[] = [];

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true })
  rowCount?: number | null;

  @Property({ type: DateTimeType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When its data last changed' })
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

  @Property({ type: DateTimeType })
  @Field(() => Date)
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  @Field(() => Date, { description: 'When its definition last changed' })
  modifiedAt: Date = new Date();
}
