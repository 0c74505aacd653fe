import { Migration } from '@mikro-orm/migrations';

/** A workspace's own templates (saveAsTemplate). */
export class Migration20261128200000Templates extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "template" ("id" varchar(36) not null, "name" varchar(200) not null, "description" text null, "parameters" jsonb not null, "objects" jsonb not null, "created_by_id" varchar(36) null, "created_at" timestamptz not null, constraint "template_pkey" primary key ("id"));',
    );
    this.addSql('alter table "template" add constraint "template_name_unique" unique ("name");');
  }
}
