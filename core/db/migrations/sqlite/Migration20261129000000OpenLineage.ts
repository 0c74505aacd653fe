import { Migration } from '@mikro-orm/migrations';

/** CHECK constraints that gain a value: [table, before, after]. */
const CHECKS: [string, string, string][] = [
  ['automation', "`kind` in ('ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK', 'DATABASE_TABLE')", "`kind` in ('ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK', 'DATABASE_TABLE', 'EXTERNAL_JOB')"],
  ['datasource', "`kind` in ('STORAGE', 'FILE', 'JOIN')", "`kind` in ('STORAGE', 'FILE', 'JOIN', 'EXTERNAL')"],
  ['run', "`trigger` in ('SCHEDULE', 'MANUAL', 'CHAIN')", "`trigger` in ('SCHEDULE', 'MANUAL', 'CHAIN', 'EXTERNAL')"],
];

/**
 * OpenLineage (#18): received events, external jobs (an automation kind) and datasets (a
 * datasource kind) with their namespace and name, external runs' ids, and the LINEAGE_WRITER
 * token scope. The kind and trigger CHECKs gain their values by editing the stored table
 * definitions, as Migration20261128300000Connections does and for the same reason (a rebuild
 * would cascade-delete runs, versions and declarations).
 */
export class Migration20261129000000OpenLineage extends Migration {
  override async up(): Promise<void> {
    const [row] = await this.execute('pragma schema_version');
    const version = Number((row as { schema_version: number }).schema_version);
    this.addSql('pragma writable_schema = on;');
    for (const [table, before, after] of CHECKS) {
      this.addSql(`update sqlite_master set sql = replace(sql, "${before}", "${after}") where type = 'table' and name = '${table}';`);
    }
    this.addSql('pragma writable_schema = off;');
    this.addSql(`pragma schema_version = ${version + 1};`);

    this.addSql(
      'create table `openlineage_event` (`id` integer not null primary key autoincrement, `event_key` text not null, `kind` text not null, `event_type` text null, `event_time` datetime not null, `received_at` datetime not null, `run_id` text null, `job_namespace` text null, `job_name` text null, `automation_id` text null, `producer` text not null, `received_by_token` text null, `payload` text not null, constraint `openlineage_event_automation_id_foreign` foreign key(`automation_id`) references `automation`(`id`) on delete set null on update cascade);',
    );
    this.addSql('create unique index `openlineage_event_event_key_unique` on `openlineage_event` (`event_key`);');
    this.addSql('create index `openlineage_event_received_at_index` on `openlineage_event` (`received_at`);');
    this.addSql('create index `openlineage_event_automation_id_index` on `openlineage_event` (`automation_id`);');
    this.addSql('create index `openlineage_event_automation_id_event_time_index` on `openlineage_event` (`automation_id`, `event_time`);');
    this.addSql('create index `openlineage_event_run_id_index` on `openlineage_event` (`run_id`);');

    for (const table of ['automation', 'datasource']) {
      for (const column of ['ol_namespace', 'ol_name', 'ol_key', 'producer']) this.addSql(`alter table \`${table}\` add column \`${column}\` text null;`);
      this.addSql(`create unique index \`${table}_ol_key_unique\` on \`${table}\` (\`ol_key\`);`);
    }
    this.addSql('alter table `run` add column `external_run_id` text null;');
    this.addSql('create index `run_external_run_id_index` on `run` (`external_run_id`);');
    this.addSql("alter table `api_token` add column `scope` text check (`scope` in ('LINEAGE_WRITER')) null;");

    this.addSql(
      "create table `run_dataset` (`id` integer not null primary key autoincrement, `run_id` text not null, `automation_id` text not null, `datasource_id` text not null, `direction` text check (`direction` in ('INPUT', 'OUTPUT', 'ERRORS')) not null, `at` datetime not null, constraint `run_dataset_run_id_foreign` foreign key(`run_id`) references `run`(`id`) on delete cascade on update cascade, constraint `run_dataset_automation_id_foreign` foreign key(`automation_id`) references `automation`(`id`) on delete cascade on update cascade, constraint `run_dataset_datasource_id_foreign` foreign key(`datasource_id`) references `datasource`(`id`) on delete cascade on update cascade);",
    );
    this.addSql('create index `run_dataset_run_id_index` on `run_dataset` (`run_id`);');
    this.addSql('create index `run_dataset_automation_id_index` on `run_dataset` (`automation_id`);');
    this.addSql('create index `run_dataset_datasource_id_index` on `run_dataset` (`datasource_id`);');
    this.addSql('create index `run_dataset_automation_id_datasource_id_index` on `run_dataset` (`automation_id`, `datasource_id`);');
    this.addSql('create unique index `run_dataset_run_id_datasource_id_direction_unique` on `run_dataset` (`run_id`, `datasource_id`, `direction`);');
  }
}
