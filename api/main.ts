import 'reflect-metadata';
import { exitOnSignals, loadConfigOrExit } from '../core/lifecycle.js';
import { createLogger } from '../core/logger.js';
import { SecretKeyMismatchError } from '../core/db/key-check.js';
import { startServer } from './server.js';
import { loadDemoIfEmpty } from './demo/workspace.js';

/**
 * `npm start`: API, UI and jobs on HOST:PORT with data under DATA_DIR; `npm start -- --demo` loads the
 * demo into an empty workspace; `npm start -- --no-jobs` serves the API and UI only (runs go to
 * `npm run worker` processes sharing the databases).
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const demo = process.argv.includes('--demo');
  const starting = startServer({ config, logger, secretKey: config.secretKey, runJobs: !process.argv.includes('--no-jobs'), demo });
  // Before "Tributary is listening" is logged: whoever waits for that line may stop it at once.
  exitOnSignals(logger, async () => (await starting).close());
  const server = await starting;
  if (server.firstAdmin.outcome === 'demo') {
    // Printed, not logged: a made-up password for a demo, shown once to whoever started it.
    const { email, password } = server.firstAdmin;
    process.stdout.write(`\n  Demo admin created. Sign in at ${config.publicUrl ?? server.url} with\n    email:    ${email}\n    password: ${password}\n\n`);
  }
  if (demo) {
    await loadDemoIfEmpty(server.orm, logger, config);
    await server.scheduler.reconcile(); // the demo's schedules, loaded behind the scheduler's back
  }
}

main().catch((error: unknown) => {
  console.error('Tributary failed to start:', error instanceof SecretKeyMismatchError ? error.message : error);
  process.exit(1);
});
