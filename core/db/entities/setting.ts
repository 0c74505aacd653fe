import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/** One server-wide setting, by key (e.g. the check value of the secret key every process must share). */
@Entity({ tableName: 'setting' })
export class Setting {
  @PrimaryKey({ type: 'string', length: 100 })
  key!: string;

  @Property({ type: 'text' })
  value!: string;
}
