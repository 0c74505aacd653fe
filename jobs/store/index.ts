export { SqliteBackend, type SqliteBackendOptions } from './sqlite-backend.js';
export { SqliteJobRepository, type SqliteJobRepositoryOptions } from './sqlite-job-repository.js';
export { SqliteJobLogger } from './sqlite-job-logger.js';
export { LocalNotificationChannel } from './local-notification-channel.js';
export { NotConnectedError, SqliteConnection, type SqlExecutor, type SqlValue } from './connection.js';
export { DEFAULT_JOBS_TABLE, DEFAULT_LOGS_TABLE } from './schema.js';
