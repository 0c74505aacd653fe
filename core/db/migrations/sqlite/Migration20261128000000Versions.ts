import { Migration } from '@mikro-orm/migrations';

/** Versions of automations with their review, the version in force on each automation, and the version each run ran. */
export class Migration20261128000000Versions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      "create table `automation_version` (`id` text not null, `automation_id` text not null, `number` integer not null, `status` text check (`status` in ('DRAFT', 'AWAITING_APPROVAL', 'APPROVED', 'REJECTED', 'LIVE', 'RETIRED')) not null, `definition` json not null, `author_id` text null, `contributor_ids` json not null default '[]', `created_at` datetime not null, `submitted_at` datetime null, `reviewed_by_id` text null, `reviewed_at` datetime null, `review_comment` text null, `made_live_at` datetime null, `live_from` datetime null, `live_until` datetime null, constraint `automation_version_automation_id_foreign` foreign key(`automation_id`) references `automation`(`id`) on delete cascade on update cascade, primary key (`id`));",
    );
    this.addSql('create index `automation_version_automation_id_index` on `automation_version` (`automation_id`);');
    this.addSql('create index `automation_version_status_automation_id_index` on `automation_version` (`status`, `automation_id`);');
    this.addSql('create unique index `automation_version_automation_id_number_unique` on `automation_version` (`automation_id`, `number`);');
    this.addSql('alter table `automation` add column `live_version_id` text null;');
    this.addSql('alter table `automation` add column `draft_only` integer not null default false;');
    this.addSql('alter table `automation` add column `version_count` integer not null default 0;');
    this.addSql('alter table `run` add column `version_id` text null;');
  }
}
