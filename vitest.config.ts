import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/clean-tree.ts', 'test/helpers/skips.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // suites that build network namespaces must not race for the same names
    fileParallelism: true,
    pool: 'forks',
  },
});
