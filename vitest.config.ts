import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // Vite would pick graphql's ESM build for our files while Node (and so graphql-yoga) loads
    // its CommonJS build: two GraphQLError classes, and every error of ours masked. Use one.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Workers, brokers and native Temporal connections are process-wide: one process per file.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // The fault suite kills and restarts a whole stack for minutes: `npm run test:faults`.
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    // Tests reject thousands of messages on purpose; their warnings would bury a failure.
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more files at once only makes every twin slower.
    maxWorkers: 2,
  },
})
