import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What every store of ours (metadata, job store, warehouse, SFTP state) shares about talking SQL:
 * where a store lives, identifier quoting, connection setup, and retrying the errors that mean
 * "try again". One place, so the four stores cannot drift apart.
 */
export { sleep };

export type Dialect = 'sqlite' | 'postgresql';

/** Where a store lives: a SQLite file, or a PostgreSQL database (and the schema it keeps its tables in). */
export type StoreLocation = { dialect: 'sqlite'; file: string } | { dialect: 'postgresql'; url: string };

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * A store's location from its setting: a postgres:// URL, a `sqlite:` URL
 * (`sqlite:///abs/path.db`, `sqlite:relative.db`) or an absolute file path; `defaultFile` when unset.
 * Undefined when the setting is none of these.
 */
export function parseStoreUrl(url: string | undefined, defaultFile: string): StoreLocation | undefined {
  if (url === undefined || url === '') return { dialect: 'sqlite', file: defaultFile };
  if (isPostgresUrl(url)) return { dialect: 'postgresql', url };
  const file = sqliteFileOf(url);
  return file === undefined ? undefined : { dialect: 'sqlite', file };
}

/**
 * The file of `sqlite:///abs/file.db`, `sqlite://rel/file.db`, `sqlite:rel/file.db`, `file:…` or an
 * absolute path (relative ones are left for the caller to resolve); undefined for anything else,
 * `:memory:` included (a store must outlive its connection).
 */
export function sqliteFileOf(url: string): string | undefined {
  if (url.startsWith('/')) return url;
  const match = /^(?:sqlite|file):(?:\/\/)?(.+)$/i.exec(url);
  if (!match) return undefined;
  const path = decodeURIComponent(match[1]!);
  return path === ':memory:' ? undefined : path;
}

/** A double-quoted SQL identifier: the same rule in SQLite and PostgreSQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** How long a SQLite connection of ours waits for another process's lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * The statements every SQLite connection of ours starts with, in order: the busy timeout first
 * (switching to WAL needs a lock another process may hold), WAL so readers never wait for a
 * writer, and NORMAL sync (safe with WAL).
 */
export function sqliteSetup(busyTimeoutMs = SQLITE_BUSY_TIMEOUT_MS): string[] {
  return [`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`, 'PRAGMA journal_mode = WAL', 'PRAGMA synchronous = NORMAL'];
}

/** SQLite refused for a lock another connection holds. */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** PostgreSQL asked for the transaction to be tried again: a serialization failure or a deadlock. */
export function isPostgresRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * Runs `attempt` again while it fails with an error `isRetryable` accepts, for up to `timeoutMs`
 * in all, with a short randomized backoff so that competing processes do not retry in step.
 */
export async function retrying<T>(attempt: () => Promise<T>, options: { isRetryable: (error: unknown) => boolean; timeoutMs: number }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (let retry = 1; ; retry += 1) {
    try {
      return await attempt();
    } catch (error) {
      const left = deadline - Date.now();
      if (!options.isRetryable(error) || left <= 0) throw error;
      await sleep(Math.min(left, 5 * retry + Math.random() * 20));
    }
  }
}

/** A location as logs and messages show it: the file, or the URL without its password. */
export function describeLocation(location: StoreLocation): string {
  if (location.dialect === 'sqlite') return location.file;
  try {
    const url = new URL(location.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
