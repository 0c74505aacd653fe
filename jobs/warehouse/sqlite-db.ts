import sqlite3 from 'sqlite3';
import { quoteIdent, sqliteSetup } from '../../core/db/sql.js';

/** A promise face for one sqlite3 connection. Statements on one connection run one at a time. */
export class SqliteDb {
  /** Statements started and not yet finished. */
  private pending = 0;
  private signal: AbortSignal | null = null;
  private repeat: NodeJS.Timeout | null = null;
  private closed = false;
  private unbind: (() => void) | null = null;
  /** Prepared statements not finalized yet: close() finalizes them first. */
  private readonly prepared = new Set<sqlite3.Statement>();

  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string, mode = sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE): Promise<SqliteDb> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (error) => (error ? reject(error) : resolve(new SqliteDb(db))));
    });
  }

  /**
   * Binds the connection to `signal`: once it aborts, no statement starts any more (they fail with
   * the signal's reason) and the running one is interrupted. An interrupt only reaches a statement
   * that is already running on SQLite's thread, so it is repeated every 20 ms while one is pending.
   */
  limit(signal: AbortSignal): void {
    this.signal = signal;
    const stop = () => {
      this.interrupt();
      if (this.repeat || this.closed) return;
      this.repeat = setInterval(() => {
        if (this.pending > 0) return this.interrupt();
        clearInterval(this.repeat!);
        this.repeat = null;
      }, 20);
      this.repeat.unref();
    };
    this.unbind?.();
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    this.unbind = () => signal.removeEventListener('abort', stop);
  }

  /** Caps the size of any one string, blob or row this connection makes or reads (SQLITE_LIMIT_LENGTH): larger ones fail with SQLITE_TOOBIG. */
  limitLength(bytes: number): void {
    this.db.configure('limit', sqlite3.LIMIT_LENGTH, bytes);
  }

  /** Runs one statement, refusing to start it once the bound signal has aborted. */
  private statement<T>(start: (done: (error: Error | null, value?: T) => void) => void, guarded = true): Promise<T> {
    if (guarded && this.signal?.aborted) return Promise.reject(this.signal.reason instanceof Error ? this.signal.reason : new Error('the statement was stopped'));
    this.pending += 1;
    return new Promise<T>((resolve, reject) =>
      start((error, value) => {
        this.pending -= 1;
        if (error) reject(error);
        else resolve(value as T);
      }),
    );
  }

  run(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return this.statement((done) => {
      this.db.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
        done(error, error ? undefined : { changes: this.changes });
      });
    });
  }

  all<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.statement((done) => this.db.all(sql, params, (error, rows) => done(error, rows as T[])));
  }

  /**
   * Prepares one statement to run many times: each run is a single step on SQLite's thread, so
   * work done meanwhile on this thread overlaps with it. Finalize it before the connection closes.
   */
  async prepare(sql: string): Promise<SqliteStatement> {
    const statement = await this.statement<sqlite3.Statement>((done) => {
      const prepared: sqlite3.Statement = this.db.prepare(sql, (error) => done(error, prepared));
    });
    this.prepared.add(statement);
    return {
      run: (params) => this.statement((done) => statement.run(params, (error) => done(error))),
      finalize: () => this.finalize(statement),
    };
  }

  private finalize(statement: sqlite3.Statement): Promise<void> {
    if (!this.prepared.delete(statement)) return Promise.resolve();
    return new Promise((resolve) => statement.finalize(() => resolve()));
  }

  async get<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  exec(sql: string): Promise<void> {
    // ROLLBACK still runs after an abort: it is what cleans up.
    return this.statement((done) => this.db.exec(sql, (error) => done(error)), sql !== 'ROLLBACK');
  }

  /** Runs `work` in one transaction (BEGIN IMMEDIATE: takes the write lock at once), rolling back on error. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.exec('BEGIN IMMEDIATE');
    try {
      const result = await work();
      await this.exec('COMMIT');
      return result;
    } catch (error) {
      await this.exec('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Stops the statement running now (used when a run is cancelled). */
  interrupt(): void {
    if (!this.closed) this.db.interrupt();
  }

  async close(): Promise<void> {
    await Promise.all([...this.prepared].map((statement) => this.finalize(statement)));
    this.closed = true;
    this.unbind?.();
    if (this.repeat) clearInterval(this.repeat);
    this.repeat = null;
    return new Promise((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }
}

export interface SqliteStatement {
  run(params: unknown[]): Promise<void>;
  finalize(): Promise<void>;
}

/** Connection settings shared by every warehouse connection (core/db/sql.ts): WAL so readers never wait for a run. */
export const PRAGMAS = `${sqliteSetup().join('; ')};`;

export { quoteIdent };
