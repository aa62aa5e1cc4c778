import { defineConfig } from 'vitest/config';

// Three projects:
//   offline       needs nothing but Node (the PR gate).
//   live          the controls and attack scenarios on ONE shared PCI cluster
//                 (Calico + Kyverno + the set): what `pci-harness run` puts in
//                 the assessor's evidence.
//   live-harness  proofs of the harness itself (interrupt, crash sweep, the
//                 kindnet "not enforced" canary): each file boots or fakes its
//                 own cluster, needs no shared one, and is not PCI evidence.
// `npm run test:live` runs both live projects; `pci-harness run` runs only
// `live`. sequence.groupOrder: groups run one after another, lowest first
// (offline 0, live 1, live-harness 2), so the two live projects never
// interleave.
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
          include: ['suites/live/*.test.ts', 'suites/live/scenarios/**/*.test.ts'],
          // One shared PCI cluster for every live file, always deleted afterwards (harness/cluster/README.md).
          globalSetup: ['suites/live/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'live-harness',
          include: ['suites/live-harness/**/*.test.ts'],
          // No globalSetup: these files boot (or fake) their own clusters and never call sharedCluster();
          // the harness arms its SIGINT/SIGTERM cleanup on every cluster create.
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
          // After `live`, never beside it: a second cluster next to the shared one on 2 cores.
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
