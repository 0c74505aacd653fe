import { Migration } from '@mikro-orm/migrations';

/**
 * OpenLineage (#18): received events, external jobs (an automation kind) and datasets (a
 * datasource kind) with their namespace and name, external runs' ids, and the LINEAGE_WRITER
 * token scope.
 */
export class Migration20261129000000OpenLineage extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "openlineage_event" ("id" serial primary key, "event_key" varchar(64) not null, "kind" varchar(10) not null, "event_type" varchar(10) null, "event_time" timestamptz not null, "received_at" timestamptz not null, "run_id" varchar(36) null, "job_namespace" text null, "job_name" text null, "automation_id" varchar(36) null, "producer" text not null, "received_by_token" varchar(36) null, "payload" text not null);',
    );
    this.addSql('alter table "openlineage_event" add constraint "openlineage_event_event_key_unique" unique ("event_key");');
    this.addSql('create index "openlineage_event_received_at_index" on "openlineage_event" ("received_at");');
    this.addSql('create index "openlineage_event_automation_id_event_time_index" on "openlineage_event" ("automation_id", "event_time");');
    this.addSql('create index "openlineage_event_run_id_index" on "openlineage_event" ("run_id");');
    this.addSql('alter table "openlineage_event" add constraint "openlineage_event_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete set null;');

    this.addSql('alter table "automation" drop constraint if exists "automation_kind_check";');
    this.addSql('alter table "automation" add constraint "automation_kind_check" check("kind" in (\'ETL_STEP\', \'SFTP_IMPORT\', \'SCRIPT\', \'CHAIN_TASK\', \'DATABASE_TABLE\', \'EXTERNAL_JOB\'));');
    this.addSql('alter table "datasource" drop constraint if exists "datasource_kind_check";');
    this.addSql('alter table "datasource" add constraint "datasource_kind_check" check("kind" in (\'STORAGE\', \'FILE\', \'JOIN\', \'EXTERNAL\'));');
    this.addSql('alter table "run" drop constraint if exists "run_trigger_check";');
    this.addSql('alter table "run" add constraint "run_trigger_check" check("trigger" in (\'SCHEDULE\', \'MANUAL\', \'CHAIN\', \'EXTERNAL\'));');

    for (const table of ['automation', 'datasource']) {
      this.addSql(`alter table "${table}" add column "ol_namespace" text null, add column "ol_name" text null, add column "ol_key" varchar(64) null, add column "producer" text null;`);
      this.addSql(`alter table "${table}" add constraint "${table}_ol_key_unique" unique ("ol_key");`);
    }
    this.addSql('alter table "run" add column "external_run_id" varchar(36) null;');
    this.addSql('create index "run_external_run_id_index" on "run" ("external_run_id");');
    this.addSql('alter table "api_token" add column "scope" text check ("scope" in (\'LINEAGE_WRITER\')) null;');

    this.addSql(
      'create table "run_dataset" ("id" serial primary key, "run_id" varchar(36) not null, "automation_id" varchar(36) not null, "datasource_id" varchar(36) not null, "direction" text check ("direction" in (\'INPUT\', \'OUTPUT\', \'ERRORS\')) not null, "at" timestamptz not null);',
    );
    this.addSql('create index "run_dataset_automation_id_datasource_id_index" on "run_dataset" ("automation_id", "datasource_id");');
    this.addSql('create index "run_dataset_datasource_id_index" on "run_dataset" ("datasource_id");');
    this.addSql('alter table "run_dataset" add constraint "run_dataset_run_id_datasource_id_direction_unique" unique ("run_id", "datasource_id", "direction");');
    this.addSql('alter table "run_dataset" add constraint "run_dataset_run_id_foreign" foreign key ("run_id") references "run" ("id") on update cascade on delete cascade;');
    this.addSql('alter table "run_dataset" add constraint "run_dataset_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete cascade;');
    this.addSql('alter table "run_dataset" add constraint "run_dataset_datasource_id_foreign" foreign key ("datasource_id") references "datasource" ("id") on update cascade on delete cascade;');
  }
}
