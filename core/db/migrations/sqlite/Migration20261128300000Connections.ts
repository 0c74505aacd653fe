import { Migration } from '@mikro-orm/migrations';

const KINDS_BEFORE = "`kind` in ('ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK')";
const KINDS_AFTER = "`kind` in ('ETL_STEP', 'SFTP_IMPORT', 'SCRIPT', 'CHAIN_TASK', 'DATABASE_TABLE')";

/**
 * Connections (the credential store) and connectors; database ingestions (a new automation kind)
 * and their hourly statistics.
 * Each SFTP import's host, user and sealed secrets move into a connection of its own (same id and
 * name as the import, secrets copied sealed), and its versions select that connection.
 *
 * The automation kind's CHECK gains DATABASE_TABLE by editing the table's stored definition
 * (SQLite's documented way for a change that leaves the stored rows as they are): rebuilding the
 * table instead would cascade-delete every run, version and declaration, as foreign keys cannot be
 * switched off inside the migration's transaction.
 */
export class Migration20261128300000Connections extends Migration {
  override async up(): Promise<void> {
    const [row] = await this.execute('pragma schema_version');
    const version = Number((row as { schema_version: number }).schema_version);
    this.addSql('pragma writable_schema = on;');
    this.addSql(`update sqlite_master set sql = replace(sql, "${KINDS_BEFORE}", "${KINDS_AFTER}") where type = 'table' and name = 'automation';`);
    this.addSql('pragma writable_schema = off;');
    this.addSql(`pragma schema_version = ${version + 1};`);

    this.addSql(
      "create table `connection` (`id` text not null, `name` text not null, `type` text check (`type` in ('SFTP', 'POSTGRES', 'MYSQL')) not null, `description` text null, `host` text not null, `port` integer not null, `username` text not null, `database` text null, `password_sealed` text null, `private_key_sealed` text null, `owner_automation_id` text null, `created_at` datetime not null, `modified_at` datetime not null, primary key (`id`));",
    );
    this.addSql('create unique index `connection_name_unique` on `connection` (`name`);');
    this.addSql(
      "create table `connector` (`id` text not null, `name` text not null, `type` text check (`type` in ('SFTP', 'POSTGRES', 'MYSQL')) not null, `status` text check (`status` in ('INSTALLED', 'CONFIGURING', 'STARTED', 'PAUSED', 'ERROR')) not null default 'CONFIGURING', `configuration_status` text check (`configuration_status` in ('PREREQUISITES', 'CONNECTOR_CONFIGURED', 'CONNECTION_CONFIGURED', 'FINALIZED')) null default 'PREREQUISITES', `prerequisites_done` integer not null default false, `table_prefix` text null, `schedule_cron` text null, `schedule_timezone` text null, `connection_id` text null, `last_error` text null, `created_at` datetime not null, `modified_at` datetime not null, constraint `connector_connection_id_foreign` foreign key(`connection_id`) references `connection`(`id`) on delete restrict on update cascade, primary key (`id`));",
    );
    this.addSql('create unique index `connector_name_unique` on `connector` (`name`);');
    this.addSql('create index `connector_connection_id_index` on `connector` (`connection_id`);');

    this.addSql(
      'alter table `automation` add column `connection_id` text null constraint `automation_connection_id_foreign` references `connection` (`id`) on update cascade on delete restrict;',
    );
    this.addSql('alter table `automation` add column `connector_id` text null constraint `automation_connector_id_foreign` references `connector` (`id`) on update cascade on delete restrict;');
    this.addSql('alter table `automation` add column `source_table` text null;');
    this.addSql('alter table `automation` add column `query` text null;');
    this.addSql('alter table `automation` add column `cursor_column` text null;');
    this.addSql('create index `automation_connection_id_index` on `automation` (`connection_id`);');
    this.addSql('create index `automation_connector_id_index` on `automation` (`connector_id`);');

    this.addSql(
      'create table `ingestion_hour` (`id` integer not null primary key autoincrement, `automation_id` text not null, `hour` datetime not null, `rows` integer not null default 0, `runs` integer not null default 0, `failed_runs` integer not null default 0, `duration_ms` bigint not null default 0, `max_duration_ms` integer not null default 0, constraint `ingestion_hour_automation_id_foreign` foreign key(`automation_id`) references `automation`(`id`) on delete cascade on update cascade);',
    );
    this.addSql('create index `ingestion_hour_automation_id_index` on `ingestion_hour` (`automation_id`);');
    this.addSql('create index `ingestion_hour_hour_index` on `ingestion_hour` (`hour`);');
    this.addSql('create unique index `ingestion_hour_automation_id_hour_unique` on `ingestion_hour` (`automation_id`, `hour`);');

    // One connection per SFTP import, with its id and name; the secrets move sealed, as they are.
    this.addSql(
      "insert into `connection` (`id`, `name`, `type`, `description`, `host`, `port`, `username`, `database`, `password_sealed`, `private_key_sealed`, `owner_automation_id`, `created_at`, `modified_at`) select `id`, `name`, 'SFTP', 'Moved out of the SFTP import ' || `name` || ' when connections came', coalesce(`host`, ''), coalesce(`port`, 22), coalesce(`username`, ''), null, `password_sealed`, `private_key_sealed`, `id`, `created_at`, `modified_at` from `automation` where `kind` = 'SFTP_IMPORT';",
    );
    this.addSql("update `automation` set `connection_id` = `id` where `kind` = 'SFTP_IMPORT';");
    this.addSql(
      "update `automation_version` set `definition` = json_set(json_remove(`definition`, '$.host', '$.port', '$.username', '$.passwordSealed', '$.privateKeySealed'), '$.connectionId', `automation_id`) where json_extract(`definition`, '$.kind') = 'SFTP_IMPORT';",
    );
    for (const column of ['host', 'port', 'username', 'password_sealed', 'private_key_sealed']) this.addSql(`alter table \`automation\` drop column \`${column}\`;`);
  }
}
