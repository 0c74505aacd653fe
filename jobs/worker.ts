import 'reflect-metadata';
import { exitOnSignals, loadConfigOrExit } from '../core/lifecycle.js';
import { createLogger } from '../core/logger.js';
import { SecretKeyMismatchError } from '../core/db/key-check.js';
import { openRuntime } from './runtime.js';

/**
 * `npm run worker`: a process that only runs jobs (no HTTP), against the same DATA_DIR as the
 * server. Start as many as one machine's cores allow; they share the job store and never run
 * the same run twice.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const opening = openRuntime(config, logger);
  // Before the "running jobs" line: whoever waits for it may stop the worker at once.
  exitOnSignals(logger, async () => (await opening).close()); // runs in flight are cancelled and roll back
  const runtime = await opening;
  logger.info({ dataDir: config.dataDir, worker: runtime.scheduler.worker.id }, 'Tributary worker is running jobs');
}

main().catch((error: unknown) => {
  console.error('Tributary worker failed to start:', error instanceof SecretKeyMismatchError ? error.message : error);
  process.exit(1);
});
