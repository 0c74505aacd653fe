import 'reflect-metadata';
import { ConfigError, loadConfig } from '../../core/config.js';
import { SecretKeyMismatchError } from '../../core/db/key-check.js';
import { MigrationError, migrateToPostgres } from './to-postgres.js';

/**
 * `npm run migrate-to-postgres`: moves the SQLite workspace in DATA_DIR to the PostgreSQL database
 * of DATABASE_URL (and the warehouse to WAREHOUSE_URL), with every server and worker stopped.
 */
try {
  const config = loadConfig();
  const report = await migrateToPostgres(config, (line) => console.log(line));
  console.log(`Done: ${report.metadata.datasource ?? 0} datasources, ${report.metadata.automation ?? 0} automations, ${report.metadata.run ?? 0} runs moved.`);
  console.log('Start every process with the same DATABASE_URL, JOB_STORE_URL, WAREHOUSE_URL and TRIBUTARY_SECRET_KEY.');
} catch (error) {
  const known = error instanceof ConfigError || error instanceof MigrationError || error instanceof SecretKeyMismatchError;
  console.error('Migration failed:', known ? (error as Error).message : error);
  process.exitCode = 1;
}
