import { defineConfig } from 'vitest/config';
import MatrixLastSequencer from './test/matrix/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the version matrix's chroots build in the background from the start; its suites run last
    globalSetup: ['test/helpers/clean-tree.ts', 'test/helpers/skips.ts', 'test/matrix/global-setup.ts'],
    sequence: { sequencer: MatrixLastSequencer },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // suites that build network namespaces must not race for the same names
    fileParallelism: true,
    pool: 'forks',
  },
});
