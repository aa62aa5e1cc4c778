import { describe, expect, it } from 'vitest';
import { requireEnforcement, runCanary } from '../../harness/cluster/canary.ts';
import { writeBootReport } from './support/report.ts';
import { sharedCluster } from './support/shared.ts';

/** Calico enforces NetworkPolicy in both directions, on the CDE node and across nodes. */
describe('enforcement canary on Calico', () => {
  it('reports enforced for ingress and egress, same-node and cross-node, each step observed as expected', async () => {
    const result = await runCanary(sharedCluster());
    writeBootReport('canary-calico', { verdict: result.verdict, ms: result.ms, steps: result.steps });
    expect(result.verdict, result.detail).toBe('enforced');
    expect(result.proven.sort()).toEqual(['egress cross-node', 'egress same-node', 'ingress cross-node', 'ingress same-node']);
    for (const s of result.steps) expect(s.observed, `${s.step} ${s.client}: ${s.detail}`).toBe(s.expected);
  });

  it('requireEnforcement lets network suites proceed', async () => {
    await expect(requireEnforcement(sharedCluster())).resolves.toMatchObject({ verdict: 'enforced' });
  });
});
