import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, PrimaryKey, Property } from '@mikro-orm/core';

export interface TemplateParameter {
  name: string;
  description: string;
  /** Null: the parameter must be given. */
  default: string | null;
}

/**
 * A workspace's own template (saveAsTemplate): flows in the export format (objects naming each
 * other), from which createFromTemplate makes new objects. The built-in templates live in code.
 */
@Entity({ tableName: 'template' })
export class Template {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Property({ type: 'json' })
  parameters: TemplateParameter[] = [];

  /** The objects, as export files hold them (api/services/portability/format.ts). */
  @Property({ type: 'json' })
  objects: unknown[] = [];

  @Property({ type: 'string', length: 36, nullable: true })
  createdById?: string | null;

  @Property({ type: DateTimeType })
  createdAt: Date = new Date();
}
