import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { sandboxUnavailable } from '../runners/script-launch.js';
import { ScriptRunner, type ScriptRunnerOptions } from '../runners/script.runner.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { cleanLeftovers } from './leftovers.js';

/**
 * At every start (server and worker): kills and removes what a dead Tributary process left (its
 * scripts' processes, temp dirs and staging files), then makes the one ScriptRunner of this
 * process and says in the log how scripts will run, or why they will not.
 */
export async function openScripts(
  config: Pick<Config, 'dataDir' | 'scriptSandbox'>,
  warehouse: Warehouse,
  logger: Logger,
  options: Omit<ScriptRunnerOptions, 'sandbox' | 'dataDir'> = {},
): Promise<ScriptRunner> {
  cleanLeftovers(config.dataDir, logger);
  const scripts = new ScriptRunner(warehouse, { ...options, sandbox: config.scriptSandbox, dataDir: config.dataDir });
  if (config.scriptSandbox === 'off') {
    logger.warn(
      'SCRIPT_SANDBOX=off: scripts run WITHOUT the OS sandbox, as children of this process with its user, its network and its view of the file system; only in-process guards (Node permission model, Python audit hook) stand between a script and DATA_DIR, and a script can switch them off. Set SCRIPT_SANDBOX=on (and install bubblewrap) to isolate them',
    );
    return scripts;
  }
  const problem = await scripts.problem();
  if (problem) logger.error({ problem }, sandboxUnavailable(problem));
  else logger.info({ sandbox: await scripts.describe() }, 'scripts run in the bubblewrap sandbox');
  return scripts;
}
