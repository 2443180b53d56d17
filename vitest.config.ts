import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node loads graphql 16 through its CommonJS entry (it has no exports map); Vite would pick the
    // .mjs one for our files, and two copies of graphql make errors and schemas from different realms.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start servers and Redis share two cores; files run in parallel, tests in a file in order.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
