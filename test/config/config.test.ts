import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../core/config.js';

const cwd = mkdtempSync(join(tmpdir(), 'tributary-config-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe(loadConfig.name, () => {
  it('defaults to 127.0.0.1:4000 with ./data/tributary.db, creating ./data', () => {
    const config = loadConfig({}, cwd);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4000, dataDir: join(cwd, 'data'), database: { dialect: 'sqlite', file: join(cwd, 'data', 'tributary.db') }, logLevel: 'info' });
    expect(config.warehouse).toEqual({ dialect: 'sqlite', file: join(cwd, 'data', 'warehouse.db') });
    expect(config.scheduler).toEqual({ processEveryMs: 5000, concurrency: 4, retentionDays: 90, auditRetentionDays: 365, jobStoreUrl: undefined });
    expect(config.secretKey).toBeUndefined();
    expect(existsSync(join(cwd, 'data'))).toBe(true);
  });

  it('reads the OpenLineage settings, refusing a key that could break a header and a URL holding a password', () => {
    expect(loadConfig({}, cwd).openLineage).toEqual({ namespace: 'tributary' });
    expect(loadConfig({ OPENLINEAGE_URL: 'http://marquez:5000', OPENLINEAGE_API_KEY: 'k3y', OPENLINEAGE_NAMESPACE: 'tributary-eu' }, cwd).openLineage).toEqual({
      namespace: 'tributary-eu',
      url: new URL('http://marquez:5000'),
      apiKey: 'k3y',
    });
    const found = problems({ OPENLINEAGE_URL: 'http://user:s3cret@marquez:5000', OPENLINEAGE_API_KEY: 'line\nbreak' });
    expect(found.some((p) => p.startsWith('OPENLINEAGE_URL'))).toBe(true);
    expect(found.some((p) => p.startsWith('OPENLINEAGE_API_KEY'))).toBe(true);
    expect(found.join('\n')).not.toContain('s3cret');
    expect(problems({ OPENLINEAGE_API_KEY: 'k3y' })).toEqual([expect.stringContaining('OPENLINEAGE_URL is not')]);
  });

  it('reads every variable', () => {
    const key = 'ab'.repeat(32);
    const config = loadConfig(
      { HOST: '0.0.0.0', PORT: '8080', DATA_DIR: 'custom', DATABASE_URL: 'sqlite:///tmp/x/meta.db', LOG_LEVEL: 'DEBUG', TRIBUTARY_SECRET_KEY: key, PUBLIC_URL: 'https://data.example.com', ALLOWED_HOSTS: ' Tributary.internal , .corp.example' },
      cwd,
    );
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, dataDir: join(cwd, 'custom'), database: { dialect: 'sqlite', file: '/tmp/x/meta.db' }, logLevel: 'debug', allowedHosts: ['tributary.internal', '.corp.example'] });
    expect(config.publicUrl?.href).toBe('https://data.example.com/');
    expect(config.secretKey?.toString('hex')).toBe(key);
    expect(loadConfig({ DATABASE_URL: 'sqlite:rel/meta.db' }, cwd).database).toEqual({ dialect: 'sqlite', file: join(cwd, 'rel/meta.db') });
    const shared = loadConfig({ DATABASE_URL: 'postgres://db.internal/tributary', WAREHOUSE_URL: 'postgresql://user:pw@db.internal/data' }, cwd);
    expect(shared.database).toEqual({ dialect: 'postgresql', url: 'postgres://db.internal/tributary' });
    expect(shared.warehouse).toEqual({ dialect: 'postgresql', url: 'postgresql://user:pw@db.internal/data' });
    const scheduler = loadConfig({ JOB_STORE_URL: 'postgres://db/jobs', RUN_CONCURRENCY: '8', SCHEDULER_POLL_MS: '250', RUN_RETENTION_DAYS: '7', AUDIT_RETENTION_DAYS: '30' }, cwd).scheduler;
    expect(scheduler).toEqual({ jobStoreUrl: 'postgres://db/jobs', concurrency: 8, processEveryMs: 250, retentionDays: 7, auditRetentionDays: 30 });
    expect(loadConfig({}, cwd).staleAfterRuns).toBe(30);
    expect(loadConfig({ LINEAGE_STALE_AFTER_RUNS: '5' }, cwd).staleAfterRuns).toBe(5);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be an integer from 0 to 65535, got "eighty"/],
    [{ PORT: '70000' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/],
    [{ DATABASE_URL: 'mysql://localhost/x' }, /DATABASE_URL must be a postgres:\/\/ URL or a SQLite URL/],
    [{ WAREHOUSE_URL: 'sqlite::memory:' }, /WAREHOUSE_URL must be a postgres:\/\/ URL or a SQLite URL/],
    [{ WAREHOUSE_URL: 'sqlite:///srv/elsewhere.db' }, /WAREHOUSE_URL must be a postgres:\/\/ URL: the embedded warehouse always lives in DATA_DIR\/warehouse.db/],
    [{ JOB_STORE_URL: 'redis://localhost' }, /JOB_STORE_URL must be a postgres:\/\/ URL, a sqlite: URL or an absolute file path, got "redis:\/\/localhost"/],
    [{ RUN_CONCURRENCY: '0' }, /RUN_CONCURRENCY must be an integer from 1 to 256, got "0"/],
    [{ RUN_RETENTION_DAYS: 'forever' }, /RUN_RETENTION_DAYS must be an integer from 1 to 36500/],
    [{ LINEAGE_STALE_AFTER_RUNS: '0' }, /LINEAGE_STALE_AFTER_RUNS must be an integer from 1 to 1000, got "0"/],
    [{ SCHEDULER_POLL_MS: '10' }, /SCHEDULER_POLL_MS must be an integer from 100 to 600000/],
    [{ HOST: 'my host' }, /HOST/],
    [{ TRIBUTARY_SECRET_KEY: 'short' }, /TRIBUTARY_SECRET_KEY must be 32 bytes/],
    [{ SCRIPT_SANDBOX: 'maybe' }, /SCRIPT_SANDBOX must be on or off, got "maybe"/],
    [{ QUERY_TIMEOUT_MS: '5' }, /QUERY_TIMEOUT_MS must be an integer from 100 to 3600000/],
    [{ FILE_ROOTS: '/nonexistent/imports' }, /FILE_ROOTS entry "\/nonexistent\/imports" must be an existing directory/],
    [{ FILE_ROOTS: '/' }, /FILE_ROOTS entry "\/" holds DATA_DIR/],
  ])('names the bad variable %o', (env, message) => {
    const found = problems(env as Record<string, string>);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('reports every bad variable at once, including an unusable DATA_DIR', () => {
    const blocker = join(cwd, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const found = problems({ PORT: '-1', LOG_LEVEL: 'x', DATA_DIR: join(blocker, 'data') });
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/PORT[\s\S]*LOG_LEVEL[\s\S]*DATA_DIR .* cannot be created/);
    expect(() => loadConfig({ PORT: '-1' }, cwd)).toThrow(/Invalid configuration:\n {2}- PORT/);
  });

  it('confines FILE datasources to DATA_DIR/files by default, and to FILE_ROOTS (real paths) when set', () => {
    const config = loadConfig({ DATA_DIR: 'roots-data' }, cwd);
    expect(config.fileRoots).toEqual([realpathSync(join(cwd, 'roots-data', 'files'))]);
    expect(config).toMatchObject({ scriptSandbox: 'on', queryTimeoutMs: 10_000 });
    mkdirSync(join(cwd, 'in'), { recursive: true });
    mkdirSync(join(cwd, 'exports'), { recursive: true });
    const set = loadConfig({ DATA_DIR: 'roots-data', FILE_ROOTS: `in:${join(cwd, 'exports')}::in`, SCRIPT_SANDBOX: 'OFF', QUERY_TIMEOUT_MS: '2500' }, cwd);
    expect(set.fileRoots).toEqual([realpathSync(join(cwd, 'in')), realpathSync(join(cwd, 'exports'))]);
    expect(set).toMatchObject({ scriptSandbox: 'off', queryTimeoutMs: 2500 });
  });
});
