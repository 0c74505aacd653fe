import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';

/** Reads the configuration, or prints every problem and exits with EX_CONFIG (78). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
}

/** On SIGTERM or SIGINT: runs `close`, then exits 0 (1 when closing failed). */
export function exitOnSignals(logger: Logger, close: () => Promise<void>): void {
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
