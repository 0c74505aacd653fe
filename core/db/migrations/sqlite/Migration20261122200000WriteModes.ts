import { Migration } from '@mikro-orm/migrations';

/** How an automation's rows land in its output: REPLACE (default), APPEND or UPSERT on key columns. */
export class Migration20261122200000WriteModes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table \`automation\` add column \`write_mode\` text check (\`write_mode\` in ('REPLACE', 'APPEND', 'UPSERT')) not null default 'REPLACE';`);
    this.addSql(`alter table \`automation\` add column \`write_keys\` json not null default '[]';`);
  }
}
