import { defineConfig } from 'vitest/config';

/**
 * The hostile-input suite (test/fuzz/**): `npm run test:fuzz` sends FUZZ_REQUESTS (default 100,000) generated
 * requests; CI runs a short form (FUZZ_REQUESTS=3000). Each run draws a fresh seed (printed); FUZZ_SEED replays a run.
 */
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/fuzz/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 5 * 60_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
