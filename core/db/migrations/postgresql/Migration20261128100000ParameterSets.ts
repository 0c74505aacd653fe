import { Migration } from '@mikro-orm/migrations';

/** Parameter sets, and the sets attached to each automation. */
export class Migration20261128100000ParameterSets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "parameter_set" ("id" varchar(36) not null, "name" varchar(100) not null, "description" text null, "parameters" jsonb not null, "created_at" timestamptz not null, "modified_at" timestamptz not null, constraint "parameter_set_pkey" primary key ("id"));',
    );
    this.addSql('alter table "parameter_set" add constraint "parameter_set_name_unique" unique ("name");');
    this.addSql('create table "automation_parameter_set" ("id" serial primary key, "automation_id" varchar(36) not null, "parameter_set_id" varchar(36) not null, "position" int not null);');
    this.addSql('alter table "automation_parameter_set" add constraint "automation_parameter_set_automation_id_parameter_set_id_unique" unique ("automation_id", "parameter_set_id");');
    this.addSql('create index "automation_parameter_set_parameter_set_id_index" on "automation_parameter_set" ("parameter_set_id");');
    this.addSql(
      'alter table "automation_parameter_set" add constraint "automation_parameter_set_automation_id_foreign" foreign key ("automation_id") references "automation" ("id") on update cascade on delete cascade;',
    );
    this.addSql(
      'alter table "automation_parameter_set" add constraint "automation_parameter_set_parameter_set_id_foreign" foreign key ("parameter_set_id") references "parameter_set" ("id") on update cascade on delete restrict;',
    );
  }
}
