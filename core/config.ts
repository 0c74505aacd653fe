import { mkdirSync, accessSync, constants, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseStoreUrl, type StoreLocation } from './db/sql.js';
import { defaultFileRoot, isInside } from './paths.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Validated runtime configuration; read once at start by {@link loadConfig}. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** The metadata database (DATABASE_URL): a SQLite file (default DATA_DIR/tributary.db, absolute) or a PostgreSQL database. */
  database: StoreLocation;
  /** Where datasources keep their data (WAREHOUSE_URL): DATA_DIR/warehouse.db (SQLite, the default) or a PostgreSQL database. */
  warehouse: StoreLocation;
  logLevel: LogLevel;
  /** Key sealing stored secrets; when absent, a key file in DATA_DIR is used (created on first start). */
  secretKey?: Buffer;
  scheduler: SchedulerConfig;
  /** Directories FILE datasources may read from (absolute, real paths); default `DATA_DIR/files`. */
  fileRoots: string[];
  /** `on`: scripts run in the bubblewrap sandbox, or not at all; `off`: without it (an admin's explicit choice, warned at every start). */
  scriptSandbox: 'on' | 'off';
  /** Time limit (ms) for the SQL, previews and reads a request runs on the warehouse. */
  queryTimeoutMs: number;
  /** The address people and machines use to reach Tributary (PUBLIC_URL), when set. */
  publicUrl?: URL;
  /** Further host names requests may be addressed to (ALLOWED_HOSTS, lowercased; ".example.com" also takes its subdomains). */
  allowedHosts: string[];
  /** TRIBUTARY_ADMIN_EMAIL and TRIBUTARY_ADMIN_PASSWORD: the first admin, created at start when no user exists. */
  admin?: { email: string; password: string };
  openLineage: OpenLineageConfig;
  /** LINEAGE_STALE_AFTER_RUNS (default 30): a declaration none of an automation's last this-many observed runs used is drawn stale. */
  staleAfterRuns: number;
}

/** How many of an automation's last observed runs a declaration may go unused in before it is stale (the graph's default, and lineageDrift's). */
export const DEFAULT_STALE_AFTER_RUNS = 30;

/** OpenLineage naming and emission (README, "OpenLineage"). */
export interface OpenLineageConfig {
  /** OPENLINEAGE_NAMESPACE (default `tributary`): the namespace of Tributary's jobs (and join datasets) in the events it sends and reads. */
  namespace: string;
  /** OPENLINEAGE_URL: where every run's events are sent (the receiver's base URL; `/api/v1/lineage` is added). Unset: nothing is sent. */
  url?: URL;
  /** OPENLINEAGE_API_KEY: sent as `Authorization: Bearer …` to the receiver. Never logged. */
  apiKey?: string;
}

export interface SchedulerConfig {
  /** How often the job store is polled for due jobs (ms). */
  processEveryMs: number;
  /** Runs one process runs at the same time. */
  concurrency: number;
  /** Finished runs older than this many days are pruned. */
  retentionDays: number;
  /** Audit log entries older than this many days are pruned (AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number;
  /** Job store: a SQLite file path (default DATA_DIR/jobs.db) or a postgres:// URL for scale-out. */
  jobStoreUrl?: string;
}

/** Thrown at start when one or more variables are invalid; the message names every one. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment. Creates DATA_DIR when missing.
 * Every bad variable is reported at once, so a user fixes them in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const host = value('HOST') ?? '127.0.0.1';
  if (/\s/.test(host)) problems.push(`HOST must be a host name or IP address, got ${JSON.stringify(host)}`);

  let port = 4000;
  const rawPort = value('PORT');
  if (rawPort !== undefined) {
    port = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || port > 65535) {
      problems.push(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(rawPort)}`);
    }
  }

  const logLevel = (value('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }

  let dataDirUsable = true; // FILE_ROOTS are judged only when it is
  const dataDir = resolve(cwd, value('DATA_DIR') ?? './data');
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    problems.push(`DATA_DIR ${JSON.stringify(dataDir)} cannot be created or written: ${(error as Error).message}`);
    dataDirUsable = false;
  }

  const store = (name: string, defaultFile: string): StoreLocation => {
    const raw = value(name);
    const location = parseStoreUrl(raw, defaultFile);
    if (location === undefined) {
      problems.push(`${name} must be a postgres:// URL or a SQLite URL such as sqlite:///var/lib/tributary/${defaultFile.split('/').pop()} or sqlite:./data/${defaultFile.split('/').pop()}, got ${JSON.stringify(raw)}`);
      return { dialect: 'sqlite', file: defaultFile };
    }
    return location.dialect === 'sqlite' ? { dialect: 'sqlite', file: resolve(cwd, location.file) } : location;
  };
  const database = store('DATABASE_URL', resolve(dataDir, 'tributary.db'));
  const warehouse = store('WAREHOUSE_URL', resolve(dataDir, 'warehouse.db'));
  if (warehouse.dialect === 'sqlite' && warehouse.file !== resolve(dataDir, 'warehouse.db')) {
    problems.push(`WAREHOUSE_URL must be a postgres:// URL: the embedded warehouse always lives in DATA_DIR/warehouse.db (leave WAREHOUSE_URL unset for it)`);
  }

  let secretKey: Buffer | undefined;
  const rawKey = value('TRIBUTARY_SECRET_KEY');
  if (rawKey !== undefined) {
    secretKey = /^[0-9a-f]{64}$/i.test(rawKey) ? Buffer.from(rawKey, 'hex') : Buffer.from(rawKey, 'base64');
    if (secretKey.length !== 32) {
      problems.push('TRIBUTARY_SECRET_KEY must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
    }
  }

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return n;
  };
  const scheduler: SchedulerConfig = {
    processEveryMs: integer('SCHEDULER_POLL_MS', 5_000, 100, 600_000),
    concurrency: integer('RUN_CONCURRENCY', 4, 1, 256),
    retentionDays: integer('RUN_RETENTION_DAYS', 90, 1, 36_500),
    auditRetentionDays: integer('AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    jobStoreUrl: value('JOB_STORE_URL'),
  };
  if (scheduler.jobStoreUrl && !/^(postgres(ql)?:\/\/|sqlite:|\/)/i.test(scheduler.jobStoreUrl)) {
    problems.push(`JOB_STORE_URL must be a postgres:// URL, a sqlite: URL or an absolute file path, got ${JSON.stringify(scheduler.jobStoreUrl)}`);
  }

  const fileRoots = dataDirUsable ? readFileRoots(value('FILE_ROOTS'), dataDir, cwd, problems) : [];

  const sandbox = (value('SCRIPT_SANDBOX') ?? 'on').toLowerCase();
  if (sandbox !== 'on' && sandbox !== 'off') problems.push(`SCRIPT_SANDBOX must be on or off, got ${JSON.stringify(sandbox)}`);
  const queryTimeoutMs = integer('QUERY_TIMEOUT_MS', 10_000, 100, 3_600_000);

  let publicUrl: URL | undefined;
  const rawPublicUrl = value('PUBLIC_URL');
  if (rawPublicUrl !== undefined) {
    try {
      publicUrl = new URL(rawPublicUrl);
      if (!['http:', 'https:'].includes(publicUrl.protocol) || publicUrl.username || publicUrl.password || publicUrl.search || publicUrl.hash) throw new Error('not a plain http(s) address');
    } catch {
      problems.push(`PUBLIC_URL must be the http:// or https:// address people use to reach Tributary (e.g. https://tributary.example.com), got ${JSON.stringify(rawPublicUrl)}`);
      publicUrl = undefined;
    }
  }
  const allowedHosts = (value('ALLOWED_HOSTS') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const h of allowedHosts) {
    if (!/^\.?[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(h)) problems.push(`ALLOWED_HOSTS must be host names separated by commas (".example.com" takes its subdomains too), got ${JSON.stringify(h)}`);
  }
  if (['0.0.0.0', '::', '[::]'].includes(host) && !publicUrl && allowedHosts.length === 0) {
    problems.push(`HOST=${host} accepts connections on every interface: set PUBLIC_URL to the address people use (e.g. https://tributary.example.com) or ALLOWED_HOSTS to the host names they type, so that requests addressed to any other name (DNS rebinding) are refused`);
  }

  const adminEmail = value('TRIBUTARY_ADMIN_EMAIL');
  const adminPassword = env.TRIBUTARY_ADMIN_PASSWORD; // kept as typed: spaces count in a password
  if (Boolean(adminEmail) !== Boolean(adminPassword)) problems.push('set TRIBUTARY_ADMIN_EMAIL and TRIBUTARY_ADMIN_PASSWORD together, or neither');

  const openLineage = readOpenLineage(value, env, problems);
  const staleAfterRuns = integer('LINEAGE_STALE_AFTER_RUNS', DEFAULT_STALE_AFTER_RUNS, 1, 1_000);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host,
    port,
    dataDir,
    database,
    warehouse,
    logLevel: logLevel as LogLevel,
    secretKey,
    scheduler,
    fileRoots,
    scriptSandbox: sandbox === 'off' ? 'off' : 'on',
    queryTimeoutMs,
    publicUrl,
    allowedHosts,
    ...(adminEmail && adminPassword ? { admin: { email: adminEmail, password: adminPassword } } : {}),
    openLineage,
    staleAfterRuns,
  };
}

function readOpenLineage(value: (name: string) => string | undefined, env: NodeJS.ProcessEnv, problems: string[]): OpenLineageConfig {
  const namespace = value('OPENLINEAGE_NAMESPACE') ?? 'tributary';
  if (namespace.length > 200 || /[\u0000-\u001f]/.test(namespace)) problems.push(`OPENLINEAGE_NAMESPACE must be a name of at most 200 characters, got ${JSON.stringify(namespace.slice(0, 80))}`);
  const raw = value('OPENLINEAGE_URL');
  let url: URL | undefined;
  if (raw !== undefined) {
    try {
      url = new URL(raw);
      if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username || url.password) throw new Error('not a plain http(s) address');
    } catch {
      // Never repeated as given: it may hold a password.
      problems.push('OPENLINEAGE_URL must be the http:// or https:// address of an OpenLineage receiver (e.g. http://marquez:5000), without a user, password, query or fragment (the key goes in OPENLINEAGE_API_KEY)');
      url = undefined;
    }
  }
  const apiKey = env.OPENLINEAGE_API_KEY?.trim() || undefined;
  if (apiKey && !/^[\x21-\x7e]+$/.test(apiKey)) problems.push('OPENLINEAGE_API_KEY must be one word of visible ASCII characters (it is sent as `Authorization: Bearer <key>`)');
  if (apiKey && !url) problems.push('OPENLINEAGE_API_KEY is set but OPENLINEAGE_URL is not: set the receiver too, or remove the key');
  return { namespace, ...(url ? { url } : {}), ...(apiKey ? { apiKey } : {}) };
}

/**
 * FILE_ROOTS: directories separated by `:` like PATH, each resolved to its real path. The default,
 * DATA_DIR/files, is created; a root given explicitly must exist. A root may not be DATA_DIR
 * itself or hold it: FILE datasources never see Tributary's own databases or key.
 */
function readFileRoots(raw: string | undefined, dataDir: string, cwd: string, problems: string[]): string[] {
  if (raw === undefined) {
    try {
      return [defaultFileRoot(dataDir)];
    } catch (error) {
      problems.push(`the default FILE_ROOTS directory ${JSON.stringify(join(dataDir, 'files'))} cannot be created: ${(error as Error).message}`);
      return [];
    }
  }
  let realData = dataDir;
  try {
    realData = realpathSync(dataDir);
  } catch {
    // DATA_DIR's own problem is reported above.
  }
  const roots: string[] = [];
  for (const part of raw.split(':').map((p) => p.trim()).filter(Boolean)) {
    let root: string;
    try {
      root = realpathSync(resolve(cwd, part));
      if (!statSync(root).isDirectory()) throw new Error('not a directory');
    } catch (error) {
      problems.push(`FILE_ROOTS entry ${JSON.stringify(part)} must be an existing directory: ${(error as Error).message}`);
      continue;
    }
    if (isInside(realData, root)) {
      problems.push(`FILE_ROOTS entry ${JSON.stringify(part)} holds DATA_DIR (${realData}); use a directory inside or beside it, such as ${join(realData, 'files')}`);
      continue;
    }
    if (!roots.includes(root)) roots.push(root);
  }
  if (roots.length === 0 && !problems.some((p) => p.startsWith('FILE_ROOTS'))) problems.push('FILE_ROOTS must name at least one directory');
  return roots;
}
