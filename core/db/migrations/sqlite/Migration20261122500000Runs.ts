import { Migration } from '@mikro-orm/migrations';

/**
 * Runs and their logs; the automation keeps its last run status for the lineage graph; the
 * change log accepts RUN_STATUS (SQLite cannot change a CHECK constraint, so it is rebuilt).
 */
export class Migration20261122500000Runs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table \`automation\` add column \`last_run_status\` text check (\`last_run_status\` in ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED')) null;`);

    this.addSql(`create table \`run\` (\`id\` text not null, \`automation_id\` text not null, \`status\` text check (\`status\` in ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED')) not null default 'QUEUED', \`trigger\` text check (\`trigger\` in ('SCHEDULE', 'MANUAL', 'CHAIN')) not null, \`parent_run_id\` text null, \`queued_at\` datetime not null, \`started_at\` datetime null, \`finished_at\` datetime null, \`rows_read\` integer null, \`rows_written\` integer null, \`error_records\` integer null, \`error\` text null, \`coalesced\` integer not null default 0, \`worker\` text null, \`heartbeat_at\` datetime null, \`cancel_requested\` integer not null default false, \`log_lines\` integer not null default 0, constraint \`run_automation_id_foreign\` foreign key(\`automation_id\`) references \`automation\`(\`id\`) on delete cascade on update cascade, constraint \`run_parent_run_id_foreign\` foreign key(\`parent_run_id\`) references \`run\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`run_automation_id_index\` on \`run\` (\`automation_id\`);`);
    this.addSql(`create index \`run_parent_run_id_index\` on \`run\` (\`parent_run_id\`);`);
    this.addSql(`create index \`run_finished_at_index\` on \`run\` (\`finished_at\`);`);
    this.addSql(`create index \`run_status_automation_id_index\` on \`run\` (\`status\`, \`automation_id\`);`);
    this.addSql(`create index \`run_automation_id_queued_at_index\` on \`run\` (\`automation_id\`, \`queued_at\`);`);

    this.addSql(`create table \`run_log\` (\`id\` integer not null primary key autoincrement, \`run_id\` text not null, \`line\` text not null, constraint \`run_log_run_id_foreign\` foreign key(\`run_id\`) references \`run\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`run_log_run_id_index\` on \`run_log\` (\`run_id\`);`);

    this.addSql(`create table \`lineage_change_next\` (\`id\` integer not null primary key autoincrement, \`version\` integer not null, \`entity\` text check (\`entity\` in ('DATASOURCE', 'AUTOMATION', 'RUN_STATUS')) not null, \`entity_id\` text not null);`);
    this.addSql(`insert into \`lineage_change_next\` (\`id\`, \`version\`, \`entity\`, \`entity_id\`) select \`id\`, \`version\`, \`entity\`, \`entity_id\` from \`lineage_change\`;`);
    this.addSql(`drop table \`lineage_change\`;`);
    this.addSql(`alter table \`lineage_change_next\` rename to \`lineage_change\`;`);
    this.addSql(`create index \`lineage_change_version_index\` on \`lineage_change\` (\`version\`);`);
  }
}
