import { describe, expect, it } from 'vitest';
import { requireEnforcement, runCanary } from '../../harness/cluster/canary.ts';
import { writeBootReport } from './support/report.ts';
import { sharedCluster } from './support/shared.ts';

/** (b) Calico enforces NetworkPolicy: allowed → blocked under deny → allowed after removal. */
describe('enforcement canary on Calico', () => {
  it('reports enforced, with each step observed as expected', async () => {
    const result = await runCanary(sharedCluster());
    writeBootReport('canary-calico', { verdict: result.verdict, ms: result.ms, steps: result.steps });
    expect(result.verdict, result.detail).toBe('enforced');
    expect(result.steps.map((s) => [s.expected, s.observed])).toEqual([
      ['allowed', 'allowed'],
      ['blocked', 'blocked'],
      ['allowed', 'allowed'],
    ]);
  });

  it('requireEnforcement lets network suites proceed', async () => {
    await expect(requireEnforcement(sharedCluster())).resolves.toMatchObject({ verdict: 'enforced' });
  });
});
