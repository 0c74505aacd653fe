import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Automation } from './automation.js';
import { Datasource } from './datasource.js';
import { IoDirection } from '../../enums.js';

/** A datasource an automation declares as input or output. The FK forbids deleting a declared datasource. */
@Entity({ tableName: 'automation_io' })
@Unique({ properties: ['automation', 'datasource', 'direction'] })
@Index({ properties: ['datasource', 'direction'] })
export class AutomationIo {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  automation!: Ref<Automation>;

  @ManyToOne({ entity: () => Datasource, ref: true, deleteRule: 'restrict' })
  datasource!: Ref<Datasource>;

  @Enum({ items: () => IoDirection, type: 'string' })
  direction!: IoDirection;

  /** Order of the datasource in the automation's declaration. */
  @Property({ type: 'integer' })
  position!: number;
}

/** One step of a chain task: the chain triggers `step` at `position`. */
@Entity({ tableName: 'chain_step' })
@Unique({ properties: ['chain', 'position'] })
@Unique({ properties: ['chain', 'step'] })
export class ChainStep {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  chain!: Ref<Automation>;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'restrict' })
  step!: Ref<Automation>;

  @Property({ type: 'integer' })
  position!: number;
}

export enum ScriptTokenKind {
  /** A UUID anywhere in the code. */
  UUID = 'UUID',
  /** The content of a quoted string literal ('…', "…" or `…`). */
  LITERAL = 'LITERAL',
}

/**
 * Index of what a script's code may reference, written when the script is saved,
 * so the deletion check is one indexed lookup instead of a scan of every script.
 */
@Entity({ tableName: 'script_token' })
@Index({ properties: ['token', 'kind'] })
export class ScriptToken {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Automation, ref: true, deleteRule: 'cascade' })
  script!: Ref<Automation>;

  @Enum({ items: () => ScriptTokenKind, type: 'string' })
  kind!: ScriptTokenKind;

  @Property({ type: 'string', length: 200 })
  token!: string;
}
