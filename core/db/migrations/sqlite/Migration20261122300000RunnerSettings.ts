import { Migration } from '@mikro-orm/migrations';

/** SFTP host key pinning and what happens to imported files; script time and memory limits. */
export class Migration20261122300000RunnerSettings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table \`automation\` add column \`host_key_fingerprint\` text null;`);
    this.addSql(`alter table \`automation\` add column \`after_import\` text check (\`after_import\` in ('KEEP', 'DELETE', 'MOVE')) null default 'KEEP';`);
    this.addSql(`alter table \`automation\` add column \`move_to_dir\` text null;`);
    this.addSql(`alter table \`automation\` add column \`timeout_seconds\` integer null default 600;`);
    this.addSql(`alter table \`automation\` add column \`memory_mb\` integer null default 512;`);
    // Rows of other kinds get the defaults too; only the owning kind reads them.
  }
}
