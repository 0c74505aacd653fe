import { Migration } from '@mikro-orm/migrations';

/**
 * The whole schema on PostgreSQL, as the SQLite migrations had built it by 2026-11-22 (MikroORM's
 * schema generator from the entities), with two differences that keep behaviour identical to
 * SQLite: names compare and sort byte by byte (collate "C", SQLite's BINARY), and the foreign keys
 * that deletes and cascades look up are indexed (SQLite gets those from MikroORM by itself).
 * PostgreSQL's own migrations continue from here.
 */
export class Migration20261127000000PostgresInitial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "automation" ("id" varchar(36) not null, "name" varchar(200) collate "C" not null, "kind" text check ("kind" in ('ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK')) not null, "description" text null, "schedule_cron" varchar(200) null, "schedule_timezone" varchar(100) null, "state" text check ("state" in ('ACTIVE', 'PAUSED', 'STOPPED', 'DEACTIVATED')) not null default 'ACTIVE', "write_mode" text check ("write_mode" in ('REPLACE', 'APPEND', 'UPSERT')) not null default 'REPLACE', "write_keys" jsonb not null default '[]', "error_policy" text check ("error_policy" in ('FAIL_RUN', 'DISCARD', 'TO_DATASOURCE')) not null default 'FAIL_RUN', "error_record_format" text check ("error_record_format" in ('ORIGINAL_RECORD', 'STAGE_RECORD')) not null default 'ORIGINAL_RECORD', "last_run_status" text check ("last_run_status" in ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED')) null, "created_at" timestamptz not null, "modified_at" timestamptz not null, "transform" jsonb null, "host" varchar(255) null, "port" int null default 22, "username" varchar(200) null, "password_sealed" text null, "private_key_sealed" text null, "remote_dir" text null default '.', "file_pattern" varchar(500) null default '*', "host_key_fingerprint" varchar(100) null, "after_import" text check ("after_import" in ('KEEP', 'DELETE', 'MOVE')) null default 'KEEP', "move_to_dir" text null, "language" text check ("language" in ('JAVASCRIPT', 'PYTHON')) null, "code" text null default '', "variables" jsonb null, "timeout_seconds" int null default 600, "memory_mb" int null default 512, "continue_on_failure" boolean null default false, constraint "automation_pkey" primary key ("id"));`);
    this.addSql(`alter table "automation" add constraint "automation_name_unique" unique ("name");`);
    this.addSql(`create index "automation_kind_index" on "automation" ("kind");`);
    this.addSql(`create table "chain_step" ("id" serial primary key, "chain_id" varchar(36) not null, "step_id" varchar(36) not null, "position" int not null);`);
    this.addSql(`alter table "chain_step" add constraint "chain_step_chain_id_step_id_unique" unique ("chain_id", "step_id");`);
    this.addSql(`alter table "chain_step" add constraint "chain_step_chain_id_position_unique" unique ("chain_id", "position");`);
    this.addSql(`create table "datasource" ("id" varchar(36) not null, "name" varchar(200) collate "C" not null, "kind" text check ("kind" in ('STORAGE', 'FILE', 'JOIN')) not null, "description" text null, "tags" jsonb not null, "path" text null, "columns" jsonb not null, "row_count" int null, "updated_at" timestamptz null, "join_left_id" varchar(36) null, "join_right_id" varchar(36) null, "join_left_key" varchar(200) null, "join_right_key" varchar(200) null, "join_type" text check ("join_type" in ('INNER', 'LEFT')) null, "created_at" timestamptz not null, "modified_at" timestamptz not null, constraint "datasource_pkey" primary key ("id"));`);
    this.addSql(`alter table "datasource" add constraint "datasource_name_unique" unique ("name");`);
    this.addSql(`create table "automation_io" ("id" serial primary key, "automation_id" varchar(36) not null, "datasource_id" varchar(36) not null, "direction" text check ("direction" in ('INPUT', 'OUTPUT', 'ERRORS')) not null, "position" int not null);`);
    this.addSql(`create index "automation_io_datasource_id_direction_index" on "automation_io" ("datasource_id", "direction");`);
    this.addSql(`alter table "automation_io" add constraint "automation_io_automation_id_datasource_id_direction_unique" unique ("automation_id", "datasource_id", "direction");`);
    this.addSql(`create table "lineage_change" ("id" serial primary key, "version" int not null, "entity" text check ("entity" in ('DATASOURCE', 'AUTOMATION', 'RUN_STATUS')) not null, "entity_id" varchar(36) not null);`);
    this.addSql(`create index "lineage_change_version_index" on "lineage_change" ("version");`);
    this.addSql(`create table "lineage_version" ("id" int not null default 1, "version" int not null default 0, "pruned_below" int not null default 0, constraint "lineage_version_pkey" primary key ("id"));`);
    this.addSql(`create table "run" ("id" varchar(36) not null, "automation_id" varchar(36) not null, "status" text check ("status" in ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED')) not null default 'QUEUED', "trigger" text check ("trigger" in ('SCHEDULE', 'MANUAL', 'CHAIN')) not null, "parent_run_id" varchar(36) null, "queued_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "rows_read" int null, "rows_written" int null, "error_records" int null, "error" text null, "coalesced" int not null default 0, "worker" varchar(300) null, "heartbeat_at" timestamptz null, "cancel_requested" boolean not null default false, "log_lines" int not null default 0, constraint "run_pkey" primary key ("id"));`);
    this.addSql(`create index "run_finished_at_index" on "run" ("finished_at");`);
    this.addSql(`create index "run_status_automation_id_index" on "run" ("status", "automation_id");`);
    this.addSql(`create index "run_automation_id_queued_at_index" on "run" ("automation_id", "queued_at");`);
    this.addSql(`create table "run_log" ("id" serial primary key, "run_id" varchar(36) not null, "line" text not null);`);
    this.addSql(`create table "script_token" ("id" serial primary key, "script_id" varchar(36) not null, "kind" text check ("kind" in ('UUID', 'LITERAL')) not null, "token" varchar(200) not null);`);
    this.addSql(`create index "script_token_token_kind_index" on "script_token" ("token", "kind");`);
    this.addSql(`alter table "chain_step" add constraint "chain_step_chain_id_foreign" foreign key ("chain_id") references "automation" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "chain_step" add constraint "chain_step_step_id_foreign" foreign key ("step_id") references "automation" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "datasource" add constraint "datasource_join_left_id_foreign" foreign key ("join_left_id") references "datasource" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "datasource" add constraint "datasource_join_right_id_foreign" foreign key ("join_right_id") references "datasource" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "automation_io" add constraint "automation_io_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "automation_io" add constraint "automation_io_datasource_id_foreign" foreign key ("datasource_id") references "datasource" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "run" add constraint "run_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "run" add constraint "run_parent_run_id_foreign" foreign key ("parent_run_id") references "run" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "run_log" add constraint "run_log_run_id_foreign" foreign key ("run_id") references "run" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "script_token" add constraint "script_token_script_id_foreign" foreign key ("script_id") references "automation" ("id") on update cascade on delete cascade;`);
    // Foreign keys that a delete or cascade looks up.
    this.addSql(`create index "chain_step_step_id_index" on "chain_step" ("step_id");`);
    this.addSql(`create index "datasource_join_left_id_index" on "datasource" ("join_left_id");`);
    this.addSql(`create index "datasource_join_right_id_index" on "datasource" ("join_right_id");`);
    this.addSql(`create index "run_parent_run_id_index" on "run" ("parent_run_id");`);
    this.addSql(`create index "run_log_run_id_index" on "run_log" ("run_id");`);
    this.addSql(`create index "script_token_script_id_index" on "script_token" ("script_id");`);
  }
}

/** Indexes the PostgreSQL migrations add beyond what the entities declare. */
export const POSTGRES_EXTRA_INDEXES = ['chain_step_step_id_index', 'datasource_join_left_id_index', 'datasource_join_right_id_index', 'run_parent_run_id_index', 'run_log_run_id_index', 'script_token_script_id_index'];
