import { Migration } from '@mikro-orm/migrations';

/** Parameter sets, and the sets attached to each automation. */
export class Migration20261128100000ParameterSets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table `parameter_set` (`id` text not null, `name` text not null, `description` text null, `parameters` json not null, `created_at` datetime not null, `modified_at` datetime not null, primary key (`id`));',
    );
    this.addSql('create unique index `parameter_set_name_unique` on `parameter_set` (`name`);');
    this.addSql(
      'create table `automation_parameter_set` (`id` integer not null primary key autoincrement, `automation_id` text not null, `parameter_set_id` text not null, `position` integer not null, constraint `automation_parameter_set_automation_id_foreign` foreign key(`automation_id`) references `automation`(`id`) on delete cascade on update cascade, constraint `automation_parameter_set_parameter_set_id_foreign` foreign key(`parameter_set_id`) references `parameter_set`(`id`) on delete restrict on update cascade);',
    );
    this.addSql('create index `automation_parameter_set_automation_id_index` on `automation_parameter_set` (`automation_id`);');
    this.addSql('create index `automation_parameter_set_parameter_set_id_index` on `automation_parameter_set` (`parameter_set_id`);');
    this.addSql('create unique index `automation_parameter_set_automation_id_parameter_set_id_unique` on `automation_parameter_set` (`automation_id`, `parameter_set_id`);');
  }
}
