import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';
import { isSqliteBusy, retrying, sqliteSetup } from '../../core/db/sql.js';

/** A value bound to a statement parameter. */
export type SqlValue = string | number | null;

export interface RunResult {
  changes: number;
}

/** Runs statements: the connection itself, or the handle a transaction's work receives. */
export interface SqlExecutor {
  /** Runs a statement and returns its rows (use for SELECT and for writes with RETURNING). */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement that returns no rows. */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

export interface SqliteConnectionOptions {
  /** Database file; created (with its directory) if missing. */
  path: string;
  /** How long a statement waits for another process's write lock before SQLITE_BUSY (ms). */
  busyTimeoutMs: number;
}

/** Distinct statements kept prepared; past this, rare shapes are prepared per call. */
const MAX_CACHED_STATEMENTS = 500;
/** Statements one connection runs at once: enough to keep SQLite busy while JavaScript handles results. */
const MAX_IN_FLIGHT = 4;

export class NotConnectedError extends Error {
  constructor(path: string) {
    super(`the SQLite job store ${path} is not connected`);
    this.name = 'NotConnectedError';
  }
}

interface Waiter {
  exclusive: boolean;
  admit: () => void;
}

/**
 * A promise face for one sqlite3 connection, with prepared statements cached by SQL text.
 *
 * Work is admitted in the order it is asked for, like a connection pool's queue: up to
 * MAX_IN_FLIGHT single statements at once (each in autocommit mode), or one transaction alone
 * (sqlite3 would otherwise run statements issued meanwhile inside it). First come, first served
 * also keeps a chain of calls (Agenda locking job after job) from overtaking work queued earlier.
 */
export class SqliteConnection implements SqlExecutor {
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();
  private readonly waiting: Waiter[] = [];
  /** Index of the first waiter still waiting in `waiting`. */
  private head = 0;
  private running = 0;
  private exclusiveRunning = false;
  private closing: Promise<void> | undefined;
  private readonly inTransaction: SqlExecutor = {
    all: <T>(sql: string, params: readonly SqlValue[] = []) => this.execute<T[]>('all', sql, params),
    run: (sql: string, params: readonly SqlValue[] = []) => this.execute<RunResult>('run', sql, params),
  };

  private constructor(
    private readonly db: sqlite3.Database,
    readonly path: string,
    private readonly busyTimeoutMs: number,
  ) {}

  /** Opens (creating) the file with our SQLite setup (core/db/sql.ts): busy timeout, WAL, NORMAL sync. */
  static async open(options: SqliteConnectionOptions): Promise<SqliteConnection> {
    if (options.path !== ':memory:' && !options.path.startsWith('file:')) mkdirSync(dirname(options.path), { recursive: true });
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle: sqlite3.Database = new sqlite3.Database(options.path, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE | sqlite3.OPEN_FULLMUTEX, (error) =>
        error ? reject(error) : resolve(handle),
      );
    });
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs));
    const connection = new SqliteConnection(db, options.path, busyTimeoutMs);
    try {
      for (const statement of sqliteSetup(busyTimeoutMs)) await connection.all(statement);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    return connection;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    await this.admit(false);
    try {
      return await this.retryBusy(() => this.execute<T[]>('all', sql, params));
    } finally {
      this.finish(false);
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    await this.admit(false);
    try {
      return await this.retryBusy(() => this.execute<RunResult>('run', sql, params));
    } finally {
      this.finish(false);
    }
  }

  /**
   * Runs `work` in one `BEGIN IMMEDIATE` transaction: the write lock is taken at once (waiting
   * out other processes by the busy timeout), so what `work` reads stays true until it commits.
   * Rolls back when `work` throws; runs it again (rolled back first) when SQLite answers
   * SQLITE_BUSY. `work` must only use the executor it is given.
   */
  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.retryBusy(async () => {
        await this.execute('run', 'BEGIN IMMEDIATE', []);
        try {
          const result = await work(this.inTransaction);
          await this.execute('run', 'COMMIT', []);
          return result;
        } catch (error) {
          await this.execute('run', 'ROLLBACK', []).catch(() => undefined);
          throw error;
        }
      }),
    );
  }

  /**
   * Runs a script of statements (DDL) in one `BEGIN IMMEDIATE` transaction, handed to SQLite in
   * one call, so the write lock is never held across turns of the event loop.
   */
  async script(statements: readonly string[]): Promise<void> {
    const sql = ['BEGIN IMMEDIATE', ...statements, 'COMMIT'].join(';\n');
    await this.exclusive(() =>
      this.retryBusy(async () => {
        try {
          await new Promise<void>((resolve, reject) => this.db.exec(sql, (error) => (error ? reject(error) : resolve())));
        } catch (error) {
          await new Promise<void>((resolve) => this.db.exec('ROLLBACK', () => resolve()));
          throw error;
        }
      }),
    );
  }

  /** Runs `work` alone on the connection, once everything asked for before it has finished. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await this.admit(true);
    try {
      return await work();
    } finally {
      this.finish(true);
    }
  }

  /** Waits for the work already asked for, finalizes the prepared statements and closes the file. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.enqueue(true);
      const statements = await Promise.allSettled([...this.statements.values()]);
      this.statements.clear();
      for (const settled of statements) {
        if (settled.status === 'fulfilled') await new Promise<void>((resolve) => settled.value.finalize(() => resolve()));
      }
      await new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
    })();
    return this.closing;
  }

  private admit(exclusive: boolean): Promise<void> {
    if (this.closing) return Promise.reject(new NotConnectedError(this.path));
    return this.enqueue(exclusive);
  }

  private enqueue(exclusive: boolean): Promise<void> {
    if (this.head === this.waiting.length && this.canStart(exclusive)) {
      this.start(exclusive);
      return Promise.resolve();
    }
    return new Promise<void>((admit) => this.waiting.push({ exclusive, admit }));
  }

  private canStart(exclusive: boolean): boolean {
    return !this.exclusiveRunning && (exclusive ? this.running === 0 : this.running < MAX_IN_FLIGHT);
  }

  private start(exclusive: boolean): void {
    if (exclusive) this.exclusiveRunning = true;
    else this.running += 1;
  }

  private finish(exclusive: boolean): void {
    if (exclusive) this.exclusiveRunning = false;
    else this.running -= 1;
    while (this.head < this.waiting.length && this.canStart(this.waiting[this.head]!.exclusive)) {
      const next = this.waiting[this.head]!;
      this.head += 1;
      this.start(next.exclusive);
      next.admit();
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Runs `attempt` again while SQLite answers busy, for up to the busy timeout in all. SQLite's
   * own busy handler already waits that long for a lock; these retries cover the BUSY answers it
   * gives at once (a WAL snapshot gone stale, recovery by another process).
   */
  private retryBusy<T>(attempt: () => Promise<T>): Promise<T> {
    return retrying(attempt, { isRetryable: isSqliteBusy, timeoutMs: this.busyTimeoutMs });
  }

  private prepared(sql: string): Promise<sqlite3.Statement> | undefined {
    let statement = this.statements.get(sql);
    if (!statement && this.statements.size < MAX_CACHED_STATEMENTS) {
      statement = new Promise<sqlite3.Statement>((resolve, reject) => {
        const handle: sqlite3.Statement = this.db.prepare(sql, (error) => (error ? reject(error) : resolve(handle)));
      });
      this.statements.set(sql, statement);
      // A statement that fails to prepare (e.g. SQLITE_BUSY reading the schema) is tried afresh next time.
      statement.catch(() => this.statements.delete(sql));
    }
    return statement;
  }

  private async execute<R>(mode: 'all' | 'run', sql: string, params: readonly SqlValue[]): Promise<R> {
    const pending = this.prepared(sql);
    const statement = pending ? await pending : undefined;
    const values = [...params];
    return new Promise<R>((resolve, reject) => {
      if (mode === 'all') {
        const done = (error: Error | null, rows: unknown[]): void => (error ? reject(error) : resolve(rows as R));
        if (statement) statement.all(values, done);
        else this.db.all(sql, values, done);
      } else {
        const done = function (this: sqlite3.RunResult, error: Error | null): void {
          if (error) reject(error);
          else resolve({ changes: this.changes } as R);
        };
        if (statement) statement.run(values, done);
        else this.db.run(sql, values, done);
      }
    });
  }
}
