import { Migration } from '@mikro-orm/migrations';
import { backfillHistorySql, postgresHistorySql } from '../history-triggers.js';

/**
 * The lineage graph's history (#18, `lineage(filter: { asOf })`): a period table for each table the
 * graph is built from, kept by triggers (../history-triggers.ts), and every existing row as a
 * period from its creation.
 */
export class Migration20261130000000LineageHistory extends Migration {
  override async up(): Promise<void> {
    this.addSql('create table "automation_history" ("id" serial primary key, "automation_id" varchar(36) not null, "name" text not null, "kind" varchar(32) not null, "state" varchar(16) not null, "schedule_cron" text null, "language" varchar(16) null, "producer" text null, "draft_only" boolean not null, "valid_from" timestamptz not null, "valid_until" timestamptz null);');
    this.addSql('create index "automation_history_valid_from_index" on "automation_history" ("valid_from");');
    this.addSql('create index "automation_history_automation_id_valid_until_index" on "automation_history" ("automation_id", "valid_until");');
    this.addSql('create table "automation_io_history" ("id" serial primary key, "automation_id" varchar(36) not null, "datasource_id" varchar(36) not null, "direction" varchar(16) not null, "position" int not null, "valid_from" timestamptz not null, "valid_until" timestamptz null);');
    this.addSql('create index "automation_io_history_valid_from_index" on "automation_io_history" ("valid_from");');
    this.addSql('create index "automation_io_history_automation_id_datasource_id__e9de4_index" on "automation_io_history" ("automation_id", "datasource_id", "direction", "valid_until");');
    this.addSql('create table "chain_step_history" ("id" serial primary key, "chain_id" varchar(36) not null, "step_id" varchar(36) not null, "position" int not null, "valid_from" timestamptz not null, "valid_until" timestamptz null);');
    this.addSql('create index "chain_step_history_valid_from_index" on "chain_step_history" ("valid_from");');
    this.addSql('create index "chain_step_history_chain_id_step_id_valid_until_index" on "chain_step_history" ("chain_id", "step_id", "valid_until");');
    this.addSql('create table "datasource_history" ("id" serial primary key, "datasource_id" varchar(36) not null, "name" text not null, "kind" varchar(16) not null, "tags" jsonb not null, "join_left_id" varchar(36) null, "join_right_id" varchar(36) null, "producer" text null, "valid_from" timestamptz not null, "valid_until" timestamptz null);');
    this.addSql('create index "datasource_history_valid_from_index" on "datasource_history" ("valid_from");');
    this.addSql('create index "datasource_history_datasource_id_valid_until_index" on "datasource_history" ("datasource_id", "valid_until");');
    for (const sql of [...postgresHistorySql(), ...backfillHistorySql()]) this.addSql(sql);
  }
}
