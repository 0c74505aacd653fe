import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';
import { backendFreeGlobs } from './test/backend-free.js';

const require = createRequire(import.meta.url);

export default defineConfig({
  // One copy of graphql: Vite would pick graphql's .mjs build for our files while Node loads the
  // CommonJS build for type-graphql and Apollo, and graphql refuses types from "another realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['test/**/*.test.ts'],
    // The PostgreSQL run leaves out what does not depend on the backend (it ran in the SQLite run).
    exclude: [...configDefaults.exclude, ...(process.env.TRIBUTARY_TEST_BACKEND === 'postgres' ? backendFreeGlobs() : [])],
    pool: 'forks',
    // Vitest's default is one worker per core but one (2 - 1 = 1 on this 2-core kind). The tests
    // mostly wait (on PostgreSQL, sshd, Chromium, child processes), so two files at once halve the
    // wall time; every test makes its own data dir and database, so they never collide.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['reflect-metadata'],
    globalSetup: ['test/global-setup.ts'],
  },
});
