import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Automation } from './automation.js';

export interface Parameter {
  name: string;
  value: string;
}

/**
 * A named set of string parameters, shared by the automations it is attached to: `${set__param}`
 * in their settings (and in FILE datasource paths) is replaced by the value when they run or
 * preview. Values are not secrets: they are shown, exported and written to run logs.
 */
@Entity({ tableName: 'parameter_set' })
export class ParameterSet {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 100, unique: true })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  /** In the order given; names unique within the set. */
  @Property({ type: 'json' })
  parameters: Parameter[] = [];

  @Property({ type: DateTimeType })
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  modifiedAt: Date = new Date();
}

/** A parameter set attached to an automation (its live definition); the FK keeps an attached set from being deleted. */
@Entity({ tableName: 'automation_parameter_set' })
@Unique({ properties: ['automation', 'parameterSet'] })
export class AutomationParameterSet {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  automation!: Ref<Automation>;

  @ManyToOne({ entity: () => ParameterSet, ref: true, deleteRule: 'restrict' })
  parameterSet!: Ref<ParameterSet>;

  @Property({ type: 'integer' })
  position!: number;
}
