import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: quick feedback, no root, no Debian tools (python3 aside). Every suite but
 * the ones that are all about real tools, root or the network (below); in the suites it runs,
 * missing() (test/helpers/tools.ts) skips each part that needs a tool or root, and the run ends
 * with the list of what it left out and how to run it. `npm test` runs everything.
 */
export const NOT_UNIT = [
  'test/live/**', // network-namespace HA lab (root)
  'test/e2e/**', // real VMs
  'test/matrix/**', // every target's real validators in Debian chroots (root, debootstrap)
  'test/validators/**', // haproxy -c, keepalived -t, cloud-init schema, packer validate
  'test/agent/agent.test.ts', // the agent against fake metadata services with real owners (root)
  'test/cli/package.test.ts', // npm pack + install from the registry (slow)
];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/live/config.test.ts'],
    exclude: ['**/node_modules/**', ...NOT_UNIT.filter((p) => p !== 'test/live/**'), 'test/live/!(config).test.ts'],
    globalSetup: ['test/helpers/clean-tree.ts', 'test/helpers/skips.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
