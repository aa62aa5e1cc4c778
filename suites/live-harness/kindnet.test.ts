import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootCluster, type BootedCluster } from '../../harness/cluster/boot.ts';
import { EnforcementError, requireEnforcement, runCanary, type CanaryResult } from '../../harness/cluster/canary.ts';
import { writeBootReport } from '../live/support/report.ts';

/**
 * (d) On kindnet (kind's default CNI) this kernel lacks nfqueue, kindnet fails
 * open, and NetworkPolicy is silently not enforced. The canary must say so,
 * and the guard must refuse to let any network check pass.
 * A small single-node cluster: enough for the canary, cheap on 2 cores.
 */
describe('kindnet: the canary catches a CNI that enforces nothing', () => {
  let cluster: BootedCluster | undefined;
  let canary: CanaryResult;
  beforeAll(async () => {
    cluster = await bootCluster({ layout: 'kindnet', singleNode: true, pciSet: false });
    writeBootReport('kindnet', { bootMs: cluster.bootMs, timings: cluster.timings });
    canary = await runCanary(cluster);
    writeBootReport('canary-kindnet', { verdict: canary.verdict, ms: canary.ms, steps: canary.steps });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('canary reports not-enforced (baseline allowed, deny NOT blocking)', () => {
    expect(canary.verdict, canary.detail).toBe('not-enforced');
    expect(canary.steps[0]).toMatchObject({ expected: 'allowed', observed: 'allowed' });
    expect(canary.steps[1]).toMatchObject({ expected: 'blocked', observed: 'allowed' });
  });

  it('requireEnforcement refuses: no network control may pass on this cluster', async () => {
    await expect(requireEnforcement(cluster!)).rejects.toThrow(EnforcementError);
    await expect(requireEnforcement(cluster!)).rejects.toThrow(/NOT ENFORCED/);
  });
});
