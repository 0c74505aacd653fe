import { Migration } from '@mikro-orm/migrations';

/**
 * Connections (the credential store) and connectors; database ingestions (a new automation kind)
 * and their hourly statistics.
 * Each SFTP import's host, user and sealed secrets move into a connection of its own (same id and
 * name as the import, secrets copied sealed), and its versions select that connection.
 */
export class Migration20261128300000Connections extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "connection" ("id" varchar(36) not null, "name" varchar(200) not null, "type" text check ("type" in (\'SFTP\', \'POSTGRES\', \'MYSQL\')) not null, "description" text null, "host" varchar(255) not null, "port" int not null, "username" varchar(200) not null, "database" varchar(200) null, "password_sealed" text null, "private_key_sealed" text null, "owner_automation_id" varchar(36) null, "created_at" timestamptz not null, "modified_at" timestamptz not null, constraint "connection_pkey" primary key ("id"));',
    );
    this.addSql('alter table "connection" add constraint "connection_name_unique" unique ("name");');
    this.addSql(
      'create table "connector" ("id" varchar(36) not null, "name" varchar(200) not null, "type" text check ("type" in (\'SFTP\', \'POSTGRES\', \'MYSQL\')) not null, "status" text check ("status" in (\'INSTALLED\', \'CONFIGURING\', \'STARTED\', \'PAUSED\', \'ERROR\')) not null default \'CONFIGURING\', "configuration_status" text check ("configuration_status" in (\'PREREQUISITES\', \'CONNECTOR_CONFIGURED\', \'CONNECTION_CONFIGURED\', \'FINALIZED\')) null default \'PREREQUISITES\', "prerequisites_done" boolean not null default false, "table_prefix" varchar(100) null, "schedule_cron" varchar(200) null, "schedule_timezone" varchar(100) null, "connection_id" varchar(36) null, "last_error" text null, "created_at" timestamptz not null, "modified_at" timestamptz not null, constraint "connector_pkey" primary key ("id"));',
    );
    this.addSql('alter table "connector" add constraint "connector_name_unique" unique ("name");');
    this.addSql('alter table "connector" add constraint "connector_connection_id_foreign" foreign key ("connection_id") references "connection" ("id") on update cascade on delete restrict;');

    this.addSql('alter table "automation" drop constraint if exists "automation_kind_check";');
    this.addSql('alter table "automation" add constraint "automation_kind_check" check("kind" in (\'ETL_STEP\', \'SFTP_IMPORT\', \'SCRIPT\', \'CHAIN_TASK\', \'DATABASE_TABLE\'));');
    this.addSql('alter table "automation" add column "connection_id" varchar(36) null, add column "connector_id" varchar(36) null, add column "source_table" varchar(300) null, add column "query" text null, add column "cursor_column" varchar(200) null;');
    this.addSql('alter table "automation" add constraint "automation_connection_id_foreign" foreign key ("connection_id") references "connection" ("id") on update cascade on delete restrict;');
    this.addSql('alter table "automation" add constraint "automation_connector_id_foreign" foreign key ("connector_id") references "connector" ("id") on update cascade on delete restrict;');
    this.addSql('create index "automation_connection_id_index" on "automation" ("connection_id");');
    this.addSql('create index "automation_connector_id_index" on "automation" ("connector_id");');

    this.addSql(
      'create table "ingestion_hour" ("id" serial primary key, "automation_id" varchar(36) not null, "hour" timestamptz not null, "rows" int not null default 0, "runs" int not null default 0, "failed_runs" int not null default 0, "duration_ms" bigint not null default 0, "max_duration_ms" int not null default 0);',
    );
    this.addSql('create index "ingestion_hour_hour_index" on "ingestion_hour" ("hour");');
    this.addSql('alter table "ingestion_hour" add constraint "ingestion_hour_automation_id_hour_unique" unique ("automation_id", "hour");');
    this.addSql('alter table "ingestion_hour" add constraint "ingestion_hour_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete cascade;');

    this.addSql(
      'insert into "connection" ("id", "name", "type", "description", "host", "port", "username", "database", "password_sealed", "private_key_sealed", "owner_automation_id", "created_at", "modified_at") select "id", "name", \'SFTP\', \'Moved out of the SFTP import \' || "name" || \' when connections came\', coalesce("host", \'\'), coalesce("port", 22), coalesce("username", \'\'), null, "password_sealed", "private_key_sealed", "id", "created_at", "modified_at" from "automation" where "kind" = \'SFTP_IMPORT\';',
    );
    this.addSql('update "automation" set "connection_id" = "id" where "kind" = \'SFTP_IMPORT\';');
    this.addSql(
      'update "automation_version" set "definition" = ((("definition"::jsonb - \'host\' - \'port\' - \'username\' - \'passwordSealed\' - \'privateKeySealed\') || jsonb_build_object(\'connectionId\', "automation_id"))) where "definition"->>\'kind\' = \'SFTP_IMPORT\';',
    );
    this.addSql('alter table "automation" drop column "host", drop column "port", drop column "username", drop column "password_sealed", drop column "private_key_sealed";');
  }
}
