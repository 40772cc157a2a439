import { defineConfig } from 'vitest/config';

// The e2e suite (real VMs under qemu): `npm run e2e`. Not part of `npm test` (its files are
// *.e2e.ts, the unit config includes only *.test.ts). One file at a time: TCG pins a host core
// per vCPU, and the scenarios share the lab namespace.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/global-setup.ts', 'test/helpers/clean-tree.ts'],
    fileParallelism: false,
    pool: 'forks',
    sequence: { shuffle: false },
    testTimeout: 40 * 60_000,
    hookTimeout: 40 * 60_000,
    reporters: ['verbose'],
  },
});
