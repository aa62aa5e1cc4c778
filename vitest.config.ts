import { defineConfig } from 'vitest/config';

// Two lanes: `offline` needs nothing but Node (the PR gate); `live` boots
// real kind clusters and needs Docker plus the locally built images.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'offline',
          include: ['harness/**/*.test.ts', 'suites/offline/**/*.test.ts', 'scripts/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'live',
          include: ['suites/live/**/*.test.ts'],
          // One shared PCI cluster for every live file, always deleted afterwards (harness/cluster/README.md).
          globalSetup: ['suites/live/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
