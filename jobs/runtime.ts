import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/sqlite';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { openOrm } from '../core/db/orm.js';
import { SecretBox } from '../core/secrets.js';
import type { ScriptRunner } from './runners/script.runner.js';
import { SFTP_STATE_FILE, SftpState } from './runners/sftp-state.js';
import { openScripts } from './sandbox/setup.js';
import { openJobStore } from './scheduler/job-store.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SqliteWarehouse } from './warehouse/sqlite-warehouse.js';

/** What every Tributary process (server or worker) runs on: the databases, the secrets and the scheduler. */
export interface Runtime {
  orm: MikroORM;
  secrets: SecretBox;
  warehouse: SqliteWarehouse;
  sftpState: SftpState;
  scheduler: Scheduler;
  /** The one ScriptRunner of this process (runs and previews), sandboxed per SCRIPT_SANDBOX. */
  scripts: ScriptRunner;
  /** Cancels the runs in flight (they roll back), then closes everything. */
  close(): Promise<void>;
}

/**
 * Opens the metadata database (applying migrations), the secrets, the warehouse, the SFTP state
 * and the job store, and starts the scheduler. `beforeScheduler` runs once the databases are
 * open and before any job does (the server builds its lineage graph there).
 */
export async function openRuntime(
  config: Config,
  logger: Logger,
  options: { secretKey?: Buffer; onQuery?: (sql: string) => void; beforeScheduler?: (orm: MikroORM) => Promise<void> } = {},
): Promise<Runtime> {
  const orm = await openOrm({ databaseFile: config.databaseFile, onQuery: options.onQuery });
  const secrets = SecretBox.open(config.dataDir, options.secretKey ?? config.secretKey);
  await options.beforeScheduler?.(orm);
  const warehouse = await SqliteWarehouse.open(config.dataDir, { fileRoots: config.fileRoots, queryTimeoutMs: config.queryTimeoutMs, protectedFiles: ownFiles(config) });
  const sftpState = await SftpState.open(join(config.dataDir, SFTP_STATE_FILE));
  const scripts = await openScripts(config, warehouse, logger); // first kills and removes what a dead process left
  const backend = await openJobStore(config.dataDir, config.scheduler.jobStoreUrl);
  const scheduler = new Scheduler({ orm, warehouse, sftpState, secrets, logger, dataDir: config.dataDir, ...config.scheduler, backend, scripts });
  await scheduler.start();
  return {
    orm,
    secrets,
    warehouse,
    sftpState,
    scheduler,
    scripts,
    async close() {
      await scheduler.stop();
      await warehouse.close();
      await sftpState.close();
      await orm.close();
    },
  };
}

/** Tributary's files that may lie outside DATA_DIR (FILE datasources never read them): the metadata database and a SQLite job store. */
function ownFiles(config: Config): string[] {
  const jobStore = config.scheduler.jobStoreUrl;
  return [config.databaseFile, ...(jobStore && !/^postgres(ql)?:\/\//i.test(jobStore) ? [jobStore.replace(/^sqlite:(\/\/)?/i, '')] : [])];
}
