import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../../core/db/orm.js';
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { Automation, AutomationState, Datasource, DatasourceKind, JoinType, ScriptLanguage } from '../../core/db/entities/index.js';
import { AutomationService } from '../services/automation.service.js';
import { DatasourceService } from '../services/datasource.service.js';
import { LineageStore } from '../lineage/store.js';
import { SecretBox } from '../../core/secrets.js';
import { FileRoots } from '../../jobs/warehouse/file-roots.js';

const SAMPLE_FILES: Record<string, string> = {
  'users.csv': 'id,email,country,signed_up\n1,ada@example.com,FR,2026-01-04\n2,linus@example.com,FI,2026-02-11\n3,grace@example.com,US,2026-03-20\n',
  'customers.csv': 'id,name,country\n10,Acme SAS,FR\n11,Globex Oy,FI\n12,Initech Inc,US\n',
  'orders.csv': 'id,customer_id,amount\n1001,10,120.00\n1002,11,75.50\n1003,10,42.25\n1004,12,310.00\n',
  'ad-spend.csv': 'day,channel,amount\n2026-11-01,search,120.50\n2026-11-01,social,80.00\n2026-11-02,search,99.90\n',
};

export interface DemoSummary {
  datasources: number;
  automations: number;
}

/**
 * Loads the demo workspace of the dataflow seed through the service layer, in one transaction:
 * users.csv → "load users" → users-storage, ORDERS and CUSTOMERS with their join, SFTP imports,
 * Python scripts with and without declared usage, and a scheduled chain triggering an
 * unscheduled one. Sample CSV files go to `demo/` in the first FILE_ROOTS directory (by default
 * DATA_DIR/files/demo), where FILE datasources may read them.
 */
export async function loadDemo(orm: Orm, dataDir: string, secrets: SecretBox, fileRoots?: string[]): Promise<DemoSummary> {
  const files = new FileRoots({ roots: fileRoots, dataDir });
  const fileDir = join(files.roots[0]!, 'demo');
  mkdirSync(fileDir, { recursive: true });
  for (const [name, content] of Object.entries(SAMPLE_FILES)) writeFileSync(join(fileDir, name), content);

  return orm.em.fork().transactional(async (tx) => {
    const em = tx as EntityManager;
    const lineage = new LineageStore(); // creates never consult the graph; servers catch up from the change log
    const ds = new DatasourceService(em, lineage, files);
    const auto = new AutomationService(em, secrets, lineage);
    const file = (name: string, description: string) =>
      ds.create({ name, kind: DatasourceKind.FILE, path: join(fileDir, name), description, tags: ['demo', 'raw'] });
    const table = (name: string, description: string, tags: string[], columns: [string, string][] = []) =>
      ds.create({ name, kind: DatasourceKind.STORAGE, description, tags, columns: columns.map(([n, t]) => ({ name: n, type: t })) });

    const usersCsv = await file('users.csv', 'Daily user export from the product database');
    const usersStorage = await table('users-storage', 'Cleaned users', ['core'], [['id', 'integer'], ['email', 'text'], ['country', 'text']]);
    const customersCsv = await file('customers.csv', 'Customer master data');
    const ordersCsv = await file('orders.csv', 'Sample orders, until the SFTP import reaches a real server');
    const orders = await table('ORDERS', 'Orders imported from the shop SFTP drop', ['finance'], [['id', 'integer'], ['customer_id', 'integer'], ['amount', 'real']]);
    const customers = await table('CUSTOMERS', 'Customers', ['finance'], [['id', 'integer'], ['name', 'text'], ['country', 'text']]);
    const ordersCustomers = await ds.create({
      name: 'ORDERS <> CUSTOMERS',
      kind: DatasourceKind.JOIN,
      description: 'Orders with their customer',
      tags: ['finance'],
      join: { leftId: orders.id, rightId: customers.id, leftKey: 'customer_id', rightKey: 'id', type: JoinType.INNER },
    });
    const dailyRevenue = await table('daily-revenue', 'Revenue per day and country', ['finance', 'reporting']);
    const revenueByCountry = await table('revenue-by-country', 'Revenue report per country', ['reporting']);
    const segments = await table('marketing-segments', 'User segments for campaigns', ['marketing'], [['user_id', 'integer'], ['segment', 'text']]);
    const segmentOrders = await ds.create({
      name: 'SEGMENT ORDERS',
      kind: DatasourceKind.JOIN,
      description: 'Orders per marketing segment (a join of a join)',
      tags: ['marketing'],
      join: { leftId: ordersCustomers.id, rightId: segments.id, leftKey: 'customer_id', rightKey: 'user_id', type: JoinType.LEFT },
    });
    const churnScores = await table('churn-scores', 'Churn probability per user', ['data-science']);
    const webEvents = await table('web-events', 'Raw click stream', ['web']);
    const sessions = await table('sessions', 'Web sessions', ['web']);
    const adSpendCsv = await file('ad-spend.csv', 'Ad spend per channel');
    const adSpend = await table('ad-spend', 'Ad spend per day and channel', ['marketing']);
    await table('legacy-exports', 'Old exports nobody uses any more: safe to delete', ['legacy']);

    const sftp = { host: 'sftp.example.com', port: 22, username: 'tributary', password: 'demo-password' };
    const loadUsers = await auto.createEtlStep({
      name: 'load users',
      description: 'Cleans the user export',
      inputId: usersCsv.id,
      outputId: usersStorage.id,
      transform: { steps: [{ op: 'select', columns: ['id', 'email', 'country'] }, { op: 'filter', where: 'email is not null' }] },
    });
    const loadCustomers = await auto.createEtlStep({ name: 'load customers', inputId: customersCsv.id, outputId: customers.id, transform: {} });
    const loadSampleOrders = await auto.createEtlStep({ name: 'load sample orders', description: 'Fills ORDERS from orders.csv while "import orders" has no real server', inputId: ordersCsv.id, outputId: orders.id, transform: {} });
    await auto.createSftpImport({
      ...sftp,
      name: 'import orders',
      description: 'Scheduled on its own: point it at a reachable SFTP server (host, credentials) for its runs to succeed',
      remoteDir: '/exports/orders',
      filePattern: 'orders-*.csv',
      outputId: orders.id,
      schedule: { cron: '0 1 * * *', timezone: 'Europe/Paris' },
    });
    const aggregateRevenue = await auto.createEtlStep({
      name: 'aggregate revenue',
      inputId: ordersCustomers.id,
      outputId: dailyRevenue.id,
      transform: { sql: 'SELECT country, sum(amount) AS revenue FROM input GROUP BY country' },
    });
    const revenueReport = await auto.createScript({
      name: 'revenue report',
      description: 'Python report with its usage declared',
      language: ScriptLanguage.PYTHON,
      code: 'for row in tributary.read("daily-revenue"):\n    tributary.write("revenue-by-country", {**row, "currency": tributary.kwargs["currency"]})\nprint("report written")\n',
      inputIds: [dailyRevenue.id, usersStorage.id],
      outputIds: [revenueByCountry.id],
      variables: { args: [], kwargs: { currency: 'EUR' } },
    });
    await auto.createScript({
      name: 'churn model',
      description: 'Python script without declared usage: not drawn, but its references still protect deletions',
      language: ScriptLanguage.PYTHON,
      code: `import tributary\nusers = tributary.datasource('users-storage')\ncustomers = tributary.datasource_by_id("${customers.id}")\nscores = tributary.datasource('churn-scores')\n`,
    });
    const buildSegments = await auto.createEtlStep({
      name: 'build segments',
      description: 'Has a schedule but is paused, so it is not part of the scheduled flows',
      inputId: usersStorage.id,
      outputId: segments.id,
      schedule: { cron: '0 6 * * 1', timezone: 'Europe/Paris' },
    });
    await auto.setState(buildSegments.id, AutomationState.PAUSED);
    await auto.createSftpImport({ ...sftp, name: 'import web events', remoteDir: '/clickstream', filePattern: '*.jsonl', outputId: webEvents.id, schedule: { cron: '0 * * * *', timezone: 'UTC' } });
    await auto.createEtlStep({ name: 'sessionize events', description: 'Run by hand when needed', inputId: webEvents.id, outputId: sessions.id });
    await auto.createEtlStep({ name: 'load ad spend', inputId: adSpendCsv.id, outputId: adSpend.id, schedule: { cron: '30 7 * * 1-5', timezone: 'America/New_York' } });
    const reporting = await auto.createChainTask({ name: 'reporting', description: 'Not scheduled itself: triggered by "nightly refresh"', stepIds: [aggregateRevenue.id, revenueReport.id] });
    await auto.createChainTask({
      name: 'nightly refresh',
      description: 'Scheduled chain that triggers the loads, then the reporting chain',
      stepIds: [loadUsers.id, loadCustomers.id, loadSampleOrders.id, reporting.id],
      continueOnFailure: false,
      schedule: { cron: '0 2 * * *', timezone: 'Europe/Paris' },
    });
    void segmentOrders;
    return { datasources: await em.count(Datasource), automations: await em.count(Automation) };
  });
}

/** `npm start -- --demo`: loads the demo only into an empty workspace. */
export async function loadDemoIfEmpty(orm: Orm, logger: Logger, config: Config): Promise<void> {
  const em = orm.em.fork();
  if ((await em.count(Datasource)) + (await em.count(Automation)) > 0) {
    logger.info('workspace is not empty: demo not loaded');
    return;
  }
  const summary = await loadDemo(orm, config.dataDir, SecretBox.open(config.dataDir, config.secretKey), config.fileRoots);
  logger.info(summary, 'demo workspace loaded');
}
