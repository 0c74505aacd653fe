import { Migration } from '@mikro-orm/migrations';

/**
 * Error policies: two automation columns, and automation_io accepts the ERRORS direction. SQLite
 * cannot change a CHECK constraint, so automation_io is rebuilt and its rows copied over.
 */
export class Migration20261122400000ErrorPolicy extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table \`automation\` add column \`error_policy\` text check (\`error_policy\` in ('FAIL_RUN', 'DISCARD', 'TO_DATASOURCE')) not null default 'FAIL_RUN';`);
    this.addSql(`alter table \`automation\` add column \`error_record_format\` text check (\`error_record_format\` in ('ORIGINAL_RECORD', 'STAGE_RECORD')) not null default 'ORIGINAL_RECORD';`);
    this.addSql(`create table \`automation_io_next\` (\`id\` integer not null primary key autoincrement, \`automation_id\` text not null, \`datasource_id\` text not null, \`direction\` text check (\`direction\` in ('INPUT', 'OUTPUT', 'ERRORS')) not null, \`position\` integer not null, constraint \`automation_io_automation_id_foreign\` foreign key(\`automation_id\`) references \`automation\`(\`id\`) on delete cascade on update cascade, constraint \`automation_io_datasource_id_foreign\` foreign key(\`datasource_id\`) references \`datasource\`(\`id\`) on delete restrict on update cascade);`);
    this.addSql(`insert into \`automation_io_next\` (\`id\`, \`automation_id\`, \`datasource_id\`, \`direction\`, \`position\`) select \`id\`, \`automation_id\`, \`datasource_id\`, \`direction\`, \`position\` from \`automation_io\`;`);
    this.addSql(`drop table \`automation_io\`;`);
    this.addSql(`alter table \`automation_io_next\` rename to \`automation_io\`;`);
    this.addSql(`create index \`automation_io_automation_id_index\` on \`automation_io\` (\`automation_id\`);`);
    this.addSql(`create index \`automation_io_datasource_id_index\` on \`automation_io\` (\`datasource_id\`);`);
    this.addSql(`create index \`automation_io_datasource_id_direction_index\` on \`automation_io\` (\`datasource_id\`, \`direction\`);`);
    this.addSql(`create unique index \`automation_io_automation_id_datasource_id_direction_unique\` on \`automation_io\` (\`automation_id\`, \`datasource_id\`, \`direction\`);`);
  }
}
