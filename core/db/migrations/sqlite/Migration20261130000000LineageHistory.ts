import { Migration } from '@mikro-orm/migrations';
import { backfillHistorySql, sqliteHistorySql } from '../history-triggers.js';

/**
 * The lineage graph's history (#18, `lineage(filter: { asOf })`): a period table for each table the
 * graph is built from, kept by triggers (../history-triggers.ts), and every existing row as a
 * period from its creation.
 */
export class Migration20261130000000LineageHistory extends Migration {
  override async up(): Promise<void> {
    this.addSql('create table `automation_history` (`id` integer not null primary key autoincrement, `automation_id` text not null, `name` text not null, `kind` text not null, `state` text not null, `schedule_cron` text null, `language` text null, `producer` text null, `draft_only` integer not null, `valid_from` datetime not null, `valid_until` datetime null);');
    this.addSql('create index `automation_history_valid_from_index` on `automation_history` (`valid_from`);');
    this.addSql('create index `automation_history_automation_id_valid_until_index` on `automation_history` (`automation_id`, `valid_until`);');
    this.addSql('create table `automation_io_history` (`id` integer not null primary key autoincrement, `automation_id` text not null, `datasource_id` text not null, `direction` text not null, `position` integer not null, `valid_from` datetime not null, `valid_until` datetime null);');
    this.addSql('create index `automation_io_history_valid_from_index` on `automation_io_history` (`valid_from`);');
    this.addSql('create index `automation_io_history_automation_id_datasource_id_direction_valid_until_index` on `automation_io_history` (`automation_id`, `datasource_id`, `direction`, `valid_until`);');
    this.addSql('create table `chain_step_history` (`id` integer not null primary key autoincrement, `chain_id` text not null, `step_id` text not null, `position` integer not null, `valid_from` datetime not null, `valid_until` datetime null);');
    this.addSql('create index `chain_step_history_valid_from_index` on `chain_step_history` (`valid_from`);');
    this.addSql('create index `chain_step_history_chain_id_step_id_valid_until_index` on `chain_step_history` (`chain_id`, `step_id`, `valid_until`);');
    this.addSql('create table `datasource_history` (`id` integer not null primary key autoincrement, `datasource_id` text not null, `name` text not null, `kind` text not null, `tags` json not null, `join_left_id` text null, `join_right_id` text null, `producer` text null, `valid_from` datetime not null, `valid_until` datetime null);');
    this.addSql('create index `datasource_history_valid_from_index` on `datasource_history` (`valid_from`);');
    this.addSql('create index `datasource_history_datasource_id_valid_until_index` on `datasource_history` (`datasource_id`, `valid_until`);');
    for (const sql of [...sqliteHistorySql(), ...backfillHistorySql()]) this.addSql(sql);
  }
}
