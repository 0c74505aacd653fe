/**
 * Test files that never open the metadata database through the backend the suite runs on
 * (TRIBUTARY_TEST_BACKEND): sandboxes, file parsing, the SQLite job store, each warehouse on its
 * own database, pure functions. The PostgreSQL run (`npm run test:postgres`) leaves them out: they
 * would run exactly as in the SQLite run. test/meta/backend-free.test.ts checks that none of them
 * (nor a helper it imports) reaches for the backend. A folder (ending in `/`) or one file each.
 */
export const BACKEND_FREE = [
  'test/web/',
  'test/config/',
  'test/transform/',
  'test/warehouse/',
  'test/jobs/store/sqlite-backend.test.ts',
  'test/jobs/store/sqlite-concurrency.test.ts',
  'test/jobs/store/local-notification-channel.test.ts',
  'test/runners/script.sandbox.test.ts',
  'test/runners/script.runner.test.ts',
  'test/runners/sftp.runner.test.ts',
  'test/runners/sftp-state.sqlite.test.ts',
  'test/runners/sftp-state.postgres.test.ts',
  'test/auth/passwords.test.ts',
  'test/lineage/selector.test.ts',
  'test/lineage/graph.test.ts',
  'test/openlineage/validate.test.ts',
  'test/services/schedule.test.ts',
  'test/services/script-tokens.test.ts',
  'test/api/schema.test.ts',
];

/** The list as vitest's exclude globs. */
export const backendFreeGlobs = (): string[] => BACKEND_FREE.map((entry) => (entry.endsWith('/') ? `${entry}**` : entry));
