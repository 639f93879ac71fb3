import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/** Test files run in parallel, bounded for small (2-core) CI machines; VITEST_MAX_WORKERS overrides. */
const maxWorkers =
  Number(process.env['VITEST_MAX_WORKERS']) || Math.min(4, Math.max(2, availableParallelism()));

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    exclude: ['test/slow/**', '**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    maxWorkers,
  },
});
