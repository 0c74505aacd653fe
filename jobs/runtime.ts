import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../core/db/orm.js';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { listenForEvents } from '../core/db/events.js';
import { verifySecretKey } from '../core/db/key-check.js';
import { openOrm } from '../core/db/orm.js';
import { SecretBox } from '../core/secrets.js';
import type { ScriptRunner } from './runners/script.runner.js';
import { SFTP_STATE_FILE, openSftpState, type SftpState } from './runners/sftp-state.js';
import { openScripts } from './sandbox/setup.js';
import { openJobStore } from './scheduler/job-store.js';
import { Scheduler } from './scheduler/scheduler.js';
import { openWarehouse } from './warehouse/open.js';
import type { Warehouse } from './warehouse/warehouse.js';
import { NO_EVENTS, OpenLineageEmitter } from './openlineage/emitter.js';

/** This build's version (package.json): the `producer` of the OpenLineage events it sends. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

/** What every Tributary process (server or worker) runs on: the databases, the secrets and the scheduler. */
export interface Runtime {
  orm: Orm;
  secrets: SecretBox;
  warehouse: Warehouse;
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
 * open and before any job does (the server builds its lineage graph there). `runJobs: false`
 * (an API-only process) queues runs and schedules but runs none.
 */
export async function openRuntime(
  config: Config,
  logger: Logger,
  options: {
    secretKey?: Buffer;
    onQuery?: (sql: string) => void;
    beforeScheduler?: (orm: Orm) => Promise<void>;
    runJobs?: boolean;
    /** Lineage changes announced by any process sharing the database (PostgreSQL); `missed` after a reconnect. */
    onLineageChanged?: (missed: boolean) => void;
  } = {},
): Promise<Runtime> {
  const orm = await openOrm({ database: config.database, onQuery: options.onQuery });
  const key = options.secretKey ?? config.secretKey;
  const secrets = SecretBox.open(config.dataDir, key);
  try {
    await verifySecretKey(orm.em.fork(), secrets, key ? 'TRIBUTARY_SECRET_KEY' : `the key file ${join(config.dataDir, 'secret.key')}`);
  } catch (error) {
    await orm.close();
    throw error;
  }
  await options.beforeScheduler?.(orm);
  const warehouse = await openWarehouse(config.warehouse, { dataDir: config.dataDir, fileRoots: config.fileRoots, queryTimeoutMs: config.queryTimeoutMs, protectedFiles: ownFiles(config) });
  // The SFTP state lives with the metadata: its own file in DATA_DIR, or its own schema in the shared database.
  const sftpState = await openSftpState(config.database.dialect === 'postgresql' ? config.database : { dialect: 'sqlite', file: join(config.dataDir, SFTP_STATE_FILE) }, {
    onIdleError: (error) => logger.warn({ err: error }, 'an idle SFTP state connection failed; it is replaced on next use'),
  });
  const scripts = await openScripts(config, warehouse, logger); // first kills and removes what a dead process left
  const backend = await openJobStore(config.dataDir, config.scheduler.jobStoreUrl, {
    onConnectionError: (error) => logger.warn({ err: error }, 'a job store connection failed; it is replaced on next use'),
  });
  const { url: lineageUrl } = config.openLineage;
  const runEvents = lineageUrl
    ? new OpenLineageEmitter({
        config: { ...config.openLineage, url: lineageUrl },
        naming: () => ({ namespace: config.openLineage.namespace, warehouse: warehouse.lineageNaming }),
        em: () => orm.em.fork() as EntityManager,
        logger,
        version: PACKAGE_VERSION,
      })
    : NO_EVENTS;
  const scheduler = new Scheduler({ orm, warehouse, sftpState, secrets, logger, dataDir: config.dataDir, ...config.scheduler, backend, scripts, processJobs: options.runJobs ?? true, runEvents });
  await scheduler.start();
  const events = await listenForEvents(config.database, {
    onEvent: (event) => {
      if (event.type === 'cancel') scheduler.executor.cancelLocal(event.runIds, 'the automation was stopped');
      else options.onLineageChanged?.(false);
    },
    onReconnect: () => options.onLineageChanged?.(true),
    onError: (error) => logger.warn({ err: error }, 'the connection that hears other processes failed; reconnecting'),
  });
  return {
    orm,
    secrets,
    warehouse,
    sftpState,
    scheduler,
    scripts,
    async close() {
      await events?.close();
      await scheduler.stop();
      await runEvents.close(); // the last runs' events, for a few seconds at most
      await warehouse.close();
      await sftpState.close();
      await orm.close();
    },
  };
}

/** Tributary's files that may lie outside DATA_DIR (FILE datasources never read them): the metadata database, the warehouse and a SQLite job store. */
function ownFiles(config: Config): string[] {
  const jobStore = config.scheduler.jobStoreUrl;
  const files = [config.database, config.warehouse].flatMap((location) => (location.dialect === 'sqlite' ? [location.file] : []));
  return [...files, ...(jobStore && !/^postgres(ql)?:\/\//i.test(jobStore) ? [jobStore.replace(/^sqlite:(\/\/)?/i, '')] : [])];
}
