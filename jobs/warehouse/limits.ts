import type { Row } from '../../core/rows.js';

/** Most bytes of row data (as JSON) one answer carries: a page of `rows`, or all the samples of a preview together. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** Most output rows a preview shows (ETL steps and scripts), whatever the transform or code makes of its sample. */
export const PREVIEW_OUTPUT_ROWS = 1_000;

/** Largest value (string, blob) or row a read whose answer is capped may make or read (SQLITE_LIMIT_LENGTH): memory stays bounded before the rows are cut. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** Largest value or row any warehouse connection makes, runs included: a transform cannot build a 1 GB string in the server's memory. */
export const MAX_RUN_VALUE_BYTES = 64 * 1024 * 1024;

/**
 * Warehouse requests from the API that run at once (the rest wait, within their time limit), of
 * which heavy ones (previews, which run user SQL) at most HEAVY: a page of `rows` finds a turn
 * while previews run, and one of libuv's 4 threads stays free for the metadata database.
 */
export const DEFAULT_REQUEST_CONCURRENCY = 3;
export const DEFAULT_HEAVY_CONCURRENCY = 2;

/** Requests that may wait for a turn; more are answered "busy" at once. */
export const DEFAULT_REQUEST_QUEUE = 16;

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;
const megabytes = (bytes: number) => `${Number((bytes / 1024 / 1024).toFixed(1))} MB`;

/** The work took longer than the time limit and was stopped. */
export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`took longer than ${seconds(timeoutMs)} (the time limit, QUERY_TIMEOUT_MS) and was stopped`);
    this.name = 'QueryTimeoutError';
  }
}

/** The client went away (its HTTP request closed): the work was stopped, nobody reads the answer. */
export class RequestAbortedError extends Error {
  constructor() {
    super('the request was closed by the client');
    this.name = 'RequestAbortedError';
  }
}

/** No turn came within the time limit, or too many requests were already waiting. */
export class WarehouseBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WarehouseBusyError';
  }
}

/**
 * A value or row over the cap of its work (MAX_VALUE_BYTES for capped answers, MAX_RUN_VALUE_BYTES
 * for runs): what SQLITE_TOOBIG is on SQLite, said by the PostgreSQL warehouse, which checks every
 * row a query gives before it is kept.
 */
export class ValueTooLargeError extends Error {
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`a value or row of ${megabytes(bytes)} is over the ${megabytes(maxBytes)} limit`);
    this.name = 'ValueTooLargeError';
  }
}

/** One answer's rows were more than it may carry, and cannot be cut (a single row is too large). */
export class AnswerTooLargeError extends Error {
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`one row is ${megabytes(bytes)} of JSON, more than the ${megabytes(maxBytes)} one answer may carry`);
    this.name = 'AnswerTooLargeError';
  }
}

/**
 * Bounds the warehouse work that API requests ask for: a time limit from the request's start
 * (waiting for a turn included), the client's going away, and how many run at once. SQLite
 * statements and file reads run on libuv's thread pool (4 threads by default), which the metadata
 * database (and so `/healthz`) shares; letting only a few requests in at a time keeps threads free.
 */
export class RequestLimiter {
  private active = 0;
  private activeHeavy = 0;
  private readonly waiting: { heavy: boolean; go: () => void }[] = [];

  constructor(
    readonly timeoutMs: number,
    readonly concurrency = DEFAULT_REQUEST_CONCURRENCY,
    readonly heavyConcurrency = Math.min(DEFAULT_HEAVY_CONCURRENCY, concurrency),
    readonly maxQueue = DEFAULT_REQUEST_QUEUE,
  ) {}

  /**
   * Runs `work` with a signal that aborts when the time limit passes (reason: QueryTimeoutError)
   * or the client leaves (RequestAbortedError). When the signal has aborted, whatever `work`
   * throws is replaced by that reason, so callers see one coded error. `heavy` work (previews)
   * takes one of the fewer heavy turns.
   */
  async run<T>(client: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>, options: { heavy?: boolean } = {}): Promise<T> {
    const heavy = options.heavy ?? false;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new QueryTimeoutError(this.timeoutMs)), this.timeoutMs);
    const left = () => controller.abort(new RequestAbortedError());
    if (client?.aborted) left();
    client?.addEventListener('abort', left, { once: true });
    try {
      const asked = Date.now();
      await this.acquire(controller.signal, heavy);
      const waited = Date.now() - asked;
      try {
        return await work(controller.signal);
      } catch (error) {
        if (!controller.signal.aborted) throw error;
        const reason: unknown = controller.signal.reason;
        // Most of the time went waiting for a turn: the warehouse was busy, not this work slow.
        if (reason instanceof QueryTimeoutError && waited > this.timeoutMs / 2) {
          throw new WarehouseBusyError(`the warehouse was busy with other requests for ${seconds(waited)} and the time limit (${seconds(this.timeoutMs)}, QUERY_TIMEOUT_MS) passed; try again in a moment`);
        }
        throw reason;
      } finally {
        this.release(heavy);
      }
    } finally {
      clearTimeout(timer);
      client?.removeEventListener('abort', left);
    }
  }

  /** Requests whose work is running now (not waiting for a turn). */
  get running(): number {
    return this.active;
  }

  private free(heavy: boolean): boolean {
    return this.active < this.concurrency && (!heavy || this.activeHeavy < this.heavyConcurrency);
  }

  private take(heavy: boolean): void {
    this.active += 1;
    if (heavy) this.activeHeavy += 1;
  }

  private acquire(signal: AbortSignal, heavy: boolean): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.free(heavy) && !this.waiting.some((w) => this.free(w.heavy))) {
      this.take(heavy);
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(new WarehouseBusyError(`the warehouse is busy: ${this.active} requests are running and ${this.waiting.length} waiting; try again in a moment`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        heavy,
        go: () => {
          signal.removeEventListener('abort', giveUp);
          this.take(heavy);
          resolve();
        },
      };
      const giveUp = () => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        const reason = signal.reason;
        reject(reason instanceof QueryTimeoutError ? new WarehouseBusyError(`the warehouse stayed busy with other requests for ${seconds(this.timeoutMs)} (the time limit, QUERY_TIMEOUT_MS); try again in a moment`) : reason);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Frees a turn and gives turns to the waiters that can go now, in order (a light one may pass heavy ones). */
  private release(heavy: boolean): void {
    this.active -= 1;
    if (heavy) this.activeHeavy -= 1;
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i]!;
      if (!this.free(waiter.heavy)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      waiter.go();
    }
  }
}

/** Size of a row as the answer will carry it (JSON, UTF-8). */
export function rowBytes(row: Row): number {
  return Buffer.byteLength(JSON.stringify(row) ?? '', 'utf8');
}

/**
 * The leading rows that fit in `maxBytes`; `truncated` when some were left out. The first row
 * alone larger than the cap is an {@link AnswerTooLargeError} when `refuseOversized`, else nothing is kept.
 */
export function capRows(rows: Row[], maxBytes: number, refuseOversized = false): { rows: Row[]; truncated: boolean } {
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const size = rowBytes(rows[i]!) + 1;
    if (total + size > maxBytes) {
      if (i === 0 && refuseOversized) throw new AnswerTooLargeError(size, maxBytes);
      return { rows: rows.slice(0, i), truncated: true };
    }
    total += size;
  }
  return { rows, truncated: false };
}
