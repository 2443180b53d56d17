import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start servers and Redis share two cores; files run in parallel, tests in a file in order.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
