import { defineConfig } from 'vitest/config'

/**
 * `npm run test:faults`: the fault suite (test/faults), run before every release. It starts a
 * whole devtwin of its own (Postgres, Mosquitto, a Temporal dev server, the three roles as
 * processes) and kills each part in turn under load: about ten minutes, so not in `npm test`.
 */
export default defineConfig({
  // As in vitest.config.ts: one graphql module for our files and graphql-yoga's.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    pool: 'forks',
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 10 * 60_000,
    maxWorkers: 1,
  },
})
