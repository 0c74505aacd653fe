import { Migration } from '@mikro-orm/migrations';

/** Versions of automations with their review, the version in force on each automation, and the version each run ran. */
export class Migration20261128000000Versions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "automation_version" ("id" varchar(36) not null, "automation_id" varchar(36) not null, "number" int not null, "status" text check ("status" in ('DRAFT', 'AWAITING_APPROVAL', 'APPROVED', 'REJECTED', 'LIVE', 'RETIRED')) not null, "definition" jsonb not null, "author_id" varchar(36) null, "contributor_ids" jsonb not null default '[]', "created_at" timestamptz not null, "submitted_at" timestamptz null, "reviewed_by_id" varchar(36) null, "reviewed_at" timestamptz null, "review_comment" text null, "made_live_at" timestamptz null, "live_from" timestamptz null, "live_until" timestamptz null, constraint "automation_version_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "automation_version_status_automation_id_index" on "automation_version" ("status", "automation_id");`);
    this.addSql(`alter table "automation_version" add constraint "automation_version_automation_id_number_unique" unique ("automation_id", "number");`);
    this.addSql(
      `alter table "automation_version" add constraint "automation_version_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`alter table "automation" add column "live_version_id" varchar(36) null, add column "draft_only" boolean not null default false, add column "version_count" int not null default 0;`);
    this.addSql(`alter table "run" add column "version_id" varchar(36) null;`);
  }
}
