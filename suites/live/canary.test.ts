import { describe, expect, it } from 'vitest';
import { canaryFor, requireEnforcement } from '../../harness/cluster/canary.ts';
import { recordLiveResults } from '../../harness/scenario/sink.ts';
import { writeBootReport } from './support/report.ts';
import { sharedCluster } from './support/shared.ts';

/**
 * The CNI (Calico, or Cilium with PCI_LIVE_CNI=cilium) enforces NetworkPolicy
 * in both directions, on the CDE node and across nodes. The canary every
 * network scenario relies on (run once per cluster, shared through the
 * cache), recorded as evidence.
 */
const cni = process.env.PCI_LIVE_CNI === 'cilium' ? 'cilium' : 'calico';
describe(`enforcement canary on ${cni === 'cilium' ? 'Cilium' : 'Calico'}`, () => {
  it('reports enforced for ingress and egress, same-node and cross-node, each step observed as expected', async () => {
    const cluster = sharedCluster();
    const result = await canaryFor(cluster);
    writeBootReport(`canary-${cni}`, { verdict: result.verdict, ms: result.ms, steps: result.steps });
    recordLiveResults([
      {
        lane: 'live',
        check: 'live.network.canary',
        requirement: '1.2.1',
        status: result.verdict === 'enforced' ? 'pass' : 'inconclusive',
        scenario: 'precondition.enforcement-canary',
        adversary: 'none (instrument check)',
        action: 'deny-all ingress, then deny-all egress, in a scratch namespace; clients on the server node and on another node',
        predicted: 'blocked',
        observed: result.verdict === 'enforced' ? 'blocked' : result.verdict === 'not-enforced' ? 'allowed' : 'check-failed',
        layer: { kind: 'networkpolicy', names: ['canary-deny-ingress', 'canary-deny-egress'] },
        message: `canary ${result.verdict}: ${result.detail}`,
        evidence: result.steps.map((s) => `${s.step} ${s.client}: expected ${s.expected}, observed ${s.observed} (${s.detail}, ${s.attempts} probes)`).join('\n'),
        replay: `npx pci-harness up  # then: npx vitest run --project live suites/live/canary.test.ts with PCI_LIVE_KUBECONFIG`,
        ms: result.ms,
      },
    ]);
    expect(result.verdict, result.detail).toBe('enforced');
    expect([...result.proven].sort()).toEqual(['egress cross-node', 'egress same-node', 'ingress cross-node', 'ingress same-node']);
    for (const s of result.steps) expect(s.observed, `${s.step} ${s.client}: ${s.detail}`).toBe(s.expected);
  });

  it('requireEnforcement lets network suites proceed', async () => {
    await expect(requireEnforcement(sharedCluster())).resolves.toMatchObject({ verdict: 'enforced' });
  });
});
