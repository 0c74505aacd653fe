import { Migration } from '@mikro-orm/migrations';

/** Write versions and the change log every server process reads to keep its lineage graph current. */
export class Migration20261122100000LineageChanges extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table \`lineage_change\` (\`id\` integer not null primary key autoincrement, \`version\` integer not null, \`entity\` text check (\`entity\` in ('DATASOURCE', 'AUTOMATION')) not null, \`entity_id\` text not null);`);
    this.addSql(`create index \`lineage_change_version_index\` on \`lineage_change\` (\`version\`);`);
    this.addSql(`create table \`lineage_version\` (\`id\` integer not null default 1, \`version\` integer not null default 0, \`pruned_below\` integer not null default 0, primary key (\`id\`));`);
    this.addSql(`insert into \`lineage_version\` (\`id\`, \`version\`, \`pruned_below\`) values (1, 0, 0);`);
  }
}
