import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * The conformance suite (test/conformance/**): the published TSB clients' exact calls against the real app.
 * Run with `npm run test:conformance`; `npm test` leaves it out. VITEST_MAX_WORKERS bounds the parallel files.
 */
const maxWorkers =
  Number(process.env['VITEST_MAX_WORKERS']) || Math.min(4, Math.max(2, availableParallelism()));

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/conformance/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    maxWorkers,
  },
});
