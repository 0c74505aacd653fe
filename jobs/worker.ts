import 'reflect-metadata';
import { join } from 'node:path';
import { openOrm } from '../api/db/orm.js';
import { exitOnSignals, loadConfigOrExit } from '../api/lifecycle.js';
import { createLogger } from '../api/logger.js';
import { SecretBox } from '../api/services/secrets.js';
import { SFTP_STATE_FILE, SftpState } from './runners/sftp-state.js';
import { openJobStore } from './scheduler/job-store.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SqliteWarehouse } from './warehouse/sqlite-warehouse.js';

/**
 * `npm run worker`: a process that only runs jobs (no HTTP), against the same DATA_DIR as the
 * server. Start as many as one machine's cores allow; they share the job store and never run
 * the same run twice.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const orm = await openOrm({ databaseFile: config.databaseFile });
  const secrets = SecretBox.open(config.dataDir, config.secretKey);
  const warehouse = await SqliteWarehouse.open(config.dataDir);
  const sftpState = await SftpState.open(join(config.dataDir, SFTP_STATE_FILE));
  const backend = await openJobStore(config.dataDir, config.scheduler.jobStoreUrl);
  const scheduler = new Scheduler({ orm, warehouse, sftpState, secrets, logger, dataDir: config.dataDir, ...config.scheduler, backend });
  await scheduler.start();
  logger.info({ dataDir: config.dataDir, worker: scheduler.worker.id }, 'Tributary worker is running jobs');
  exitOnSignals(logger, async () => {
    await scheduler.stop(); // runs in flight are cancelled and roll back
    await warehouse.close();
    await sftpState.close();
    await orm.close();
  });
}

main().catch((error: unknown) => {
  console.error('Tributary worker failed to start:', error);
  process.exit(1);
});
