import type { AgendaBackend, NotificationChannel } from 'agenda';
import { LocalNotificationChannel } from './local-notification-channel.js';
import { SqliteJobLogger } from './sqlite-job-logger.js';
import { SqliteJobRepository } from './sqlite-job-repository.js';

export interface SqliteBackendOptions {
  /** Database file, e.g. `DATA_DIR/jobs.db`; created (with its directory) if missing. */
  path: string;
  /** Jobs table (default `agenda_jobs`). */
  tableName?: string;
  /** Job event log table, used when Agenda runs with `logging: true` (default `agenda_logs`). */
  logTableName?: string;
  /** How long a statement waits for another process's write lock before failing (ms, default 5000). */
  busyTimeoutMs?: number;
  /**
   * Where Agenda hears of saved jobs so they start without waiting for the next poll. Default: a
   * LocalNotificationChannel (a job saved by this process starts at once; other processes find it
   * on their next poll). `false`: polling only.
   */
  notificationChannel?: NotificationChannel | false;
}

/**
 * Agenda backend on an embedded SQLite file (WAL mode), shared safely by several processes on
 * one machine: the API server and any number of `npm run worker` processes.
 *
 * @example
 * const agenda = new Agenda({ backend: new SqliteBackend({ path: join(dataDir, 'jobs.db') }) });
 */
export class SqliteBackend implements AgendaBackend {
  readonly name = 'SQLite';
  /**
   * The backend opens and closes its own file: agenda.stop() disconnects it. Jobs still running
   * then (Agenda 6.2.6 lets them finish, keeping their locks) reopen it to record their outcome.
   */
  readonly ownsConnection = true;
  readonly repository: SqliteJobRepository;
  readonly logger: SqliteJobLogger;
  readonly notificationChannel: NotificationChannel | undefined;

  constructor(options: SqliteBackendOptions) {
    this.repository = new SqliteJobRepository({ path: options.path, tableName: options.tableName, busyTimeoutMs: options.busyTimeoutMs });
    this.logger = new SqliteJobLogger({ tableName: options.logTableName });
    this.notificationChannel = options.notificationChannel === false ? undefined : (options.notificationChannel ?? new LocalNotificationChannel());
  }

  /** Opens the file and creates the schema if missing; a no-op when already connected. */
  async connect(): Promise<void> {
    await this.repository.connect();
    this.logger.setConnection(this.repository.getConnection());
  }

  /** Closes the file once running statements finish; connect(), or any later call of the repository, opens it again. */
  async disconnect(): Promise<void> {
    this.logger.setConnection(undefined);
    await this.repository.disconnect();
  }
}
