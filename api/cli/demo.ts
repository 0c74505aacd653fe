import 'reflect-metadata';
import { ConfigError, loadConfig } from '../../core/config.js';
import { openOrm } from '../../core/db/orm.js';
import { describeLocation } from '../../core/db/sql.js';
import { loadDemo } from '../demo/workspace.js';
import { Automation, Datasource } from '../../core/db/entities/index.js';
import { SecretBox } from '../../core/secrets.js';

/** `npm run demo`: loads the demo workspace into DATA_DIR's database, which must be empty. */
try {
  const config = loadConfig();
  const orm = await openOrm({ database: config.database });
  try {
    const em = orm.em.fork();
    const existing = (await em.count(Datasource)) + (await em.count(Automation));
    if (existing > 0) {
      console.error(`The workspace in ${describeLocation(config.database)} already holds ${existing} object(s); the demo loads only into an empty one.`);
      console.error('Use another DATA_DIR, e.g. DATA_DIR=./demo-data npm run demo');
      process.exitCode = 1;
    } else {
      const summary = await loadDemo(orm, config.dataDir, SecretBox.open(config.dataDir, config.secretKey), config.fileRoots);
      console.log(`Demo loaded into ${describeLocation(config.database)}: ${summary.datasources} datasources, ${summary.automations} automations.`);
    }
  } finally {
    await orm.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
}
