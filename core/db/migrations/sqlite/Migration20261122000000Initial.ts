import { Migration } from '@mikro-orm/migrations';

/** The first schema: datasources, automations (one table, discriminated by kind), their links and script tokens. */
export class Migration20261122000000Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table \`automation\` (\`id\` text not null, \`name\` text not null, \`kind\` text check (\`kind\` in ('ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK')) not null, \`description\` text null, \`schedule_cron\` text null, \`schedule_timezone\` text null, \`state\` text check (\`state\` in ('ACTIVE', 'PAUSED', 'STOPPED', 'DEACTIVATED')) not null default 'ACTIVE', \`created_at\` datetime not null, \`modified_at\` datetime not null, \`transform\` json null, \`host\` text null, \`port\` integer null default 22, \`username\` text null, \`password_sealed\` text null, \`private_key_sealed\` text null, \`remote_dir\` text null default '.', \`file_pattern\` text null default '*', \`language\` text check (\`language\` in ('JAVASCRIPT', 'PYTHON')) null, \`code\` text null default '', \`variables\` json null, \`continue_on_failure\` integer null default false, primary key (\`id\`));`);
    this.addSql(`create unique index \`automation_name_unique\` on \`automation\` (\`name\`);`);
    this.addSql(`create index \`automation_kind_index\` on \`automation\` (\`kind\`);`);
    this.addSql(`create table \`chain_step\` (\`id\` integer not null primary key autoincrement, \`chain_id\` text not null, \`step_id\` text not null, \`position\` integer not null, constraint \`chain_step_chain_id_foreign\` foreign key(\`chain_id\`) references \`automation\`(\`id\`) on delete cascade on update cascade, constraint \`chain_step_step_id_foreign\` foreign key(\`step_id\`) references \`automation\`(\`id\`) on delete restrict on update cascade);`);
    this.addSql(`create index \`chain_step_chain_id_index\` on \`chain_step\` (\`chain_id\`);`);
    this.addSql(`create index \`chain_step_step_id_index\` on \`chain_step\` (\`step_id\`);`);
    this.addSql(`create unique index \`chain_step_chain_id_step_id_unique\` on \`chain_step\` (\`chain_id\`, \`step_id\`);`);
    this.addSql(`create unique index \`chain_step_chain_id_position_unique\` on \`chain_step\` (\`chain_id\`, \`position\`);`);
    this.addSql(`create table \`datasource\` (\`id\` text not null, \`name\` text not null, \`kind\` text check (\`kind\` in ('STORAGE', 'FILE', 'JOIN')) not null, \`description\` text null, \`tags\` json not null, \`path\` text null, \`columns\` json not null, \`row_count\` integer null, \`updated_at\` datetime null, \`join_left_id\` text null, \`join_right_id\` text null, \`join_left_key\` text null, \`join_right_key\` text null, \`join_type\` text check (\`join_type\` in ('INNER', 'LEFT')) null, \`created_at\` datetime not null, \`modified_at\` datetime not null, constraint \`datasource_join_left_id_foreign\` foreign key(\`join_left_id\`) references \`datasource\`(\`id\`) on delete restrict on update cascade, constraint \`datasource_join_right_id_foreign\` foreign key(\`join_right_id\`) references \`datasource\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`datasource_name_unique\` on \`datasource\` (\`name\`);`);
    this.addSql(`create index \`datasource_join_left_id_index\` on \`datasource\` (\`join_left_id\`);`);
    this.addSql(`create index \`datasource_join_right_id_index\` on \`datasource\` (\`join_right_id\`);`);
    this.addSql(`create table \`automation_io\` (\`id\` integer not null primary key autoincrement, \`automation_id\` text not null, \`datasource_id\` text not null, \`direction\` text check (\`direction\` in ('INPUT', 'OUTPUT')) not null, \`position\` integer not null, constraint \`automation_io_automation_id_foreign\` foreign key(\`automation_id\`) references \`automation\`(\`id\`) on delete cascade on update cascade, constraint \`automation_io_datasource_id_foreign\` foreign key(\`datasource_id\`) references \`datasource\`(\`id\`) on delete restrict on update cascade);`);
    this.addSql(`create index \`automation_io_automation_id_index\` on \`automation_io\` (\`automation_id\`);`);
    this.addSql(`create index \`automation_io_datasource_id_index\` on \`automation_io\` (\`datasource_id\`);`);
    this.addSql(`create index \`automation_io_datasource_id_direction_index\` on \`automation_io\` (\`datasource_id\`, \`direction\`);`);
    this.addSql(`create unique index \`automation_io_automation_id_datasource_id_direction_unique\` on \`automation_io\` (\`automation_id\`, \`datasource_id\`, \`direction\`);`);
    this.addSql(`create table \`script_token\` (\`id\` integer not null primary key autoincrement, \`script_id\` text not null, \`kind\` text check (\`kind\` in ('UUID', 'LITERAL')) not null, \`token\` text not null, constraint \`script_token_script_id_foreign\` foreign key(\`script_id\`) references \`automation\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`script_token_script_id_index\` on \`script_token\` (\`script_id\`);`);
    this.addSql(`create index \`script_token_token_kind_index\` on \`script_token\` (\`token\`, \`kind\`);`);
  }
}
