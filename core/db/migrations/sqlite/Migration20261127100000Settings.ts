import { Migration } from '@mikro-orm/migrations';

/** Server-wide settings; the first is the check value of the secret key. */
export class Migration20261127100000Settings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table \`setting\` (\`key\` text not null, \`value\` text not null, primary key (\`key\`));`);
  }
}
