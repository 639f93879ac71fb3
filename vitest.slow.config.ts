import { defineConfig } from 'vitest/config';

/** The slow suite (test/slow/**): one file at a time, long timeouts. Run with `npm run test:slow`. */
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/slow/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    passWithNoTests: true,
  },
});
