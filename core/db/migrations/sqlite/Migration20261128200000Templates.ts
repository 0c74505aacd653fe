import { Migration } from '@mikro-orm/migrations';

/** A workspace's own templates (saveAsTemplate). */
export class Migration20261128200000Templates extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table `template` (`id` text not null, `name` text not null, `description` text null, `parameters` json not null, `objects` json not null, `created_by_id` text null, `created_at` datetime not null, primary key (`id`));',
    );
    this.addSql('create unique index `template_name_unique` on `template` (`name`);');
  }
}
